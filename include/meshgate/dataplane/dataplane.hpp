// What the workers share: the tables they read lock-free, the gateway's addresses, and the
// rings to the control thread. Built by the gateway; the control thread is the only writer of
// every table (architecture section 3).
#pragma once

#include <rte_config.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "meshgate/base/huge_array.hpp"
#include "meshgate/base/ip.hpp"
#include "meshgate/base/prefetch.hpp"
#include "meshgate/base/time.hpp"
#include "meshgate/dataplane/drops.hpp"
#include "meshgate/dataplane/keypairs.hpp"
#include "meshgate/dataplane/neighbour.hpp"
#include "meshgate/dataplane/peers.hpp"
#include "meshgate/dataplane/reassembly.hpp"
#include "meshgate/dataplane/spread.hpp"
#include "meshgate/dpdk/rcu.hpp"
#include "meshgate/nat/stun.hpp"
#include "meshgate/peer/allowed_ips.hpp"
#include "meshgate/wire/headers.hpp"
#include "meshgate/wire/messages.hpp"
#include "meshgate/wire/rewrite.hpp"

namespace meshgate::dataplane {

/// Why a packet went to the control thread (stored in the mbuf's meshgate dynfield).
enum class ToControl : std::uint8_t {
  outer_handshake,      // WireGuard types 1-3 on the listen port
  outer_stun,           // STUN/TURN on the listen port
  outer_neighbour,      // ARP / NDP on the Internet port
  outer_local,          // other traffic for the gateway's outer address (ICMP echo, ...)
  inner_neighbour,      // ARP / NDP on the LAN port
  inner_local,          // traffic for the gateway's own LAN address
  tunnel_local,         // a peer's decrypted packet (bare IP) for the gateway's own LAN address
  stage,                // an inner IP packet for `peer`, which has no usable keypair
  resolve,              // a finished frame whose next hop's MAC is unknown (port, next hop in meta)
  tunnel_coordination,  // a coordination message (nat/coord.hpp) opened from `peer`'s tunnel;
                        // the mbuf holds exactly the message, meta's endpoint is the outer source
};

enum class PortRole : std::uint8_t { inner = 0, outer = 1 };

/// Written by whoever hands the mbuf on (a worker, or the control thread's Neighbours::send);
/// read by the control thread that takes it. This order packs into 28 bytes: the registered
/// dynfield must fit the mbuf's free dynamic area.
struct MbufMeta {
  ToControl kind = ToControl::outer_handshake;
  PortRole port = PortRole::inner;
  // resolve: the next hop (port 0); tunnel_coordination: the outer source the message came by
  // (relayed: the TURN server with the channel). Unused for the other kinds.
  Endpoint endpoint;
  PeerId peer = kNoPeer;
};
static_assert(sizeof(MbufMeta) <= 28);

/// The dynfield offset of MbufMeta; registered once per process by register_mbuf_meta().
extern int g_meta_offset;
bool register_mbuf_meta();
inline MbufMeta& meta(rte_mbuf* m) {
  return *RTE_MBUF_DYNFIELD(m, g_meta_offset, MbufMeta*);
}

/// rte_pktmbuf_trim() and rte_pktmbuf_append() for the data path. DPDK's walk to the last
/// segment reads m->next, on the mbuf's second cache line, which nothing else on the fast path
/// touches: with a pool larger than the cache that is a miss per packet. A one-segment mbuf
/// (nb_segs is on the first line) needs no walk; a chain takes DPDK's way.
inline void trim_tail(rte_mbuf* m, std::uint16_t len) noexcept {
  if (m->nb_segs != 1) {
    rte_pktmbuf_trim(m, len);
  } else if (len <= m->data_len) {
    m->data_len = static_cast<std::uint16_t>(m->data_len - len);
    m->pkt_len -= len;
  }
}
inline std::uint8_t* append_tail(rte_mbuf* m, std::uint16_t len) noexcept {
  if (m->nb_segs != 1) return reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, len));
  if (len > rte_pktmbuf_tailroom(m)) return nullptr;
  std::uint8_t* tail = rte_pktmbuf_mtod_offset(m, std::uint8_t*, m->data_len);
  m->data_len = static_cast<std::uint16_t>(m->data_len + len);
  m->pkt_len += len;
  return tail;
}

/// Events from workers to the control thread (a ring of these, not of packets).
struct Event {
  enum class Kind : std::uint8_t {
    keypair_used,      // first authenticated packet on keypair `index` (responder confirmation)
    endpoint_changed,  // authenticated packet from a new outer source (roaming)
    want_handshake,    // sending keypair missing, old or exhausted
  };
  // This order packs into 32 bytes (kind and the 2-byte aligned Endpoint share the first word).
  Kind kind = Kind::keypair_used;
  Endpoint endpoint;  // endpoint_changed: the new outer source (relayed: with its channel)
  PeerId peer = kNoPeer;
  std::uint32_t index = 0;
};
static_assert(sizeof(Event) <= 32);
inline constexpr unsigned kEventSize = 32;

struct GatewayAddresses {
  wire::MacAddr inner_mac;
  wire::MacAddr outer_mac;
  std::vector<Prefix> inner;  // on-link prefixes of the LAN port (host bits cleared)
  std::vector<Prefix> outer;  // on-link prefixes of the Internet port
  IpAddr outer_v4;            // own address and UDP source for IPv4 endpoints (none: absent)
  IpAddr outer_v6;
  IpAddr inner_v4;  // own LAN addresses: ARP/ND answers, ICMP source
  IpAddr inner_v6;
  IpAddr inner_gateway_v4;  // next hop for LAN destinations off the inner prefixes
  IpAddr inner_gateway_v6;
  IpAddr outer_gateway_v4;  // next hop towards endpoints off the outer prefixes
  IpAddr outer_gateway_v6;
};

struct Dataplane {
  Dataplane(std::uint32_t max_peers, unsigned workers);

  // Written by the gateway (or a test) before the first poll; immutable after.
  std::uint16_t inner_port = 0;
  std::uint16_t outer_port = 0;
  std::uint16_t inner_rx_queues = 1;  // worker i polls the RX queues q with q % workers == i
  std::uint16_t outer_rx_queues = 1;
  std::uint16_t mtu = 1420;  // tunnel MTU: largest inner packet
  /// 802.1Q VLAN of each port (index PortRole), 1..4094; 0 = untagged (dataplane/vlan.hpp).
  std::uint16_t vlan[2] = {0, 0};
  wire::MssLimit mss;  // TCP SYNs forwarded either way: MSS at most this (0: no clamping)
  unsigned workers;
  GatewayAddresses addr;
  rte_mempool* pool = nullptr;
  bool idle_backoff = false;
  /// REKEY_AFTER_TIME as the workers apply it (protocol.md 4). The gateway keeps WireGuard's
  /// 120 s; only the benchmark shortens it (tunbench --rekey-after), so that the control
  /// thread rekeys within a run.
  Nanos rekey_after_time = wire::spec::kRekeyAfterTime;
  ReassemblyLimits reassembly;  // each worker's table of outer fragments
  /// Whether workers open each other's inbound bursts (spread.hpp); only with 2 or more.
  bool spread = true;
  /// One lane per worker (spread.hpp), made with the dataplane when it has 2 or more workers.
  std::unique_ptr<SpreadLane[]> lanes;

  // Tables: control thread writes, workers read.
  PeerTable peers;
  KeypairTable keypairs;
  peer::AllowedIps allowed;
  NeighbourTable neighbours;
  dpdk::Rcu rcu;

  // Control -> worker 0, per port (index PortRole): only on a port with no TX queue to spare for
  // the control thread (AF_XDP on veth has one queue pair); null otherwise. Single producer (the
  // control thread), single consumer (worker 0, which sends them on its own TX queue).
  rte_ring* control_tx[2] = {nullptr, nullptr};

  // Worker -> control. Created by the gateway before the first poll. Producers: every worker,
  // and the control thread's own Sealer (events only); all enqueue with the multi-producer
  // calls. Consumer: the control thread.
  rte_ring* to_control = nullptr;  // mbufs (MbufMeta says why)
  /// Handshake messages (ToControl::outer_handshake) only, in a ring of their own: its depth is
  /// the control thread's "under load" signal (protocol.md 3.8), which other work queued for
  /// the control thread must not raise. Null (tests): they go to `to_control`.
  rte_ring* handshakes = nullptr;
  rte_ring* events = nullptr;  // Event elements (post_event)

  /// The TURN server of our allocation (the config's TurnServer; unknown: none). ChannelData on
  /// the listen port is unwrapped only from here (unwrap_channel_data).
  Endpoint turn_server;

  /// Written by the control thread (shutdown); read by workers once per poll.
  std::atomic<bool> stop{false};
  /// High availability (docs/design.md, "High availability"): true while this gateway is the
  /// standby of a pair, which sends nothing on either port and drops what it receives. Written
  /// by the gateway before the first poll and then by the control thread only (Control::
  /// set_role); workers read it once per poll.
  std::atomic<bool> standby{false};
  /// The UDP port of the tunnel: the control thread may change it at run time (UAPI
  /// listen_port); workers read it once per burst.
  std::atomic<std::uint16_t> listen_port{51820};

  /// Which next hop an inner destination goes to (itself when on-link, else the inner gateway;
  /// family none: no route).
  IpAddr inner_next_hop(const IpAddr& dst) const noexcept;
  IpAddr outer_next_hop(const IpAddr& dst) const noexcept;
  /// Writer w's activity row for `peer`: w is a worker id, or `workers` for the control thread's
  /// Sealer. Written only by writer w (plain load/store, see PeerActivity); read by the control
  /// thread.
  PeerActivity& activity(unsigned writer, PeerId peer) noexcept {
    return (*activity_[writer])[peer];
  }
  /// Control thread: a peer's activity over every writer.
  PeerTotals peer_totals(PeerId peer) const noexcept;
  /// Control thread: peer_totals(peer) is coming.
  void prefetch_activity(PeerId peer) const noexcept {
    for (const auto& rows : activity_) prefetch_read(&(*rows)[peer]);
  }
  /// Control thread: zeroes a peer's rows before its id is used (the peer is not active, so no
  /// worker writes them).
  void reset_activity(PeerId peer) noexcept;

  /// Whether the 4 or 16 bytes at `ip` are the gateway's own LAN (Internet) address. Per packet:
  /// inline, fixed-size compares.
  bool is_inner_address(const std::uint8_t* ip, bool v6) const noexcept {
    return same_address(v6 ? addr.inner_v6 : addr.inner_v4, ip, v6);
  }
  bool is_outer_address(const std::uint8_t* ip, bool v6) const noexcept {
    return same_address(v6 ? addr.outer_v6 : addr.outer_v4, ip, v6);
  }

 private:
  std::vector<std::unique_ptr<HugeArray<PeerActivity>>> activity_;  // [writer][peer]

  static bool same_address(const IpAddr& own, const std::uint8_t* ip, bool v6) noexcept {
    if (own.family == IpAddr::Family::none) return false;
    if (!v6) {
      std::uint32_t a, b;
      std::memcpy(&a, own.bytes.data(), 4);
      std::memcpy(&b, ip, 4);
      return a == b;
    }
    std::uint64_t a[2], b[2];
    std::memcpy(a, own.bytes.data(), 16);
    std::memcpy(b, ip, 16);
    return ((a[0] ^ b[0]) | (a[1] ^ b[1])) == 0;
  }
};

/// What a listen-port payload that nat::stun::demux() classes as ChannelData is dropped as when
/// it is junk after all: too short to be anything is not ours (wg_bad_type); a ChannelData
/// header whose length disagrees is a broken message.
inline Drop demux_drop(nat::stun::DemuxDrop d) noexcept {
  switch (d) {
    case nat::stun::DemuxDrop::stun_bad_length:
      return Drop::stun_malformed;
    case nat::stun::DemuxDrop::channel_bad_length:
      return Drop::channel_data_malformed;
    default:
      return Drop::wg_bad_type;
  }
}

/// A WireGuard message relayed by our TURN server (unwrap_channel_data).
struct Relayed {
  Drop drop = Drop::channel_data_malformed;  // when !ok()
  bool accepted = false;
  std::uint16_t len = 0;  // the WireGuard message: len bytes at payload + kChannelDataHeaderSize
  wire::Classified wg;    // its classification (a type 1-4; bad_size possible)
  Endpoint source;        // the TURN server with the channel: the peer's relayed endpoint
  bool ok() const noexcept { return accepted; }
};

/// The one rule for ChannelData on the listen port (docs/nat-traversal.md, "Relayed data path"),
/// used by the workers and by the control thread's Sessions alike. `d` is demux()'s verdict on
/// the payload, of kind channel_data; `from` the datagram's source. Only our TURN server relays
/// to us: from anyone else it is channel_data_unknown_source. Inside must be a WireGuard message
/// (any type 1-4; the caller handles it like a direct one), else channel_data_not_wireguard.
inline Relayed unwrap_channel_data(const nat::stun::Demuxed& d, const std::uint8_t* payload,
                                   const Endpoint& from, const Endpoint& turn_server) noexcept {
  if (d.kind != nat::stun::PayloadKind::channel_data) return {.drop = demux_drop(d.drop)};
  if (!turn_server.known() || from.port != turn_server.port || !(from.addr == turn_server.addr)) {
    return {.drop = Drop::channel_data_unknown_source};
  }
  const wire::Classified wg =
      wire::classify(payload + nat::stun::kChannelDataHeaderSize, d.data_len);
  if (wg.type == wire::MessageType{}) return {.drop = Drop::channel_data_not_wireguard};
  return {
      .accepted = true, .len = d.data_len, .wg = wg, .source = {from.addr, from.port, d.channel}};
}

/// The outer headers from the gateway's outer address of `to`'s family and the listen port to
/// `to` (relayed: to the TURN server, with `to`'s channel), via the next hop at `dst_mac`.
/// Invalid (len 0) when the gateway has no outer address of that family. Control thread.
wire::OuterTemplate outer_template(const Dataplane& dp, const Endpoint& to,
                                   const wire::MacAddr& dst_mac) noexcept;

/// Posts an event for the control thread. A full ring loses the event, not a packet: counted as
/// control_ring_full in `drops`, and false returned so the caller clears its "posted" flag and
/// the next packet posts it again. Any thread may call it: Dataplane::events is multi-producer.
bool post_event(Dataplane& dp, const Event& e, DropCounters& drops) noexcept;

}  // namespace meshgate::dataplane
