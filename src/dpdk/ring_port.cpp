#include "meshgate/dpdk/ring_port.hpp"

#include <rte_errno.h>
#include <rte_eth_ring.h>

#include <vector>

namespace meshgate::dpdk {

Result<rte_ring*> make_ring(const std::string& name, unsigned size) {
  rte_ring* r = rte_ring_create(name.c_str(), size, SOCKET_ID_ANY, 0);
  if (r == nullptr) return Error{"ring " + name + ": " + rte_strerror(rte_errno)};
  return r;
}

Result<std::uint16_t> make_ring_port(const std::string& name, rte_ring* rx, unsigned rx_queues,
                                     rte_ring* tx, unsigned tx_queues) {
  return make_ring_port(name, std::vector<rte_ring*>(rx_queues, rx),
                        std::vector<rte_ring*>(tx_queues, tx));
}

Result<std::uint16_t> make_ring_port(const std::string& name, const std::vector<rte_ring*>& rx,
                                     const std::vector<rte_ring*>& tx) {
  // rte_eth_from_rings() takes non-const arrays but does not modify them.
  std::vector<rte_ring*> rxs = rx;
  std::vector<rte_ring*> txs = tx;
  int port = rte_eth_from_rings(name.c_str(), rxs.data(), static_cast<unsigned>(rxs.size()),
                                txs.data(), static_cast<unsigned>(txs.size()), SOCKET_ID_ANY);
  if (port < 0) return Error{"ring port " + name + ": " + rte_strerror(rte_errno)};
  return static_cast<std::uint16_t>(port);
}

}  // namespace meshgate::dpdk
