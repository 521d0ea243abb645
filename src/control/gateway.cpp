#include "meshgate/control/gateway.hpp"

#include <rte_config.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include <algorithm>

#include "meshgate/control/mbuf_budget.hpp"
#include "meshgate/control/tunables.hpp"
#include "meshgate/dpdk/eal.hpp"
#include "meshgate/dpdk/handoff.hpp"
#include "meshgate/dpdk/port.hpp"
#include "meshgate/dpdk/ring_port.hpp"
#include "meshgate/nat/stun.hpp"
#include "meshgate/wire/headers.hpp"
#include "meshgate/wire/messages.hpp"

namespace meshgate::control {

std::uint16_t port_mtu(dataplane::PortRole role, std::uint16_t tunnel_mtu) {
  // The LAN port carries inner packets up to the tunnel MTU, the Internet port the same sealed:
  // IPv6, UDP, a TURN ChannelData header and WireGuard's 32 bytes more (padding stops at the
  // MTU).
  constexpr unsigned kSealedOverhead = sizeof(wire::Ipv6Hdr) + sizeof(wire::UdpHdr) +
                                       nat::stun::kChannelDataHeaderSize +
                                       wire::spec::kTransportMinSize;
  const unsigned mtu =
      role == dataplane::PortRole::inner ? tunnel_mtu : tunnel_mtu + kSealedOverhead;
  return static_cast<std::uint16_t>(std::max<unsigned>(dpdk::kEthernetMtu, mtu));
}

namespace {

int worker_main(void* arg) {
  static_cast<dataplane::Worker*>(arg)->run();
  dpdk::released(arg);  // for join(): the lcore's end is not visible to TSan (dpdk/handoff.hpp)
  return 0;
}

/// The gateway's own address of a family among interface addresses (the first one).
IpAddr first_of(const std::vector<config::InterfaceAddress>& addrs, IpAddr::Family fam) {
  for (const auto& a : addrs) {
    if (a.addr.family == fam) return a.addr;
  }
  return {};
}

std::vector<Prefix> subnets(const std::vector<config::InterfaceAddress>& addrs) {
  std::vector<Prefix> out;
  out.reserve(addrs.size());
  for (const auto& a : addrs) out.push_back(a.subnet());
  return out;
}

struct PortPair {
  std::uint16_t inner = 0;
  std::uint16_t outer = 0;
};

/// The LAN and Internet ports the settings name; two distinct DPDK ports.
Result<PortPair> find_ports(const config::GatewaySettings& settings) {
  auto inner = dpdk::find_port(settings.inner_port);
  if (!inner) return Error{"InnerPort: " + inner.error()};
  auto outer = dpdk::find_port(settings.outer_port);
  if (!outer) return Error{"OuterPort: " + outer.error()};
  if (*inner == *outer) return Error{"InnerPort and OuterPort name the same DPDK port"};
  return PortPair{*inner, *outer};
}

/// The tables, and the fields the config and the settings fix before any port starts.
std::unique_ptr<dataplane::Dataplane> make_dataplane(const config::GatewayConfig& cfg,
                                                     const config::GatewaySettings& settings,
                                                     const GatewayLimits& limits, PortPair ports) {
  auto dp = std::make_unique<dataplane::Dataplane>(limits.max_peers, settings.workers);
  dp->workers = settings.workers;
  dp->inner_port = ports.inner;
  dp->outer_port = ports.outer;
  dp->listen_port.store(cfg.interface.listen_port);
  dp->mtu = static_cast<std::uint16_t>(cfg.interface.mtu);
  dp->idle_backoff = settings.idle_backoff;
  dp->spread = cfg.gateway.spread_inbound;
  dp->standby.store(cfg.gateway.role == config::Role::standby, std::memory_order_relaxed);
  dp->vlan[static_cast<int>(dataplane::PortRole::inner)] = cfg.gateway.inner_vlan;
  dp->vlan[static_cast<int>(dataplane::PortRole::outer)] = cfg.gateway.outer_vlan;
  dp->mss = cfg.gateway.mss_clamp ? wire::mss_limit_for_mtu(dp->mtu) : wire::MssLimit{};
  return dp;
}

/// TX queues for `port`: one per worker and one for the control thread. A port with exactly one
/// too few (AF_XDP on veth) gets none for the control thread; its frames are relayed through
/// worker 0 by a ring this creates.
Result<std::uint16_t> tx_queues_for(dataplane::Dataplane& dp, const std::string& name,
                                    std::uint16_t port, dataplane::PortRole role,
                                    std::uint16_t queues) {
  rte_eth_dev_info dev{};
  rte_eth_dev_info_get(port, &dev);
  if (dev.max_tx_queues != queues) return static_cast<std::uint16_t>(queues + 1);
  const std::string ring_name = name + (role == dataplane::PortRole::inner ? "_rin" : "_rout");
  rte_ring* relay = rte_ring_create(ring_name.c_str(), impl::kRelayRingSize, SOCKET_ID_ANY,
                                    RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (relay == nullptr) return Error{"relay ring: " + std::string(rte_strerror(rte_errno))};
  dp.control_tx[static_cast<int>(role)] = relay;
  return queues;
}

/// The pool's size: the config's Mbufs, else the limits', else what the shape needs
/// (docs/design.md, "The mbuf pool").
unsigned pool_size(const config::GatewayConfig& cfg, const config::GatewaySettings& settings,
                   const GatewayLimits& limits, const dataplane::ReassemblyLimits& frags) {
  if (cfg.gateway.mbufs) return *cfg.gateway.mbufs;
  if (limits.mbufs != 0) return limits.mbufs;
  return mbuf_budget({.workers = settings.workers,
                      .rx_queues = settings.workers,
                      .tx_queues = settings.workers + 1,
                      .reassembly_mbufs = frags.max_mbufs()})
      .total();
}

/// The mbuf pool (on the Internet port's NUMA socket), then both ports started with one RX
/// queue per worker; records their MACs and the RX queues they got.
Status start_pool_and_ports(dataplane::Dataplane& dp, const std::string& name, unsigned mbufs) {
  const int socket = rte_eth_dev_socket_id(dp.outer_port);
  const std::uint16_t mtu[2] = {port_mtu(dataplane::PortRole::inner, dp.mtu),
                                port_mtu(dataplane::PortRole::outer, dp.mtu)};
  auto pool = dpdk::make_pool(name + "_pool", mbufs, socket < 0 ? SOCKET_ID_ANY : socket, mtu[1]);
  if (!pool) return Error{pool.error()};
  dp.pool = *pool;

  const auto queues = static_cast<std::uint16_t>(dp.workers);
  for (std::uint16_t port : {dp.inner_port, dp.outer_port}) {
    const bool is_inner = port == dp.inner_port;
    const auto role = is_inner ? dataplane::PortRole::inner : dataplane::PortRole::outer;
    auto tx_queues = tx_queues_for(dp, name, port, role, queues);
    if (!tx_queues) return Error{tx_queues.error()};
    auto info = dpdk::setup_port({.port_id = port,
                                  .rx_queues = queues,
                                  .tx_queues = *tx_queues,
                                  .pool = dp.pool,
                                  .mtu = mtu[static_cast<int>(role)]});
    if (!info) return Error{info.error()};
    (is_inner ? dp.addr.inner_mac : dp.addr.outer_mac) = wire::MacAddr::from(info->mac.data());
    (is_inner ? dp.inner_rx_queues : dp.outer_rx_queues) = info->rx_queues;
  }
  return ok_status();
}

/// The gateway's own addresses, on-link prefixes and next hops from the [Gateway] section.
void set_addresses(dataplane::GatewayAddresses& addr, const config::GatewaySection& g) {
  addr.inner = subnets(g.inner_addresses);
  addr.outer = subnets(g.outer_addresses);
  addr.inner_v4 = first_of(g.inner_addresses, IpAddr::Family::v4);
  addr.inner_v6 = first_of(g.inner_addresses, IpAddr::Family::v6);
  addr.outer_v4 = first_of(g.outer_addresses, IpAddr::Family::v4);
  addr.outer_v6 = first_of(g.outer_addresses, IpAddr::Family::v6);
  if (g.inner_gateway_v4) addr.inner_gateway_v4 = *g.inner_gateway_v4;
  if (g.inner_gateway_v6) addr.inner_gateway_v6 = *g.inner_gateway_v6;
  if (g.outer_gateway_v4) addr.outer_gateway_v4 = *g.outer_gateway_v4;
  if (g.outer_gateway_v6) addr.outer_gateway_v6 = *g.outer_gateway_v6;
}

/// The interface key, fwmark and [Peer] sections; an error names the peer's line.
Status add_config_peers(PeerConfig& ctl, const config::GatewayConfig& cfg) {
  ctl.set_private_key(cfg.interface.private_key);
  ctl.set_fwmark(cfg.interface.fwmark);
  const Nanos now = monotonic_now();
  for (const config::PeerConfig& p : cfg.peers) {
    PeerSettings s;
    s.public_key = p.public_key;
    s.preshared_key = p.preshared_key;
    if (p.endpoint) s.endpoint = *p.endpoint;
    s.persistent_keepalive = p.persistent_keepalive;
    s.allowed_ips = p.allowed_ips;
    s.lighthouse = p.lighthouse;
    auto id = ctl.add_peer(s, now);
    if (!id) return Error{cfg.source + ":" + std::to_string(p.line) + ": peer: " + id.error()};
  }
  return ok_status();
}

}  // namespace

Status make_control_rings(dataplane::Dataplane& dp, const std::string& name) {
  auto ring = dpdk::make_ring(name + "_ctl", impl::kControlRingSize);
  if (!ring) return Error{ring.error()};
  dp.to_control = *ring;
  auto handshakes = dpdk::make_ring(name + "_hs", impl::kHandshakeRingSize);
  if (!handshakes) return Error{handshakes.error()};
  dp.handshakes = *handshakes;
  dp.events = rte_ring_create_elem((name + "_ev").c_str(), dataplane::kEventSize,
                                   impl::kEventRingSize, SOCKET_ID_ANY, RING_F_SC_DEQ);
  if (dp.events == nullptr) return Error{"event ring: " + std::string(rte_strerror(rte_errno))};
  return ok_status();
}

void free_control_rings(dataplane::Dataplane& dp) {
  for (rte_ring** r : {&dp.to_control, &dp.handshakes, &dp.events}) {
    rte_ring_free(*r);
    *r = nullptr;
  }
}

Result<std::unique_ptr<Gateway>> Gateway::create(const std::string& name,
                                                 const config::GatewayConfig& cfg,
                                                 const config::GatewaySettings& settings,
                                                 const GatewayLimits& limits) {
  if (!dataplane::register_mbuf_meta()) return Error{"cannot register the mbuf metadata field"};
  std::unique_ptr<Gateway> gw(new Gateway());
  gw->name_ = name;
  auto ports = find_ports(settings);
  if (!ports) return Error{ports.error()};
  gw->dp_ = make_dataplane(cfg, settings, limits, *ports);
  dataplane::Dataplane& dp = *gw->dp_;

  // The order matters to the destructor: it closes the ports only once both started, and frees
  // whichever rings exist.
  if (auto st = start_pool_and_ports(dp, name, pool_size(cfg, settings, limits, dp.reassembly));
      !st) {
    return Error{st.error()};
  }
  gw->ports_started_ = true;
  set_addresses(dp.addr, cfg.gateway);
  // Before the first poll: the workers unwrap ChannelData from this server only.
  if (cfg.gateway.turn_server) dp.turn_server = *cfg.gateway.turn_server;
  if (auto st = make_control_rings(dp, name); !st) return Error{st.error()};

  for (unsigned i = 0; i < settings.workers; ++i) {
    gw->workers_.push_back(std::make_unique<dataplane::Worker>(dp, i));
  }
  // The control thread sends on the TX queue after the workers' (or through the relay ring).
  gw->control_ = std::make_unique<Control>(dp, static_cast<std::uint16_t>(settings.workers));
  if (auto st = add_config_peers(gw->control_->config(), cfg); !st) return Error{st.error()};
  gw->control_->stun().set_servers(cfg.gateway.stun_servers, monotonic_now());
  gw->control_->lighthouse().configure(cfg.gateway.lighthouse, cfg.gateway.public_endpoint);
  if (cfg.gateway.turn_server) {
    gw->control_->turn().configure(
        {*cfg.gateway.turn_server, cfg.gateway.turn_user, cfg.gateway.turn_password},
        monotonic_now());
  }
  return gw;
}

Gateway::~Gateway() {
  if (dp_) dp_->stop.store(true);
  join();
  control_.reset();  // its services point into the servers below
  metrics_server_.reset();
  uapi_.reset();
  uapi_device_.reset();
  sync_.reset();
  sync_device_.reset();
  workers_.clear();
  if (ports_started_) {
    dpdk::close_port(dp_->inner_port);
    dpdk::close_port(dp_->outer_port);
  }
  if (dp_) {
    free_control_rings(*dp_);
    for (rte_ring* r : dp_->control_tx) rte_ring_free(r);
  }
}

Status Gateway::start() {
  std::vector<unsigned> lcores = dpdk::worker_lcores();
  if (lcores.size() < workers_.size()) {
    return Error{"the EAL profile gives " + std::to_string(lcores.size()) +
                 " worker lcores, the config asks for " + std::to_string(workers_.size()) +
                 " workers"};
  }
  for (unsigned i = 0; i < workers_.size(); ++i) {
    if (int rc = rte_eal_remote_launch(worker_main, workers_[i].get(), lcores[i]); rc != 0) {
      dp_->stop.store(true);
      join();
      return Error{"cannot launch worker " + std::to_string(i) + " on lcore " +
                   std::to_string(lcores[i])};
    }
    lcores_.push_back(lcores[i]);
  }
  return ok_status();
}

void Gateway::join() {
  for (unsigned lc : lcores_) rte_eal_wait_lcore(lc);
  for (const auto& w : workers_) dpdk::acquired(w.get());
  lcores_.clear();
}

void Gateway::print_stats(FILE* out) const {
  const MetricsSnapshot snap = metrics();
  for (const LcoreMetrics& l : snap.lcores) {
    std::fprintf(
        out,
        "%s: rx inner %llu outer %llu, tx inner %llu outer %llu, sealed %llu, opened %llu, "
        "to control %llu, reassembled %llu\n",
        l.name.c_str(), static_cast<unsigned long long>(l.rx_inner),
        static_cast<unsigned long long>(l.rx_outer), static_cast<unsigned long long>(l.tx_inner),
        static_cast<unsigned long long>(l.tx_outer), static_cast<unsigned long long>(l.encrypted),
        static_cast<unsigned long long>(l.decrypted), static_cast<unsigned long long>(l.to_control),
        static_cast<unsigned long long>(l.reassembled));
    for (std::size_t i = 0; i < l.drops.size(); ++i) {
      if (l.drops[i] != 0) {
        std::fprintf(out, "  drop %-26s %llu\n", dataplane::drop_name(i),
                     static_cast<unsigned long long>(l.drops[i]));
      }
    }
  }
  const ControlStats c = control_->stats();
  std::fprintf(out,
               "handshakes: initiations sent %llu received %llu, responses sent %llu received "
               "%llu, cookies sent %llu received %llu, keepalives %llu, arp/nd replies %llu/%llu, "
               "echo replies %llu, neighbour news refused %llu, neighbour frames not sent %llu\n",
               static_cast<unsigned long long>(c.initiations_sent),
               static_cast<unsigned long long>(c.initiations_received),
               static_cast<unsigned long long>(c.responses_sent),
               static_cast<unsigned long long>(c.responses_received),
               static_cast<unsigned long long>(c.cookies_sent),
               static_cast<unsigned long long>(c.cookies_received),
               static_cast<unsigned long long>(c.keepalives_sent),
               static_cast<unsigned long long>(c.arp_replies),
               static_cast<unsigned long long>(c.nd_replies),
               static_cast<unsigned long long>(c.echo_replies),
               static_cast<unsigned long long>(c.neighbour_refused),
               static_cast<unsigned long long>(c.neighbour_not_sent));
  for (const PeerMetrics& p : snap.peers) {
    std::fprintf(
        out,
        "peer %s: endpoint %s, rx %llu bytes %llu packets, tx %llu bytes %llu packets, %llu "
        "handshakes\n",
        to_base64(as_bytes(p.public_key)).c_str(), p.endpoint.str().c_str(),
        static_cast<unsigned long long>(p.rx_bytes), static_cast<unsigned long long>(p.rx_packets),
        static_cast<unsigned long long>(p.tx_bytes), static_cast<unsigned long long>(p.tx_packets),
        static_cast<unsigned long long>(p.handshakes));
  }
  for (std::size_t i = 1; i <= noise::kHandshakeDropCount; ++i) {
    if (c.handshake_drops[i] != 0) {
      std::fprintf(out, "  handshake drop %-22s %llu\n",
                   std::string(noise::to_string(static_cast<noise::HandshakeDrop>(i))).c_str(),
                   static_cast<unsigned long long>(c.handshake_drops[i]));
    }
  }
}

unsigned Gateway::poll(Nanos now, WallTime wall) {
  unsigned n = 0;
  for (auto& w : workers_) {
    n += w->poll(now);
  }
  n += control_->poll(now, wall);
  return n;
}

}  // namespace meshgate::control
