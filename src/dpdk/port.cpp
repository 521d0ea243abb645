#include "meshgate/dpdk/port.hpp"

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string_view>

namespace meshgate::dpdk {

namespace {

Error port_error(std::uint16_t port, const char* what, int rc) {
  return Error{"port " + std::to_string(port) + ": " + what + " failed: " + rte_strerror(-rc)};
}

}  // namespace

Result<std::uint16_t> find_port(const std::string& id_or_name) {
  unsigned id = 0;
  auto [ptr, ec] = std::from_chars(id_or_name.data(), id_or_name.data() + id_or_name.size(), id);
  if (ec == std::errc() && ptr == id_or_name.data() + id_or_name.size()) {
    if (id >= RTE_MAX_ETHPORTS || !rte_eth_dev_is_valid_port(static_cast<std::uint16_t>(id))) {
      return Error{"no DPDK port " + id_or_name + " (" + std::to_string(rte_eth_dev_count_avail()) +
                   " ports available)"};
    }
    return static_cast<std::uint16_t>(id);
  }
  std::uint16_t port = 0;
  if (rte_eth_dev_get_port_by_name(id_or_name.c_str(), &port) != 0) {
    return Error{"no DPDK port named " + id_or_name + " (check the profile's vdev/allow lines)"};
  }
  return port;
}

namespace {

/// RX queues to configure: what the caller asks for, except on AF_PACKET, which spreads
/// received frames over all of its sockets (a fanout group), so every queue must be polled.
std::uint16_t rx_queues_for(const PortSetup& s, const rte_eth_dev_info& dev) {
  if (std::string_view(dev.driver_name) == "net_af_packet") return dev.max_rx_queues;
  return s.rx_queues;
}

Status check_queue_counts(const PortSetup& s, const rte_eth_dev_info& dev,
                          std::uint16_t rx_queues) {
  if (rx_queues <= dev.max_rx_queues && s.tx_queues <= dev.max_tx_queues) return ok_status();
  return Error{"port " + std::to_string(s.port_id) + " (" + dev.driver_name + ") supports " +
               std::to_string(dev.max_rx_queues) + " RX / " + std::to_string(dev.max_tx_queues) +
               " TX queues, meshgate needs " + std::to_string(s.rx_queues) + " / " +
               std::to_string(s.tx_queues) + " (workers, and workers + 1 for TX)"};
}

/// The port's identity: id, driver, name and NUMA socket (0 when unknown).
PortInfo describe_port(std::uint16_t p, const rte_eth_dev_info& dev) {
  PortInfo info;
  info.port_id = p;
  info.driver = dev.driver_name;
  char name[RTE_ETH_NAME_MAX_LEN] = {};
  rte_eth_dev_get_name_by_port(p, name);
  info.name = name;
  int socket = rte_eth_dev_socket_id(p);
  info.socket = socket < 0 ? 0 : static_cast<std::uint16_t>(socket);
  return info;
}

/// RSS and the TX checksum offloads, each as far as the port offers it, and the MTU; records
/// in `info` what it got.
rte_eth_conf port_conf(const rte_eth_dev_info& dev, std::uint16_t mtu, PortInfo& info) {
  rte_eth_conf conf{};
  if (info.rx_queues > 1 && dev.flow_type_rss_offloads != 0) {
    // Hash on addresses and UDP ports: every packet of one peer endpoint lands on one queue,
    // so one worker owns that keypair's replay window in the common case.
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf =
        (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & dev.flow_type_rss_offloads;
    info.rss = true;
  }
  const std::uint64_t want_tx = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
  conf.txmode.offloads = dev.tx_offload_capa & want_tx;
  info.tx_ipv4_cksum = (conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0;
  info.tx_udp_cksum = (conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) != 0;
  conf.rxmode.mtu = mtu;
  return conf;
}

/// The MTU to configure for a port that must carry IP packets of `mtu` bytes: 0 (the PMD's
/// default, 1500) up to Ethernet's MTU, else `mtu` if the port's frames are large enough.
/// AF_PACKET reports 1518-byte frames but carries whatever its kernel interface and its ring
/// frames (the framesz devarg) hold, so it is left at its default.
Result<std::uint16_t> configured_mtu(std::uint16_t mtu, const rte_eth_dev_info& dev,
                                     const PortInfo& info) {
  if (mtu <= kEthernetMtu) return std::uint16_t{0};
  const unsigned frame = mtu + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN + RTE_ETHER_CRC_LEN;
  if (dev.max_rx_pktlen >= frame && dev.max_mtu >= mtu) return mtu;
  if (info.driver == "net_af_packet") return std::uint16_t{0};
  return Error{"port " + std::to_string(info.port_id) + " (" + info.name + ", " + info.driver +
               "): MTU " + std::to_string(mtu) + " needed, its frames hold at most " +
               std::to_string(dev.max_rx_pktlen) + " bytes"};
}

/// rte_eth_dev_configure(), then every RX queue (filled from the pool) and TX queue.
Status configure_queues(const PortSetup& s, const rte_eth_dev_info& dev, const rte_eth_conf& conf,
                        const PortInfo& info) {
  const std::uint16_t p = s.port_id;
  if (int rc = rte_eth_dev_configure(p, info.rx_queues, s.tx_queues, &conf); rc != 0) {
    return port_error(p, "configure", rc);
  }
  std::uint16_t rx_desc = s.rx_desc;
  std::uint16_t tx_desc = s.tx_desc;
  if (int rc = rte_eth_dev_adjust_nb_rx_tx_desc(p, &rx_desc, &tx_desc); rc != 0) {
    return port_error(p, "adjust descriptors", rc);
  }
  for (std::uint16_t q = 0; q < info.rx_queues; ++q) {
    if (int rc = rte_eth_rx_queue_setup(p, q, rx_desc, info.socket, nullptr, s.pool); rc != 0) {
      return port_error(p, "rx_queue_setup", rc);
    }
  }
  rte_eth_txconf txconf = dev.default_txconf;
  txconf.offloads = conf.txmode.offloads;
  for (std::uint16_t q = 0; q < s.tx_queues; ++q) {
    if (int rc = rte_eth_tx_queue_setup(p, q, tx_desc, info.socket, &txconf); rc != 0) {
      return port_error(p, "tx_queue_setup", rc);
    }
  }
  return ok_status();
}

/// Starts the port in promiscuous mode and records its MAC.
Status start_port(std::uint16_t p, PortInfo& info) {
  if (int rc = rte_eth_dev_start(p); rc != 0) return port_error(p, "start", rc);
  // The gateway answers ARP/ND for its own addresses and sends to resolved MACs; promiscuous
  // mode lets it see frames for its addresses on virtual ports whose MAC the kernel side
  // does not know. Failure is harmless (not every PMD supports it).
  rte_eth_promiscuous_enable(p);

  rte_ether_addr mac{};
  rte_eth_macaddr_get(p, &mac);
  std::memcpy(info.mac.data(), mac.addr_bytes, 6);
  return ok_status();
}

}  // namespace

Result<PortInfo> setup_port(const PortSetup& s) {
  const std::uint16_t p = s.port_id;
  rte_eth_dev_info dev{};
  if (int rc = rte_eth_dev_info_get(p, &dev); rc != 0) return port_error(p, "dev_info_get", rc);
  const std::uint16_t rx_queues = rx_queues_for(s, dev);
  if (auto st = check_queue_counts(s, dev, rx_queues); !st) return Error{st.error()};

  PortInfo info = describe_port(p, dev);
  auto mtu = configured_mtu(s.mtu, dev, info);
  if (!mtu) return Error{mtu.error()};
  info.rx_queues = rx_queues;
  const rte_eth_conf conf = port_conf(dev, *mtu, info);
  if (auto st = configure_queues(s, dev, conf, info); !st) return Error{st.error()};
  if (auto st = start_port(p, info); !st) return Error{st.error()};
  return info;
}

void close_port(std::uint16_t port_id) {
  if (!rte_eth_dev_is_valid_port(port_id)) return;
  rte_eth_dev_stop(port_id);
  rte_eth_dev_close(port_id);
}

std::uint16_t data_room_for(unsigned mtu) {
  // The default 2048 bytes after the headroom hold a 1518-byte tagged frame; the headroom (128)
  // holds the 78 bytes of outer Ethernet/IPv6/UDP/WireGuard headers that encapsulation
  // prepends. A larger frame gets a larger buffer, in whole KiB: 9216 for a 9000-byte MTU,
  // which an AF_PACKET ring with framesz=9216 fills (the PMD wants its frames to fit).
  const unsigned frame = mtu + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN;
  const unsigned room = std::max<unsigned>(RTE_MBUF_DEFAULT_DATAROOM, RTE_ALIGN_CEIL(frame, 1024));
  return static_cast<std::uint16_t>(room + RTE_PKTMBUF_HEADROOM);
}

Result<rte_mempool*> make_pool(const std::string& name, unsigned mbufs, int socket, unsigned mtu) {
  rte_mempool* mp =
      rte_pktmbuf_pool_create(name.c_str(), mbufs, 256, 0, data_room_for(mtu), socket);
  if (mp == nullptr) {
    return Error{"mbuf pool " + name + " (" + std::to_string(mbufs) +
                 " buffers): " + rte_strerror(rte_errno)};
  }
  return mp;
}

}  // namespace meshgate::dpdk
