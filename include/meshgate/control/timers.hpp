// WireGuard's timers on the control thread (protocol.md 5). Workers only record time
// stamps of what they sent and received, per burst; this part replays them into each peer's
// timer state machine in the order they happened and says what is due.
#pragma once

#include "meshgate/control/peers.hpp"
#include "meshgate/dataplane/dataplane.hpp"
#include "meshgate/peer/timers.hpp"

namespace meshgate::control {

class Timers {
 public:
  Timers(dataplane::Dataplane& dp, Peers& peers) : dp_(dp), peers_(peers) {}

  /// Replays the peer's worker activity into its timers and returns what is due now: the
  /// expired timers' actions, plus a new handshake when the receiver side of keep-key-fresh
  /// (protocol.md 4, receive step 6) asks for one.
  peer::TimerActions tick(PeerId peer, Nanos now);

 private:
  /// Replays activity; true if something authenticated was received since the last tick.
  bool replay(PeerState& ps, const dataplane::PeerTotals& activity);

  dataplane::Dataplane& dp_;
  Peers& peers_;
};

}  // namespace meshgate::control
