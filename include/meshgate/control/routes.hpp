// Peer routes: what a worker needs to send to a peer (dataplane::PeerRoute: the endpoint and a
// prebuilt outer header with the next hop's MAC), published under RCU when the endpoint, the
// listen port or the next hop's MAC changes. The only writer of dataplane::Peer::route and of
// the keypairs' endpoint tags (the receive path's roaming check).
#pragma once

#include <cstdint>

#include "meshgate/control/key_slots.hpp"
#include "meshgate/control/neighbours.hpp"
#include "meshgate/control/peers.hpp"
#include "meshgate/dataplane/dataplane.hpp"

namespace meshgate::control {

class Routes {
 public:
  Routes(dataplane::Dataplane& dp, Peers& peers, Neighbours& neighbours, KeySlots& keys)
      : dp_(dp), peers_(peers), neighbours_(neighbours), keys_(keys) {}
  /// Frees the routes still published (the workers have stopped).
  ~Routes();
  Routes(const Routes&) = delete;
  Routes& operator=(const Routes&) = delete;

  /// Publishes a route to the peer's endpoint unless the published one already matches (or
  /// `rebuild`). True when a new route went live: packets staged for the peer may go now.
  /// False also while the next hop's MAC is unknown: it is probed, and next_hop_learnt() comes
  /// back here.
  bool update(PeerId peer, Nanos now, bool rebuild = false);
  /// Unpublishes the peer's route (freed after a grace period).
  void withdraw(PeerId peer);
  /// A next hop's MAC was learnt or changed: updates the peers routed through it and returns
  /// those whose route went live.
  std::vector<PeerId> next_hop_learnt(const IpAddr& hop, Nanos now);
  /// The endpoint tag of the peer's published route (0: none), for keypairs installed now.
  std::uint32_t tag(PeerId peer) const noexcept;

 private:
  dataplane::Dataplane& dp_;
  Peers& peers_;
  Neighbours& neighbours_;
  KeySlots& keys_;
};

}  // namespace meshgate::control
