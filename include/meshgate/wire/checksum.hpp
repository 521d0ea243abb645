// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//
// Conventions: every 16-bit value here is the host-order number of a field that is stored
// big-endian on the wire, i.e. what load_be16()/store_be16() read and write. "Sum" means the folded
// ones'-complement sum (not complemented); "checksum" means its complement, ready to store.
// Pure code, no allocation; safe at any alignment and any length (an odd tail is padded with zero).
#pragma once

#include <cstddef>
#include <cstdint>

#include "meshgate/base/bytes.hpp"

namespace meshgate::wire {

/// Folded ones'-complement sum of `len` bytes read as big-endian 16-bit words, plus `seed` (any
/// 32-bit partial sum, e.g. a pseudo-header sum). Processes 8 bytes per 64-bit add with an
/// end-around carry; the byte order of the machine does not matter (RFC 1071 2(B)).
std::uint16_t ones_sum(const void* data, std::size_t len, std::uint32_t seed = 0) noexcept;

/// a +' b in ones'-complement arithmetic.
constexpr std::uint16_t ones_add(std::uint32_t a, std::uint32_t b) noexcept {
  std::uint64_t s = std::uint64_t{a} + b;
  s = (s & 0xFFFF) + (s >> 16);
  s = (s & 0xFFFF) + (s >> 16);
  s = (s & 0xFFFF) + (s >> 16);
  return static_cast<std::uint16_t>(s);
}

/// ones_sum() of exactly 20 bytes (an IPv4 header without options): five loads, no loop or call.
inline std::uint16_t ones_sum20(const std::uint8_t* p) noexcept {
  std::uint64_t s = std::uint64_t{load_le32(p)} + load_le32(p + 4) + load_le32(p + 8) +
                    load_le32(p + 12) + load_le32(p + 16);
  s = (s & 0xFFFFFFFFu) + (s >> 32);
  s = (s & 0xFFFF) + (s >> 16);
  s = (s & 0xFFFF) + (s >> 16);
  s = (s & 0xFFFF) + (s >> 16);
  return __builtin_bswap16(static_cast<std::uint16_t>(s));  // see ones_sum() on byte order
}

/// The checksum to store over a buffer whose checksum field is zero.
inline std::uint16_t internet_checksum(const void* data, std::size_t len) noexcept {
  return static_cast<std::uint16_t>(~ones_sum(data, len));
}

/// IPv4 header checksum of the header at `hdr` (header_length bytes taken from its IHL, at least
/// 20 readable bytes assumed). The current value of the checksum field is ignored.
std::uint16_t ipv4_header_checksum(const std::uint8_t* hdr) noexcept;

/// True when the header's stored checksum is right (`hlen` = IHL * 4 bytes, already validated).
inline bool ipv4_header_checksum_ok(const std::uint8_t* hdr, std::size_t hlen) noexcept {
  return (hlen == 20 ? ones_sum20(hdr) : ones_sum(hdr, hlen)) == 0xFFFF;
}

/// Sum of the IPv4 pseudo-header (RFC 768): addresses, protocol, L4 length.
std::uint32_t pseudo_header_sum_v4(const std::uint8_t* src4, const std::uint8_t* dst4,
                                   std::uint8_t protocol, std::uint16_t l4_len) noexcept;
/// Sum of the IPv6 pseudo-header (RFC 8200 8.1): addresses, upper-layer length, next header.
std::uint32_t pseudo_header_sum_v6(const std::uint8_t* src16, const std::uint8_t* dst16,
                                   std::uint8_t next_header, std::uint32_t l4_len) noexcept;

/// Checksum of an L4 segment (UDP, TCP, ICMPv6) whose checksum field is zero, given the pseudo-
/// header sum. For UDP use udp_checksum_* below: a computed 0 is sent as 0xFFFF (RFC 768).
inline std::uint16_t l4_checksum(std::uint32_t pseudo_sum, const void* seg,
                                 std::size_t len) noexcept {
  return static_cast<std::uint16_t>(~ones_sum(seg, len, pseudo_sum));
}
/// True when a received segment (checksum field as received) verifies against its pseudo-header.
inline bool l4_checksum_ok(std::uint32_t pseudo_sum, const void* seg, std::size_t len) noexcept {
  return ones_sum(seg, len, pseudo_sum) == 0xFFFF;
}

/// UDP checksum over IPv4 (`seg` = UDP header + payload, checksum field zero); never returns 0.
std::uint16_t udp_checksum_v4(const std::uint8_t* src4, const std::uint8_t* dst4,
                              const std::uint8_t* seg, std::size_t len) noexcept;
/// UDP checksum over IPv6 (mandatory there, RFC 8200 8.1); never returns 0.
std::uint16_t udp_checksum_v6(const std::uint8_t* src16, const std::uint8_t* dst16,
                              const std::uint8_t* seg, std::size_t len) noexcept;
/// ICMPv6 checksum (`msg` = ICMPv6 header + body, checksum field zero).
std::uint16_t icmp6_checksum(const std::uint8_t* src16, const std::uint8_t* dst16,
                             const std::uint8_t* msg, std::size_t len) noexcept;

/// RFC 1624 eqn. 3: the new checksum after one 16-bit field changed from old_v to new_v,
/// HC' = ~(~HC + ~m + m').
constexpr std::uint16_t checksum_update16(std::uint16_t csum, std::uint16_t old_v,
                                          std::uint16_t new_v) noexcept {
  return static_cast<std::uint16_t>(~ones_add(
      ones_add(static_cast<std::uint16_t>(~csum), static_cast<std::uint16_t>(~old_v)), new_v));
}
/// The same for a 32-bit field (an IPv4 address, or two adjacent header words), as two 16-bit
/// words. One wide sum folded at the end: the five terms add independently, where two
/// checksum_update16 calls would chain eight folding adds (a forwarded packet pays this).
constexpr std::uint16_t checksum_update32(std::uint16_t csum, std::uint32_t old_v,
                                          std::uint32_t new_v) noexcept {
  const std::uint32_t inv_old = ~old_v;
  std::uint32_t s = std::uint32_t{static_cast<std::uint16_t>(~csum)} + (inv_old >> 16) +
                    (inv_old & 0xFFFF) + (new_v >> 16) + (new_v & 0xFFFF);
  s = (s & 0xFFFF) + (s >> 16);  // at most 0x4FFFB: two folds end every carry
  s = (s & 0xFFFF) + (s >> 16);
  return static_cast<std::uint16_t>(~s);
}

}  // namespace meshgate::wire
