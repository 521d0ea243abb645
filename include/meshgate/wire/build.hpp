// Packet builders: outer encapsulation headers for the data path, ARP / NDP for the neighbour
// resolver, ICMP errors for path-MTU discovery and for unroutable packets.
//
// Every builder writes into a caller buffer and returns the number of bytes written (0 when the
// packet must not be sent or does not fit). The per-packet one (OuterTemplate::write) never
// fails; the others run on the control thread or on the rare error paths of workers. None
// allocates.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "meshgate/base/ip.hpp"
#include "meshgate/wire/classify.hpp"
#include "meshgate/wire/headers.hpp"

namespace meshgate::wire {

inline constexpr std::size_t kOuterV4Len = sizeof(EthHdr) + sizeof(Ipv4Hdr) + sizeof(UdpHdr);
inline constexpr std::size_t kOuterV6Len = sizeof(EthHdr) + sizeof(Ipv6Hdr) + sizeof(UdpHdr);
static_assert(kOuterV4Len == 42 && kOuterV6Len == 62);

// --- outer headers, from a per-peer template ----------------------------------------------------

/// Prebuilt Ethernet + IP + UDP bytes for one peer endpoint and next hop. Per packet only the
/// lengths, the IPv4 id, the TOS / traffic class (the caller's `tos`: the data path passes the
/// inner packet's ECN field by RFC 6040, wire/rewrite.hpp, and no DSCP) and the checksums change;
/// the IPv4 checksum is finished from a precomputed sum of the constant words, so writing a header
/// is one 42-byte copy and a handful of adds. IPv4: DF clear, like kernel WireGuard, so `ip_id`
/// should differ per packet in flight (RFC 6864); UDP checksum 0 (allowed over IPv4, RFC 768).
/// IPv6: the UDP checksum (mandatory) is computed over the payload.
///
/// With a channel (a relayed endpoint: the destination is a TURN server) the headers end with
/// the 4-byte TURN ChannelData header (RFC 8656 12, nat::stun::channel_data_header) after the
/// UDP header: `len` counts it, the payload passed to write() is the application data (the
/// WireGuard message) and the ChannelData length field says how long it is. No padding: over
/// UDP none is needed.
///
/// Thread contract: built by the control thread when the endpoint, the source address or the
/// neighbour entry changes; workers only read it (publish a new one, never edit in place).
struct OuterTemplate {
  // The fields first: an IPv4 template (8 + 42 bytes) is then one cache line when the template
  // starts on one.
  std::uint8_t len = 0;  // kOuterV4Len or kOuterV6Len, + 4 with a channel; 0 = not built
  bool v6 = false;
  std::uint16_t channel = 0;    // 0: plain UDP; else the ChannelData channel written after UDP
  std::uint32_t const_sum = 0;  // v4: IP header words; v6: pseudo-header addresses + next header
  std::array<std::uint8_t, 64> bytes{};  // Ethernet/IP/UDP, variable fields zero (no ChannelData)

  /// Fails (len stays 0) when the two addresses are not of one family. `channel`: the
  /// destination's TURN channel (Endpoint::channel), 0 for a direct endpoint.
  static OuterTemplate make(const MacAddr& src_mac, const MacAddr& dst_mac, const IpAddr& src_ip,
                            const IpAddr& dst_ip, std::uint16_t sport, std::uint16_t dport,
                            std::uint16_t channel = 0,
                            std::uint8_t ttl = spec::kDefaultTtl) noexcept;
  bool valid() const noexcept { return len != 0; }

  /// Writes the headers (and the ChannelData header, with a channel) at buf for a payload of
  /// udp_payload_len bytes at buf + len. IPv6: the payload must be in place (the UDP checksum
  /// covers it). Returns len.
  std::size_t write(std::uint8_t* buf, std::size_t udp_payload_len, std::uint16_t ip_id,
                    std::uint8_t tos) const noexcept;
};

// --- neighbour resolution -----------------------------------------------------------------------

/// ARP request for target_ip (RFC 826), broadcast unless `unicast_to` is given (re-probing a
/// stale entry, as Linux does). A gratuitous ARP is a request with target_ip == src_ip.
/// Padded to the 60-byte Ethernet minimum; returns 60.
std::size_t build_arp_request(std::uint8_t* buf, const MacAddr& src_mac, const IpAddr& src_ip,
                              const IpAddr& target_ip,
                              std::optional<MacAddr> unicast_to = std::nullopt) noexcept;
/// ARP reply to (dst_mac, dst_ip) saying src_ip is at src_mac. Returns 60.
std::size_t build_arp_reply(std::uint8_t* buf, const MacAddr& src_mac, const IpAddr& src_ip,
                            const MacAddr& dst_mac, const IpAddr& dst_ip) noexcept;

inline constexpr std::size_t kNdpFrameLen =
    sizeof(EthHdr) + sizeof(Ipv6Hdr) + sizeof(NdpNsHdr) + sizeof(NdpLlaOption);
static_assert(kNdpFrameLen == 86);

/// Neighbour solicitation for `target` with a source link-layer option (RFC 4861 4.3), to the
/// target's solicited-node group, or unicast to (target, *unicast_to) when re-probing.
/// Returns kNdpFrameLen.
std::size_t build_neighbour_solicitation(std::uint8_t* buf, const MacAddr& src_mac,
                                         const IpAddr& src_ip, const IpAddr& target,
                                         std::optional<MacAddr> unicast_to = std::nullopt) noexcept;

struct NaFlags {
  bool router = false;
  bool solicited = true;
  bool override_entry = true;
};
/// Neighbour advertisement for `target` at src_mac with a target link-layer option (RFC 4861
/// 4.4), sent to (dst_mac, dst_ip). Returns kNdpFrameLen.
std::size_t build_neighbour_advertisement(std::uint8_t* buf, const MacAddr& src_mac,
                                          const IpAddr& src_ip, const MacAddr& dst_mac,
                                          const IpAddr& dst_ip, const IpAddr& target,
                                          NaFlags flags) noexcept;

// --- ICMP errors --------------------------------------------------------------------------------

enum class IcmpError : std::uint8_t {
  too_big,        // ICMPv4 3/4 "fragmentation needed" with next-hop MTU (RFC 1191) or ICMPv6 2
                  // "packet too big" (RFC 4443 3.2)
  unreachable,    // ICMPv4 3/1 host unreachable or ICMPv6 1/3 address unreachable: no route, as
                  // the kernel WireGuard device answers (protocol.md 8.2)
  time_exceeded,  // ICMPv4 11/0 or ICMPv6 3/0: the TTL / hop limit ran out here (RFC 1812
                  // 5.3.1, RFC 4443 3.3)
};

/// The ICMP error about the IP packet `pkt` (pkt_len = its IP length, already classified), as an
/// IP packet from `from` to the packet's source, quoting as much of it as keeps the error within
/// 576 bytes (IPv4, RFC 1812 4.3.2.3) or 1280 bytes (IPv6, RFC 4443 2.4(c)). Returns 0, sending
/// nothing, when the rules forbid an error (RFC 1122 3.2.2, RFC 4443 2.4(e)): the packet is an
/// ICMP error itself, a non-first IPv4 fragment, sent to a broadcast/multicast address (except
/// ICMPv6 packet too big) or from an address that is not a unicast host; also when `from` is of
/// the other family or cap is too small. For too_big, `mtu` is the MTU to report. `out` may be
/// the buffer that holds `pkt` (the error is then built in place).
std::size_t build_icmp_error_ip(std::uint8_t* out, std::size_t cap, IcmpError kind,
                                const std::uint8_t* pkt, std::size_t pkt_len, const IpAddr& from,
                                std::uint32_t mtu) noexcept;

/// The same error as an Ethernet frame back to the sender of `frame` (Ethernet destination = the
/// frame's source MAC, source = from_mac). `info` is classify_frame()'s result for the frame.
std::size_t build_icmp_error_frame(std::uint8_t* out, std::size_t cap, IcmpError kind,
                                   const std::uint8_t* frame, const FrameInfo& info,
                                   const MacAddr& from_mac, const IpAddr& from,
                                   std::uint32_t mtu) noexcept;

}  // namespace meshgate::wire
