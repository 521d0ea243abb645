#include "meshgate/dataplane/dataplane.hpp"

#include <rte_mbuf_dyn.h>
#include <rte_ring.h>

#include <algorithm>
#include <cstring>

#include "meshgate/dataplane/tunables.hpp"

namespace meshgate::dataplane {

int g_meta_offset = -1;

bool register_mbuf_meta() {
  if (g_meta_offset >= 0) return true;
  rte_mbuf_dynfield desc{};
  std::strncpy(desc.name, "meshgate_meta", sizeof desc.name - 1);
  desc.size = sizeof(MbufMeta);
  desc.align = alignof(MbufMeta);
  g_meta_offset = rte_mbuf_dynfield_register(&desc);
  return g_meta_offset >= 0;
}

Dataplane::Dataplane(std::uint32_t max_peers, unsigned n_workers)
    : workers(n_workers),
      peers(max_peers),
      keypairs(max_peers * impl::kKeypairsPerPeer + impl::kSpareKeypairs),
      neighbours(NeighbourConfig{}),
      rcu(n_workers == 0 ? 1 : n_workers) {
  for (unsigned w = 0; w <= n_workers; ++w) {
    activity_.push_back(std::make_unique<HugeArray<PeerActivity>>(max_peers));
  }
  if (n_workers > 1) lanes = std::make_unique<SpreadLane[]>(n_workers);
}

bool post_event(Dataplane& dp, const Event& e, DropCounters& drops) noexcept {
  if (rte_ring_mp_enqueue_elem(dp.events, const_cast<Event*>(&e), kEventSize) != 0) {
    drops.add(Drop::control_ring_full);
    return false;
  }
  return true;
}

wire::OuterTemplate outer_template(const Dataplane& dp, const Endpoint& to,
                                   const wire::MacAddr& dst_mac) noexcept {
  const IpAddr& src = to.addr.is_v6() ? dp.addr.outer_v6 : dp.addr.outer_v4;
  return wire::OuterTemplate::make(dp.addr.outer_mac, dst_mac, src, to.addr,
                                   dp.listen_port.load(std::memory_order_relaxed), to.port,
                                   to.channel);
}

PeerTotals Dataplane::peer_totals(PeerId peer) const noexcept {
  PeerTotals t;
  for (const auto& rows : activity_) {
    const PeerActivity& a = (*rows)[peer];
    t.rx_bytes += a.rx_bytes.load(std::memory_order_relaxed);
    t.tx_bytes += a.tx_bytes.load(std::memory_order_relaxed);
    t.rx_packets += a.rx_packets.load(std::memory_order_relaxed);
    t.tx_packets += a.tx_packets.load(std::memory_order_relaxed);
    t.last_rx_auth = std::max(t.last_rx_auth, a.last_rx_auth.load(std::memory_order_relaxed));
    t.last_rx_data = std::max(t.last_rx_data, a.last_rx_data.load(std::memory_order_relaxed));
    t.last_tx_data = std::max(t.last_tx_data, a.last_tx_data.load(std::memory_order_relaxed));
  }
  return t;
}

void Dataplane::reset_activity(PeerId peer) noexcept {
  for (auto& rows : activity_) {
    PeerActivity& a = (*rows)[peer];
    for (auto* c : {&a.rx_bytes, &a.tx_bytes, &a.rx_packets, &a.tx_packets}) c->store(0);
    for (auto* t : {&a.last_rx_auth, &a.last_rx_data, &a.last_tx_data}) t->store(0);
  }
}

namespace {

bool on_link(const std::vector<Prefix>& prefixes, const IpAddr& a) noexcept {
  for (const Prefix& p : prefixes) {
    if (p.contains(a)) return true;
  }
  return false;
}

}  // namespace

IpAddr Dataplane::inner_next_hop(const IpAddr& dst) const noexcept {
  if (on_link(addr.inner, dst)) return dst;
  return dst.is_v6() ? addr.inner_gateway_v6 : addr.inner_gateway_v4;
}

IpAddr Dataplane::outer_next_hop(const IpAddr& dst) const noexcept {
  const IpAddr& gw = dst.is_v6() ? addr.outer_gateway_v6 : addr.outer_gateway_v4;
  if (on_link(addr.outer, dst) || gw.family == IpAddr::Family::none) return dst;
  return gw;
}

}  // namespace meshgate::dataplane
