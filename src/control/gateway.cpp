#include "meshgate/control/gateway.hpp"

#include <rte_config.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include "meshgate/dpdk/eal.hpp"
#include "meshgate/dpdk/port.hpp"
#include "meshgate/dpdk/ring_port.hpp"

namespace meshgate::control {

namespace {

int worker_main(void* arg) {
  static_cast<dataplane::Worker*>(arg)->run();
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
  for (const auto& a : addrs) out.push_back(a.subnet());
  return out;
}

}  // namespace

Result<std::unique_ptr<Gateway>> Gateway::create(const std::string& name,
                                                 const config::GatewayConfig& cfg,
                                                 const config::GatewaySettings& settings,
                                                 const GatewayLimits& limits) {
  if (!dataplane::register_mbuf_meta()) return Error{"cannot register the mbuf metadata field"};
  std::unique_ptr<Gateway> gw(new Gateway());
  gw->name_ = name;
  auto inner = dpdk::find_port(settings.inner_port);
  if (!inner) return Error{"InnerPort: " + inner.error()};
  auto outer = dpdk::find_port(settings.outer_port);
  if (!outer) return Error{"OuterPort: " + outer.error()};
  if (*inner == *outer) return Error{"InnerPort and OuterPort name the same DPDK port"};

  const unsigned workers = settings.workers;
  gw->dp_ = std::make_unique<dataplane::Dataplane>(limits.max_peers, workers);
  dataplane::Dataplane& dp = *gw->dp_;
  dp.workers = workers;
  dp.inner_port = *inner;
  dp.outer_port = *outer;
  dp.listen_port.store(cfg.interface.listen_port);
  dp.mtu = static_cast<std::uint16_t>(cfg.interface.mtu);
  dp.idle_backoff = settings.idle_backoff;

  const int socket = rte_eth_dev_socket_id(*outer);
  auto pool = dpdk::make_pool(name + "_pool", limits.mbufs, socket < 0 ? SOCKET_ID_ANY : socket);
  if (!pool) return Error{pool.error()};
  dp.pool = *pool;

  const auto queues = static_cast<std::uint16_t>(workers);
  for (std::uint16_t port : {*inner, *outer}) {
    const dataplane::PortRole role =
        port == *inner ? dataplane::PortRole::inner : dataplane::PortRole::outer;
    // One TX queue per worker and one for the control thread; a port with exactly one too few
    // (AF_XDP on veth) gets the control thread's frames relayed through worker 0.
    rte_eth_dev_info dev{};
    rte_eth_dev_info_get(port, &dev);
    auto tx_queues = static_cast<std::uint16_t>(queues + 1);
    if (dev.max_tx_queues == queues) {
      tx_queues = queues;
      auto relay = rte_ring_create((name + (role == dataplane::PortRole::inner ? "_rin" : "_rout")).c_str(),
                                   1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
      if (relay == nullptr) return Error{"relay ring: " + std::string(rte_strerror(rte_errno))};
      dp.control_tx[static_cast<int>(role)] = relay;
    }
    auto info = dpdk::setup_port({.port_id = port,
                                  .rx_queues = queues,
                                  .tx_queues = tx_queues,
                                  .pool = dp.pool});
    if (!info) return Error{info.error()};
    auto& mac = port == *inner ? dp.addr.inner_mac : dp.addr.outer_mac;
    mac = wire::MacAddr::from(info->mac.data());
    (port == *inner ? dp.inner_rx_queues : dp.outer_rx_queues) = info->rx_queues;
  }
  gw->ports_started_ = true;

  const auto& g = cfg.gateway;
  dp.addr.inner = subnets(g.inner_addresses);
  dp.addr.outer = subnets(g.outer_addresses);
  dp.addr.inner_v4 = first_of(g.inner_addresses, IpAddr::Family::v4);
  dp.addr.inner_v6 = first_of(g.inner_addresses, IpAddr::Family::v6);
  dp.addr.outer_v4 = first_of(g.outer_addresses, IpAddr::Family::v4);
  dp.addr.outer_v6 = first_of(g.outer_addresses, IpAddr::Family::v6);
  if (g.inner_gateway_v4) dp.addr.inner_gateway_v4 = *g.inner_gateway_v4;
  if (g.inner_gateway_v6) dp.addr.inner_gateway_v6 = *g.inner_gateway_v6;
  if (g.outer_gateway_v4) dp.addr.outer_gateway_v4 = *g.outer_gateway_v4;
  if (g.outer_gateway_v6) dp.addr.outer_gateway_v6 = *g.outer_gateway_v6;

  auto ring = dpdk::make_ring(name + "_ctl", 4096);
  if (!ring) return Error{ring.error()};
  dp.to_control = *ring;
  dp.events = rte_ring_create_elem((name + "_ev").c_str(), dataplane::kEventSize, 4096,
                                   SOCKET_ID_ANY, RING_F_SC_DEQ);
  if (dp.events == nullptr) return Error{"event ring: " + std::string(rte_strerror(rte_errno))};

  for (unsigned i = 0; i < workers; ++i) {
    gw->workers_.push_back(std::make_unique<dataplane::Worker>(dp, i));
  }
  gw->control_ = std::make_unique<Control>(dp, queues);
  PeerConfig& ctl = gw->control_->config();
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
    auto id = ctl.add_peer(s, now);
    if (!id) return Error{cfg.source + ":" + std::to_string(p.line) + ": peer: " + id.error()};
  }
  gw->control_->stun().set_servers(cfg.gateway.stun_servers, now);
  return gw;
}

Gateway::~Gateway() {
  if (dp_) dp_->stop.store(true);
  join();
  control_.reset();  // its services point into the servers below
  metrics_server_.reset();
  uapi_.reset();
  uapi_device_.reset();
  workers_.clear();
  if (ports_started_) {
    dpdk::close_port(dp_->inner_port);
    dpdk::close_port(dp_->outer_port);
  }
  if (dp_) {
    rte_ring_free(dp_->to_control);
    rte_ring_free(dp_->events);
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
  lcores_.clear();
}

void Gateway::print_stats(FILE* out) const {
  const MetricsSnapshot snap = metrics();
  for (const LcoreMetrics& l : snap.lcores) {
    std::fprintf(out,
                 "%s: rx inner %llu outer %llu, tx inner %llu outer %llu, sealed %llu, opened %llu, "
                 "to control %llu\n",
                 l.name.c_str(), static_cast<unsigned long long>(l.rx_inner),
                 static_cast<unsigned long long>(l.rx_outer),
                 static_cast<unsigned long long>(l.tx_inner),
                 static_cast<unsigned long long>(l.tx_outer),
                 static_cast<unsigned long long>(l.encrypted),
                 static_cast<unsigned long long>(l.decrypted),
                 static_cast<unsigned long long>(l.to_control));
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
               "echo replies %llu\n",
               static_cast<unsigned long long>(c.initiations_sent),
               static_cast<unsigned long long>(c.initiations_received),
               static_cast<unsigned long long>(c.responses_sent),
               static_cast<unsigned long long>(c.responses_received),
               static_cast<unsigned long long>(c.cookies_sent),
               static_cast<unsigned long long>(c.cookies_received),
               static_cast<unsigned long long>(c.keepalives_sent),
               static_cast<unsigned long long>(c.arp_replies),
               static_cast<unsigned long long>(c.nd_replies),
               static_cast<unsigned long long>(c.echo_replies));
  for (const PeerMetrics& p : snap.peers) {
    std::fprintf(out, "peer %s: endpoint %s, rx %llu bytes %llu packets, tx %llu bytes %llu packets, %llu handshakes\n",
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
