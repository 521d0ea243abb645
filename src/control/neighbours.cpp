// ARP and IPv6 neighbour discovery on both ports, frames waiting for a next hop's MAC, peer
// routes, ICMP echo for the gateway's own addresses. No kernel stack stands behind the ports,
// so the gateway answers for its addresses and resolves its next hops itself.
#include <rte_config.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

#include "meshgate/control/control.hpp"
#include "meshgate/crypto/random.hpp"
#include "meshgate/wire/build.hpp"
#include "meshgate/wire/checksum.hpp"
#include "meshgate/wire/classify.hpp"
#include "peer_state.hpp"

namespace meshgate::control {

using dataplane::PortRole;

namespace {

/// Frames kept per unresolved next hop (Linux keeps 3 by default; a burst needs a few more).
constexpr std::size_t kMaxUnresolved = 16;
/// DSCP AF41 on handshake packets, as the kernel sends them.
constexpr std::uint8_t kHandshakeTos = 0x88;

auto hop_key(const IpAddr& ip) {
  return std::make_pair(static_cast<int>(ip.family), ip.bytes);
}

}  // namespace

/// The gateway's own address of `ip`'s family on a port.
static const IpAddr& own_address(const dataplane::GatewayAddresses& a, PortRole port, bool v6) {
  if (port == PortRole::inner) return v6 ? a.inner_v6 : a.inner_v4;
  return v6 ? a.outer_v6 : a.outer_v4;
}

static PortRole port_for(const dataplane::Dataplane& dp, const IpAddr& ip) {
  for (const Prefix& p : dp.addr.outer) {
    if (p.contains(ip)) return PortRole::outer;
  }
  const IpAddr& gw = ip.is_v6() ? dp.addr.outer_gateway_v6 : dp.addr.outer_gateway_v4;
  return gw == ip ? PortRole::outer : PortRole::inner;
}

void Control::probe(const IpAddr& ip) {
  const PortRole port = port_for(dp_, ip);
  const IpAddr& src = own_address(dp_.addr, port, ip.is_v6());
  if (src.family == IpAddr::Family::none) return;
  rte_mbuf* m = rte_pktmbuf_alloc(dp_.pool);
  if (m == nullptr) return;
  const wire::MacAddr& mac = port == PortRole::inner ? dp_.addr.inner_mac : dp_.addr.outer_mac;
  auto* buf = rte_pktmbuf_mtod(m, std::uint8_t*);
  const std::size_t len = ip.is_v6() ? wire::build_neighbour_solicitation(buf, mac, src, ip)
                                     : wire::build_arp_request(buf, mac, src, ip);
  rte_pktmbuf_append(m, static_cast<std::uint16_t>(len));
  tx_.queue_tx(m, port);
}

void Control::handle_neighbour(rte_mbuf* m, PortRole port, Nanos now) {
  const auto* f = rte_pktmbuf_mtod(m, const std::uint8_t*);
  const wire::FrameInfo info = wire::classify_frame(f, m->data_len);
  if (!info.ok()) return;
  const wire::MacAddr& our_mac = port == PortRole::inner ? dp_.addr.inner_mac : dp_.addr.outer_mac;
  std::uint8_t out[128];
  if (info.kind == wire::FrameKind::arp) {
    const wire::ArpMessage a = wire::parse_arp(f, info);
    const IpAddr& ours = own_address(dp_.addr, port, false);
    if (a.spa.family == IpAddr::Family::none || a.spa == ours) return;
    if (a.op == wire::spec::kArpOpReply) {
      (void)dp_.neighbours.confirm(a.spa, a.sha, now);
    } else {
      (void)dp_.neighbours.learn(a.spa, a.sha, now);
    }
    neighbour_learnt(a.spa, a.sha, now);
    if (a.op == wire::spec::kArpOpRequest && a.tpa == ours) {
      if (rte_mbuf* r = rte_pktmbuf_alloc(dp_.pool)) {
        const std::size_t len = wire::build_arp_reply(out, our_mac, ours, a.sha, a.spa);
        std::memcpy(rte_pktmbuf_append(r, static_cast<std::uint16_t>(len)), out, len);
        tx_.queue_tx(r, port);
        ++stats_.arp_replies;
      }
    }
    return;
  }
  const auto nd = wire::parse_ndp(f, info);
  if (!nd) return;
  const IpAddr& ours = own_address(dp_.addr, port, true);
  if (nd->type == wire::spec::kNdpNeighbourAdvert) {
    if (nd->lla) {
      (void)dp_.neighbours.confirm(nd->target, *nd->lla, now);
      neighbour_learnt(nd->target, *nd->lla, now);
    }
    return;
  }
  if (nd->type != wire::spec::kNdpNeighbourSolicit) return;
  const bool from_unspecified = std::all_of(nd->src.bytes.begin(), nd->src.bytes.end(),
                                            [](std::uint8_t b) { return b == 0; });
  if (nd->lla && !from_unspecified) {
    (void)dp_.neighbours.learn(nd->src, *nd->lla, now);
    neighbour_learnt(nd->src, *nd->lla, now);
  }
  if (nd->target == ours && nd->lla && !from_unspecified) {
    if (rte_mbuf* r = rte_pktmbuf_alloc(dp_.pool)) {
      const std::size_t len = wire::build_neighbour_advertisement(out, our_mac, ours, *nd->lla,
                                                                  nd->src, ours, wire::NaFlags{});
      std::memcpy(rte_pktmbuf_append(r, static_cast<std::uint16_t>(len)), out, len);
      tx_.queue_tx(r, port);
      ++stats_.nd_replies;
    }
  }
}

void Control::neighbour_learnt(const IpAddr& ip, const wire::MacAddr& mac, Nanos now) {
  if (auto it = unresolved_.find(hop_key(ip)); it != unresolved_.end()) {
    for (rte_mbuf* m : it->second) {
      std::memcpy(rte_pktmbuf_mtod(m, std::uint8_t*), mac.b.data(), 6);
      tx_.queue_tx(m, dataplane::meta(m).port);
    }
    unresolved_.erase(it);
  }
  // Peers whose route waits for this next hop, or whose next hop moved to a new MAC.
  for (PeerId id = 0; id < peers_.size(); ++id) {
    if (!peers_[id] || !peers_[id]->settings.endpoint.known()) continue;
    if (dp_.outer_next_hop(peers_[id]->settings.endpoint.addr) == ip) update_route(id, now);
  }
}

void Control::handle_resolve(rte_mbuf* m, Nanos now) {
  const dataplane::MbufMeta& mm = dataplane::meta(m);
  if (auto mac = dp_.neighbours.lookup(mm.next_hop)) {  // resolved since the worker looked
    std::memcpy(rte_pktmbuf_mtod(m, std::uint8_t*), mac->b.data(), 6);
    tx_.queue_tx(m, mm.port);
    return;
  }
  auto want = dp_.neighbours.want(mm.next_hop, now);
  if (want && *want) probe(mm.next_hop);
  auto& q = unresolved_[hop_key(mm.next_hop)];
  if (q.size() >= kMaxUnresolved) {
    rte_pktmbuf_free(q.front());
    q.pop_front();
    tx_.drops().add(dataplane::Drop::neighbour_unresolved);
  }
  q.push_back(m);
}

void Control::neighbour_tick(Nanos now) {
  for (const dataplane::NeighbourProbe& p : dp_.neighbours.tick(now)) probe(p.ip);
  // Frames whose next hop failed to resolve are dropped.
  for (auto it = unresolved_.begin(); it != unresolved_.end();) {
    IpAddr ip;
    ip.family = static_cast<IpAddr::Family>(it->first.first);
    ip.bytes = it->first.second;
    auto st = dp_.neighbours.state(ip);
    if (!st || *st == dataplane::NeighState::failed) {
      tx_.drops().add(dataplane::Drop::neighbour_unresolved, it->second.size());
      for (rte_mbuf* m : it->second) rte_pktmbuf_free(m);
      it = unresolved_.erase(it);
    } else {
      ++it;
    }
  }
}

void Control::update_route(PeerId peer, Nanos now, bool rebuild) {
  PeerState& ps = *peers_[peer];
  const Endpoint& ep = ps.settings.endpoint;
  if (!ep.known()) return;
  const IpAddr& src = ep.addr.is_v6() ? dp_.addr.outer_v6 : dp_.addr.outer_v4;
  if (src.family == IpAddr::Family::none) return;  // no outer address of that family
  const IpAddr hop = dp_.outer_next_hop(ep.addr);
  auto mac = dp_.neighbours.lookup(hop);
  if (!mac) {
    auto want = dp_.neighbours.want(hop, now);
    if (want && *want) probe(hop);
    return;  // neighbour_learnt() comes back here
  }
  dataplane::Peer& pr = dp_.peers[peer];
  const dataplane::PeerRoute* cur = pr.route.load(std::memory_order_relaxed);
  if (!rebuild && cur != nullptr && cur->endpoint == ep &&
      std::memcmp(cur->outer.bytes.data(), mac->b.data(), 6) == 0) {
    return;
  }
  auto* r =
      new dataplane::PeerRoute{.outer = wire::OuterTemplate::make(dp_.addr.outer_mac, *mac, src,
                                                                  ep.addr, listen_port(), ep.port),
                               .endpoint = ep};
  if (!r->outer.valid()) {
    delete r;
    return;
  }
  if (const dataplane::PeerRoute* old = pr.route.exchange(r, std::memory_order_acq_rel)) {
    dp_.rcu.defer([old] { delete old; });
  }
  ps.route = r;
  tag_keypairs(peer);
  flush_staged(peer, now);
}

void Control::send_udp(const Endpoint& to, const std::uint8_t* payload, std::size_t len,
                       Nanos now) {
  const IpAddr& src = to.addr.is_v6() ? dp_.addr.outer_v6 : dp_.addr.outer_v4;
  if (src.family == IpAddr::Family::none) return;
  const IpAddr hop = dp_.outer_next_hop(to.addr);
  const auto mac = dp_.neighbours.lookup(hop);
  const wire::OuterTemplate t = wire::OuterTemplate::make(
      dp_.addr.outer_mac, mac ? *mac : wire::MacAddr{}, src, to.addr, listen_port(), to.port);
  rte_mbuf* m = rte_pktmbuf_alloc(dp_.pool);
  if (m == nullptr || !t.valid()) {
    rte_pktmbuf_free(m);
    return;
  }
  auto* buf = reinterpret_cast<std::uint8_t*>(
      rte_pktmbuf_append(m, static_cast<std::uint16_t>(t.len + len)));
  std::memcpy(buf + t.len, payload, len);
  t.write(buf, len, static_cast<std::uint16_t>(crypto::random_u32()), kHandshakeTos);
  if (mac) {
    tx_.queue_tx(m, PortRole::outer);
    return;
  }
  dataplane::MbufMeta& mm = dataplane::meta(m);
  mm.port = PortRole::outer;
  mm.next_hop = hop;
  handle_resolve(m, now);
}

namespace {

/// Turns the echo request at `p` (classified as `info`, offsets from p) into its reply in place;
/// false, changing nothing, unless it is an unfragmented echo request to `ours`.
bool echo_reply_in_place(std::uint8_t* p, const wire::FrameInfo& info, const IpAddr& ours) {
  const bool v6 = info.is_v6();
  const std::uint8_t echo = v6 ? wire::spec::kIcmp6EchoRequest : wire::spec::kIcmpEchoRequest;
  const std::uint8_t proto = v6 ? wire::spec::kProtoIcmpv6 : wire::spec::kProtoIcmp;
  if (!info.ok() || info.l4_proto != proto || info.icmp_type != echo || info.fragment ||
      ours.family == IpAddr::Family::none || ours.is_v6() != v6 ||
      std::memcmp(info.dst, ours.bytes.data(), v6 ? 16 : 4) != 0) {
    return false;
  }
  std::uint8_t* ip = p + info.l3_off;
  std::uint8_t* icmp = p + info.l4_off;
  const std::size_t alen = v6 ? 16 : 4;
  std::uint8_t* src = ip + (v6 ? 8 : 12);
  std::uint8_t tmp[16];
  std::memcpy(tmp, src, alen);
  std::memcpy(src, src + alen, alen);
  std::memcpy(src + alen, tmp, alen);
  icmp[0] = v6 ? wire::spec::kIcmp6EchoReply : wire::spec::kIcmpEchoReply;
  store_be16(icmp + 2, 0);
  if (v6) {
    ip[7] = wire::spec::kDefaultTtl;
    store_be16(icmp + 2, wire::icmp6_checksum(ip + 8, ip + 24, icmp, info.l4_len));
  } else {
    ip[8] = wire::spec::kDefaultTtl;
    store_be16(ip + 10, 0);
    store_be16(ip + 10, wire::ipv4_header_checksum(ip));
    store_be16(icmp + 2, wire::internet_checksum(icmp, info.l4_len));
  }
  return true;
}

}  // namespace

void Control::handle_local(rte_mbuf* m, PortRole port) {
  // Echo requests to the gateway's own addresses get a reply; everything else is dropped.
  auto* f = rte_pktmbuf_mtod(m, std::uint8_t*);
  const wire::FrameInfo info = wire::classify_frame(f, m->data_len);
  if (!echo_reply_in_place(f, info, own_address(dp_.addr, port, info.is_v6()))) {
    rte_pktmbuf_free(m);
    return;
  }
  std::uint8_t mac[6];
  std::memcpy(mac, f, 6);
  std::memcpy(f, f + 6, 6);
  std::memcpy(f + 6, mac, 6);
  rte_pktmbuf_trim(m, static_cast<std::uint16_t>(m->data_len - (info.l3_off + info.l3_len)));
  tx_.queue_tx(m, port);
  ++stats_.echo_replies;
}

void Control::handle_tunnel_local(rte_mbuf* m, PeerId peer, Nanos now) {
  // A peer pinging the gateway's LAN address: the reply goes back through the tunnel, encrypted
  // on the control thread's own TX queue; anything else for the gateway itself is dropped.
  auto* ip = rte_pktmbuf_mtod(m, std::uint8_t*);
  const wire::FrameInfo info = wire::classify_ip(ip, m->data_len);
  if (peer >= peers_.size() || !peers_[peer] ||
      !echo_reply_in_place(ip, info, own_address(dp_.addr, PortRole::inner, info.is_v6())) ||
      tx_.send_to_peer(peer, &m, 1, now) == 0) {
    rte_pktmbuf_free(m);
    return;
  }
  ++stats_.echo_replies;
}

}  // namespace meshgate::control
