// Traffic for the gateway itself: ICMP echo requests to its own addresses, from either port or
// from a peer through the tunnel, get their replies. Anything else for it is not served (no
// kernel stack stands behind the ports): freed and counted as such, not as a drop, since
// nothing about it is wrong.
#pragma once

#include <rte_config.h>
#include <rte_mbuf.h>

#include <cstdint>

#include "meshgate/control/transmit.hpp"
#include "meshgate/dataplane/dataplane.hpp"
#include "meshgate/dataplane/drops.hpp"

namespace meshgate::control {

class LocalTraffic {
 public:
  LocalTraffic(dataplane::Dataplane& dp, Transmitter& tx, dataplane::DropCounters& drops)
      : dp_(dp), tx_(tx), drops_(drops) {}

  /// A frame from `port` for one of the gateway's addresses. Takes m.
  void handle(rte_mbuf* m, PortRole port);
  /// A peer's decrypted packet (bare IP) for the gateway's LAN address: the echo reply goes
  /// back through the peer's tunnel. Takes m.
  void handle_from_tunnel(rte_mbuf* m, PeerId peer, Nanos now);

  /// Written by the control thread only.
  std::uint64_t echo_replies() const noexcept { return echo_replies_; }
  std::uint64_t unserved() const noexcept { return unserved_; }

 private:
  dataplane::Dataplane& dp_;
  Transmitter& tx_;
  dataplane::DropCounters& drops_;
  std::uint64_t echo_replies_ = 0;
  std::uint64_t unserved_ = 0;  // not an echo request to our address
};

}  // namespace meshgate::control
