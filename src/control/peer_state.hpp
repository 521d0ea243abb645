// The control thread's private per-peer state (not shared with workers).
#pragma once

#include <rte_config.h>
#include <rte_mbuf.h>

#include <deque>

#include "meshgate/control/control.hpp"

namespace meshgate::control {

struct Control::PeerState {
  PeerSettings settings;
  noise::Handshake hs;
  noise::CookieSender cookie;
  peer::PeerTimers timers;
  std::deque<rte_mbuf*> staged;    // inner packets waiting for a keypair (bounded)
  std::uint32_t pending_index = 0;  // our index of the initiation in flight (reserved slot)
  const dataplane::PeerRoute* route = nullptr;  // what we published to the workers
  // Worker activity timestamps already replayed into the timers.
  Nanos seen_tx_data = 0;
  Nanos seen_rx_data = 0;
  Nanos seen_rx_auth = 0;
  std::uint64_t handshakes = 0;
};

/// WireGuard keeps at most this many packets per peer while a handshake is pending.
inline constexpr std::size_t kMaxStaged = 128;

}  // namespace meshgate::control
