#include "meshgate/dataplane/tx_queue.hpp"

#include <rte_ethdev.h>
#include <rte_ring.h>

namespace meshgate::dataplane {

unsigned TxQueue::flush(DropCounters& drops) noexcept {
  if (n_ == 0) return 0;
  const auto role = static_cast<int>(role_);
  const std::uint16_t port = role_ == PortRole::inner ? dp_.inner_port : dp_.outer_port;
  // The control thread's frames go through worker 0 on a port without a TX queue to spare.
  rte_ring* relay = queue_ == dp_.workers ? dp_.control_tx[role] : nullptr;
  const unsigned sent =
      relay != nullptr
          ? rte_ring_sp_enqueue_burst(relay, reinterpret_cast<void**>(pkts_), n_, nullptr)
          : rte_eth_tx_burst(port, queue_, pkts_, static_cast<std::uint16_t>(n_));
  if (sent < n_) {
    drops.add(Drop::tx_full, n_ - sent);
    rte_pktmbuf_free_bulk(pkts_ + sent, n_ - sent);
  }
  n_ = 0;
  return sent;
}

}  // namespace meshgate::dataplane
