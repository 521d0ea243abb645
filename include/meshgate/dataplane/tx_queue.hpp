// Frames waiting for one port's TX queue, sent together: what a worker does with every frame it
// finishes, and what the control thread's transmitter needs for its own frames.
//
// Thread contract: one TxQueue belongs to one thread (a worker, or the control thread), as the
// port TX queue it feeds does. The control thread's queue number is Dataplane::workers; on a port
// with no TX queue to spare for it, its frames go to the port's Dataplane::control_tx ring
// instead, which worker 0 drains (Worker::poll), so that ring has one producer and one consumer.
#pragma once

#include <rte_config.h>
#include <rte_mbuf.h>

#include <cstdint>

#include "meshgate/dataplane/dataplane.hpp"
#include "meshgate/dataplane/drops.hpp"
#include "meshgate/dataplane/tunables.hpp"

namespace meshgate::dataplane {

class TxQueue {
 public:
  /// Frames for `role`'s port, TX queue `queue`: a worker's id, or dp.workers for the control
  /// thread. The port and the relay ring are read from `dp` at each flush (they are set once,
  /// before the first poll, possibly after this queue was made).
  TxQueue(const Dataplane& dp, PortRole role, std::uint16_t queue) noexcept
      : dp_(dp), role_(role), queue_(queue) {}
  TxQueue(const TxQueue&) = delete;
  TxQueue& operator=(const TxQueue&) = delete;

  /// Queues a finished frame; a full buffer is flushed first. Returns the frames that flush sent
  /// (0 when there was none), for the caller's TX counter.
  unsigned push(rte_mbuf* m, DropCounters& drops) noexcept {
    unsigned sent = 0;
    if (n_ == impl::kTxBufferSize) sent = flush(drops);
    pkts_[n_++] = m;
    return sent;
  }
  /// Sends the queued frames, tagged when the port has a VLAN; those the TX queue (or relay
  /// ring) did not take are freed and counted as tx_full. Returns the number sent.
  unsigned flush(DropCounters& drops) noexcept;
  unsigned size() const noexcept { return n_; }

 private:
  /// Tags every queued frame with VLAN `vid`; one that cannot take a tag is freed and counted.
  void tag_all(std::uint16_t vid, DropCounters& drops) noexcept;

  const Dataplane& dp_;
  PortRole role_;
  std::uint16_t queue_;
  unsigned n_ = 0;
  rte_mbuf* pkts_[impl::kTxBufferSize];
};

}  // namespace meshgate::dataplane
