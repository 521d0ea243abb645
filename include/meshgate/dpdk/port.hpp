// Ethernet port set-up: one RX queue per worker, one TX queue per worker plus one for the
// control thread (so no TX queue is ever shared), RSS where the port has several RX queues.
#pragma once

#include <rte_config.h>
#include <rte_mempool.h>

#include <array>
#include <cstdint>
#include <string>

#include "meshgate/base/result.hpp"

namespace meshgate::dpdk {

inline constexpr std::uint16_t kEthernetMtu = 1500;

struct PortSetup {
  std::uint16_t port_id = 0;
  std::uint16_t rx_queues = 1;
  std::uint16_t tx_queues = 2;
  std::uint16_t rx_desc = 1024;
  std::uint16_t tx_desc = 1024;
  rte_mempool* pool = nullptr;
  /// Largest IP packet the port must carry (its L3 MTU); above Ethernet's 1500 the port is
  /// configured for jumbo frames, and setup fails if it cannot take them.
  std::uint16_t mtu = kEthernetMtu;
};

struct PortInfo {
  std::uint16_t port_id = 0;
  std::string name;    // device name, e.g. net_af_packet0 or 0000:03:00.0
  std::string driver;  // PMD name
  std::array<std::uint8_t, 6> mac{};
  std::uint16_t rx_queues = 0;  // RX queues configured (see setup_port)
  bool rss = false;             // RX spread over queues by the NIC
  bool tx_ipv4_cksum = false;   // IPv4 header checksum offload
  bool tx_udp_cksum = false;    // UDP checksum offload
  std::uint16_t socket = 0;     // NUMA node (0 when unknown)
};

/// Resolves "0" / "1" (port ids) or a device name ("net_af_packet0") to a port id.
Result<std::uint16_t> find_port(const std::string& id_or_name);

/// Configures and starts a port. Errors name the port and the ethdev call that failed.
/// An AF_PACKET port spreads received frames over all of its sockets (qpairs, a fanout group),
/// so every one of its RX queues is configured and must be polled: info.rx_queues may then be
/// larger than s.rx_queues.
Result<PortInfo> setup_port(const PortSetup& s);

/// Stops and closes a port (idempotent).
void close_port(std::uint16_t port_id);

/// Data room of an mbuf that holds one frame of an L3 MTU `mtu` (Ethernet, an 802.1Q tag)
/// after the headroom the outer headers are prepended into: DPDK's default 2048 + 128 up to a
/// 1500-byte MTU, more for jumbo frames (one buffer per frame, never a chain).
std::uint16_t data_room_for(unsigned mtu);

/// A packet mbuf pool of `mbufs` buffers, each with the data room for frames of an L3 MTU
/// `mtu`, on `socket`.
Result<rte_mempool*> make_pool(const std::string& name, unsigned mbufs, int socket,
                               unsigned mtu = kEthernetMtu);

}  // namespace meshgate::dpdk
