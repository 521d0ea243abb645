// The control thread's loop and dispatch (control.hpp).
#include "meshgate/control/control.hpp"

#include <rte_config.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <algorithm>
#include <ctime>

#include "meshgate/control/tunables.hpp"

namespace meshgate::control {

Control::Control(dataplane::Dataplane& dp, std::uint16_t tx_queue)
    : dp_(dp),
      tx_(dp, tx_queue, drops_),
      peers_(dp),
      keys_(dp),
      neighbours_(dp, tx_, drops_, log_),
      routes_(dp, peers_, neighbours_, keys_),
      staging_(tx_, drops_),
      sessions_({dp, peers_, keys_, routes_, staging_, neighbours_, tx_, drops_, log_}),
      config_(dp, peers_, sessions_, routes_, staging_, log_),
      timers_(dp, peers_),
      local_(dp, tx_, drops_),
      stun_(dp, tx_, neighbours_, drops_, log_),
      turn_(tx_, neighbours_, drops_, log_),
      paths_(dp, peers_, sessions_, neighbours_, tx_, turn_, log_),
      lighthouse_(dp, peers_, sessions_, paths_, stun_, turn_, drops_, log_) {
  neighbours_.on_learnt([this](const IpAddr& hop, Nanos now) { next_hop_learnt(hop, now); });
  config_.on_removed([this](PeerId id) {
    paths_.forget(id);
    lighthouse_.forget(id);
  });
}

Control::~Control() {
  dp_.rcu.reclaim_all();
}

unsigned Control::poll(Nanos now, WallTime wall) {
  now_ = now;
  rte_mbuf* pkts[impl::kRingBurst];
  unsigned n = 0;
  for (rte_ring* ring : {dp_.handshakes, dp_.to_control}) {
    if (ring == nullptr) continue;
    const unsigned got =
        rte_ring_sc_dequeue_burst(ring, reinterpret_cast<void**>(pkts), impl::kRingBurst, nullptr);
    for (unsigned i = 0; i < got; ++i) {
      if (standby()) {  // queued by a worker before the switch: a standby answers nothing
        drops_.add(dataplane::Drop::standby);
        rte_pktmbuf_free(pkts[i]);
      } else {
        handle_packet(pkts[i], now, wall);
      }
    }
    n += got;
  }

  dataplane::Event events[impl::kRingBurst];
  const unsigned ne = rte_ring_sc_dequeue_burst_elem(dp_.events, events, dataplane::kEventSize,
                                                     impl::kRingBurst, nullptr);
  for (unsigned i = 0; i < ne; ++i) handle_event(events[i], now, wall);

  if (now - last_timer_run_ >= impl::kTimerPeriod) {
    last_timer_run_ = now;
    // A standby's timers wait: what they would send is the active gateway's to send. The
    // services (the UAPI that switches the role among them) run in both roles.
    if (!standby()) tick(now, wall);
    for (auto& service : services_) service(now);
  }
  dp_.rcu.poll();
  tx_.flush();
  return n + ne;
}

void Control::tick(Nanos now, WallTime wall) {
  run_timers(now, wall);
  neighbours_.tick(now);
  stun_.tick(now);
  follow_rebinding(now);
  turn_.tick(now);
  paths_.tick(now, wall);
  lighthouse_.tick(now, wall);
  permit_relay(now);
}

void Control::set_role(config::Role role, Nanos now, WallTime wall) {
  const bool standby = role == config::Role::standby;
  if (standby == this->standby()) return;
  dp_.standby.store(standby, std::memory_order_relaxed);
  log_.line("role: %s", config::role_name(role));
  if (standby) return;
  neighbours_.announce();
  // Sessions of the other gateway are unknown here: a fresh handshake with every peer we can
  // reach. Their TAI64N timestamps come from the wall clock, so a peer that accepted the other
  // gateway's last initiation accepts these (docs/design.md, "High availability").
  for (PeerId id : peers_.ids()) {
    if (peers_.find(id)->settings.endpoint.known()) {
      sessions_.send_initiation(id, now, wall, false);
    }
  }
  tx_.flush();
}

void IdleSleep::after(unsigned work) noexcept {
  if (work != 0) {
    sleep_ = impl::kIdleSleep;
    return;
  }
  timespec ts{0, sleep_};
  nanosleep(&ts, nullptr);
  sleep_ = std::min(2 * sleep_, impl::kIdleSleepMax);
}

void Control::run() {
  IdleSleep idle;
  while (!dp_.stop.load(std::memory_order_relaxed)) idle.after(poll(monotonic_now(), wall_now()));
}

void Control::handle_packet(rte_mbuf* m, Nanos now, WallTime wall) {
  const dataplane::MbufMeta& mm = dataplane::meta(m);
  const bool peer_known = peers_.find(mm.peer) != nullptr;
  switch (mm.kind) {
    case dataplane::ToControl::outer_handshake:
      return sessions_.handle(m, now, wall);
    case dataplane::ToControl::outer_neighbour:
    case dataplane::ToControl::inner_neighbour:
      return neighbours_.handle(m, mm.port, now);
    case dataplane::ToControl::outer_local:
    case dataplane::ToControl::inner_local:
      return local_.handle(m, mm.port);
    case dataplane::ToControl::tunnel_local:
      if (peer_known) return local_.handle_from_tunnel(m, mm.peer, now);
      break;  // the peer was removed since the worker routed the packet
    case dataplane::ToControl::stage:
      if (peer_known) return stage(m, mm.peer, now, wall);
      break;
    case dataplane::ToControl::resolve:
      return neighbours_.resolve(m, now);
    case dataplane::ToControl::tunnel_coordination:
      if (peer_known) {
        const Endpoint source = mm.endpoint;  // a copy: the handler frees m before using it
        return lighthouse_.handle(m, mm.peer, source, now);
      }
      break;
    case dataplane::ToControl::outer_stun:
      // One server may be both: the transaction id says whose request a message answers.
      if (turn_.claims(m)) return turn_.handle(m, now);
      return stun_.handle(m, now);
  }
  drops_.add(dataplane::Drop::peer_removed);
  rte_pktmbuf_free(m);
}

void Control::handle_event(const dataplane::Event& e, Nanos now, WallTime wall) {
  PeerState* ps = peers_.find(e.peer);
  if (ps == nullptr) return;  // removed since the worker posted it: nothing to update
  switch (e.kind) {
    case dataplane::Event::Kind::keypair_used:
      sessions_.confirm(e.peer, e.index, now, wall);
      break;
    case dataplane::Event::Kind::endpoint_changed:
      // Roaming (protocol.md 8.3): the worker saw an authenticated packet from there. For a
      // peer a lighthouse introduced, path selection first wants proof of a direct path.
      if (!paths_.allow_roam(e.peer, e.endpoint, now)) break;
      if (!(ps->settings.endpoint == e.endpoint)) {
        ps->settings.endpoint = e.endpoint;
        log_.peer(*ps, "endpoint changed (roaming)");
      }
      if (routes_.update(e.peer, now)) staging_.flush(e.peer, now);
      break;
    case dataplane::Event::Kind::want_handshake:
      ++handshake_requests_;
      // While no initiation may go out (one did less than REKEY_TIMEOUT ago: it is in flight,
      // or was answered), the flag stays set: the workers, which check it first, post nothing
      // more for every packet meanwhile, and send_gated sends the initiation once it may.
      if (ps->timers.may_initiate(now)) {
        dp_.peers[e.peer].handshake_wanted.store(false, std::memory_order_relaxed);
        sessions_.send_initiation(e.peer, now, wall, false);
      } else {
        gated_.push_back(e.peer);
      }
      break;
  }
}

void Control::stage(rte_mbuf* m, PeerId peer, Nanos now, WallTime wall) {
  staging_.add(peer, m);
  staging_.flush(peer, now);  // a keypair may have arrived since the worker looked
  // Nowhere to send an initiation without an endpoint: packets wait for the peer to reach us.
  if (staging_.count(peer) != 0 && peers_.find(peer)->settings.endpoint.known()) {
    sessions_.send_initiation(peer, now, wall, false);
  }
}

void Control::send_gated(Nanos now, WallTime wall) {
  std::erase_if(gated_, [&](PeerId id) {
    const PeerState* ps = peers_.find(id);
    std::atomic<bool>& wanted = dp_.peers[id].handshake_wanted;
    // Removed since, or fresh keys cleared the request (KeySlots): nothing to send.
    if (ps == nullptr || !wanted.load(std::memory_order_relaxed)) return true;
    if (!ps->timers.may_initiate(now)) return false;
    wanted.store(false, std::memory_order_relaxed);
    sessions_.send_initiation(id, now, wall, false);
    return true;
  });
}

void Control::run_timers(Nanos now, WallTime wall) {
  send_gated(now, wall);
  for (const auto& [id, a] : timers_.run(now)) {
    if (a.has(peer::TimerAction::kZeroKeyMaterial)) sessions_.zero(id);
    if (a.has(peer::TimerAction::kGiveUp)) staging_.drop_all(id, dataplane::Drop::handshake_failed);
    if (a.has(peer::TimerAction::kSendInitiationRetry)) {
      sessions_.send_initiation(id, now, wall, true);
    } else if (a.has(peer::TimerAction::kSendInitiationNew)) {
      sessions_.send_initiation(id, now, wall, false);
    }
    if (a.has(peer::TimerAction::kSendKeepalive)) sessions_.send_keepalive(id, now);
  }
}

void Control::follow_rebinding(Nanos now) {
  const std::uint64_t changes = stun_.client().stats().address_changes;
  if (changes == reflexive_changes_seen_) return;
  reflexive_changes_seen_ = changes;
  turn_.client().rebound(now);
}

void Control::permit_relay(Nanos now) {
  // Once a second: permissions last minutes, and a pass visits every peer.
  if (turn_.client().state() != nat::TurnState::allocated || now - last_permit_run_ < seconds(1)) {
    return;
  }
  last_permit_run_ = now;
  for (PeerId id : peers_.ids()) {
    const Endpoint& ep = peers_.find(id)->settings.endpoint;
    if (ep.known() && ep.channel == 0) turn_.permit(ep, now);
  }
}

void Control::next_hop_learnt(const IpAddr& hop, Nanos now) {
  for (PeerId id : routes_.next_hop_learnt(hop, now)) staging_.flush(id, now);
}

ControlStats Control::stats() const {
  ControlStats s;
  static_cast<HandshakeStats&>(s) = sessions_.stats();
  s.arp_replies = neighbours_.stats().arp_replies;
  s.nd_replies = neighbours_.stats().nd_replies;
  s.neighbour_refused = neighbours_.stats().refused;
  s.neighbour_not_sent = neighbours_.stats().not_sent;
  s.echo_replies = local_.echo_replies();
  s.announcements = neighbours_.stats().announcements;
  s.handshake_requests = handshake_requests_;
  return s;
}

}  // namespace meshgate::control
