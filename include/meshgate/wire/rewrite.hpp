// Header rewrites of the inner packets the gateway forwards, as a Linux router in front of (or
// behind) a WireGuard interface does them: the TTL / hop limit, the TCP MSS of SYNs (clamped to
// the tunnel MTU), the ECN field on encapsulation and decapsulation (RFC 6040).
//
// Thread contract: pure functions of their arguments, called
// per packet by workers; no allocation. Checksums change by RFC 1624 incremental updates.
// docs/design.md, "Forwarding rewrites".
#pragma once

#include <cstddef>
#include <cstdint>

namespace meshgate::wire {

// ECN codepoints (RFC 3168 5): the low two bits of the IPv4 TOS / IPv6 traffic class.
inline constexpr std::uint8_t kEcnNotEct = 0;
inline constexpr std::uint8_t kEcnEct1 = 1;
inline constexpr std::uint8_t kEcnEct0 = 2;
inline constexpr std::uint8_t kEcnCe = 3;

inline constexpr std::uint8_t kTcpFlagSyn = 0x02;
inline constexpr std::uint8_t kTcpOptMss = 2;

/// The largest TCP MSS a SYN may announce through the tunnel, per inner family; 0: no clamping.
struct MssLimit {
  std::uint16_t v4 = 0;
  std::uint16_t v6 = 0;
};
/// MTU minus the IP and TCP headers without options: 40 bytes for IPv4, 60 for IPv6.
constexpr MssLimit mss_limit_for_mtu(std::uint16_t mtu) noexcept {
  return {static_cast<std::uint16_t>(mtu - 40), static_cast<std::uint16_t>(mtu - 60)};
}

/// The ECN field of the IPv4 or IPv6 packet at `ip` (at least 2 bytes).
inline std::uint8_t ecn_of(const std::uint8_t* ip) noexcept {
  // The version nibble is 0100 or 0110: its bit 1 tells them apart without a compare.
  const bool v6 = (ip[0] & 0x20) != 0;
  return static_cast<std::uint8_t>(v6 ? (ip[1] >> 4) & 3 : ip[1] & 3);
}

/// The outer ECN field for an inner one (RFC 6040 4.1, normal mode, as Linux's
/// INET_ECN_encapsulate): a copy, except that CE becomes ECT(0), so a congestion mark is not
/// counted twice if the outer packet is marked again on the way.
constexpr std::uint8_t ecn_encapsulate(std::uint8_t inner_ecn) noexcept {
  return static_cast<std::uint8_t>(inner_ecn ^ (inner_ecn == kEcnCe ? 1 : 0));
}

/// True when a router must not forward the IPv4 or IPv6 packet at `ip`: its TTL / hop limit is
/// 0 or 1 (RFC 1812 5.3.1, RFC 8200 3), to be answered with ICMP time exceeded.
inline bool ttl_runs_out(const std::uint8_t* ip) noexcept {
  return ((ip[0] & 0x20) != 0 ? ip[7] : ip[8]) <= 1;  // the version bit as in ecn_of()
}

/// What forward_ip() decided about a packet.
enum class Forward : std::uint8_t {
  ok,              // rewritten, send it on
  ttl_expired,     // TTL / hop limit 0 or 1: unchanged, answer with ICMP time exceeded
  ecn_ce_not_ect,  // outer CE, inner Not-ECT: drop (RFC 6040 4.2); unchanged
};

/// Everything a forwarding hop changes in the IPv4/IPv6 packet at `ip` of `len` bytes (a sane
/// packet: inner_packet_length() or classify accepted it): the TTL / hop limit goes down by one;
/// the ECN field combines with `outer_ecn` (the decapsulated outer header's; kEcnNotEct when
/// encapsulating, which leaves it alone) by RFC 6040 4.2; a TCP SYN's MSS option is lowered to
/// `mss` (never raised). IPv6: only a TCP header right after the fixed header is looked at.
Forward forward_ip(std::uint8_t* ip, std::size_t len, std::uint8_t outer_ecn,
                   MssLimit mss) noexcept;

/// Lowers the MSS option of the TCP SYN (or SYN-ACK) at `tcp` (`len` bytes of segment) to
/// `max_mss` and updates the TCP checksum (RFC 1624); true when it changed the segment. A segment
/// that is no SYN, has no MSS option, an MSS already small enough or malformed options is left
/// alone.
bool clamp_tcp_mss(std::uint8_t* tcp, std::size_t len, std::uint16_t max_mss) noexcept;

}  // namespace meshgate::wire
