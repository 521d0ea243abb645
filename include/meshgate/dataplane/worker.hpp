// A poll-mode worker: owns RX queue `queue` of both ports and TX queue `queue` of both ports,
// its own ipsec-mb manager and its drop counters (architecture section 3).
//
//   poll(): inner RX burst -> outbound (encrypt, encapsulate) -> outer TX
//           outer RX burst -> inbound  (decrypt, check, decapsulate) -> inner TX
//
// Each direction is classify -> one batch AEAD call -> post-process, each stage a function
// (the stage lists are in outbound.cpp, inbound.cpp and sealer.hpp).
#pragma once

#include <rte_config.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <cstring>
#include <optional>

#include "meshgate/crypto/aead.hpp"
#include "meshgate/dataplane/dataplane.hpp"
#include "meshgate/dataplane/drops.hpp"
#include "meshgate/dataplane/poll_gaps.hpp"
#include "meshgate/dataplane/reassembly.hpp"
#include "meshgate/dataplane/sealer.hpp"
#include "meshgate/dataplane/spread.hpp"
#include "meshgate/dataplane/tunables.hpp"
#include "meshgate/dataplane/tx_queue.hpp"
#include "meshgate/wire/build.hpp"
#include "meshgate/wire/classify.hpp"
#include "meshgate/wire/messages.hpp"
#include "meshgate/wire/rewrite.hpp"

namespace meshgate::dataplane {

/// Written by the worker only; read (relaxed, possibly torn across fields) for metrics.
struct alignas(64) WorkerStats {
  std::uint64_t rx_inner = 0, rx_outer = 0;
  std::uint64_t tx_inner = 0, tx_outer = 0;
  std::uint64_t encrypted = 0, decrypted = 0;
  std::uint64_t to_control = 0;
  std::uint64_t polls = 0, idle_polls = 0;
  std::uint64_t opened_for_others = 0;  // packets of other workers' queues this one opened
  std::uint64_t stalls = 0;             // polls over PollGaps::kStall after the one before
};

/// A relaxed read of a counter its owning lcore writes without atomics (x86 and arm64 load a
/// naturally aligned 64-bit word in one access; the value may be a few packets old).
inline std::uint64_t peek(const std::uint64_t& v) noexcept {
  return __atomic_load_n(&v, __ATOMIC_RELAXED);
}

/// The checks both directions start with: one segment, headers sane, addressed to `our_mac`
/// (or multicast: the ports are promiscuous). On true, `f` is the frame's classification; on
/// false the frame was freed and counted in `drops` under its reason.
inline bool admit_frame(rte_mbuf* m, wire::FrameInfo& f, const wire::MacAddr& our_mac,
                        bool verify_ipv4_checksum, DropCounters& drops) noexcept {
  auto reject = [&](auto reason) {
    drops.add(reason);
    rte_pktmbuf_free(m);
    return false;
  };
  if (m->nb_segs != 1) return reject(Drop::multi_segment);
  const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
  f = wire::classify_frame(p, m->data_len, {.verify_ipv4_checksum = verify_ipv4_checksum});
  if (!f.ok()) return reject(f.drop);
  if ((p[0] & 1) == 0 && std::memcmp(p, our_mac.b.data(), 6) != 0) return reject(Drop::other_mac);
  return true;
}

/// A burst's IP addresses to look up in the allowed-IPs tables, by family, each with the
/// position of its packet in the burst: one burst lookup per family, so the table walks advance
/// together and a big table costs about one memory latency per level for the burst.
struct AddressBurst {
  std::uint32_t v4[impl::kBurst];
  peer::Ip6 v6[impl::kBurst];
  std::uint8_t at4[impl::kBurst], at6[impl::kBurst];
  unsigned n4 = 0, n6 = 0;

  /// The 4 or 16 bytes at `addr`, for the packet at position `at`.
  void add(const std::uint8_t* addr, bool is_v6, unsigned at) noexcept {
    if (is_v6) {
      v6[n6] = peer::Ip6::load(addr);
      at6[n6++] = static_cast<std::uint8_t>(at);
    } else {
      v4[n4] = load_be32(addr);
      at4[n4++] = static_cast<std::uint8_t>(at);
    }
  }
  /// found[at] = the peer whose allowed IPs hold the address added for `at` (kNoPeer: none).
  void lookup(const peer::AllowedIps& table, PeerId* found) const noexcept {
    static_assert(impl::kBurst <= peer::AllowedIps::kMaxBurst);
    PeerId got[impl::kBurst];
    if (n4 != 0) {
      table.lookup_burst(v4, got, n4);
      for (unsigned j = 0; j < n4; ++j) found[at4[j]] = got[j];
    }
    if (n6 != 0) {
      table.lookup_burst(v6, got, n6);
      // NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign): lookup_burst filled got[0..n6)
      for (unsigned j = 0; j < n6; ++j) found[at6[j]] = got[j];
    }
  }
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

  unsigned id() const noexcept { return id_; }
  const DropCounters& drops() const noexcept { return drops_; }
  const WorkerStats& stats() const noexcept { return stats_; }
  /// Outer datagrams put back together from fragments (Reassembly::reassembled).
  const std::uint64_t& reassembled() const noexcept { return frags_.reassembled(); }

 private:
  /// Queues a finished frame for a port's TX queue (sent on flush()).
  void queue_tx(rte_mbuf* m, PortRole port) noexcept;
  /// Outbound packets routed, waiting for their keys and the seal.
  struct OutBurst {
    unsigned n = 0;
    rte_mbuf* m[impl::kBurst];
    PeerId peer[impl::kBurst];
    std::uint16_t l3_off[impl::kBurst], l3_len[impl::kBurst];
  };
  void route_burst(rte_mbuf** pkts, unsigned n, OutBurst& r);
  /// From a routed burst's peer rows: their current keypairs' send lines and their routes.
  void prefetch_keys(const OutBurst& r) noexcept;
  /// Stage 1: the burst's transport messages into `b`, the rest handled (to the control thread,
  /// dropped); returns how many of pkts it took. An outer fragment goes to reassembly, or, when
  /// `reassembles` is false (a burst of another worker's queue: the fragments are in that
  /// worker's table), ends the call: it and the packets after it are left untouched.
  unsigned classify_burst(rte_mbuf** pkts, unsigned n, InBurst& b, Nanos now,
                          bool reassembles = true);
  /// An outer fragment for our address: the whole datagram admitted again (`f` its new
  /// classification) once complete, else nullptr (it waits in frags_, or was dropped).
  rte_mbuf* reassemble(rte_mbuf* m, wire::FrameInfo& f, Nanos now) noexcept;
  /// A listen-port payload (wg, len from source) that is not a well-formed transport message:
  /// handshakes and STUN to the control thread, the rest dropped; true when it was ChannelData
  /// from our TURN server carrying a transport message, and wg, len and source now describe
  /// that message and its relayed endpoint.
  bool not_transport(rte_mbuf* m, const wire::Classified& c, std::uint8_t*& wg, std::uint16_t& len,
                     Endpoint& source) noexcept;
  /// What the inbound stages after the AEAD call pass on, per message of the burst.
  struct Opened {
    unsigned n = 0;  // messages with a live keypair: InBurst::p[0..n) and jobs[0..n)
    crypto::AeadJob jobs[impl::kBurst];
    bool fresh[impl::kBurst];               // counter new to the replay window
    std::uint16_t inner_len[impl::kBurst];  // the inner packet without padding
    AddressBurst sources;                   // inner sources, for the allowed-IPs check
    PeerId owner[impl::kBurst];             // whose allowed IPs hold the inner source
  };
  /// Stages 2-7 of a classified burst: keys, AEAD, replay, checks, frames for the LAN.
  void open_burst(InBurst& b, Nanos now);
  void find_recv_keys(InBurst& b, Opened& o, Nanos now) noexcept;
  void check_replay(const InPacket* in, Opened& o) noexcept;
  void authenticate_and_account(InPacket* in, Opened& o, Nanos now) noexcept;
  /// may_roam false: confirms the keypair but posts no endpoint_changed for `source`.
  void post_keypair_events(Keypair* kp, const Endpoint& source, PeerId& roamed,
                           bool may_roam) noexcept;
  /// An opened coordination message: the mbuf cut to exactly the message, to the control thread
  /// as tunnel_coordination with the peer and the outer source.
  void coordination_to_control(InPacket& ip) noexcept;
  void deliver(InPacket* in, const Opened& o, Nanos now) noexcept;
  /// Stage 3 of outbound: each routed packet's keypair and route, or why not.
  unsigned find_keys(OutBurst& r, OutPacket* out, Nanos now) noexcept;
  /// An outbound frame not sent: answered with the ICMP error `kind` and dropped as `reason`.
  void refuse_outbound(rte_mbuf* m, wire::IcmpError kind, Drop reason) noexcept;
  /// An outbound frame whose IP packet (at l3_off) is over the tunnel MTU: fragmented and sealed
  /// (IPv4 without DF), else refused with ICMP too big.
  void oversized(rte_mbuf* m, std::uint16_t l3_off, PeerId peer, Nanos now) noexcept;
  /// Seals packets the worker made itself (fragments, ICMP errors to a peer's hosts),
  /// pieces[0..n) with n <= impl::kBurst, for `peer` and queues them for the outer port, or
  /// stages them when the peer has no session yet.
  void seal_made(rte_mbuf** pieces, unsigned n, PeerId peer, Nanos now) noexcept;
  /// An opened inner packet (m cut to it) that forward_ip() stopped: `why`. A TTL run out is
  /// answered with ICMP time exceeded through the tunnel to its sender, `peer`'s host.
  void refuse_inbound(rte_mbuf* m, wire::Forward why, PeerId peer, Nanos now) noexcept;
  // --- Spreading inbound bursts over the workers (spread.hpp, spread.cpp) ---
  /// A received outer burst, published in this worker's lane for any worker to open, or
  /// through the pipeline (inbound()) when no other worker has time and none is waiting.
  void spread_inbound(rte_mbuf** pkts, unsigned n, Nanos now);
  /// Whether the lane has a free slot for one more burst (this worker opens its oldest
  /// unclaimed one itself to make room); false: the RX queue waits.
  bool spread_room(Nanos now);
  /// With time to spare: this worker's own unclaimed bursts, then a few of other workers';
  /// returns the packets it opened.
  unsigned help(Nanos now);
  /// Classifies and opens a claimed job and marks it done; returns the messages it opened.
  unsigned run_job(SpreadJob& j, Nanos now);
  /// Sends the frames of this worker's finished jobs, oldest first, up to the first unfinished
  /// (and handles what a claimer left it: SpreadJob::left).
  void retire(Nanos now);
  /// Before the worker stops: every burst of its lane opened and sent.
  void drain_lane(Nanos now);
  /// Other workers that said their own queues leave them time (SpreadLane::spare).
  unsigned others_with_time() const noexcept;
  /// Bursts of this worker's lane not sent yet (some other worker may be opening one).
  bool lane_waiting() const noexcept {
    return lane_ != nullptr && retired_ != lane_->published.load(std::memory_order_relaxed);
  }
  void set_spare(bool spare) noexcept;

  /// Worker 0: sends what the control thread left in Dataplane::control_tx.
  unsigned relay_control_tx() noexcept;
  /// A received burst ready for its stage: without its 802.1Q tags when `port` has a VLAN (the
  /// kept count); a standby's burst is all dropped (0 kept).
  unsigned admit_burst(rte_mbuf** pkts, unsigned n, PortRole port) noexcept;
  void drop(rte_mbuf* m, Drop d) noexcept;
  void drop(rte_mbuf* m, wire::DropReason r) noexcept;
  void to_control(rte_mbuf* m, ToControl kind, PortRole port, PeerId peer = kNoPeer) noexcept;
  bool post(const Event& e) noexcept { return post_event(dp_, e, drops_); }
  void send_icmp_error(rte_mbuf* m, const wire::FrameInfo& f, wire::IcmpError kind) noexcept;
  bool add_ethernet(rte_mbuf* m, const IpAddr& next_hop, bool v6, PortRole role) noexcept;
  /// The same with the next hop's MAC already looked up (nullopt: unknown, resolve it).
  bool add_ethernet(rte_mbuf* m, const IpAddr& next_hop, const std::optional<wire::MacAddr>& dst,
                    bool v6, PortRole role) noexcept;

  Dataplane& dp_;
  unsigned id_;
  std::uint16_t queue_;
  Sealer sealer_;  // outbound stages 4-6; its AEAD batch opens inbound packets too
  TxQueue tx_[2];  // by PortRole
  DropCounters drops_;
  WorkerStats stats_;
  PollGaps gaps_;
  OutBurst out_burst_[2];  // [out_next_]: the call in progress; the other: waiting
  InBurst in_burst_[2];
  Reassembly frags_;  // outer fragments waiting for the rest of their datagram
  unsigned out_next_ = 0, in_next_ = 0;
  bool standby_ = false;  // Dataplane::standby as this poll read it
  // Spreading: the lane is Dataplane::lanes[id_]; null when the dataplane does not spread.
  SpreadLane* lane_ = nullptr;
  std::uint64_t retired_ = 0;  // jobs [0, retired_) of the lane are sent
  bool spare_ = false;         // what lane_->spare says
  SpreadJob* sink_ = nullptr;  // while opening a job: deliver() leaves its frames here
  InBurst job_burst_;          // a job's burst, classified, while this worker opens it
};

}  // namespace meshgate::dataplane
