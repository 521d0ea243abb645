// Staged packets: inner packets for a peer that has no usable session yet wait here (bounded,
// oldest dropped first) until a handshake completes and its route is known.
#pragma once

#include <rte_config.h>
#include <rte_mbuf.h>

#include <cstddef>
#include <deque>
#include <vector>

#include "meshgate/control/transmit.hpp"
#include "meshgate/dataplane/drops.hpp"

namespace meshgate::control {

class Staging {
 public:
  Staging(Transmitter& tx, dataplane::DropCounters& drops) : tx_(tx), drops_(drops) {}
  ~Staging();
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;

  /// Takes m; past impl::kMaxStaged the oldest packet of the peer is dropped.
  void add(PeerId peer, rte_mbuf* m);
  /// Sends what waits for the peer through its current session, in order, until the session
  /// refuses (none yet, or no route).
  void flush(PeerId peer, Nanos now);
  /// Drops every packet waiting for the peer, counted under `reason`.
  void drop_all(PeerId peer, dataplane::Drop reason);
  std::size_t count(PeerId peer) const noexcept {
    return peer < queues_.size() ? queues_[peer].size() : 0;
  }

 private:
  Transmitter& tx_;
  dataplane::DropCounters& drops_;
  std::vector<std::deque<rte_mbuf*>> queues_;  // by PeerId
};

}  // namespace meshgate::control
