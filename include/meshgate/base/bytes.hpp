// Fixed-size byte arrays, little/big-endian loads and stores, hex and base64.
// Pure helpers: no allocation except the string-returning encoders.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace meshgate {

template <std::size_t N>
using Bytes = std::array<std::uint8_t, N>;

/// A 32-byte public value: an X25519 public key, a hash, a chaining-key-sized constant.
using Key32 = Bytes<32>;

using ByteSpan = std::span<const std::uint8_t>;
using MutByteSpan = std::span<std::uint8_t>;

inline std::uint32_t load_le32(const void* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;  // x86-64 and aarch64 Linux are little-endian; checked in bytes.cpp.
}
inline std::uint64_t load_le64(const void* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline void store_le32(void* p, std::uint32_t v) {
  std::memcpy(p, &v, 4);
}
inline void store_le64(void* p, std::uint64_t v) {
  std::memcpy(p, &v, 8);
}
inline std::uint16_t load_be16(const void* p) {
  return __builtin_bswap16([&] {
    std::uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
  }());
}
inline std::uint32_t load_be32(const void* p) {
  return __builtin_bswap32(load_le32(p));
}
inline std::uint64_t load_be64(const void* p) {
  return __builtin_bswap64(load_le64(p));
}
inline void store_be16(void* p, std::uint16_t v) {
  v = __builtin_bswap16(v);
  std::memcpy(p, &v, 2);
}
inline void store_be32(void* p, std::uint32_t v) {
  store_le32(p, __builtin_bswap32(v));
}
inline void store_be64(void* p, std::uint64_t v) {
  store_le64(p, __builtin_bswap64(v));
}

/// Lowercase hex, as the WireGuard UAPI writes keys.
std::string to_hex(ByteSpan in);
/// Exact-length hex decode (either case). False on a bad digit or a length other than 2*out.size().
bool from_hex(std::string_view in, MutByteSpan out);

/// Standard base64 with padding, as `wg genkey` writes keys.
std::string to_base64(ByteSpan in);
/// Exact-length base64 decode; false unless `in` decodes to exactly out.size() bytes.
bool from_base64(std::string_view in, MutByteSpan out);

template <std::size_t N>
ByteSpan as_bytes(const Bytes<N>& b) {
  return ByteSpan(b.data(), N);
}

}  // namespace meshgate
