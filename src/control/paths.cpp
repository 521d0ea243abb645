// Path selection (paths.hpp).
#include "meshgate/control/paths.hpp"

#include <cstdio>

#include "meshgate/control/tunables.hpp"
#include "meshgate/crypto/random.hpp"

namespace meshgate::control {

using namespace impl;  // NOLINT(google-build-using-namespace): this part's tunables

namespace {

using nat::coord::Candidate;
using nat::coord::CandidateKind;

bool is_direct(const Candidate& c) noexcept {
  return c.kind != CandidateKind::relayed;
}

PathKind kind_of(const Endpoint& ep) noexcept {
  if (!ep.known()) return PathKind::none;
  return ep.channel != 0 ? PathKind::relayed : PathKind::direct;
}

}  // namespace

std::string_view to_string(PathKind k) noexcept {
  switch (k) {
    case PathKind::direct:
      return "direct";
    case PathKind::relayed:
      return "relayed";
    default:
      return "none";
  }
}

void Paths::introduced(PeerId peer, const nat::coord::Candidates& c, Nanos start_at, Nanos now) {
  PathState& ps = paths_[peer];
  const bool first = !ps.introduced;
  ps.introduced = true;
  ps.candidates = {};
  ps.relay_peer = {};
  for (const Candidate& cand : c.view()) {
    if (cand.kind == CandidateKind::relayed) ps.relay_peer = cand.endpoint;
    ps.candidates.add(cand);
  }
  // A round already under way keeps its schedule; a fresh one starts when the lighthouse said.
  if (ps.round_start < 0 || now - ps.round_start > kProbeSchedule[std::size(kProbeSchedule) - 1]) {
    ps.round_start = start_at;
    ps.round_step = 0;
  }
  if (first) observe(peer, ps, now);
  (void)relay_for(ps, now);  // binds the channel now; the next tick moves the peer to the relay
}

Endpoint Paths::relay_for(PathState& ps, Nanos now) {
  const nat::TurnClient& client = turn_.client();
  if (!ps.relay_peer.known() || client.state() != nat::TurnState::allocated) return {};
  std::uint16_t channel = client.channel_of(ps.relay_peer);
  if (channel == 0) {
    turn_.client().bind_channel(ps.relay_peer, now);  // confirmed a round trip later
    return {};
  }
  Endpoint ep = client.config().server;
  ep.channel = channel;
  return ep;
}

void Paths::tick(Nanos now, WallTime wall) {
  for (auto& [peer, ps] : paths_) {
    if (!ps.introduced || peers_.find(peer) == nullptr) continue;
    observe(peer, ps, now);
    const Endpoint relay = relay_for(ps, now);
    // Relay first: while no direct path is proven, and the relay is there, traffic takes it;
    // a relayed peer follows its relay when that changes (a new allocation on either side).
    if (ps.kind != PathKind::direct && relay.known() && !(ps.endpoint == relay)) {
      use_relay(peer, relay, now, wall);
    }
    if (ps.round_start >= 0 && now >= ps.round_start) probe_step(peer, ps, now, wall);
    if (ps.kind == PathKind::direct) {
      heartbeat(peer, ps, now);
      if (now - std::max(ps.verified_at, ps.changed_at) > kDeadAfter && relay.known()) {
        log_.peer(*peers_.find(peer), ps.verified == ps.endpoint
                                          ? "direct path dead (no pong), back to the relay"
                                          : "direct path unproven (no pong), to the relay");
        use_relay(peer, relay, now, wall);
      }
    } else if (ps.round_start < 0 && now - ps.last_round >= kReprobe) {
      ps.round_start = now;  // also asks the lighthouses again (wants_introduction)
      ps.round_step = 0;
    }
    observe(peer, ps, now);
  }
}

/// The session, if any, carries on through the relay: only the endpoint moves. Without one the
/// handshake starts there.
void Paths::use_relay(PeerId peer, const Endpoint& relay, Nanos now, WallTime wall) {
  move_to(peer, relay, now);
  if (!has_session(peer)) sessions_.send_initiation(peer, now, wall, false);
}

void Paths::probe_step(PeerId peer, PathState& ps, Nanos now, WallTime wall) {
  if (ps.round_step == 0) ps.last_round = ps.round_start;
  while (ps.round_step < std::size(kProbeSchedule) &&
         now >= ps.round_start + kProbeSchedule[ps.round_step]) {
    ++ps.round_step;
    if (has_session(peer)) {
      for (const Candidate& c : ps.candidates.view()) {
        if (is_direct(c)) ping(peer, ps, c.endpoint, now);
      }
    } else {
      probe_without_session(peer, ps, now, wall);
    }
  }
  if (ps.round_step == std::size(kProbeSchedule)) ps.round_start = -1;
}

/// No session yet (no relay, or one that does not carry): the initiation itself is the probe.
/// The same initiation goes to every direct candidate (protocol.md 3.3: a responder takes the
/// first copy and drops the rest as replays); the response comes back by a path that works, and
/// its source becomes the endpoint.
void Paths::probe_without_session(PeerId peer, PathState& ps, Nanos now, WallTime wall) {
  const PeerState& p = *peers_.find(peer);
  if (!p.settings.endpoint.known()) {
    for (const Candidate& c : ps.candidates.view()) {
      if (is_direct(c)) {
        move_to(peer, c.endpoint, now);
        break;
      }
    }
  }
  sessions_.send_initiation(peer, now, wall, false);  // the timers say when a new one is due
  for (const Candidate& c : ps.candidates.view()) {
    if (is_direct(c) && !(c.endpoint == p.settings.endpoint)) {
      sessions_.copy_initiation_to(peer, c.endpoint, now);
    }
  }
}

void Paths::ping(PeerId peer, PathState& ps, const Endpoint& to, Nanos now) {
  nat::coord::Message m;
  m.type = nat::coord::Type::ping;
  crypto::random_bytes(&m.txid, sizeof m.txid);
  if (!send(peer, m, to, now)) return;
  ps.pings[ps.next_ping++ % PathState::kPings] = {m.txid, to, now};
  ++stats_.pings_sent;
}

void Paths::heartbeat(PeerId peer, PathState& ps, Nanos now) {
  if (now - ps.last_heartbeat < kHeartbeat) return;
  ps.last_heartbeat = now;
  ping(peer, ps, ps.endpoint, now);
}

void Paths::ping_received(PeerId peer, std::uint64_t txid, const Endpoint& source, Nanos now) {
  nat::coord::Message m;
  m.type = nat::coord::Type::pong;
  m.txid = txid;
  m.candidates.add({source, CandidateKind::observed});
  if (send(peer, m, source, now)) {
    ++stats_.pongs_sent;
  }
  PathState* ps = managed(peer);
  if (ps == nullptr || source.channel != 0) return;
  // The source of a direct ping is a path from the peer to us (a symmetric NAT's fresh port,
  // say): worth a ping of our own, which its NAT now lets through.
  if (ps->candidates.add({source, CandidateKind::observed}) && ps->kind != PathKind::direct) {
    ping(peer, *ps, source, now);
  }
}

void Paths::pong_received(PeerId peer, std::uint64_t txid, const Endpoint& source, Nanos now) {
  PathState* found = managed(peer);
  if (found == nullptr) {
    ++stats_.pongs_unmatched;
    return;
  }
  PathState& ps = *found;
  const PathState::Ping* hit = nullptr;
  for (const PathState::Ping& p : ps.pings) {
    if (p.txid == txid && p.sent != 0) hit = &p;
  }
  if (hit == nullptr || !(hit->to == source)) {
    ++stats_.pongs_unmatched;
    return;
  }
  ++stats_.pongs_matched;
  ps.verified = hit->to;
  ps.verified_at = now;
  ps.request_gap = 0;
  if (ps.kind != PathKind::direct || ps.endpoint == hit->to) ps.rtt = now - hit->sent;
  if (ps.kind != PathKind::direct) move_to(peer, hit->to, now);
}

bool Paths::allow_roam(PeerId peer, const Endpoint& source, Nanos now) {
  PathState* found = managed(peer);
  if (found == nullptr || source.channel != 0) return true;
  PathState& ps = *found;
  if (source == ps.verified && now - ps.verified_at <= kDeadAfter) return true;
  if (now - ps.last_heartbeat >= kHeartbeat) {  // prove it, at most once per heartbeat
    ps.last_heartbeat = now;
    ping(peer, ps, source, now);
  }
  return false;
}

bool Paths::wants_introduction(PeerId peer, Nanos now) const {
  const PeerState* p = peers_.find(peer);
  if (p == nullptr) return false;
  auto it = paths_.find(peer);
  if (it != paths_.end() && it->second.last_request >= 0 &&
      now - it->second.last_request < it->second.request_gap) {
    return false;
  }
  if (it == paths_.end() || !it->second.introduced) {
    return !p->settings.endpoint.known() || !has_session(peer);
  }
  return !working_direct(it->second, now);
}

void Paths::requested(PeerId peer, Nanos now) {
  PathState& ps = paths_[peer];
  ps.request_gap = ps.request_gap == 0 ? kFirstRequestGap : std::min(2 * ps.request_gap, kReprobe);
  ps.last_request = now;
}

PathKind Paths::path_of(PeerId peer, Nanos now) const {
  const PathState* ps = find(peer);
  const PeerState* p = peers_.find(peer);
  if (ps == nullptr) return p == nullptr ? PathKind::none : kind_of(p->settings.endpoint);
  // An endpoint without a session carries nothing yet (a relay whose far side has not bound
  // its channel, say): the operator is told "none" until it does.
  if (!has_session(peer)) return PathKind::none;
  if (ps->kind == PathKind::direct && !working_direct(*ps, now)) return PathKind::none;
  return ps->kind;
}

bool Paths::send(PeerId peer, const nat::coord::Message& m, const Endpoint& to, Nanos now) {
  std::uint8_t buf[nat::coord::kMaxMessageSize];
  const std::size_t len = nat::coord::encode(m, buf);
  const PeerState* p = peers_.find(peer);
  const Endpoint dst = to.known() || p == nullptr ? to : p->settings.endpoint;
  if (dst.known()) {
    // The next hop's MAC: a miss starts its resolution, and a later ping finds it.
    const auto mac = neighbours_.lookup_or_probe(dp_.outer_next_hop(dst.addr), now);
    if (mac && tx_.send_sealed_to(peer, dst, *mac, buf, len, now)) return true;
  }
  ++stats_.not_sent;
  return false;
}

void Paths::move_to(PeerId peer, const Endpoint& to, Nanos now) {
  sessions_.learn_endpoint(peer, to, now);
  observe(peer, paths_[peer], now);
}

/// Notices a change of the peer's endpoint, whoever made it (this part, roaming, a handshake,
/// the operator): the path the operator sees, and its log line.
void Paths::observe(PeerId peer, PathState& ps, Nanos now) {
  const PeerState& p = *peers_.find(peer);
  const Endpoint& ep = p.settings.endpoint;
  if (ep == ps.endpoint && ps.changed_at != 0) return;
  const PathKind kind = kind_of(ep);
  if (kind != ps.kind) ps.rtt = kind == PathKind::direct && ep == ps.verified ? ps.rtt : -1;
  ps.kind = kind;
  ps.endpoint = ep;
  ps.changed_at = now;
  ++ps.changes;
  char what[96];
  if (kind == PathKind::relayed) {
    std::snprintf(what, sizeof what, "path relayed (channel 0x%04x)", ep.channel);
  } else if (kind == PathKind::direct && !(ep == ps.verified)) {
    std::snprintf(what, sizeof what, "path being tried (direct, no pong yet)");
  } else if (kind == PathKind::direct && ps.rtt >= 0) {
    std::snprintf(what, sizeof what, "path direct (rtt %.1f ms)",
                  static_cast<double>(ps.rtt) / 1e6);
  } else {
    std::snprintf(what, sizeof what, "path %s", std::string(to_string(kind)).c_str());
  }
  log_.peer(p, what);
}

}  // namespace meshgate::control
