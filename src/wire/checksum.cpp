// Internet checksum (RFC 1071): 64-bit ones'-complement accumulation with end-around carry.
#include "meshgate/wire/checksum.hpp"

#include <cstring>

namespace meshgate::wire {
namespace {

// a + b with the carry out of bit 63 added back in (ones'-complement addition on 64 bits).
inline std::uint64_t add_eac(std::uint64_t a, std::uint64_t b) noexcept {
  std::uint64_t s;
  const bool carry = __builtin_add_overflow(a, b, &s);
  return s + static_cast<std::uint64_t>(carry);  // cannot overflow again: s <= 2^64 - 2 here
}

inline std::uint16_t fold64(std::uint64_t acc) noexcept {
  acc = (acc & 0xFFFFFFFFu) + (acc >> 32);  // <= 2^33 - 2
  acc = (acc & 0xFFFFFFFFu) + (acc >> 32);  // <= 2^32 - 1
  acc = (acc & 0xFFFF) + (acc >> 16);
  acc = (acc & 0xFFFF) + (acc >> 16);
  return static_cast<std::uint16_t>(acc);
}

}  // namespace

std::uint16_t ones_sum(const void* data, std::size_t len, std::uint32_t seed) noexcept {
  // Words are loaded in the machine's (little-endian) order, which sums byte-swapped 16-bit
  // words; one byte swap of the folded result gives the big-endian sum (RFC 1071 2(B)). Loads are
  // at offsets that are multiples of 8 from the start, so the 16-bit word pairing is preserved.
  const auto* p = static_cast<const std::uint8_t*>(data);
  std::uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  while (len >= 32) {  // four independent carry chains keep the adders busy
    a0 = add_eac(a0, load_le64(p));
    a1 = add_eac(a1, load_le64(p + 8));
    a2 = add_eac(a2, load_le64(p + 16));
    a3 = add_eac(a3, load_le64(p + 24));
    p += 32;
    len -= 32;
  }
  std::uint64_t acc = add_eac(add_eac(a0, a1), add_eac(a2, a3));
  while (len >= 8) {
    acc = add_eac(acc, load_le64(p));
    p += 8;
    len -= 8;
  }
  // The tail starts at an even offset, so each piece keeps its bytes' parity within a 16-bit
  // word wherever it lands in the accumulator; an odd last byte is the high byte of its word.
  if (len & 4) {
    acc = add_eac(acc, load_le32(p));
    p += 4;
  }
  if (len & 2) {
    std::uint16_t w;
    std::memcpy(&w, p, 2);
    acc = add_eac(acc, w);
    p += 2;
  }
  if (len & 1) acc = add_eac(acc, *p);
  const std::uint16_t sum = __builtin_bswap16(fold64(acc));
  return ones_add(sum, seed);
}

std::uint16_t ipv4_header_checksum(const std::uint8_t* hdr) noexcept {
  const std::size_t hlen = std::size_t{hdr[0] & 0x0Fu} * 4;
  const std::uint16_t stored = load_be16(hdr + 10);
  // Subtracting the stored field in ones'-complement = adding its complement.
  const std::uint16_t sum = ones_sum(hdr, hlen, static_cast<std::uint16_t>(~stored));
  return static_cast<std::uint16_t>(~sum);
}

std::uint32_t pseudo_header_sum_v4(const std::uint8_t* src4, const std::uint8_t* dst4,
                                   std::uint8_t protocol, std::uint16_t l4_len) noexcept {
  std::uint32_t s = load_be16(src4) + load_be16(src4 + 2);
  s += load_be16(dst4) + load_be16(dst4 + 2);
  s += protocol;
  s += l4_len;
  return s;
}

std::uint32_t pseudo_header_sum_v6(const std::uint8_t* src16, const std::uint8_t* dst16,
                                   std::uint8_t next_header, std::uint32_t l4_len) noexcept {
  std::uint32_t s = 0;
  for (int i = 0; i < 16; i += 2) s += load_be16(src16 + i) + load_be16(dst16 + i);
  s += (l4_len >> 16) + (l4_len & 0xFFFF);
  s += next_header;
  return s;  // at most 32 * 0xFFFF + small: no overflow
}

std::uint16_t udp_checksum_v4(const std::uint8_t* src4, const std::uint8_t* dst4,
                              const std::uint8_t* seg, std::size_t len) noexcept {
  const std::uint16_t c =
      l4_checksum(pseudo_header_sum_v4(src4, dst4, 17, static_cast<std::uint16_t>(len)), seg, len);
  return c == 0 ? 0xFFFF : c;
}

std::uint16_t udp_checksum_v6(const std::uint8_t* src16, const std::uint8_t* dst16,
                              const std::uint8_t* seg, std::size_t len) noexcept {
  const std::uint16_t c = l4_checksum(
      pseudo_header_sum_v6(src16, dst16, 17, static_cast<std::uint32_t>(len)), seg, len);
  return c == 0 ? 0xFFFF : c;
}

std::uint16_t icmp6_checksum(const std::uint8_t* src16, const std::uint8_t* dst16,
                             const std::uint8_t* msg, std::size_t len) noexcept {
  return l4_checksum(pseudo_header_sum_v6(src16, dst16, 58, static_cast<std::uint32_t>(len)), msg,
                     len);
}

}  // namespace meshgate::wire
