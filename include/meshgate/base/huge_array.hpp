// A fixed array of default-constructed T in its own anonymous mapping, with transparent huge
// pages requested (madvise) where the kernel offers them.
//
// For the tables that workers index at random per packet (peers, keypairs): with 4 KiB pages,
// 100,000 peers' rows and keypairs span tens of thousands of pages, so each lookup costs a TLB
// miss and a page walk on top of the cache miss; 2 MiB pages cut the pages by 512. Without THP
// (or when the kernel has no huge page to give) it is an ordinary zero-filled mapping.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <new>

// LeakSanitizer scans the heap, stacks and globals for pointers, not anonymous mappings: the
// objects that only a table row points to (a peer's route, a trie's chunk) would be reported as
// leaked. Under ASan the mapping is registered as a root region, so they are not, and a real
// leak still is.
#if defined(__SANITIZE_ADDRESS__)
#define MESHGATE_LSAN_ROOTS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MESHGATE_LSAN_ROOTS 1
#endif
#endif
#ifdef MESHGATE_LSAN_ROOTS
#include <sanitizer/lsan_interface.h>
#endif

namespace meshgate {

template <class T>
class HugeArray {
 public:
  static constexpr std::size_t kHugePage = std::size_t{2} << 20;

  explicit HugeArray(std::size_t n) : n_(n) {
    const std::size_t bytes = n * sizeof(T);
    map_len_ = bytes + kHugePage;  // room to start on a huge-page boundary
    void* p = mmap(nullptr, map_len_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    map_ = p;
    const auto base = reinterpret_cast<std::uintptr_t>(p);  // aligned up below
    const std::uintptr_t aligned = (base + kHugePage - 1) & ~(kHugePage - 1);
    // NOLINTNEXTLINE(performance-no-int-to-ptr): rounding a mapping up to a huge page
    data_ = reinterpret_cast<T*>(aligned);
#ifdef MADV_HUGEPAGE
    madvise(data_, (bytes + kHugePage - 1) & ~(kHugePage - 1), MADV_HUGEPAGE);  // a hint only
#endif
    for (std::size_t i = 0; i < n; ++i) new (&data_[i]) T();
#ifdef MESHGATE_LSAN_ROOTS
    __lsan_register_root_region(map_, map_len_);
#endif
  }
  ~HugeArray() {
    for (std::size_t i = 0; i < n_; ++i) data_[i].~T();
#ifdef MESHGATE_LSAN_ROOTS
    __lsan_unregister_root_region(map_, map_len_);
#endif
    munmap(map_, map_len_);
  }
  HugeArray(const HugeArray&) = delete;
  HugeArray& operator=(const HugeArray&) = delete;

  T& operator[](std::size_t i) noexcept {
    return data_[i];
  }
  const T& operator[](std::size_t i) const noexcept {
    return data_[i];
  }
  std::size_t size() const noexcept {
    return n_;
  }

 private:
  std::size_t n_;
  void* map_ = nullptr;
  std::size_t map_len_ = 0;
  T* data_ = nullptr;
};

}  // namespace meshgate
