// IPv4 longest-prefix-match table for the data path: a multibit trie with 16-8-8 strides
// (DIR-16-8-8), derived from the binary LpmTrie that stays the writer's source of truth.
//
// A lookup is at most three dependent loads: the root (65536 entries, indexed by addr >> 16),
// then a level-2 chunk (256 entries, one per /24 of the /16), then a level-3 chunk (256 entries,
// one per address of the /24). Every entry is a 64-bit atomic: either a leaf
// `(peer << 8) | (depth << 1) | 1` or the address of a child chunk (64-byte aligned, low bit
// 0). A leaf's peer is the owner of the longest prefix covering every address the entry stands
// for, depth that prefix's length; kNoPeer with depth 0 is "no route".
//
// A /16 block has a level-2 chunk only while the trie holds a prefix longer than /16 inside it,
// and a /24 a level-3 chunk only while it holds a prefix longer than /24; otherwise the entry
// is a leaf. So memory stays bounded by the prefixes present: removing every prefix leaves the
// root alone.
//
// The depths make updates local: inserting P (length c) rewrites the leaves under P whose
// depth is <= c; removing it rewrites those whose depth is c with the longest prefix shorter
// than c that covers P (one trie query), then folds a chunk back into a leaf if no prefix
// inside it needs it any more (one query per level).
//
// Thread contract (as LpmTrie's):
//  - lookup(), lookup_burst(): any thread, lock-free; RCU readers (unlinked chunks stay readable
//    until reclaimed).
//  - everything else: the control thread only, right after the same change to the trie.
//    Existing chunks change in place, one atomic store per changed entry (a reader sees the old or
//    the new value of each, both answers the table gave at some point); a new chunk is filled
//    completely before its address is published with a release store; an unlinked chunk goes to a
//    retired list that reclaim(n) frees after a grace period (n = retired_count() taken when it
//    started).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "meshgate/base/huge_array.hpp"
#include "meshgate/base/prefetch.hpp"
#include "meshgate/peer/lpm_trie.hpp"

namespace meshgate::peer {

class Ip4Table {
 public:
  static constexpr unsigned kMaxBurst = Ip4Trie::kMaxBurst;

  Ip4Table();
  ~Ip4Table();
  Ip4Table(const Ip4Table&) = delete;
  Ip4Table& operator=(const Ip4Table&) = delete;

  /// Longest-prefix match of `addr` (host order); kNoPeer if nothing covers it.
  PeerId lookup(std::uint32_t addr) const noexcept {
    std::uint64_t e = root_[addr >> 16].load(std::memory_order_acquire);
    if ((e & 1) == 0) {
      e = chunk_of(e)->e[(addr >> 8) & 0xff].load(std::memory_order_acquire);
      if ((e & 1) == 0) e = chunk_of(e)->e[addr & 0xff].load(std::memory_order_relaxed);
    }
    return static_cast<PeerId>(e >> 8);
  }

  /// lookup() for `n` <= kMaxBurst addresses, level by level over the burst, prefetching each
  /// lane's next entry so that the misses of a burst overlap.
  void lookup_burst(const std::uint32_t* addrs, PeerId* out, unsigned n) const noexcept {
    const std::atomic<std::uint64_t>* at[kMaxBurst];
    std::uint8_t lane[kMaxBurst];
    for (unsigned i = 0; i < n; ++i) {
      at[i] = &root_[addrs[i] >> 16];
      prefetch_read(at[i]);
    }
    unsigned live = 0;
    for (unsigned i = 0; i < n; ++i) {
      const std::uint64_t e = at[i]->load(std::memory_order_acquire);
      out[i] = static_cast<PeerId>(e >> 8);
      if ((e & 1) == 0) {
        at[i] = &chunk_of(e)->e[(addrs[i] >> 8) & 0xff];
        prefetch_read(at[i]);
        lane[live++] = static_cast<std::uint8_t>(i);
      }
    }
    unsigned kept = 0;
    for (unsigned j = 0; j < live; ++j) {
      const unsigned i = lane[j];
      const std::uint64_t e = at[i]->load(std::memory_order_acquire);
      out[i] = static_cast<PeerId>(e >> 8);
      if ((e & 1) == 0) {
        at[i] = &chunk_of(e)->e[addrs[i] & 0xff];
        prefetch_read(at[i]);
        lane[kept++] = static_cast<std::uint8_t>(i);
      }
    }
    for (unsigned j = 0; j < kept; ++j) {
      const unsigned i = lane[j];
      out[i] = static_cast<PeerId>(at[i]->load(std::memory_order_relaxed) >> 8);
    }
  }

  // ---- writer (control thread) only ----

  /// The trie has just given key/cidr (cidr <= 32) to `peer` (new, or moved from another).
  void insert(std::uint32_t key, unsigned cidr, PeerId peer);
  /// The trie has just lost key/cidr; `trie` is its state now.
  void remove(const Ip4Trie& trie, std::uint32_t key, unsigned cidr);
  /// Linked chunks, both levels (tests check that removals leave none behind).
  std::size_t chunk_count() const noexcept { return chunks_; }
  std::size_t retired_count() const noexcept { return retired_.size(); }
  /// Frees the first `n` retired chunks (all by default).
  void reclaim(std::size_t n = ~std::size_t{0});

 private:
  struct alignas(64) Chunk {
    std::atomic<std::uint64_t> e[256];
  };

  // A table entry holds either a leaf or a chunk pointer: tagged words, by design.
  static const Chunk* chunk_of(std::uint64_t e) noexcept {
    // NOLINTNEXTLINE(performance-no-int-to-ptr)
    return reinterpret_cast<const Chunk*>(static_cast<std::uintptr_t>(e));
  }
  static Chunk* mut_chunk_of(std::uint64_t e) noexcept {
    // NOLINTNEXTLINE(performance-no-int-to-ptr)
    return reinterpret_cast<Chunk*>(static_cast<std::uintptr_t>(e));
  }
  static std::uint64_t leaf(PeerId p, unsigned depth) noexcept {
    return (std::uint64_t{p} << 8) | (std::uint64_t{depth} << 1) | 1;
  }
  static unsigned depth_of(std::uint64_t leaf) noexcept { return (leaf >> 1) & 0x7f; }
  static std::uint64_t link(const Chunk* c) noexcept {
    return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(c));
  }

  static void paint(std::atomic<std::uint64_t>& slot, std::uint64_t v, unsigned cidr) noexcept;
  static void unpaint(std::atomic<std::uint64_t>& slot, std::uint64_t v, unsigned cidr) noexcept;
  Chunk* new_chunk(std::uint64_t fill);
  void collapse(const Ip4Trie& trie, std::atomic<std::uint64_t>& slot, std::uint32_t block,
                unsigned len);
  void retire(std::uint64_t e, bool with_children);
  static void destroy(std::uint64_t e, bool with_children);

  HugeArray<std::atomic<std::uint64_t>> root_{std::size_t{1} << 16};
  std::vector<Chunk*> retired_;
  std::size_t chunks_ = 0;
};

}  // namespace meshgate::peer
