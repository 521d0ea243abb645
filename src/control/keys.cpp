// Keypair slots per peer: install, confirm, retire (protocol.md 3.6).
//
// Publication order matters to the workers: a keypair is made live (KeypairTable::publish)
// before a slot names it, and a slot stops naming a keypair before it is unpublished; the
// memory is wiped and reused only after an RCU grace period.
#include "meshgate/control/control.hpp"
#include "peer_state.hpp"

namespace meshgate::control {

void Control::retire_index(std::uint32_t index) {
  if (index == 0) return;
  handshake_index_.erase(index);
  dp_.keypairs.unpublish(index);
  dp_.rcu.defer([this, index] { dp_.keypairs.free(index); });
}

std::uint32_t Control::route_tag(PeerId peer) const {
  const dataplane::PeerRoute* r = dp_.peers[peer].route.load(std::memory_order_relaxed);
  return r != nullptr ? dataplane::endpoint_tag(r->endpoint) : 0;
}

void Control::tag_keypairs(PeerId peer) {
  const std::uint32_t tag = route_tag(peer);
  const dataplane::Peer& pr = dp_.peers[peer];
  for (const auto* slot : {&pr.current, &pr.previous, &pr.next}) {
    const std::uint32_t idx = slot->load(std::memory_order_relaxed);
    if (idx != 0) dp_.keypairs.slot(idx).endpoint_tag.store(tag, std::memory_order_relaxed);
  }
}

void Control::install_keypair(PeerId peer, noise::Keypair& kp, bool initiator, Nanos now) {
  PeerState& ps = *peers_[peer];
  dataplane::Peer& pr = dp_.peers[peer];
  const std::uint32_t idx = kp.local_index;
  handshake_index_.erase(idx);
  if (ps.pending_index == idx) ps.pending_index = 0;
  dp_.keypairs.slot(idx).endpoint_tag.store(route_tag(peer), std::memory_order_relaxed);
  dp_.keypairs.publish(idx, kp, peer);  // the release store that makes it live orders the tag
  kp.clear();

  const std::uint32_t next = pr.next.load(std::memory_order_relaxed);
  const std::uint32_t current = pr.current.load(std::memory_order_relaxed);
  const std::uint32_t previous = pr.previous.load(std::memory_order_relaxed);
  if (initiator) {
    // The initiator may send at once: the new keypair becomes current. An unconfirmed `next`
    // becomes previous (the peer may still send on it) and the old current goes.
    if (next != 0) {
      pr.previous.store(next, std::memory_order_release);
      pr.next.store(0, std::memory_order_release);
      pr.current.store(idx, std::memory_order_release);
      retire_index(previous);
      retire_index(current);
    } else {
      pr.previous.store(current, std::memory_order_release);
      pr.current.store(idx, std::memory_order_release);
      retire_index(previous);
    }
  } else {
    // The responder waits for the first packet on the new keypair before sending with it.
    pr.next.store(idx, std::memory_order_release);
    pr.previous.store(0, std::memory_order_release);
    retire_index(next);
    retire_index(previous);
  }
  ++ps.handshakes;
  ps.timers.on_session_derived(now);
}

void Control::confirm_next(PeerId peer, std::uint32_t index, Nanos now, WallTime wall) {
  if (peer >= peers_.size() || !peers_[peer]) return;
  PeerState& ps = *peers_[peer];
  dataplane::Peer& pr = dp_.peers[peer];
  if (index == 0 || pr.next.load(std::memory_order_relaxed) != index) return;
  const std::uint32_t old_previous = pr.previous.load(std::memory_order_relaxed);
  pr.previous.store(pr.current.load(std::memory_order_relaxed), std::memory_order_release);
  pr.current.store(index, std::memory_order_release);
  pr.next.store(0, std::memory_order_release);
  retire_index(old_previous);
  ps.timers.on_handshake_complete(now, wall);
  log_peer(peer, "handshake complete (responder, key confirmed)");
  flush_staged(peer, now);
}

void Control::zero_keys(PeerId peer) {
  PeerState& ps = *peers_[peer];
  dataplane::Peer& pr = dp_.peers[peer];
  for (auto* slot : {&pr.current, &pr.previous, &pr.next}) {
    const std::uint32_t idx = slot->exchange(0, std::memory_order_acq_rel);
    retire_index(idx);
  }
  if (ps.pending_index != 0) {
    handshake_index_.erase(ps.pending_index);
    dp_.keypairs.free(ps.pending_index);  // reserved, never published: no reader can hold it
    ps.pending_index = 0;
  }
  ps.hs.reset();
}

}  // namespace meshgate::control
