// Drop reasons of L2/L3/L4 parsing (the wire module's share of the data path's drop list).
//
// One X-macro list makes the enum, the counter names and the operator-facing descriptions, as in
// VPP. Each module keeps its own list; the data path's per-lcore counter array is the
// concatenation of the lists, with this one first, so wire::DropReason values (minus `none`) map
// onto it by a constant offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>

#include "meshgate/base/reasons.hpp"

// X(identifier, "description")
#define MESHGATE_WIRE_DROP_REASONS(X)                                                 \
  X(frame_too_short, "frame shorter than an Ethernet header")                         \
  X(bad_ethertype, "ethertype not handled (not ARP, IPv4 or IPv6)")                   \
  X(arp_truncated, "ARP packet shorter than 28 bytes")                                \
  X(arp_bad_header, "ARP is not IPv4 over Ethernet")                                  \
  X(ipv4_truncated, "IPv4 header does not fit in the frame")                          \
  X(ipv4_bad_header, "IPv4 version or header length invalid")                         \
  X(ipv4_bad_length, "IPv4 total length smaller than the header or beyond the frame") \
  X(ipv4_bad_checksum, "IPv4 header checksum wrong")                                  \
  X(ipv4_fragment, "IPv4 fragment (outer fragments are not reassembled)")             \
  X(ipv6_truncated, "IPv6 header does not fit in the frame")                          \
  X(ipv6_bad_header, "IPv6 version invalid")                                          \
  X(ipv6_bad_length, "IPv6 payload length beyond the frame")                          \
  X(ipv6_bad_ext_header, "IPv6 extension header chain truncated or too long")         \
  X(ipv6_fragment, "IPv6 fragment (outer fragments are not reassembled)")             \
  X(udp_truncated, "UDP header does not fit in the IP payload")                       \
  X(udp_bad_length, "UDP length smaller than 8 or beyond the IP payload")             \
  X(udp_bad_checksum, "UDP checksum wrong")                                           \
  X(icmp_truncated, "ICMP/ICMPv6 header does not fit in the IP payload")              \
  X(ndp_bad_hop_limit, "NDP message with a hop limit other than 255 (RFC 4861 7.1)")

namespace meshgate::wire {

MESHGATE_REASON_ENUM(DropReason, MESHGATE_WIRE_DROP_REASONS)

/// Every reason except none, in list order (for counter tables and their names).
#define MESHGATE_X(id, text) DropReason::id,
inline constexpr DropReason kAllDropReasons[] = {MESHGATE_WIRE_DROP_REASONS(MESHGATE_X)};
#undef MESHGATE_X
inline constexpr std::size_t kDropReasonCount = std::size(kAllDropReasons);

/// "ipv4_bad_checksum" (the counter name); "none" for DropReason::none.
const char* drop_reason_name(DropReason r) noexcept;
/// The operator-facing description.
const char* drop_reason_description(DropReason r) noexcept;

}  // namespace meshgate::wire
