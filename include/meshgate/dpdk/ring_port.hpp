// In-memory ethdev ports on rte_rings (the net_ring PMD): two gateways joined in one process
// for the dpdk tests, and packet sources and sinks for tunbench.
#pragma once

#include <rte_config.h>
#include <rte_ring.h>

#include <cstdint>
#include <string>
#include <vector>

#include "meshgate/base/result.hpp"

namespace meshgate::dpdk {

/// A multi-producer/multi-consumer ring of `size` mbuf pointers (power of two).
Result<rte_ring*> make_ring(const std::string& name, unsigned size);

/// An ethdev whose `rx_queues` RX queues all read `rx` and whose `tx_queues` TX queues all
/// write `tx`. Link two gateways by crossing the rings: A's tx ring is B's rx ring.
Result<std::uint16_t> make_ring_port(const std::string& name, rte_ring* rx, unsigned rx_queues,
                                     rte_ring* tx, unsigned tx_queues);

/// An ethdev with one ring per queue: RX queue q reads rx[q], TX queue q writes tx[q]. Lets
/// each worker of one gateway have rings of its own (tunbench: no shared ring between cores).
Result<std::uint16_t> make_ring_port(const std::string& name, const std::vector<rte_ring*>& rx,
                                     const std::vector<rte_ring*>& tx);

}  // namespace meshgate::dpdk
