// WireGuard's timers on the control thread (protocol.md 5). Workers only record time
// stamps of what they sent and received, per burst; this part replays them into each peer's
// timer state machine in the order they happened and says what is due.
#pragma once

#include <vector>

#include "meshgate/control/peers.hpp"
#include "meshgate/dataplane/dataplane.hpp"
#include "meshgate/peer/timers.hpp"

namespace meshgate::control {

class Timers {
 public:
  Timers(dataplane::Dataplane& dp, Peers& peers) : dp_(dp), peers_(peers) {}

  struct Due {
    PeerId peer;
    peer::TimerActions actions;
  };
  /// One timer period: ticks the next slice of the peers (PeerSweep: all of them up to
  /// impl::kTimerSliceMin, else each at least every impl::kTimerSweep) and returns those with
  /// something due (valid until the next call).
  const std::vector<Due>& run(Nanos now);

  /// Replays the peer's worker activity into its timers and returns what is due now: the
  /// expired timers' actions, plus a new handshake when the receiver side of keep-key-fresh
  /// (protocol.md 4, receive step 6) asks for one.
  peer::TimerActions tick(PeerId peer, Nanos now);
  /// Brings what tick(peer) reads into the cache: a walk over many peers issues it some peers
  /// ahead, since each peer's record and activity rows are elsewhere in memory.
  void prefetch(PeerId peer) const noexcept;

 private:
  /// Replays activity; true if something authenticated was received since the last tick.
  bool replay(PeerState& ps, const dataplane::PeerTotals& activity);

  dataplane::Dataplane& dp_;
  Peers& peers_;
  PeerSweep sweep_;       // run()'s slices
  std::vector<Due> due_;  // run()'s result, its storage kept between periods
};

}  // namespace meshgate::control
