// The control thread: a thin loop over the workers' rings, the timers and the operator
// services, dispatching to the parts that own the control plane's state:
//
//   Peers        peer records, PeerId <-> public key, a peer's existence for the workers
//   PeerConfig   what the config file and the UAPI change at run time
//   Sessions     handshakes, cookies, rate limiting, initiations and keepalives we send
//   KeySlots     each peer's current/previous/next keypairs and our receiver indices
//   Routes       the peer routes the workers send with (endpoint + outer header template)
//   Neighbours   ARP/ND on both ports, frames waiting for a next hop's MAC
//   Staging      inner packets waiting for a peer's session
//   Timers       WireGuard's timers, driven by the workers' activity time stamps
//   LocalTraffic ICMP echo for the gateway's own addresses
//   StunDiscovery the listen port's reflexive address and the NAT's behaviour (STUN client)
//   TurnRelay    the TURN allocation and channels of the relayed path
//   Paths        which candidate path each introduced peer's endpoint is (relay first, direct
//                once a ping proves one)
//   Lighthouse   candidate reports and introductions, both roles; every coordination message
//   Transmitter  the control thread's own TX queues and the seal of what it sends
//
// Control is the only writer of the shared tables (architecture: docs/design.md): each part
// writes the tables named in its header, and frees what it unpublished after an RCU grace
// period. Everything here runs on the control thread.
#pragma once

#include <rte_config.h>
#include <rte_mbuf.h>

#include <cstdio>
#include <functional>
#include <vector>

#include "meshgate/base/time.hpp"
#include "meshgate/config/gateway_config.hpp"
#include "meshgate/control/event_log.hpp"
#include "meshgate/control/key_slots.hpp"
#include "meshgate/control/lighthouse.hpp"
#include "meshgate/control/local.hpp"
#include "meshgate/control/neighbours.hpp"
#include "meshgate/control/paths.hpp"
#include "meshgate/control/peer_config.hpp"
#include "meshgate/control/peers.hpp"
#include "meshgate/control/routes.hpp"
#include "meshgate/control/sessions.hpp"
#include "meshgate/control/staging.hpp"
#include "meshgate/control/stun.hpp"
#include "meshgate/control/timers.hpp"
#include "meshgate/control/transmit.hpp"
#include "meshgate/control/tunables.hpp"
#include "meshgate/control/turn.hpp"
#include "meshgate/dataplane/dataplane.hpp"
#include "meshgate/dataplane/drops.hpp"

namespace meshgate::control {

/// Counters of the control plane, gathered from its parts (a snapshot).
struct ControlStats : HandshakeStats {
  std::uint64_t arp_replies = 0, nd_replies = 0, echo_replies = 0;
  std::uint64_t neighbour_refused = 0, neighbour_not_sent = 0;  // NeighbourStats
  std::uint64_t announcements = 0;                              // Neighbours::announce's frames
  std::uint64_t handshake_requests = 0;  // the workers asked for a handshake (want_handshake)
};

/// The control loop's pause when a poll found nothing (impl::kIdleSleep, doubling while idle up
/// to impl::kIdleSleepMax). One per loop, on the loop's thread.
class IdleSleep {
 public:
  /// After a poll that did `work` (packets and events handled): sleeps if it was none.
  void after(unsigned work) noexcept;
  /// How long the next idle poll will sleep.
  Nanos next() const noexcept { return sleep_; }

 private:
  Nanos sleep_ = impl::kIdleSleep;
};

class Control {
 public:
  /// `tx_queue` is the control thread's own TX queue index on both ports (= worker count).
  Control(dataplane::Dataplane& dp, std::uint16_t tx_queue);
  /// Runs the reclamations still deferred while the parts they belong to are alive (they free
  /// through the parts' members); the workers must have stopped.
  ~Control();
  Control(const Control&) = delete;
  Control& operator=(const Control&) = delete;

  // --- the parts ---
  PeerConfig& config() noexcept { return config_; }
  const PeerConfig& config() const noexcept { return config_; }
  const Peers& peers() const noexcept { return peers_; }
  const Sessions& sessions() const noexcept { return sessions_; }
  const Staging& staging() const noexcept { return staging_; }
  const Transmitter& tx() const noexcept { return tx_; }
  Transmitter& tx() noexcept { return tx_; }
  StunDiscovery& stun() noexcept { return stun_; }
  const StunDiscovery& stun() const noexcept { return stun_; }
  TurnRelay& turn() noexcept { return turn_; }
  const TurnRelay& turn() const noexcept { return turn_; }
  Paths& paths() noexcept { return paths_; }
  const Paths& paths() const noexcept { return paths_; }
  Lighthouse& lighthouse() noexcept { return lighthouse_; }
  const Lighthouse& lighthouse() const noexcept { return lighthouse_; }
  const dataplane::Dataplane& dataplane() const noexcept { return dp_; }

  /// Where handshake and peer events are logged (one line each); null: nowhere.
  void set_log(FILE* log) noexcept { log_.set(log); }
  /// The control thread's log, for the services that report through it (state sync).
  const EventLog& log() const noexcept { return log_; }
  /// Called on every timer tick on the control thread: the UAPI and metrics sockets.
  void add_service(std::function<unsigned(Nanos)> service) {
    services_.push_back(std::move(service));
  }

  /// One iteration: rings, events, timers (every impl::kTimerPeriod), RCU. Returns work done.
  unsigned poll(Nanos now, WallTime wall);
  /// Loops until dp.stop (sleeps briefly when idle).
  void run();
  /// The clock of the current (or last) poll(): what services called from poll() use.
  Nanos now() const noexcept { return now_; }

  /// High availability (docs/design.md): a standby sends nothing and answers nothing; its
  /// tables stay loaded. Becoming active announces the gateway's addresses on both ports
  /// (Neighbours::announce) and starts a handshake with every peer whose endpoint is known.
  /// The same role again does nothing. Control thread (the UAPI's meshgate_role key).
  void set_role(config::Role role, Nanos now, WallTime wall);
  bool standby() const noexcept { return dp_.standby.load(std::memory_order_relaxed); }

  /// The control plane's drops by reason (its own, not any worker's).
  const dataplane::DropCounters& drops() const noexcept { return drops_; }
  ControlStats stats() const;

 private:
  void handle_packet(rte_mbuf* m, Nanos now, WallTime wall);
  void handle_event(const dataplane::Event& e, Nanos now, WallTime wall);
  /// An inner packet for a peer without a usable session: it waits, and a handshake starts.
  void stage(rte_mbuf* m, PeerId peer, Nanos now, WallTime wall);
  void run_timers(Nanos now, WallTime wall);
  /// The handshakes the workers asked for while the REKEY_TIMEOUT gate was closed (gated_),
  /// each sent once its gate opens.
  void send_gated(Nanos now, WallTime wall);
  /// Every timer-period job of an active gateway: timers, probes, STUN, TURN, paths.
  void tick(Nanos now, WallTime wall);
  void next_hop_learnt(const IpAddr& hop, Nanos now);
  /// A new reflexive address means our NAT rebound the listen port: the TURN allocation, made
  /// from the old mapping, is re-made.
  void follow_rebinding(Nanos now);
  /// Every configured or learnt direct endpoint may also reach us through our relayed address.
  void permit_relay(Nanos now);

  // Declaration order is construction order: each part after the parts it uses.
  dataplane::Dataplane& dp_;
  dataplane::DropCounters drops_;  // every part counts its drops here
  EventLog log_;
  Transmitter tx_;
  Peers peers_;
  KeySlots keys_;
  Neighbours neighbours_;
  Routes routes_;
  Staging staging_;
  Sessions sessions_;
  PeerConfig config_;
  Timers timers_;
  LocalTraffic local_;
  StunDiscovery stun_;
  TurnRelay turn_;
  Paths paths_;
  Lighthouse lighthouse_;
  std::vector<std::function<unsigned(Nanos)>> services_;
  Nanos last_timer_run_ = 0;
  Nanos last_permit_run_ = 0;
  std::uint64_t reflexive_changes_seen_ = 0;  // StunClientStats::address_changes acted on
  std::uint64_t handshake_requests_ = 0;      // ControlStats::handshake_requests
  std::vector<PeerId> gated_;  // asked for a handshake, waiting for the REKEY_TIMEOUT gate
  Nanos now_ = 0;
};

}  // namespace meshgate::control
