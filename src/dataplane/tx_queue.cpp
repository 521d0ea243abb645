#include "meshgate/dataplane/tx_queue.hpp"

#include <rte_ethdev.h>
#include <rte_ring.h>

#include "meshgate/dataplane/vlan.hpp"
#include "meshgate/dpdk/handoff.hpp"

namespace meshgate::dataplane {

void TxQueue::tag_all(std::uint16_t vid, DropCounters& drops) noexcept {
  unsigned kept = 0;
  for (unsigned i = 0; i < n_; ++i) {
    if (tag_frame(pkts_[i], vid)) {
      pkts_[kept++] = pkts_[i];
    } else {
      drops.add(Drop::no_headroom);
      rte_pktmbuf_free(pkts_[i]);
    }
  }
  n_ = kept;
}

unsigned TxQueue::flush(DropCounters& drops) noexcept {
  if (n_ == 0) return 0;
  const auto role = static_cast<int>(role_);
  const std::uint16_t port = role_ == PortRole::inner ? dp_.inner_port : dp_.outer_port;
  // The control thread's frames go through worker 0 on a port without a TX queue to spare.
  rte_ring* relay = queue_ == dp_.workers ? dp_.control_tx[role] : nullptr;
  // Tags go on at the port, not before the relay ring: worker 0 tags the relayed frames.
  if (relay == nullptr && dp_.vlan[role] != 0) tag_all(dp_.vlan[role], drops);
  if (n_ == 0) return 0;
  dpdk::hand_over(pkts_, n_);
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
