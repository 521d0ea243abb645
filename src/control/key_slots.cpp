// Keypair slots per peer (key_slots.hpp).
#include "meshgate/control/key_slots.hpp"

namespace meshgate::control {

void KeySlots::set_pending(PeerId peer, std::uint32_t index) {
  drop_pending(peer);
  pending_[index] = peer;
  pending_of_[peer] = index;
}

void KeySlots::drop_pending(PeerId peer) {
  auto it = pending_of_.find(peer);
  if (it == pending_of_.end()) return;
  pending_.erase(it->second);
  release(it->second);  // reserved, never published: no reader can hold it
  pending_of_.erase(it);
}

std::optional<PeerId> KeySlots::pending_peer(std::uint32_t index) const {
  auto it = pending_.find(index);
  if (it == pending_.end()) return std::nullopt;
  return it->second;
}

void KeySlots::retire(std::uint32_t index) {
  if (index == 0) return;
  dp_.keypairs.unpublish(index);
  dp_.rcu.defer([this, index] { dp_.keypairs.free(index); });
}

void KeySlots::install(PeerId peer, noise::SessionKeys& kp, bool initiator, std::uint32_t tag) {
  dataplane::Peer& pr = dp_.peers[peer];
  const std::uint32_t idx = kp.local_index;
  if (auto it = pending_of_.find(peer); it != pending_of_.end() && it->second == idx) {
    pending_.erase(idx);
    pending_of_.erase(it);
  }
  dp_.keypairs.slot(idx).endpoint_tag.store(tag, std::memory_order_relaxed);
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
      retire(previous);
      retire(current);
    } else {
      pr.previous.store(current, std::memory_order_release);
      pr.current.store(idx, std::memory_order_release);
      retire(previous);
    }
    pr.handshake_wanted.store(false, std::memory_order_relaxed);  // fresh keys: nothing wanted
  } else {
    // The responder waits for the first packet on the new keypair before sending with it.
    pr.next.store(idx, std::memory_order_release);
    pr.previous.store(0, std::memory_order_release);
    retire(next);
    retire(previous);
  }
}

bool KeySlots::confirm_next(PeerId peer, std::uint32_t index) {
  dataplane::Peer& pr = dp_.peers[peer];
  if (index == 0 || pr.next.load(std::memory_order_relaxed) != index) return false;
  const std::uint32_t old_previous = pr.previous.load(std::memory_order_relaxed);
  pr.previous.store(pr.current.load(std::memory_order_relaxed), std::memory_order_release);
  pr.current.store(index, std::memory_order_release);
  pr.next.store(0, std::memory_order_release);
  pr.handshake_wanted.store(false, std::memory_order_relaxed);  // fresh keys: nothing wanted
  retire(old_previous);
  return true;
}

void KeySlots::zero(PeerId peer) {
  dataplane::Peer& pr = dp_.peers[peer];
  for (auto* slot : {&pr.current, &pr.previous, &pr.next}) {
    retire(slot->exchange(0, std::memory_order_acq_rel));
  }
  // No keys left to refresh (and a removed peer's slot goes to the next peer clean): the next
  // packet is staged, and that starts a handshake.
  pr.handshake_wanted.store(false, std::memory_order_relaxed);
  drop_pending(peer);
}

void KeySlots::tag_all(PeerId peer, std::uint32_t tag) {
  const dataplane::Peer& pr = dp_.peers[peer];
  for (const auto* slot : {&pr.current, &pr.previous, &pr.next}) {
    const std::uint32_t idx = slot->load(std::memory_order_relaxed);
    if (idx != 0) dp_.keypairs.slot(idx).endpoint_tag.store(tag, std::memory_order_relaxed);
  }
}

}  // namespace meshgate::control
