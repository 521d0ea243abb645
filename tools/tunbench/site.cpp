#include "site.hpp"

#include <rte_errno.h>

#include <atomic>
#include <bit>
#include <string>

#include "meshgate/base/bytes.hpp"
#include "meshgate/config/gateway_config.hpp"
#include "meshgate/control/gateway.hpp"
#include "meshgate/control/tunables.hpp"
#include "meshgate/crypto/random.hpp"
#include "meshgate/crypto/x25519.hpp"
#include "meshgate/dpdk/port.hpp"
#include "meshgate/dpdk/ring_port.hpp"
#include "meshgate/noise/session_keys.hpp"

namespace tunbench {

using namespace meshgate;

namespace {

Result<rte_ring*> private_ring(const std::string& name, unsigned size) {
  // One producer (a worker's TX queue) and one consumer (the same worker's harness).
  rte_ring* r = rte_ring_create(name.c_str(), size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (r == nullptr) return Error{"ring " + name + ": " + rte_strerror(rte_errno)};
  return r;
}

}  // namespace

std::uint32_t peer_net(PeerId p) {
  return kPeerNetBase + (p << 8);
}
std::uint32_t peer_host(PeerId p) {
  return 0x64400000u + ((p * 0x9E3779B1u) & 0x3FFFFFu);  // 100.64.0.0/10
}
std::array<std::uint8_t, 16> peer_net6(PeerId p) {
  std::array<std::uint8_t, 16> a{0x20, 0x01, 0x0d, 0xb8};  // 2001:db8::/32
  store_be32(a.data() + 4, p * 0x2545F491u);
  return a;
}
Endpoint peer_endpoint(PeerId p) {
  if (p % 4 == 0) {  // on the outer /24: 198.51.100.10 + n, n < kOnLinkEndpoints
    const std::uint32_t n = p / 4 % kOnLinkEndpoints;
    return {IpAddr::v4(0xC633640A + n),
            static_cast<std::uint16_t>(51820 + p / 4 / kOnLinkEndpoints % 1000)};
  }
  return {IpAddr::v4(0xAC100000u + ((p * 0x9E3779B1u) & 0xFFFFFu)),  // 172.16.0.0/12
          static_cast<std::uint16_t>(1024 + p % 60000)};
}
wire::MacAddr endpoint_next_hop_mac(PeerId p) {
  if (p % 4 != 0) return kRouterMac;
  const std::uint32_t n = p / 4 % kOnLinkEndpoints;
  return wire::MacAddr{{0x02, 0x00, 0x00, 0x00, static_cast<std::uint8_t>(1 + n / 256),
                        static_cast<std::uint8_t>(n % 256)}};
}
IpAddr outer_address() {
  return IpAddr::v4(0xC6336402);
}  // 198.51.100.2
IpAddr inner_address() {
  return IpAddr::v4(0xC0A84D01);
}  // 192.168.77.1
IpAddr outer_router() {
  return IpAddr::v4(0xC63364FE);
}  // 198.51.100.254

Result<Ports> Ports::create(unsigned workers, unsigned in_flight, std::uint16_t mtu,
                            unsigned extra) {
  Ports ports;
  const unsigned ring_size = std::bit_ceil(std::max(2 * in_flight, 1024u));
  for (int side = 0; side < 2; ++side) {
    const std::string tag = side == 0 ? "tbin" : "tbout";
    std::vector<rte_ring*> rx, tx;
    for (unsigned q = 0; q < workers; ++q) {
      // One producer (gateway mode's feeder), one consumer (the worker); stage mode leaves
      // them empty.
      auto r = private_ring(tag + "r" + std::to_string(q), ring_size);
      if (!r) return Error{r.error()};
      rx.push_back(*r);
    }
    for (unsigned q = 0; q <= workers; ++q) {  // the last TX queue is the control thread's
      auto r = private_ring(tag + "t" + std::to_string(q), ring_size);
      if (!r) return Error{r.error()};
      tx.push_back(*r);
    }
    auto port = dpdk::make_ring_port(tag, rx, tx);
    if (!port) return Error{port.error()};
    (side == 0 ? ports.inner : ports.outer) = *port;
    (side == 0 ? ports.inner_tx : ports.outer_tx) = tx;
    (side == 0 ? ports.inner_rx : ports.outer_rx) = rx;
  }
  auto pool = dpdk::make_pool("tb_pool", workers * in_flight + 1024 + extra, SOCKET_ID_ANY,
                              control::port_mtu(dataplane::PortRole::outer, mtu));
  if (!pool) return Error{pool.error()};
  ports.pool = *pool;
  for (std::uint16_t port : {ports.inner, ports.outer}) {
    auto info = dpdk::setup_port(
        {.port_id = port,
         .rx_queues = static_cast<std::uint16_t>(workers),
         .tx_queues = static_cast<std::uint16_t>(workers + 1),
         .pool = ports.pool,
         .mtu = control::port_mtu(
             port == ports.inner ? dataplane::PortRole::inner : dataplane::PortRole::outer, mtu)});
    if (!info) return Error{info.error()};
    (port == ports.inner ? ports.inner_mac : ports.outer_mac) =
        wire::MacAddr::from(info->mac.data());
  }
  return ports;
}

namespace {

/// The ports, the test network's addresses and the MACs, as the gateway sets them up; with
/// `gateway_tables`, an IPv6 LAN prefix, address and next hop as well.
void set_ports_and_addresses(dataplane::Dataplane& dp, const Ports& ports, unsigned workers,
                             bool gateway_tables) {
  dp.inner_port = ports.inner;
  dp.outer_port = ports.outer;
  dp.inner_rx_queues = dp.outer_rx_queues = static_cast<std::uint16_t>(workers);
  dp.listen_port = kListenPort;
  dp.mtu = config::kDefaultMtu;  // run_case() sets each case's
  dp.pool = ports.pool;
  dp.addr.inner_mac = ports.inner_mac;
  dp.addr.outer_mac = ports.outer_mac;
  dp.addr.inner = {*Prefix::parse("192.168.77.0/24")};
  dp.addr.inner_v4 = inner_address();
  dp.addr.inner_gateway_v4 =
      IpAddr::v4(0xC0A84DFE);  // 192.168.77.254: the next hop for peers' nets
  dp.addr.outer = {*Prefix::parse("198.51.100.0/24")};
  dp.addr.outer_v4 = outer_address();
  dp.addr.outer_gateway_v4 = outer_router();
  if (gateway_tables) {
    dp.addr.inner.push_back(*Prefix::parse("fd00:77::/64"));
    dp.addr.inner_v6 = *IpAddr::parse("fd00:77::1");
    dp.addr.inner_gateway_v6 = *IpAddr::parse("fd00:77::fe");
  }
}

/// The two next hops, reachable as of `now`.
Status confirm_next_hops(dataplane::Dataplane& dp, Nanos now) {
  // The LAN next hop is the gateway itself, so decrypted frames come back in on the LAN port.
  for (const IpAddr& hop : {dp.addr.inner_gateway_v4, dp.addr.inner_gateway_v6}) {
    if (hop.family == IpAddr::Family::none) continue;
    if (auto st = dp.neighbours.confirm(hop, dp.addr.inner_mac, now); !st) {
      return Error{"neighbour: " + st.error()};
    }
  }
  return dp.neighbours.confirm(dp.addr.outer_gateway_v4, kRouterMac, now);
}

/// Peer p's keypair in slot `idx`: the receiver's key and index when this is the sender, else
/// a random key.
noise::SessionKeys make_keypair(PeerId p, std::uint32_t idx, const Site* receiver, Nanos now) {
  noise::SessionKeys kp;
  if (receiver != nullptr) {  // send what the receiver opens, naming its index
    kp.send = receiver->key(p);
    kp.remote_index = receiver->index(p);
  } else {
    crypto::random_bytes(kp.send.data(), kp.send.size());
    kp.remote_index = idx;
  }
  kp.recv = kp.send;
  kp.local_index = idx;
  kp.birth = now;
  kp.initiator = false;  // no age-based rekey requests during a run
  return kp;
}

}  // namespace

Result<std::unique_ptr<Site>> Site::create(const Ports& ports, const SiteSpec& spec) {
  static int serial = 0;
  const std::string tag = "tbsite" + std::to_string(serial++);
  if (!dataplane::register_mbuf_meta()) return Error{"cannot register the mbuf metadata field"};
  std::unique_ptr<Site> s(new Site());
  const unsigned workers = spec.workers;
  s->dp_ = std::make_unique<dataplane::Dataplane>(spec.peers, workers);
  dataplane::Dataplane& dp = *s->dp_;
  dp.spread = spec.spread;  // before the workers are made: each takes its lane then
  set_ports_and_addresses(dp, ports, workers, spec.gateway_tables);
  if (auto st = control::make_control_rings(dp, tag); !st) return Error{st.error()};

  const Nanos now = monotonic_now();
  if (auto st = confirm_next_hops(dp, now); !st) return Error{st.error()};
  if (spec.relayed) dp.turn_server = {outer_address(), kListenPort};
  s->peers_ = spec.peers;
  if (!spec.live) {
    if (auto st = s->add_peers(spec, now); !st) return Error{st.error()};
  }
  for (unsigned i = 0; i < workers; ++i) {
    s->workers_.push_back(std::make_unique<dataplane::Worker>(dp, i));
    dp.rcu.reader_register(i);
  }
  if (spec.with_control) {
    // As the gateway makes it: the TX queue after the workers' is the control thread's.
    s->control_ = std::make_unique<control::Control>(dp, static_cast<std::uint16_t>(workers));
    const SecretKey key = crypto::x25519_generate();
    s->control_->config().set_private_key(key);
    s->public_key_ = crypto::x25519_public(key);
  }
  return s;
}

Status Site::add_peers(const SiteSpec& spec, Nanos now) {
  dataplane::Dataplane& dp = *dp_;
  const unsigned peers = spec.peers;
  const bool relayed = spec.relayed;
  const Site* receiver = spec.receiver;
  keys_.resize(peers);
  indices_.resize(peers);
  routes_.reserve(peers);
  for (PeerId p = 0; p < peers; ++p) {
    auto idx = dp.keypairs.reserve();
    if (!idx) return Error{"keypair pool full at peer " + std::to_string(p)};
    const noise::SessionKeys kp = make_keypair(p, *idx, receiver, now);
    // The peer's endpoint: of its own in gateway mode, else the common outer address (relayed:
    // the TURN server's, on the peer's channel).
    const Endpoint self =
        spec.gateway_tables
            ? peer_endpoint(p)
            : Endpoint{outer_address(), kListenPort, relayed ? relay_channel(p) : std::uint16_t{0}};
    keys_[p] = kp.send;
    indices_[p] = *idx;
    dp.keypairs.slot(*idx).endpoint_tag.store(
        dataplane::endpoint_tag(self));  // as the control thread does
    dp.keypairs.publish(*idx, kp, p);
    dp.keypairs.slot(*idx).used.store(true);  // confirmed: no keypair_used event
    auto route = std::make_unique<dataplane::PeerRoute>(dataplane::PeerRoute{
        .outer = dataplane::outer_template(
            dp, self, spec.gateway_tables ? endpoint_next_hop_mac(p) : dp.addr.outer_mac),
        .endpoint = self});
    dataplane::Peer& pr = dp.peers[p];
    pr.route.store(route.get(), std::memory_order_release);
    pr.current.store(*idx, std::memory_order_release);
    pr.active.store(true, std::memory_order_release);
    routes_.push_back(std::move(route));
    if (auto st = add_prefixes(p, spec.gateway_tables); !st) return st;
  }
  return ok_status();
}

namespace {

/// Peer p's prefixes: its /24, and in gateway mode its scattered /32 and IPv6 /64 too.
std::vector<Prefix> peer_prefixes(PeerId p, bool gateway_tables) {
  std::vector<Prefix> prefixes{Prefix{IpAddr::v4(peer_net(p)), 24}};
  if (gateway_tables) {
    prefixes.push_back(Prefix{IpAddr::v4(peer_host(p)), 32});
    prefixes.push_back(Prefix{IpAddr::v6_bytes(peer_net6(p).data()), 64});
  }
  return prefixes;
}

}  // namespace

Status Site::configure_peers(const std::vector<Key32>& keys) {
  if (control_ == nullptr) return Error{"a live site needs its control thread"};
  const Nanos now = monotonic_now();
  for (PeerId p = 0; p < keys.size(); ++p) {
    // The endpoints on the outer /24 are next hops of their own, known here as a router's
    // would be; the rest are behind the router, confirmed with the site.
    if (p < 4 * kOnLinkEndpoints && p % 4 == 0) {
      if (auto st = dp_->neighbours.confirm(peer_endpoint(p).addr, endpoint_next_hop_mac(p), now);
          !st) {
        return Error{"neighbour: " + st.error()};
      }
    }
    control::PeerSettings s{
        .public_key = keys[p], .endpoint = peer_endpoint(p), .allowed_ips = peer_prefixes(p, true)};
    auto id = control_->config().add_peer(s, now);
    if (!id) return Error{"peer " + std::to_string(p) + ": " + id.error()};
    if (*id != p) return Error{"peer " + std::to_string(p) + " became " + std::to_string(*id)};
  }
  return ok_status();
}

Status Site::add_prefixes(PeerId p, bool gateway_tables) {
  for (const Prefix& prefix : peer_prefixes(p, gateway_tables)) {
    if (auto st = dp_->allowed.insert(prefix, p); !st) return Error{"allowed IPs: " + st.error()};
  }
  return ok_status();
}

Site::~Site() {
  if (!dp_) return;
  for (unsigned i = 0; i < workers_.size(); ++i) dp_->rcu.reader_offline(i);
  workers_.clear();
  control_.reset();  // its RCU grace period needs the readers offline
  drain_control();
  for (PeerId p = 0; p < peers(); ++p) dp_->peers[p].route.store(nullptr);
  control::free_control_rings(*dp_);
}

Status Site::rotate(PeerId p, Nanos now) {
  const std::lock_guard<std::mutex> hold(rotate_lock_);
  dataplane::KeypairTable& table = dp_->keypairs;
  auto idx = table.reserve();
  if (!idx) return Error{"keypair pool full at a rekey of peer " + std::to_string(p)};
  const dataplane::Keypair& cur = table.slot(indices_[p]);
  noise::SessionKeys kp;
  kp.send = keys_[p];
  kp.recv = keys_[p];
  kp.remote_index = cur.remote_index;
  kp.local_index = *idx;
  kp.birth = now;
  kp.initiator = false;
  table.slot(*idx).endpoint_tag.store(cur.endpoint_tag.load());
  table.publish(*idx, kp, p);
  table.slot(*idx).used.store(true);  // confirmed: no keypair_used event
  dp_->peers[p].current.store(*idx, std::memory_order_release);
  previous_.resize(indices_.size(), 0);
  const std::uint32_t retired = previous_[p];
  previous_[p] = indices_[p];
  indices_[p] = *idx;
  if (retired != 0) {
    table.unpublish(retired);
    retired_.push_back(retired);
  }
  // The table holds kKeypairsPerPeer a peer: current, previous and one retired fit; a batch of
  // at most one a peer is freed before any peer's next rekey.
  if (retired_.size() >= std::min<std::size_t>(256, keys_.size())) free_retired();
  return ok_status();
}

void Site::reclaim() {
  const std::lock_guard<std::mutex> hold(rotate_lock_);
  free_retired();
}

void Site::free_retired() {
  if (retired_.empty()) return;
  dp_->rcu.synchronize();  // no worker still holds one of them
  for (std::uint32_t idx : retired_) dp_->keypairs.free(idx);
  retired_.clear();
}

void Site::renew(Nanos now) {
  for (std::uint32_t idx : indices_) dp_->keypairs.slot(idx).set_birth(now);
  (void)confirm_next_hops(*dp_, now);  // Site::create confirmed them once: cannot fail now
}

unsigned Site::drain_control() {
  unsigned n = 0;
  void* m = nullptr;
  for (rte_ring* r : {dp_->to_control, dp_->handshakes}) {
    while (rte_ring_dequeue(r, &m) == 0) {
      rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
      ++n;
    }
  }
  alignas(8) std::uint8_t ev[dataplane::kEventSize];
  while (rte_ring_dequeue_elem(dp_->events, ev, dataplane::kEventSize) == 0) ++n;
  return n;
}

}  // namespace tunbench
