// Drop reasons of the data path beyond header parsing, and the per-lcore counters of all drops.
//
// The counter array is the wire module's list (L2-L4 parsing) followed by this one, so every
// drop site names a reason and the operator sees one flat list of names.
#pragma once

#include <cstddef>
#include <cstdint>

#include "meshgate/wire/drop_reasons.hpp"

// X(identifier, "description")
#define MESHGATE_DATAPLANE_DROP_REASONS(X)                                                       \
  X(multi_segment, "chained mbuf (the data path takes single-segment packets)")                  \
  X(fragment_malformed, "outer fragment: bad length or offset, or its pieces disagree")          \
  X(fragment_table_full, "outer fragment of a new datagram while the reassembly table is full")  \
  X(fragment_expired, "outer fragment of a datagram not complete within the reassembly timeout") \
  X(fragmented_too_big, "reassembled outer datagram larger than one mbuf")                       \
  X(not_for_us, "outer packet not addressed to the gateway's address and listen port")           \
  X(vlan_mismatch, "frame untagged or of another VLAN than its port's")                          \
  X(other_mac, "unicast frame for another MAC address (the port is promiscuous)")                \
  X(wg_bad_type, "UDP payload on the listen port is not a WireGuard, STUN or TURN message")      \
  X(stun_malformed, "STUN message on the listen port whose length field disagrees")              \
  X(channel_data_malformed, "TURN ChannelData whose length runs past the datagram")              \
  X(channel_data_unknown_source, "ChannelData not from our TURN server")                         \
  X(channel_data_not_wireguard, "ChannelData from our TURN server, no WireGuard inside")         \
  X(wg_bad_size, "WireGuard message of a wrong size for its type")                               \
  X(wg_no_keypair, "receiver index names no live keypair")                                       \
  X(wg_key_expired, "keypair older than REJECT_AFTER_TIME or past its message limit")            \
  X(wg_auth_failed, "ChaCha20-Poly1305 tag did not verify")                                      \
  X(wg_replay, "counter replayed or older than the replay window")                               \
  X(inner_bad_packet, "decrypted plaintext is not a sane IPv4/IPv6 packet")                      \
  X(inner_source_not_allowed, "inner source address is not in the sending peer's allowed IPs")   \
  X(inner_not_ip, "LAN frame is neither IP nor ARP/NDP")                                         \
  X(no_route, "no peer's allowed IPs contain the destination (ICMP unreachable sent)")           \
  X(inner_multicast, "LAN multicast or broadcast (not tunnelled)")                               \
  X(no_endpoint, "the peer has no known endpoint yet")                                           \
  X(too_big, "inner packet over the tunnel MTU, DF set or IPv6 (ICMP too-big sent)")             \
  X(fragment_bad_options, "IPv4 packet to fragment has malformed options")                       \
  X(no_mbuf, "mbuf pool empty: a fragment could not be made")                                    \
  X(ttl_expired, "TTL or hop limit ran out at the gateway (ICMP time exceeded sent)")            \
  X(ecn_ce_not_ect, "outer packet marked CE, inner packet not ECN-capable (RFC 6040 4.2)")       \
  X(no_headroom, "mbuf lacks headroom or tailroom for the headers it must get")                  \
  X(control_ring_full, "ring to the control thread is full")                                     \
  X(tx_full, "port TX queue full")                                                               \
  X(staged_overflow, "oldest packet staged for a handshake was dropped (128 per peer)")          \
  X(handshake_failed, "packets staged for a handshake that gave up")                             \
  X(neighbour_unresolved, "next hop's MAC address could not be resolved")                        \
  X(control_rejected, "handshake, cookie or control message rejected by the control thread")     \
  X(peer_removed, "packets staged for a peer that was removed")                                  \
  X(standby, "received or to be sent while the gateway is an HA standby (it answers nothing)")

namespace meshgate::dataplane {

enum class Drop : std::uint8_t {
#define MESHGATE_X(id, text) id,
  MESHGATE_DATAPLANE_DROP_REASONS(MESHGATE_X)
#undef MESHGATE_X
};

// NOLINTNEXTLINE(bugprone-macro-parentheses): "+1" per item, summed; not an expression macro
#define MESHGATE_X(id, text) +1
inline constexpr std::size_t kDataplaneDropCount = 0 MESHGATE_DATAPLANE_DROP_REASONS(MESHGATE_X);
#undef MESHGATE_X

/// Wire reasons (without `none`) first, then the data path's.
inline constexpr std::size_t kDropCount = wire::kDropReasonCount + kDataplaneDropCount;

constexpr std::size_t drop_index(wire::DropReason r) noexcept {
  return static_cast<std::size_t>(r) - 1;
}
constexpr std::size_t drop_index(Drop d) noexcept {
  return wire::kDropReasonCount + static_cast<std::size_t>(d);
}

/// Counter name ("wg_replay") and description of counter slot i (0 <= i < kDropCount).
const char* drop_name(std::size_t i) noexcept;
const char* drop_description(std::size_t i) noexcept;

/// One lcore's drop counters. Written by its owner only; readers take relaxed snapshots.
struct alignas(64) DropCounters {
  std::uint64_t count[kDropCount] = {};

  void add(wire::DropReason r, std::uint64_t n = 1) noexcept { count[drop_index(r)] += n; }
  void add(Drop d, std::uint64_t n = 1) noexcept { count[drop_index(d)] += n; }
  std::uint64_t operator[](Drop d) const noexcept { return count[drop_index(d)]; }
  std::uint64_t operator[](wire::DropReason r) const noexcept { return count[drop_index(r)]; }
  std::uint64_t total() const noexcept {
    std::uint64_t t = 0;
    for (std::uint64_t c : count) t += c;
    return t;
  }
};

}  // namespace meshgate::dataplane
