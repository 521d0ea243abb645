// ARP and neighbour discovery on both ports, and frames waiting for a next hop (neighbours.hpp).
#include "meshgate/control/neighbours.hpp"

#include <algorithm>
#include <cstring>

#include "meshgate/control/tunables.hpp"
#include "meshgate/wire/build.hpp"
#include "meshgate/wire/classify.hpp"

namespace meshgate::control {

const IpAddr& own_address(const dataplane::GatewayAddresses& a, PortRole port, bool v6) noexcept {
  if (port == PortRole::inner) return v6 ? a.inner_v6 : a.inner_v4;
  return v6 ? a.outer_v6 : a.outer_v4;
}

namespace {

/// The port a next hop is reached through: the outer one for the outer prefixes and gateway.
PortRole port_for(const dataplane::Dataplane& dp, const IpAddr& ip) {
  for (const Prefix& p : dp.addr.outer) {
    if (p.contains(ip)) return PortRole::outer;
  }
  const IpAddr& gw = ip.is_v6() ? dp.addr.outer_gateway_v6 : dp.addr.outer_gateway_v4;
  return gw == ip ? PortRole::outer : PortRole::inner;
}

const wire::MacAddr& port_mac(const dataplane::Dataplane& dp, PortRole port) {
  return port == PortRole::inner ? dp.addr.inner_mac : dp.addr.outer_mac;
}

void write_dst_mac(rte_mbuf* m, const wire::MacAddr& mac) {
  std::memcpy(rte_pktmbuf_mtod(m, std::uint8_t*), mac.b.data(), 6);
}

}  // namespace

Neighbours::~Neighbours() {
  for (auto& [hop, q] : unresolved_) {
    for (rte_mbuf* m : q) rte_pktmbuf_free(m);
  }
}

void Neighbours::handle(rte_mbuf* m, PortRole port, Nanos now) {
  const auto* f = rte_pktmbuf_mtod(m, const std::uint8_t*);
  const wire::FrameInfo info = wire::classify_frame(f, m->data_len);
  if (!info.ok()) {
    drops_.add(info.drop);
  } else if (info.kind == wire::FrameKind::arp) {
    handle_arp(f, info, port, now);
  } else {
    handle_ndp(f, info, port, now);
  }
  rte_pktmbuf_free(m);
}

void Neighbours::handle_arp(const std::uint8_t* f, const wire::FrameInfo& info, PortRole port,
                            Nanos now) {
  const wire::ArpMessage a = wire::parse_arp(f, info);
  const IpAddr& ours = own_address(dp_.addr, port, false);
  if (a.spa.family == IpAddr::Family::none || a.spa == ours) return;
  const bool to_us = a.op == wire::spec::kArpOpRequest && a.tpa == ours;
  take(a.spa, a.sha, a.op == wire::spec::kArpOpReply, to_us, port, now);
  if (!to_us) return;
  std::uint8_t out[128];
  reply(out, wire::build_arp_reply(out, port_mac(dp_, port), ours, a.sha, a.spa), port);
  ++stats_.arp_replies;
}

void Neighbours::handle_ndp(const std::uint8_t* f, const wire::FrameInfo& info, PortRole port,
                            Nanos now) {
  const auto nd = wire::parse_ndp(f, info);
  if (!nd) return;
  if (nd->type == wire::spec::kNdpNeighbourAdvert) {
    if (nd->lla) take(nd->target, *nd->lla, /*reply=*/true, false, port, now);
    return;
  }
  if (nd->type != wire::spec::kNdpNeighbourSolicit) return;
  // Duplicate address detection comes from the unspecified address: nothing to learn or answer.
  const bool from_unspecified = std::all_of(nd->src.bytes.begin(), nd->src.bytes.end(),
                                            [](std::uint8_t b) { return b == 0; });
  if (!nd->lla || from_unspecified) return;
  const IpAddr& ours = own_address(dp_.addr, port, true);
  const bool to_us = nd->target == ours;
  take(nd->src, *nd->lla, /*reply=*/false, to_us, port, now);
  if (!to_us) return;
  std::uint8_t out[128];
  reply(out,
        wire::build_neighbour_advertisement(out, port_mac(dp_, port), ours, *nd->lla, nd->src, ours,
                                            wire::NaFlags{}),
        port);
  ++stats_.nd_replies;
}

void Neighbours::take(const IpAddr& ip, const wire::MacAddr& mac, bool reply, bool to_us,
                      PortRole port, Nanos now) {
  // Only what the gateway asked for (an entry exists: wanted, or known) or, for the sender of a
  // request addressed to the gateway, a new stale entry within its segment's share (neighbour.hpp).
  const bool known = dp_.neighbours.state(ip).has_value();
  Status st = Error{"not asked for"};
  if (reply && known) {
    st = dp_.neighbours.confirm(ip, mac, now);
  } else if (!reply && (known || to_us)) {
    st = dp_.neighbours.learn(ip, mac, now, static_cast<unsigned>(port));
  }
  if (st) {
    learnt(ip, mac, now);
    return;
  }
  // A request between two other hosts is none of the gateway's business; a reply it did not ask
  // for, or news it has no room for, is a refusal worth an operator's attention.
  if (!reply && !to_us) return;
  ++stats_.refused;
  log_.drop("neighbour_refused", ip.str() + " at " + mac.str() + " from the " +
                                     (port == PortRole::inner ? "inner" : "outer") +
                                     " port: " + st.error());
}

void Neighbours::reply(const std::uint8_t* frame, std::size_t len, PortRole port) {
  rte_mbuf* r = rte_pktmbuf_alloc(dp_.pool);
  if (r == nullptr) {
    not_sent("an ARP or neighbour discovery answer");
    return;
  }
  std::memcpy(rte_pktmbuf_append(r, static_cast<std::uint16_t>(len)), frame, len);
  tx_.queue(r, port);
}

void Neighbours::announce() {
  static constexpr std::uint8_t kAllNodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0,
                                                 0,    0,    0, 0, 0, 0, 0, 1};
  const IpAddr all_nodes = IpAddr::v6_bytes(kAllNodes);
  for (PortRole port : {PortRole::inner, PortRole::outer}) {
    const wire::MacAddr& mac = port_mac(dp_, port);
    std::uint8_t out[128];
    if (const IpAddr& v4 = own_address(dp_.addr, port, false); v4.is_v4()) {
      // Sender and target both our address: RFC 5227's announcement, which peers that hold an
      // entry for the address update without being asked.
      reply(out, wire::build_arp_request(out, mac, v4, v4), port);
      ++stats_.announcements;
    }
    if (const IpAddr& v6 = own_address(dp_.addr, port, true); v6.is_v6()) {
      reply(out,
            wire::build_neighbour_advertisement(out, mac, v6,
                                                wire::MacAddr::ipv6_multicast(kAllNodes), all_nodes,
                                                v6, {.solicited = false, .override_entry = true}),
            port);
      ++stats_.announcements;
    }
  }
}

void Neighbours::learnt(const IpAddr& ip, const wire::MacAddr& mac, Nanos now) {
  if (auto it = unresolved_.find(key(ip)); it != unresolved_.end()) {
    for (rte_mbuf* m : it->second) {
      write_dst_mac(m, mac);
      tx_.queue(m, dataplane::meta(m).port);
    }
    unresolved_.erase(it);
  }
  if (learnt_) learnt_(ip, now);
}

void Neighbours::not_sent(const char* what) {
  ++stats_.not_sent;
  log_.drop("neighbour_not_sent", std::string(what) + " not sent: the mbuf pool is empty");
}

void Neighbours::probe(const IpAddr& ip) {
  const PortRole port = port_for(dp_, ip);
  const IpAddr& src = own_address(dp_.addr, port, ip.is_v6());
  if (src.family == IpAddr::Family::none) return;
  rte_mbuf* m = rte_pktmbuf_alloc(dp_.pool);
  if (m == nullptr) {
    not_sent("a probe for a next hop");
    return;
  }
  auto* buf = rte_pktmbuf_mtod(m, std::uint8_t*);
  const wire::MacAddr& mac = port_mac(dp_, port);
  const std::size_t len = ip.is_v6() ? wire::build_neighbour_solicitation(buf, mac, src, ip)
                                     : wire::build_arp_request(buf, mac, src, ip);
  rte_pktmbuf_append(m, static_cast<std::uint16_t>(len));
  tx_.queue(m, port);
}

std::optional<wire::MacAddr> Neighbours::lookup_or_probe(const IpAddr& next_hop, Nanos now) {
  if (auto mac = dp_.neighbours.lookup(next_hop)) return mac;
  // A standby asks nothing and marks nothing as asked: once active, its first frame for the
  // next hop probes at once instead of waiting out a retry interval.
  if (dp_.standby.load(std::memory_order_relaxed)) return std::nullopt;
  auto want = dp_.neighbours.want(next_hop, now);
  if (want && *want) probe(next_hop);
  return std::nullopt;
}

void Neighbours::send(rte_mbuf* m, PortRole port, const IpAddr& next_hop, Nanos now) {
  dataplane::MbufMeta& mm = dataplane::meta(m);
  mm.port = port;
  mm.endpoint = {next_hop, 0};
  resolve(m, now);
}

void Neighbours::resolve(rte_mbuf* m, Nanos now) {
  const dataplane::MbufMeta& mm = dataplane::meta(m);
  if (auto mac = lookup_or_probe(mm.endpoint.addr, now)) {  // resolved since the worker looked
    write_dst_mac(m, *mac);
    tx_.queue(m, mm.port);
    return;
  }
  auto& q = unresolved_[key(mm.endpoint.addr)];
  if (q.size() >= impl::kMaxUnresolved) {
    rte_pktmbuf_free(q.front());
    q.pop_front();
    drops_.add(dataplane::Drop::neighbour_unresolved);
  }
  q.push_back(m);
}

void Neighbours::tick(Nanos now) {
  for (const dataplane::NeighbourProbe& p : dp_.neighbours.tick(now)) probe(p.ip);
  for (auto it = unresolved_.begin(); it != unresolved_.end();) {
    IpAddr ip;
    ip.family = static_cast<IpAddr::Family>(it->first.first);
    ip.bytes = it->first.second;
    auto st = dp_.neighbours.state(ip);
    if (!st || *st == dataplane::NeighState::failed) {
      drops_.add(dataplane::Drop::neighbour_unresolved, it->second.size());
      for (rte_mbuf* m : it->second) rte_pktmbuf_free(m);
      it = unresolved_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace meshgate::control
