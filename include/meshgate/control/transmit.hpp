// The control thread's transmit path: its own TX queue on each port (queue index = worker
// count), or the relay ring through worker 0 where a port has no queue to spare; the seal of
// the packets it sends into a tunnel (staged packets, keepalives, echo replies); and UDP
// datagrams from the listen port (handshake messages). Its counters are its own.
#pragma once

#include <rte_config.h>
#include <rte_mbuf.h>

#include <cstdint>

#include "meshgate/base/ip.hpp"
#include "meshgate/dataplane/dataplane.hpp"
#include "meshgate/dataplane/drops.hpp"
#include "meshgate/dataplane/sealer.hpp"
#include "meshgate/dataplane/tx_queue.hpp"

namespace meshgate::control {

using dataplane::PortRole;
using peer::PeerId;

/// Written by the control thread only; metrics read them relaxed.
struct TransmitStats {
  std::uint64_t tx_inner = 0, tx_outer = 0;  // frames handed to a TX queue or the relay
  std::uint64_t sealed = 0;                  // packets sealed into a tunnel
};

class Transmitter {
 public:
  /// `queue`: the control thread's TX queue on both ports. Frames the queues refuse, and what
  /// the seal drops, are counted in `drops`.
  Transmitter(dataplane::Dataplane& dp, std::uint16_t queue, dataplane::DropCounters& drops);
  Transmitter(const Transmitter&) = delete;
  Transmitter& operator=(const Transmitter&) = delete;

  /// Queues a finished frame; sent on flush().
  void queue(rte_mbuf* m, PortRole port) noexcept;
  /// Seals bare IP packets (or empty mbufs: keepalives) for `peer` with its current keypair and
  /// queues them for the Internet port. Returns how many it took (at most dataplane::kBurst);
  /// 0 when the peer has no usable keypair or route, and the caller keeps the packets.
  unsigned send_to_peer(PeerId peer, rte_mbuf** pkts, unsigned n, Nanos now);
  /// Seals one coordination plaintext (nat/coord.hpp; len <= nat::coord::kMaxMessageSize) for
  /// `peer` with its current keypair and queues it to `to`, which may differ from the peer's
  /// route (probing a candidate path; relayed: as ChannelData to the TURN server), through the
  /// outer next hop at `dst_mac` (the caller looks it up: Neighbours::lookup_or_probe of
  /// dp.outer_next_hop(to.addr)). False when the peer has no usable keypair, `to` no outer
  /// address of its family, the plaintext is too long or no mbuf is free; a seal that drops
  /// the packet counts it in `drops` as for any other.
  bool send_sealed_to(PeerId peer, const Endpoint& to, const wire::MacAddr& dst_mac,
                      const std::uint8_t* plaintext, std::size_t len, Nanos now);
  /// A frame: a UDP datagram from our outer address and the listen port to `to` (relayed: to
  /// the TURN server, the ChannelData header in front of the payload), its destination MAC not
  /// yet written (Neighbours::send does that). Null frame: no outer
  /// address of that family, or no mbuf.
  struct Frame {
    rte_mbuf* m = nullptr;
    IpAddr next_hop;
  };
  Frame udp_frame(const Endpoint& to, const std::uint8_t* payload, std::size_t len,
                  std::uint8_t tos);
  /// Sends what is queued.
  void flush() noexcept;

  const TransmitStats& stats() const noexcept { return stats_; }

 private:
  dataplane::Dataplane& dp_;
  dataplane::DropCounters& drops_;
  dataplane::Sealer sealer_;
  dataplane::TxQueue inner_, outer_;
  TransmitStats stats_;
};

}  // namespace meshgate::control
