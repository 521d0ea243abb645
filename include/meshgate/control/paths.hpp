// Path selection (docs/nat-traversal.md, "Hole punching and path selection"): for each peer a
// lighthouse introduced, which of its candidate paths carries the tunnel. Relay first: as soon
// as both gateways have a TURN channel to each other's relayed address the peer's endpoint is the
// relay, so traffic flows at once; meanwhile pings sealed in the session go to every direct
// candidate, and the first pong makes its path the endpoint. While direct, a heartbeat ping every
// kHeartbeat; no pong for kDeadAfter and the endpoint falls back to the relay. A peer not on a
// direct path is probed again every kReprobe, after asking the lighthouses for fresh candidates.
//
// Switching moves only the endpoint (Sessions::learn_endpoint): the session and its keypairs
// stay. Roaming to a direct source is accepted for a managed peer only once a pong proved that
// path both ways (allow_roam), so a one-way path never takes the traffic.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "meshgate/base/ip.hpp"
#include "meshgate/base/time.hpp"
#include "meshgate/control/event_log.hpp"
#include "meshgate/control/neighbours.hpp"
#include "meshgate/control/peers.hpp"
#include "meshgate/control/sessions.hpp"
#include "meshgate/control/transmit.hpp"
#include "meshgate/control/tunables.hpp"
#include "meshgate/control/turn.hpp"
#include "meshgate/dataplane/dataplane.hpp"
#include "meshgate/nat/coord.hpp"

namespace meshgate::control {

enum class PathKind : std::uint8_t { none, direct, relayed };
std::string_view to_string(PathKind k) noexcept;

/// One peer's paths. Written by Paths only (control thread); metrics read it there.
struct PathState {
  bool introduced = false;  // false: only last_request and request_gap are in use
  nat::coord::Candidates
      candidates;                  // the peer's: the latest introduction, plus sources of its pings
  Endpoint relay_peer;             // the peer's relayed address (unknown: it has none)
  PathKind kind = PathKind::none;  // what the peer's endpoint is now
  Endpoint endpoint;               // the endpoint when kind was last seen
  Nanos changed_at = 0;            // when kind or endpoint last changed
  std::uint64_t changes = 0;
  Nanos rtt = -1;          // latest ping round trip on the path in use; -1 unknown
  Nanos verified_at = -1;  // latest pong on the direct path `verified`
  Endpoint verified;       // the direct path the latest pong proved
  Nanos round_start = -1;  // the current probe round; -1: none running
  unsigned round_step = 0;
  Nanos last_round = -1;  // when the latest round started
  Nanos last_heartbeat = -1;
  Nanos last_request = -1;  // when the lighthouses were last asked about this peer
  Nanos request_gap = 0;    // until the next request while no path works (doubles)

  struct Ping {
    std::uint64_t txid = 0;
    Endpoint to;
    Nanos sent = 0;
  };
  static constexpr unsigned kPings = 16;
  Ping pings[kPings];  // the latest pings, a ring
  unsigned next_ping = 0;
};

/// Written by the control thread only.
struct PathStats {
  std::uint64_t pings_sent = 0, pongs_sent = 0, pongs_matched = 0, pongs_unmatched = 0;
  std::uint64_t not_sent = 0;  // no keypair or no route for a ping or pong
};

class Paths {
 public:
  Paths(dataplane::Dataplane& dp, Peers& peers, Sessions& sessions, Neighbours& neighbours,
        Transmitter& tx, TurnRelay& turn, const EventLog& log)
      : dp_(dp),
        peers_(peers),
        sessions_(sessions),
        neighbours_(neighbours),
        tx_(tx),
        turn_(turn),
        log_(log) {}

  /// A lighthouse introduced `peer`: its candidates, and the common start of the probes.
  void introduced(PeerId peer, const nat::coord::Candidates& c, Nanos start_at, Nanos now);
  void ping_received(PeerId peer, std::uint64_t txid, const Endpoint& source, Nanos now);
  void pong_received(PeerId peer, std::uint64_t txid, const Endpoint& source, Nanos now);
  /// Whether an authenticated packet from `source` may become the peer's endpoint (roaming):
  /// always for a peer no lighthouse introduced, and for a relayed source; a direct one only
  /// when a pong proved it recently. A refused direct source is pinged, so a good one wins soon.
  bool allow_roam(PeerId peer, const Endpoint& source, Nanos now);
  /// Whether the lighthouses should be asked about the peer now (no endpoint at all, or an
  /// introduced peer not on a direct path); the caller asks and calls requested().
  bool wants_introduction(PeerId peer, Nanos now) const;
  void requested(PeerId peer, Nanos now);
  /// The path the operator is told about, for a peer a lighthouse introduced: none without a
  /// session; direct only once a pong proved it (an endpoint being tried is "none"); relayed
  /// when the endpoint is the relay.
  PathKind path_of(PeerId peer, Nanos now) const;
  /// Every timer tick: relay channels, probe rounds, heartbeats, dead paths, path changes.
  void tick(Nanos now, WallTime wall);
  void forget(PeerId peer) { paths_.erase(peer); }

  /// Seals a coordination message into the peer's session and sends it to `to` (unknown: the
  /// peer's endpoint). False when the peer has no keypair or the path no next hop yet.
  bool send(PeerId peer, const nat::coord::Message& m, const Endpoint& to, Nanos now);

  /// The peer's paths, if a lighthouse introduced it.
  const PathState* find(PeerId peer) const {
    auto it = paths_.find(peer);
    return it == paths_.end() || !it->second.introduced ? nullptr : &it->second;
  }
  const PathStats& stats() const noexcept { return stats_; }

 private:
  /// Our relayed endpoint for the peer (the TURN server and our channel to its relayed address),
  /// binding the channel first if needed; unknown while there is none.
  Endpoint relay_for(PathState& ps, Nanos now);
  void use_relay(PeerId peer, const Endpoint& relay, Nanos now, WallTime wall);
  void probe_step(PeerId peer, PathState& ps, Nanos now, WallTime wall);
  void probe_without_session(PeerId peer, PathState& ps, Nanos now, WallTime wall);
  void ping(PeerId peer, PathState& ps, const Endpoint& to, Nanos now);
  void heartbeat(PeerId peer, PathState& ps, Nanos now);
  void observe(PeerId peer, PathState& ps, Nanos now);
  void move_to(PeerId peer, const Endpoint& to, Nanos now);
  PathState* managed(PeerId peer) {
    auto it = paths_.find(peer);
    return it == paths_.end() || !it->second.introduced ? nullptr : &it->second;
  }
  /// A direct path a pong proved in the last kDeadAfter.
  static bool working_direct(const PathState& ps, Nanos now) noexcept {
    return ps.kind == PathKind::direct && ps.endpoint == ps.verified &&
           now - ps.verified_at <= impl::kDeadAfter;
  }
  bool has_session(PeerId peer) const noexcept {
    return dp_.peers[peer].current.load(std::memory_order_relaxed) != 0;
  }

  dataplane::Dataplane& dp_;
  Peers& peers_;
  Sessions& sessions_;
  Neighbours& neighbours_;
  Transmitter& tx_;
  TurnRelay& turn_;
  const EventLog& log_;
  /// Peers a lighthouse introduced (`introduced`), and peers the lighthouses were asked about.
  std::map<PeerId, PathState> paths_;
  PathStats stats_;
};

}  // namespace meshgate::control
