// Worker activity into each peer's timers (timers.hpp).
#include "meshgate/control/timers.hpp"

#include "meshgate/base/prefetch.hpp"
#include "meshgate/control/tunables.hpp"

namespace meshgate::control {

bool Timers::replay(PeerState& ps, const dataplane::PeerTotals& activity) {
  const Nanos tx = activity.last_tx_data;
  const Nanos rx = activity.last_rx_auth;
  const Nanos rxd = activity.last_rx_data;
  const bool sent = tx != ps.seen_tx_data;
  const bool received = rx != ps.seen_rx_auth;
  auto replay_sent = [&] {
    ps.seen_tx_data = tx;
    ps.timers.on_data_sent(tx);
    ps.timers.on_any_authenticated_packet_sent(tx);
    ps.timers.on_any_authenticated_packet_traversal(tx);
  };
  auto replay_received = [&] {
    ps.seen_rx_auth = rx;
    ps.timers.on_any_authenticated_packet_received(rx);
    ps.timers.on_any_authenticated_packet_traversal(rx);
    if (rxd != ps.seen_rx_data) {
      ps.seen_rx_data = rxd;
      ps.timers.on_data_received(rxd);
    }
  };
  // In the order they happened, so a later receive cancels an earlier send's timer.
  if (sent && received && tx > rx) {
    replay_received();
    replay_sent();
  } else {
    if (sent) replay_sent();
    if (received) replay_received();
  }
  return received;
}

void Timers::prefetch(PeerId peer) const noexcept {
  const PeerState* ps = peers_.find(peer);
  if (ps == nullptr) return;
  prefetch_read(&ps->timers);
  prefetch_read(&ps->seen_rx_auth);
  dp_.prefetch_activity(peer);
}

peer::TimerActions Timers::tick(PeerId peer, Nanos now) {
  PeerState& ps = *peers_.find(peer);
  peer::TimerActions due;
  if (replay(ps, dp_.peer_totals(peer))) {  // the latest of every worker's times
    const dataplane::Keypair* kp =
        dp_.keypairs.lookup(dp_.peers[peer].current.load(std::memory_order_relaxed));
    if (kp != nullptr && ps.timers.want_lastminute_handshake(kp->initiator, kp->birth, now)) {
      due.add(peer::TimerAction::kSendInitiationNew);
    }
  }
  if (ps.timers.next_deadline() <= now) due.add(ps.timers.expire(now));
  return due;
}

const std::vector<Timers::Due>& Timers::run(Nanos now) {
  due_.clear();
  sweep_.next(peers_.end(), [&](PeerId id) {
    prefetch(id + impl::kTimerPrefetch);  // past the end: no record, nothing fetched
    if (peers_.find(id) == nullptr) return;
    const peer::TimerActions a = tick(id, now);
    if (!a.empty()) due_.push_back({id, a});
  });
  return due_;
}

}  // namespace meshgate::control
