// Secret bytes that wipe themselves, and constant-time comparisons.
// Keys never reach a log: Secret has no stream operator and no implicit conversion to bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace meshgate {

/// Overwrites `n` bytes in a way the compiler may not elide.
void secure_wipe(void* p, std::size_t n) noexcept;

/// Constant-time equality of two equal-length buffers (time depends on n only).
[[nodiscard]] bool ct_equal(const void* a, const void* b, std::size_t n) noexcept;

/// Constant-time "all bytes are zero".
[[nodiscard]] bool ct_is_zero(const void* p, std::size_t n) noexcept;

/// N secret bytes; zeroed on construction, wiped on destruction and on clear().
template <std::size_t N>
class Secret {
 public:
  Secret() noexcept = default;
  Secret(const Secret& o) noexcept = default;
  Secret& operator=(const Secret& o) noexcept = default;
  ~Secret() { secure_wipe(bytes_.data(), N); }

  static Secret from(std::span<const std::uint8_t, N> src) noexcept {
    Secret s;
    for (std::size_t i = 0; i < N; ++i) s.bytes_[i] = src[i];
    return s;
  }

  std::uint8_t* data() noexcept { return bytes_.data(); }
  const std::uint8_t* data() const noexcept { return bytes_.data(); }
  static constexpr std::size_t size() noexcept { return N; }
  std::span<std::uint8_t, N> span() noexcept { return std::span<std::uint8_t, N>(bytes_); }
  std::span<const std::uint8_t, N> span() const noexcept {
    return std::span<const std::uint8_t, N>(bytes_);
  }

  void clear() noexcept { secure_wipe(bytes_.data(), N); }
  [[nodiscard]] bool is_zero() const noexcept { return ct_is_zero(bytes_.data(), N); }
  [[nodiscard]] bool ct_equals(const Secret& o) const noexcept {
    return ct_equal(bytes_.data(), o.bytes_.data(), N);
  }

 private:
  std::array<std::uint8_t, N> bytes_{};
};

using SecretKey = Secret<32>;

}  // namespace meshgate
