// The control thread's loop and dispatch, peer configuration and staged packets.
#include "meshgate/control/control.hpp"

#include <rte_config.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <ctime>

#include "meshgate/crypto/x25519.hpp"
#include "peer_state.hpp"

namespace meshgate::control {

namespace {
constexpr Nanos kTimerPeriod = millis(10);
constexpr unsigned kRingBurst = 64;
}  // namespace

Control::Control(dataplane::Dataplane& dp, std::uint16_t tx_queue) : dp_(dp), tx_(dp, tx_queue) {}

Control::~Control() {
  for (auto& ps : peers_) {
    if (!ps) continue;
    for (rte_mbuf* m : ps->staged) rte_pktmbuf_free(m);
    delete ps->route;
  }
  for (auto& [hop, q] : unresolved_) {
    for (rte_mbuf* m : q) rte_pktmbuf_free(m);
  }
}

void Control::set_private_key(const SecretKey& key) {
  identity_.set_private_key(key);
  // Every peer's static-static DH depends on our key (protocol.md 3.10); a peer whose key is now
  // ours is dropped, and current sessions stop so that new handshakes follow.
  for (PeerId id = 0; id < peers_.size(); ++id) {
    if (!peers_[id]) continue;
    PeerState& ps = *peers_[id];
    if (identity_.has_private_key && ps.settings.public_key == identity_.public_key) {
      remove_peer(id);
      continue;
    }
    const SecretKey* psk = ps.settings.preshared_key ? &*ps.settings.preshared_key : nullptr;
    (void)noise::handshake_configure(ps.hs, identity_, ps.settings.public_key, psk);
    zero_keys(id);
  }
}

Result<PeerId> Control::add_peer(const PeerSettings& s, Nanos now) {
  if (by_key_.count(s.public_key) != 0) return Error{"peer already configured"};
  PeerId id = 0;
  while (id < peers_.size() && (peers_[id] || cooling_ids_.count(id) != 0)) ++id;
  if (id >= dp_.peers.capacity()) {
    return Error{"too many peers (the gateway was started for " +
                 std::to_string(dp_.peers.capacity()) + ")"};
  }
  if (id == peers_.size()) peers_.emplace_back();
  auto ps = std::make_unique<PeerState>();
  ps->settings = s;
  const SecretKey* psk = s.preshared_key ? &*s.preshared_key : nullptr;
  if (identity_.has_private_key) {
    Status st = noise::handshake_configure(ps->hs, identity_, s.public_key, psk);
    if (!st) return Error{st.error()};
  }
  ps->cookie.init(s.public_key);
  peers_[id] = std::move(ps);
  by_key_[s.public_key] = id;

  dataplane::Peer& pr = dp_.peers[id];
  dp_.reset_activity(id);
  for (const Prefix& p : s.allowed_ips) {
    Status st = dp_.allowed.insert(p, id);
    if (!st) return Error{st.error()};
  }
  pr.active.store(true, std::memory_order_release);
  update_route(id, now);
  if (s.persistent_keepalive != 0) {
    peer::TimerActions a =
        peers_[id]->timers.set_persistent_keepalive(s.persistent_keepalive, now, true);
    if (a.has(peer::TimerAction::kSendKeepalive)) send_keepalive(id, now);
  }
  return id;
}

void Control::remove_peer(PeerId id) {
  if (id >= peers_.size() || !peers_[id]) return;
  PeerState& ps = *peers_[id];
  dataplane::Peer& pr = dp_.peers[id];
  pr.active.store(false, std::memory_order_release);
  dp_.allowed.remove_peer(id);
  zero_keys(id);
  if (const dataplane::PeerRoute* r = pr.route.exchange(nullptr, std::memory_order_acq_rel)) {
    dp_.rcu.defer([r] { delete r; });
  }
  for (rte_mbuf* m : ps.staged) rte_pktmbuf_free(m);
  by_key_.erase(ps.settings.public_key);
  const auto mark = dp_.allowed.retire_mark();
  dp_.rcu.defer([this, mark] { dp_.allowed.reclaim(mark); });
  peers_[id].reset();
  cooling_ids_.insert(id);  // see cooling_ids_: two grace periods before the id is reused
  dp_.rcu.defer([this, id] { dp_.rcu.defer([this, id] { cooling_ids_.erase(id); }); });
}

void Control::log_peer(PeerId peer, const char* what) {
  if (log_ == nullptr) return;
  const PeerState& ps = *peers_[peer];
  std::fprintf(log_, "meshgate: peer %s: %s, endpoint %s\n",
               to_base64(as_bytes(ps.settings.public_key)).c_str(), what,
               ps.settings.endpoint.str().c_str());
  std::fflush(log_);
}

std::optional<PeerId> Control::find_peer(const Key32& public_key) const {
  auto it = by_key_.find(public_key);
  if (it == by_key_.end()) return std::nullopt;
  return it->second;
}

Endpoint Control::endpoint(PeerId id) const {
  return peers_.at(id)->settings.endpoint;
}
WallTime Control::last_handshake(PeerId id) const {
  return peers_.at(id)->timers.last_handshake();
}
std::size_t Control::staged(PeerId id) const {
  return peers_.at(id)->staged.size();
}

unsigned Control::poll(Nanos now, WallTime wall) {
  now_ = now;
  rte_mbuf* pkts[kRingBurst];
  const unsigned n = rte_ring_sc_dequeue_burst(dp_.to_control, reinterpret_cast<void**>(pkts),
                                               kRingBurst, nullptr);
  for (unsigned i = 0; i < n; ++i) handle_packet(pkts[i], now, wall);

  dataplane::Event events[kRingBurst];
  const unsigned ne = rte_ring_sc_dequeue_burst_elem(dp_.events, events, dataplane::kEventSize,
                                                     kRingBurst, nullptr);
  for (unsigned i = 0; i < ne; ++i) handle_event(events[i], now, wall);

  if (now - last_timer_run_ >= kTimerPeriod) {
    last_timer_run_ = now;
    run_timers(now, wall);
    neighbour_tick(now);
    for (auto& service : services_) service(now);
  }
  dp_.rcu.poll();
  tx_.flush();
  return n + ne;
}

void Control::run() {
  while (!dp_.stop.load(std::memory_order_relaxed)) {
    if (poll(monotonic_now(), wall_now()) == 0) {
      timespec ts{0, 100'000};  // 100 us: handshakes are not latency-critical
      nanosleep(&ts, nullptr);
    }
  }
}

void Control::handle_packet(rte_mbuf* m, Nanos now, WallTime wall) {
  const dataplane::MbufMeta& mm = dataplane::meta(m);
  switch (mm.kind) {
    case dataplane::ToControl::outer_handshake:
      handle_handshake(m, now, wall);
      break;
    case dataplane::ToControl::outer_neighbour:
    case dataplane::ToControl::inner_neighbour:
      handle_neighbour(m, mm.port, now);
      break;
    case dataplane::ToControl::outer_local:
    case dataplane::ToControl::inner_local:
      handle_local(m, mm.port);
      return;  // handle_local keeps or frees the mbuf
    case dataplane::ToControl::tunnel_local:
      handle_tunnel_local(m, mm.peer, now);
      return;  // sent back through the tunnel or freed
    case dataplane::ToControl::stage:
      stage(m, mm.peer, now, wall);
      return;  // kept
    case dataplane::ToControl::resolve:
      handle_resolve(m, now);
      return;  // kept
    case dataplane::ToControl::outer_stun:
      tx_.drops().add(dataplane::Drop::control_rejected);
      break;
  }
  rte_pktmbuf_free(m);
}

void Control::handle_event(const dataplane::Event& e, Nanos now, WallTime wall) {
  if (e.peer >= peers_.size() || !peers_[e.peer]) return;
  switch (e.kind) {
    case dataplane::Event::Kind::keypair_used:
      confirm_next(e.peer, e.index, now, wall);
      break;
    case dataplane::Event::Kind::endpoint_changed:
      // Roaming (protocol.md 8.3): the worker saw an authenticated packet from this source.
      if (!(peers_[e.peer]->settings.endpoint == e.endpoint)) {
        peers_[e.peer]->settings.endpoint = e.endpoint;
        log_peer(e.peer, "endpoint changed (roaming)");
      }
      update_route(e.peer, now);
      break;
    case dataplane::Event::Kind::want_handshake:
      dp_.peers[e.peer].handshake_wanted.store(false, std::memory_order_relaxed);
      send_initiation(e.peer, now, wall, false);
      break;
  }
}

void Control::stage(rte_mbuf* m, PeerId peer, Nanos now, WallTime wall) {
  if (peer >= peers_.size() || !peers_[peer]) {
    rte_pktmbuf_free(m);
    return;
  }
  PeerState& ps = *peers_[peer];
  if (ps.staged.size() >= kMaxStaged) {
    rte_pktmbuf_free(ps.staged.front());
    ps.staged.pop_front();
    tx_.drops().add(dataplane::Drop::staged_overflow);
  }
  ps.staged.push_back(m);
  flush_staged(peer, now);  // a keypair may have arrived since the worker looked
  if (!ps.staged.empty()) {
    if (!ps.settings.endpoint.known()) {
      return;  // nowhere to send an initiation; packets wait for the peer to reach us
    }
    send_initiation(peer, now, wall, false);
  }
}

void Control::flush_staged(PeerId peer, Nanos now) {
  PeerState& ps = *peers_[peer];
  while (!ps.staged.empty()) {
    rte_mbuf* batch[dataplane::kBurst];
    unsigned n = 0;
    for (auto it = ps.staged.begin(); it != ps.staged.end() && n < dataplane::kBurst; ++it) {
      batch[n++] = *it;
    }
    const unsigned sent = tx_.send_to_peer(peer, batch, n, now);
    if (sent == 0) break;
    ps.staged.erase(ps.staged.begin(), ps.staged.begin() + sent);
    tx_.flush();
  }
}

}  // namespace meshgate::control
