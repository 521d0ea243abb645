// The control thread: handshakes, cookies, timers, staged packets, neighbours, roaming.
//
// It is the only writer of the shared tables (architecture section 3): it installs and retires
// keypairs, publishes peer routes, updates allowed IPs and the neighbour table, and frees what
// it unpublished after an RCU grace period. It reads the workers' rings and the per-peer
// activity timestamps they record, and transmits on a TX queue of its own on each port through
// a Worker object that never polls.
#pragma once

#include <rte_config.h>
#include <rte_mbuf.h>

#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "meshgate/base/ip.hpp"
#include "meshgate/base/result.hpp"
#include "meshgate/base/secret.hpp"
#include "meshgate/base/time.hpp"
#include "meshgate/dataplane/dataplane.hpp"
#include "meshgate/dataplane/worker.hpp"
#include "meshgate/noise/cookie.hpp"
#include "meshgate/noise/handshake.hpp"
#include "meshgate/noise/identity.hpp"
#include "meshgate/peer/ratelimiter.hpp"
#include "meshgate/peer/timers.hpp"

namespace meshgate::control {

using dataplane::PeerId;

/// A peer as configured (config file, later the UAPI).
struct PeerSettings {
  Key32 public_key{};
  std::optional<SecretKey> preshared_key;
  Endpoint endpoint;  // unknown until configured or learnt from an authenticated packet
  std::uint16_t persistent_keepalive = 0;
  std::vector<Prefix> allowed_ips;
};

/// Handshake-layer counters (noise::HandshakeDrop reasons and what went well).
struct ControlStats {
  std::uint64_t initiations_sent = 0, initiations_received = 0;
  std::uint64_t responses_sent = 0, responses_received = 0;
  std::uint64_t cookies_sent = 0, cookies_received = 0;
  std::uint64_t keepalives_sent = 0;
  std::uint64_t handshake_drops[noise::kHandshakeDropCount + 1] = {};
  std::uint64_t rate_limited = 0;
  std::uint64_t arp_replies = 0, nd_replies = 0, echo_replies = 0;
};

class Control {
 public:
  /// `tx_queue` is the control thread's own TX queue index on both ports (= worker count).
  Control(dataplane::Dataplane& dp, std::uint16_t tx_queue);
  ~Control();
  Control(const Control&) = delete;
  Control& operator=(const Control&) = delete;

  // --- configuration (control thread) ---
  void set_private_key(const SecretKey& key);
  const noise::StaticIdentity& identity() const noexcept { return identity_; }
  Result<PeerId> add_peer(const PeerSettings& s, Nanos now);
  void remove_peer(PeerId id);

  // --- live changes (control thread; the UAPI drives them, config_live.cpp) ---
  // Each applies at once; the data path of untouched peers goes on.
  std::uint16_t listen_port() const noexcept;
  /// Workers read the port per burst; every peer's route template is rebuilt with it.
  void set_listen_port(std::uint16_t port, Nanos now);
  std::uint32_t fwmark() const noexcept { return fwmark_; }
  void set_fwmark(std::uint32_t mark) noexcept { fwmark_ = mark; }
  void remove_all_peers();
  /// Takes the prefix from any other peer that holds it (WireGuard's rule).
  Status add_allowed_ip(PeerId id, const Prefix& prefix);
  /// Removes the prefix if this peer holds it; false if not.
  bool remove_allowed_ip(PeerId id, const Prefix& prefix);
  /// The peer's prefixes become exactly `list`: new ones are inserted before old ones go, so
  /// a prefix in both lists routes all along.
  Status replace_allowed_ips(PeerId id, const std::vector<Prefix>& list);
  /// "10.0.0.0/24" forms, IPv4 first.
  std::vector<std::string> allowed_ips(PeerId id) const;
  void set_endpoint(PeerId id, const Endpoint& ep, Nanos now);
  /// All zero: no PSK. Sessions stay; the next handshake uses the new key.
  void set_preshared_key(PeerId id, const SecretKey& psk);
  void set_persistent_keepalive(PeerId id, std::uint16_t seconds, Nanos now);
  /// Called on every timer tick (10 ms) on the control thread: the UAPI and metrics sockets.
  void add_service(std::function<unsigned(Nanos)> service) {
    services_.push_back(std::move(service));
  }

  /// Where handshake and peer events are logged (one line each); null: nowhere.
  void set_log(FILE* log) noexcept { log_ = log; }

  // --- running ---
  /// One iteration: rings, events, timers (every 10 ms), neighbours, RCU. Returns work done.
  unsigned poll(Nanos now, WallTime wall);
  /// Loops until dp.stop (sleeps briefly when idle).
  void run();

  // --- observation (control thread) ---
  const ControlStats& stats() const noexcept { return stats_; }
  const dataplane::Dataplane& dataplane() const noexcept { return dp_; }
  /// The clock of the current (or last) poll(): what services called from poll() use.
  Nanos now() const noexcept { return now_; }
  dataplane::Worker& tx() noexcept { return tx_; }
  const dataplane::Worker& tx() const noexcept { return tx_; }
  std::optional<PeerId> find_peer(const Key32& public_key) const;
  Endpoint endpoint(PeerId id) const;
  WallTime last_handshake(PeerId id) const;
  std::size_t staged(PeerId id) const;
  /// Peers in PeerId order.
  std::vector<PeerId> peer_ids() const;
  const PeerSettings& settings(PeerId id) const;
  /// Sessions derived with this peer (both roles).
  std::uint64_t handshakes(PeerId id) const;

 private:
  struct PeerState;

  // control.cpp: dispatch
  void handle_packet(rte_mbuf* m, Nanos now, WallTime wall);
  void handle_event(const dataplane::Event& e, Nanos now, WallTime wall);
  void stage(rte_mbuf* m, PeerId peer, Nanos now, WallTime wall);
  void flush_staged(PeerId peer, Nanos now);
  // handshake.cpp
  void handle_handshake(rte_mbuf* m, Nanos now, WallTime wall);
  void handle_initiation(const std::uint8_t* msg, const Endpoint& src, Nanos now, WallTime wall);
  void handle_response(const std::uint8_t* msg, const Endpoint& src, Nanos now, WallTime wall);
  void handle_cookie_reply(const std::uint8_t* msg, Nanos now);
  void send_initiation(PeerId peer, Nanos now, WallTime wall, bool retry);
  void send_keepalive(PeerId peer, Nanos now);
  bool under_load(Nanos now);
  /// mac1, then (under load) mac2 or a cookie reply, then the rate limiter: true to go on.
  template <class Msg>
  bool admit(const Msg& msg, const Endpoint& src, Nanos now);
  // keys.cpp
  void install_keypair(PeerId peer, noise::Keypair& kp, bool initiator, Nanos now);
  void confirm_next(PeerId peer, std::uint32_t index, Nanos now, WallTime wall);
  void retire_index(std::uint32_t index);
  /// Gives every keypair of `peer` the tag of the endpoint its route goes to (0: no route), for
  /// the receive path's roaming check (dataplane::endpoint_tag).
  void tag_keypairs(PeerId peer);
  std::uint32_t route_tag(PeerId peer) const;
  void zero_keys(PeerId peer);
  // timers.cpp
  void run_timers(Nanos now, WallTime wall);
  // neighbours.cpp
  void handle_neighbour(rte_mbuf* m, dataplane::PortRole port, Nanos now);
  void handle_resolve(rte_mbuf* m, Nanos now);
  void handle_local(rte_mbuf* m, dataplane::PortRole port);
  void handle_tunnel_local(rte_mbuf* m, PeerId peer, Nanos now);
  void neighbour_tick(Nanos now);
  void neighbour_learnt(const IpAddr& ip, const wire::MacAddr& mac, Nanos now);
  void probe(const IpAddr& ip);
  void update_route(PeerId peer, Nanos now, bool rebuild = false);
  void reclaim_allowed_ips();
  void send_udp(const Endpoint& to, const std::uint8_t* payload, std::size_t len, Nanos now);

  dataplane::Dataplane& dp_;
  dataplane::Worker tx_;  // the control thread's TX queue, encryption for staged packets
  noise::StaticIdentity identity_;
  noise::CookieChecker cookie_checker_;
  peer::RateLimiter rate_limiter_;
  std::vector<std::unique_ptr<PeerState>> peers_;  // by PeerId; null = free slot
  /// Ids of removed peers that add_peer() may not hand out yet: a worker may still hold one for a
  /// packet it routed (its pipeline carries a burst across one quiescent state), so an id waits two
  /// RCU grace periods before another peer gets it, lest that packet go to the new peer.
  std::unordered_set<PeerId> cooling_ids_;
  std::map<Key32, PeerId> by_key_;
  /// Our index -> (peer, is it a pending handshake): typed lookups for types 2 and 3.
  std::unordered_map<std::uint32_t, PeerId> handshake_index_;
  /// Frames waiting for a next hop's MAC, by next hop.
  std::map<std::pair<int, std::array<std::uint8_t, 16>>, std::deque<rte_mbuf*>> unresolved_;
  std::vector<PeerId> awaiting_route_;
  Nanos last_timer_run_ = 0;
  Nanos under_load_until_ = 0;
  ControlStats stats_;
  FILE* log_ = nullptr;
  std::uint32_t fwmark_ = 0;
  Nanos now_ = 0;
  std::vector<std::function<unsigned(Nanos)>> services_;

  void log_peer(PeerId peer, const char* what);
};

}  // namespace meshgate::control
