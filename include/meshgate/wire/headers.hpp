// Ethernet, ARP, IPv4, IPv6, UDP, ICMPv4, ICMPv6 and NDP headers as plain structs.
//
// Every struct has alignment 1 and a static_assert on its size, so a header can be copied out of
// (or into) any byte position of an mbuf with one memcpy and read with typed accessors. Multi-byte
// fields are Be16/Be32 wrappers: they hold network byte order and convert on get()/set().
// Pure code: no rte_*.h, no allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "meshgate/base/bytes.hpp"
#include "meshgate/base/ip.hpp"
#include "meshgate/wire/checksum.hpp"

namespace meshgate::wire {

// --- protocol constants --------------------------------------------------------------------------
namespace spec {

inline constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr std::uint16_t kEtherTypeArp = 0x0806;
inline constexpr std::uint16_t kEtherTypeVlan = 0x8100;
inline constexpr std::uint16_t kEtherTypeIpv6 = 0x86DD;

inline constexpr std::uint8_t kProtoHopByHop = 0;  // IPv6 extension header
inline constexpr std::uint8_t kProtoIcmp = 1;
inline constexpr std::uint8_t kProtoTcp = 6;
inline constexpr std::uint8_t kProtoUdp = 17;
inline constexpr std::uint8_t kProtoRouting = 43;   // IPv6 extension header
inline constexpr std::uint8_t kProtoFragment = 44;  // IPv6 extension header
inline constexpr std::uint8_t kProtoIcmpv6 = 58;
inline constexpr std::uint8_t kProtoNoNext = 59;
inline constexpr std::uint8_t kProtoDestOpts = 60;  // IPv6 extension header

inline constexpr std::uint16_t kPortWireGuard = 51820;  // default ListenPort of wg-quick users
inline constexpr std::uint16_t kPortStun = 3478;        // RFC 8489 / TURN RFC 8656

// ARP (RFC 826) over Ethernet for IPv4.
inline constexpr std::uint16_t kArpHtypeEthernet = 1;
inline constexpr std::uint16_t kArpOpRequest = 1;
inline constexpr std::uint16_t kArpOpReply = 2;

// IPv4 (RFC 791).
inline constexpr std::uint16_t kIpv4FlagDf = 0x4000;
inline constexpr std::uint16_t kIpv4FlagMf = 0x2000;
inline constexpr std::uint16_t kIpv4OffsetMask = 0x1FFF;
inline constexpr std::size_t kIpv4MinMtu = 576;  // RFC 1812 4.3.2.3: ICMP errors fit in 576 bytes
inline constexpr std::uint8_t kDefaultTtl = 64;

// IPv6 (RFC 8200).
inline constexpr std::size_t kIpv6MinMtu = 1280;   // RFC 4443 2.4(c): ICMPv6 errors fit in 1280
inline constexpr std::uint8_t kNdpHopLimit = 255;  // RFC 4861 7.1: NDP must arrive with 255

// ICMPv4 (RFC 792, RFC 1191).
inline constexpr std::uint8_t kIcmpEchoReply = 0;
inline constexpr std::uint8_t kIcmpDestUnreach = 3;
inline constexpr std::uint8_t kIcmpEchoRequest = 8;
inline constexpr std::uint8_t kIcmpTimeExceeded = 11;
inline constexpr std::uint8_t kIcmpParamProblem = 12;
inline constexpr std::uint8_t kIcmpCodeHostUnreach = 1;
inline constexpr std::uint8_t kIcmpCodeFragNeeded = 4;

// ICMPv6 (RFC 4443) and NDP (RFC 4861).
inline constexpr std::uint8_t kIcmp6DestUnreach = 1;
inline constexpr std::uint8_t kIcmp6PacketTooBig = 2;
inline constexpr std::uint8_t kIcmp6TimeExceeded = 3;
inline constexpr std::uint8_t kIcmp6ParamProblem = 4;
inline constexpr std::uint8_t kIcmp6EchoRequest = 128;
inline constexpr std::uint8_t kIcmp6EchoReply = 129;
inline constexpr std::uint8_t kIcmp6CodeAddrUnreach = 3;
inline constexpr std::uint8_t kNdpRouterSolicit = 133;
inline constexpr std::uint8_t kNdpRouterAdvert = 134;
inline constexpr std::uint8_t kNdpNeighbourSolicit = 135;
inline constexpr std::uint8_t kNdpNeighbourAdvert = 136;
inline constexpr std::uint8_t kNdpRedirect = 137;
inline constexpr std::uint8_t kNdpOptSourceLl = 1;
inline constexpr std::uint8_t kNdpOptTargetLl = 2;
inline constexpr std::uint8_t kNaFlagRouter = 0x80;
inline constexpr std::uint8_t kNaFlagSolicited = 0x40;
inline constexpr std::uint8_t kNaFlagOverride = 0x20;

inline constexpr std::size_t kEthMinFrame = 60;  // without FCS; shorter frames are padded

}  // namespace spec

// --- byte-order wrappers -------------------------------------------------------------------------

/// A 16-bit field in network byte order.
struct Be16 {
  std::uint8_t b[2]{};
  std::uint16_t get() const noexcept { return load_be16(b); }
  void set(std::uint16_t v) noexcept { store_be16(b, v); }
};
/// A 32-bit field in network byte order.
struct Be32 {
  std::uint8_t b[4]{};
  std::uint32_t get() const noexcept { return load_be32(b); }
  void set(std::uint32_t v) noexcept { store_be32(b, v); }
};
static_assert(sizeof(Be16) == 2 && alignof(Be16) == 1);
static_assert(sizeof(Be32) == 4 && alignof(Be32) == 1);

// --- MAC addresses -------------------------------------------------------------------------------

struct MacAddr {
  std::array<std::uint8_t, 6> b{};

  static constexpr MacAddr broadcast() noexcept { return {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
  static MacAddr from(const std::uint8_t* p) noexcept {
    MacAddr m;
    std::memcpy(m.b.data(), p, 6);
    return m;
  }
  /// RFC 2464 7: 33:33 followed by the last 4 bytes of an IPv6 multicast address.
  static MacAddr ipv6_multicast(const std::uint8_t* ip6) noexcept {
    return {{0x33, 0x33, ip6[12], ip6[13], ip6[14], ip6[15]}};
  }
  /// The low 48 bits of v, most significant byte first (for tables that pack a MAC in a word).
  static constexpr MacAddr from_u64(std::uint64_t v) noexcept {
    MacAddr m;
    for (int i = 0; i < 6; ++i) m.b[i] = static_cast<std::uint8_t>(v >> (8 * (5 - i)));
    return m;
  }
  constexpr std::uint64_t to_u64() const noexcept {
    std::uint64_t v = 0;
    for (int i = 0; i < 6; ++i) v = (v << 8) | b[i];
    return v;
  }

  bool is_broadcast() const noexcept { return *this == broadcast(); }
  bool is_multicast() const noexcept { return (b[0] & 0x01) != 0; }  // includes broadcast
  bool is_zero() const noexcept { return to_u64() == 0; }
  /// "02:00:00:00:00:01"
  std::string str() const;

  friend bool operator==(const MacAddr&, const MacAddr&) = default;
};
static_assert(sizeof(MacAddr) == 6 && alignof(MacAddr) == 1);

/// RFC 4291 2.7.1: the solicited-node multicast address ff02::1:ffXX:XXXX of an IPv6 address.
IpAddr solicited_node_address(const IpAddr& ip6);
/// The Ethernet address that the solicited-node group of ip6 maps to (33:33:ff:XX:XX:XX).
MacAddr solicited_node_mac(const IpAddr& ip6);

// --- headers -------------------------------------------------------------------------------------

struct EthHdr {
  MacAddr dst{};
  MacAddr src{};
  Be16 ethertype{};
};
static_assert(sizeof(EthHdr) == 14);

/// ARP for IPv4 over Ethernet (RFC 826).
struct ArpHdr {
  Be16 htype{};
  Be16 ptype{};
  std::uint8_t hlen{};
  std::uint8_t plen{};
  Be16 oper{};
  MacAddr sha{};
  std::uint8_t spa[4]{};
  MacAddr tha{};
  std::uint8_t tpa[4]{};
};
static_assert(sizeof(ArpHdr) == 28);

struct Ipv4Hdr {
  std::uint8_t version_ihl{};  // version 4 in the high nibble, header length in 32-bit words low
  std::uint8_t tos{};
  Be16 total_length{};
  Be16 id{};
  Be16 frag{};  // flags (DF, MF) and fragment offset in 8-byte units
  std::uint8_t ttl{};
  std::uint8_t protocol{};
  Be16 checksum{};
  std::uint8_t src[4]{};
  std::uint8_t dst[4]{};

  unsigned version() const noexcept { return version_ihl >> 4; }
  std::size_t header_length() const noexcept { return std::size_t{version_ihl & 0x0Fu} * 4; }
  bool is_fragment() const noexcept {
    return (frag.get() & (spec::kIpv4FlagMf | spec::kIpv4OffsetMask)) != 0;
  }
};
static_assert(sizeof(Ipv4Hdr) == 20);

struct Ipv6Hdr {
  Be32 vtc_flow{};  // version 6, traffic class, flow label
  Be16 payload_length{};
  std::uint8_t next_header{};
  std::uint8_t hop_limit{};
  std::uint8_t src[16]{};
  std::uint8_t dst[16]{};

  unsigned version() const noexcept { return vtc_flow.get() >> 28; }
  std::uint8_t traffic_class() const noexcept {
    return static_cast<std::uint8_t>(vtc_flow.get() >> 20);
  }
};
static_assert(sizeof(Ipv6Hdr) == 40);

/// Generic IPv6 extension header prefix (hop-by-hop, routing, destination options).
struct Ipv6ExtHdr {
  std::uint8_t next_header{};
  std::uint8_t length{};  // in 8-byte units, not counting the first 8 bytes
};
static_assert(sizeof(Ipv6ExtHdr) == 2);

struct Ipv6FragHdr {
  std::uint8_t next_header{};
  std::uint8_t reserved{};
  Be16 offset_flags{};  // offset in 8-byte units << 3, M flag in bit 0
  Be32 id{};
};
static_assert(sizeof(Ipv6FragHdr) == 8);

struct UdpHdr {
  Be16 src_port{};
  Be16 dst_port{};
  Be16 length{};  // header + payload
  Be16 checksum{};
};
static_assert(sizeof(UdpHdr) == 8);

/// ICMPv4 header; `rest` is the type-specific word (frag needed: unused16 + next-hop MTU16).
struct IcmpHdr {
  std::uint8_t type{};
  std::uint8_t code{};
  Be16 checksum{};
  Be32 rest{};
};
static_assert(sizeof(IcmpHdr) == 8);

/// ICMPv6 header; `rest` is the type-specific word (packet too big: the MTU).
struct Icmp6Hdr {
  std::uint8_t type{};
  std::uint8_t code{};
  Be16 checksum{};
  Be32 rest{};
};
static_assert(sizeof(Icmp6Hdr) == 8);

/// Neighbour solicitation (RFC 4861 4.3); options follow.
struct NdpNsHdr {
  std::uint8_t type{};
  std::uint8_t code{};
  Be16 checksum{};
  std::uint8_t reserved[4]{};
  std::uint8_t target[16]{};
};
static_assert(sizeof(NdpNsHdr) == 24);

/// Neighbour advertisement (RFC 4861 4.4); options follow.
struct NdpNaHdr {
  std::uint8_t type{};
  std::uint8_t code{};
  Be16 checksum{};
  std::uint8_t flags{};  // R, S, O in the top bits
  std::uint8_t reserved[3]{};
  std::uint8_t target[16]{};
};
static_assert(sizeof(NdpNaHdr) == 24);

/// Source / target link-layer address option for Ethernet (RFC 4861 4.6.1), length 1 (8 bytes).
struct NdpLlaOption {
  std::uint8_t type{};
  std::uint8_t length{};  // in 8-byte units
  MacAddr mac{};
};
static_assert(sizeof(NdpLlaOption) == 8);

/// Copy a header out of a byte buffer; the caller has checked that sizeof(H) bytes are there.
template <class H>
H read_hdr(const std::uint8_t* p) noexcept {
  H h{};
  std::memcpy(&h, p, sizeof(H));
  return h;
}
/// Copy a header into a byte buffer.
template <class H>
void write_hdr(std::uint8_t* p, const H& h) noexcept {
  std::memcpy(p, &h, sizeof(H));
}

}  // namespace meshgate::wire
