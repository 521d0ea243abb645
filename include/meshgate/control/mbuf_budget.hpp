// How many mbufs the gateway's pool needs (docs/design.md, "The mbuf pool"): every place that
// can hold an mbuf at once, summed, so that a full queue somewhere never starves the RX rings.
#pragma once

#include <cstdint>

namespace meshgate::control {

/// The shape of a gateway, as far as holding mbufs goes.
struct MbufShape {
  unsigned workers = 1;
  unsigned rx_queues = 1;   // per port
  unsigned tx_queues = 2;   // per port: one per worker and one for the control thread
  unsigned rx_desc = 1024;  // descriptors per queue (dpdk::PortSetup)
  unsigned tx_desc = 1024;
  unsigned reassembly_mbufs = 0;  // per worker: dataplane::ReassemblyLimits::max_mbufs()
};

/// The budget by holder; total() is the pool size a gateway gets unless configured.
struct MbufBudget {
  unsigned port_rings = 0;  // both ports' RX and TX descriptor rings, all filled
  unsigned workers = 0;     // per worker: its pipelines, TX buffers and reassembly table, summed
  unsigned control = 0;     // the rings into the control thread, the relay rings, one ring burst
  unsigned caches = 0;      // the mempool's per-lcore caches, at their flush threshold
  unsigned slack = 0;       // staging, unresolved next hops, frames being built

  /// The sum. Not rounded up to 2^n - 1: that would nearly double a pool of 2 KiB buffers for
  /// a ring-allocation nicety.
  unsigned total() const noexcept { return port_rings + workers + control + caches + slack; }
};

/// Per-lcore cache of the pool (dpdk::make_pool).
inline constexpr unsigned kPoolCache = 256;

MbufBudget mbuf_budget(const MbufShape& shape) noexcept;

}  // namespace meshgate::control
