// A poll-mode worker: owns RX queue `queue` of both ports and TX queue `queue` of both ports,
// its own ipsec-mb manager and its drop counters (architecture section 3).
//
//   poll(): inner RX burst -> outbound (encrypt, encapsulate) -> outer TX
//           outer RX burst -> inbound  (decrypt, check, decapsulate) -> inner TX
//
// Each direction is classify -> one batch AEAD call -> post-process, each stage a function.
#pragma once

#include <rte_config.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <cstring>
#include <optional>

#include "meshgate/crypto/aead.hpp"
#include "meshgate/dataplane/dataplane.hpp"
#include "meshgate/dataplane/drops.hpp"
#include "meshgate/wire/build.hpp"
#include "meshgate/wire/classify.hpp"

namespace meshgate::dataplane {

inline constexpr unsigned kBurst = 32;

/// Packets waiting for one TX queue; flushed once per poll.
struct TxBuffer {
  rte_mbuf* pkts[2 * kBurst];
  unsigned n = 0;
};

struct alignas(64) WorkerStats {
  std::uint64_t rx_inner = 0, rx_outer = 0;
  std::uint64_t tx_inner = 0, tx_outer = 0;
  std::uint64_t encrypted = 0, decrypted = 0;
  std::uint64_t to_control = 0;
  std::uint64_t polls = 0, idle_polls = 0;
};

/// A packet on its way out, after routing and key lookup.
struct OutPacket {
  rte_mbuf* m;
  Keypair* kp;
  const PeerRoute* route;
  PeerId peer;
  std::uint16_t inner_len;
  std::uint64_t counter;
};

/// A type-4 message on its way in, classified (Worker::inbound).
struct InPacket {
  rte_mbuf* m;
  Keypair* kp;
  std::uint8_t* payload;  // WireGuard message
  std::uint16_t wg_len;
  std::uint64_t counter;
  std::uint32_t index;  // receiver index
  Endpoint source;
};

class Worker {
 public:
  Worker(Dataplane& dp, unsigned id, crypto::AeadBackend backend = crypto::AeadBackend::ipsec_mb);

  /// One iteration; returns the number of packets received (0 = idle).
  unsigned poll(Nanos now);
  /// Loops until dp.stop, with idle back-off when configured. Registers with RCU.
  void run();

  /// Stage entry points, public for tunbench and tests: they take packets already received.
  void outbound(rte_mbuf** pkts, unsigned n, Nanos now);
  void inbound(rte_mbuf** pkts, unsigned n, Nanos now);
  /// The stages are a one-burst pipeline: each call finishes the burst before and leaves its own
  /// for the next call. These finish the burst left waiting; poll() calls them when a queue
  /// returns less than a full burst, so a packet waits only while more are queued behind it.
  void finish_outbound(Nanos now);
  void finish_inbound(Nanos now);
  /// Sends what the stages queued.
  void flush();

  /// Encrypts bare IP packets (or empty mbufs: keepalives) for `peer` with its current keypair
  /// and queues them for the Internet port. Returns how many it took (at most kBurst); 0 when
  /// the peer has no usable keypair or route yet, and the caller keeps the packets.
  unsigned send_to_peer(PeerId peer, rte_mbuf** pkts, unsigned n, Nanos now);
  /// Queues a finished frame for a port's TX queue (sent on flush()).
  void queue_tx(rte_mbuf* m, PortRole port) noexcept;
  DropCounters& drops() noexcept { return drops_; }

  unsigned id() const noexcept { return id_; }
  const DropCounters& drops() const noexcept { return drops_; }
  const WorkerStats& stats() const noexcept { return stats_; }

 private:
  /// Outbound packets routed, waiting for their keys and the seal.
  struct OutBurst {
    unsigned n = 0;
    rte_mbuf* m[kBurst];
    PeerId peer[kBurst];
    std::uint16_t l3_off[kBurst], l3_len[kBurst];
  };
  /// Type-4 messages classified, waiting to be opened.
  struct InBurst {
    unsigned n = 0;
    InPacket p[kBurst];
  };
  void route_burst(rte_mbuf** pkts, unsigned n, OutBurst& r);
  /// From a routed burst's peer rows: their current keypairs' send lines and their routes.
  void prefetch_keys(const OutBurst& r) noexcept;
  void classify_burst(rte_mbuf** pkts, unsigned n, InBurst& b);
  void encrypt_and_queue(OutPacket* out, unsigned k, Nanos now);
  /// The checks both directions start with: one segment, headers sane, addressed to our MAC
  /// (or multicast: the ports are promiscuous). False: dropped with its reason.
  bool admit_frame(rte_mbuf* m, wire::FrameInfo& f, const wire::MacAddr& our_mac,
                   bool verify_ipv4_checksum) noexcept {
    if (m->nb_segs != 1) {
      drop(m, Drop::multi_segment);
      return false;
    }
    const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
    f = wire::classify_frame(p, m->data_len, {.verify_ipv4_checksum = verify_ipv4_checksum});
    if (!f.ok()) {
      drop(m, f.drop);
      return false;
    }
    if ((p[0] & 1) == 0 && std::memcmp(p, our_mac.b.data(), 6) != 0) {
      drop(m, Drop::other_mac);
      return false;
    }
    return true;
  }
  /// Worker 0: sends what the control thread left in Dataplane::control_tx.
  unsigned relay_control_tx() noexcept;
  void drop(rte_mbuf* m, Drop d) noexcept;
  void drop(rte_mbuf* m, wire::DropReason r) noexcept;
  void to_control(rte_mbuf* m, ToControl kind, PortRole port, PeerId peer = kNoPeer) noexcept;
  bool post(const Event& e) noexcept;
  void flush_tx(TxBuffer& b, std::uint16_t port) noexcept;
  void send_icmp_error(rte_mbuf* m, const wire::FrameInfo& f, wire::IcmpError kind) noexcept;
  bool add_ethernet(rte_mbuf* m, const IpAddr& next_hop, bool v6, PortRole role) noexcept;
  /// The same with the next hop's MAC already looked up (nullopt: unknown, resolve it).
  bool add_ethernet(rte_mbuf* m, const IpAddr& next_hop, const std::optional<wire::MacAddr>& dst,
                    bool v6, PortRole role) noexcept;

  Dataplane& dp_;
  unsigned id_;
  std::uint16_t queue_;
  crypto::AeadBatch aead_;
  TxBuffer tx_inner_;
  TxBuffer tx_outer_;
  DropCounters drops_;
  WorkerStats stats_;
  OutBurst out_burst_[2];  // [out_next_]: the call in progress; the other: waiting
  InBurst in_burst_[2];
  unsigned out_next_ = 0, in_next_ = 0;
};

}  // namespace meshgate::dataplane
