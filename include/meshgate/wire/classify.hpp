// Frame classification: one bounds-checked pass over Ethernet / ARP / IPv4 / IPv6 / UDP / ICMP
// headers that yields the offsets the data path needs, or a named drop reason.
//
// Thread contract: pure functions of their arguments, called per packet by workers (no
// allocation, no exceptions). Every read is inside [p, p + len): a frame truncated anywhere gets a
// drop reason, never an out-of-bounds read (tests check every truncation length under ASan).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "meshgate/base/ip.hpp"
#include "meshgate/wire/drop_reasons.hpp"
#include "meshgate/wire/headers.hpp"

namespace meshgate::wire {

enum class FrameKind : std::uint8_t {
  other = 0,  // only together with a drop reason
  arp,
  ipv4,
  ipv6,
  ndp,  // ICMPv6 types 133..137 (router/neighbour solicitation/advertisement, redirect)
};

struct ClassifyOptions {
  /// Check the IPv4 header checksum (off when the NIC reports RTE_MBUF_F_RX_IP_CKSUM_GOOD).
  bool verify_ipv4_checksum = true;
  /// Check UDP checksums (IPv4: 0 means "none"; IPv6: 0 is invalid, RFC 8200 8.1).
  bool verify_udp_checksum = false;
};

/// What classify_frame() found. Offsets are from the start of the buffer given to it. When
/// `drop` is not none, only `drop` and the fields set before the failing check are meaningful.
struct FrameInfo {
  DropReason drop = DropReason::none;
  FrameKind kind = FrameKind::other;
  std::uint8_t l4_proto = 0;  // IPv4 protocol, or the IPv6 header after any extension headers
  /// IPv4 MF or offset set, or an IPv6 fragment header: L4 fields (ports, payload) are not
  /// filled. The inbound path drops such outer packets with ipv4_fragment / ipv6_fragment.
  bool fragment = false;
  std::uint8_t icmp_type = 0;  // ICMPv4 / ICMPv6 type
  std::uint8_t tos = 0;        // IPv4 TOS / IPv6 traffic class (ECN in the low 2 bits)
  std::uint16_t l3_off = 0;
  std::uint16_t l3_len = 0;  // IPv4 total length, IPv6 40 + payload length, ARP 28
  std::uint16_t l4_off = 0;
  std::uint16_t l4_len = 0;  // from l4_off to the end of the IP packet (ignores Ethernet padding)
  std::uint16_t payload_off = 0;  // UDP payload
  std::uint16_t payload_len = 0;  // from the UDP length field
  std::uint16_t src_port = 0;     // UDP, host order
  std::uint16_t dst_port = 0;
  /// IP source and destination (ARP: sender and target protocol address), 4 or 16 bytes, pointing
  /// into the classified buffer.
  const std::uint8_t* src = nullptr;
  const std::uint8_t* dst = nullptr;

  bool ok() const noexcept { return drop == DropReason::none; }
  bool is_v6() const noexcept { return kind == FrameKind::ipv6 || kind == FrameKind::ndp; }
  IpAddr src_addr() const noexcept;
  IpAddr dst_addr() const noexcept;
};

/// Classify an Ethernet frame (no 802.1Q tag; untagged ports only).
FrameInfo classify_frame(const std::uint8_t* p, std::size_t len,
                         const ClassifyOptions& opt = {}) noexcept;

/// Classify a bare IPv4/IPv6 packet (a decrypted inner packet): l3_off is 0, kind is ipv4, ipv6
/// or ndp, or drop is set (bad_ethertype when the version nibble is neither 4 nor 6).
FrameInfo classify_ip(const std::uint8_t* ip, std::size_t len,
                      const ClassifyOptions& opt = {}) noexcept;

/// The length of the IPv4/IPv6 packet at `ip` from its own header (IPv4 total length, IPv6
/// payload length + 40), or 0 unless it is a sane packet that fits in `avail` bytes. Used to strip
/// WireGuard padding from a decrypted plaintext (protocol.md 2 and 4).
std::size_t inner_packet_length(const std::uint8_t* ip, std::size_t avail) noexcept;

// --- neighbour messages, parsed on the control thread --------------------------------------------

struct ArpMessage {
  std::uint16_t op = 0;  // spec::kArpOpRequest / kArpOpReply
  MacAddr sha;
  IpAddr spa;
  MacAddr tha;
  IpAddr tpa;
};
/// The fields of an ARP frame that classify_frame() reported as FrameKind::arp.
ArpMessage parse_arp(const std::uint8_t* frame, const FrameInfo& info) noexcept;

struct NdpMessage {
  std::uint8_t type = 0;   // spec::kNdpNeighbourSolicit or kNdpNeighbourAdvert
  std::uint8_t flags = 0;  // NA: R, S, O
  IpAddr src;
  IpAddr dst;
  IpAddr target;
  std::optional<MacAddr> lla;  // NS: source link-layer option; NA: target link-layer option
};
/// A neighbour solicitation or advertisement, validated per RFC 4861 7.1.1 / 7.1.2 (code 0,
/// length, option lengths non-zero and inside the message, no SLLA option from ::, target not
/// multicast); nullopt for other NDP types or a malformed message.
std::optional<NdpMessage> parse_ndp(const std::uint8_t* frame, const FrameInfo& info) noexcept;

}  // namespace meshgate::wire
