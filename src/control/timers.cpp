// Replays the workers' activity timestamps into each peer's timers, then runs what is due
// (protocol.md 5). Workers record times per burst; they never call timer hooks.
#include "meshgate/control/control.hpp"
#include "peer_state.hpp"

namespace meshgate::control {

void Control::run_timers(Nanos now, WallTime wall) {
  for (PeerId id = 0; id < peers_.size(); ++id) {
    if (!peers_[id]) continue;
    PeerState& ps = *peers_[id];
    dataplane::Peer& pr = dp_.peers[id];
    const dataplane::PeerTotals activity = dp_.peer_totals(id);  // the latest of every worker's times
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
    if (received) {
      // Keep-key-fresh, receiver side (protocol.md 4, receive step 6).
      if (dataplane::Keypair* kp = dp_.keypairs.lookup(pr.current.load(std::memory_order_relaxed));
          kp != nullptr && ps.timers.want_lastminute_handshake(kp->initiator, kp->birth, now)) {
        send_initiation(id, now, wall, false);
      }
    }
    if (ps.timers.next_deadline() > now) continue;
    peer::TimerActions a = ps.timers.expire(now);
    if (a.has(peer::TimerAction::kZeroKeyMaterial)) zero_keys(id);
    if (a.has(peer::TimerAction::kGiveUp)) {
      tx_.drops().add(dataplane::Drop::handshake_failed, ps.staged.size());
      for (rte_mbuf* m : ps.staged) rte_pktmbuf_free(m);
      ps.staged.clear();
    }
    if (a.has(peer::TimerAction::kSendInitiationRetry)) {
      send_initiation(id, now, wall, true);
    } else if (a.has(peer::TimerAction::kSendInitiationNew)) {
      send_initiation(id, now, wall, false);
    }
    if (a.has(peer::TimerAction::kSendKeepalive)) send_keepalive(id, now);
  }
}

}  // namespace meshgate::control
