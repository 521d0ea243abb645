// Outbound: LAN port -> Internet port (architecture section 2, "Outbound"; protocol.md 4).
//
//   1 classify   Ethernet/IP; ARP and NDP to the control thread
//   2 route      longest-prefix match of the inner destination -> peer
//   3 forward    a router's rewrites (wire/rewrite.hpp): TTL (ICMP time exceeded when it runs
//                out), the MSS of TCP SYNs
//   3 key        the peer's current keypair; none usable: stage via the control thread; an IPv4
//                packet without DF over the tunnel MTU is cut into fragments sealed on their own
//   4-6          the Sealer (sealer.hpp): nonces, pad and seal in one AEAD batch, WireGuard and
//                outer headers, the peer's activity row
//   7 TX         queue the frames for the Internet port
//
// Stages run as a one-burst pipeline: a burst is classified (and routed) when it arrives and
// finished by the next call, while the AEAD of the one before hides its table misses.
#include <rte_config.h>
#include <rte_mbuf.h>

#include <cstring>

#include "meshgate/base/prefetch.hpp"
#include "meshgate/dataplane/worker.hpp"
#include "meshgate/wire/classify.hpp"
#include "meshgate/wire/fragment.hpp"
#include "meshgate/wire/rewrite.hpp"

namespace meshgate::dataplane {

void Worker::outbound(rte_mbuf** pkts, unsigned n, Nanos now) {
  // A one-burst pipeline: this burst is classified and routed and its peer rows start loading;
  // then the previous burst, whose rows, keypairs and routes are in cache by now, is sealed;
  // then this burst's keypairs and routes start loading, to be in cache when the next call
  // (or finish_outbound) seals it. The seal of one burst hides the table misses of the next.
  OutBurst& cur = out_burst_[out_next_];
  route_burst(pkts, n, cur);
  finish_outbound(now);
  prefetch_keys(cur);
  out_next_ ^= 1;
}

void Worker::prefetch_keys(const OutBurst& r) noexcept {
  // From the peer rows: each one's current keypair (its send line) and route (an IPv4
  // template is one line).
  for (unsigned i = 0; i < r.n; ++i) {
    if (r.peer[i] == kNoPeer) continue;
    const Peer& pr = dp_.peers[r.peer[i]];
    dp_.keypairs.prefetch_send(pr.current.load(std::memory_order_relaxed));
    rte_prefetch0(pr.route.load(std::memory_order_relaxed));  // null: a no-op
  }
}

void Worker::route_burst(rte_mbuf** pkts, unsigned n, OutBurst& r) {
  // --- 1: classify; collect the destinations to route ----------------------------------------
  AddressBurst dst;
  unsigned nr = 0;
  for (unsigned i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void*));
    wire::FrameInfo f;
    if (!admit_frame(m, f, dp_.addr.inner_mac, false, drops_)) continue;
    if (f.kind == wire::FrameKind::arp || f.kind == wire::FrameKind::ndp) {
      to_control(m, ToControl::inner_neighbour, PortRole::inner);
      continue;
    }
    const bool v6 = f.kind == wire::FrameKind::ipv6;
    if (dp_.is_inner_address(f.dst, v6)) {
      to_control(m, ToControl::inner_local, PortRole::inner);
      continue;
    }
    if (v6 ? f.dst[0] == 0xff : (f.dst[0] >= 224 || load_be32(f.dst) == 0xffffffffu)) {
      drop(m, Drop::inner_multicast);
      continue;
    }
    dst.add(f.dst, v6, nr);
    r.m[nr] = m;
    r.l3_off[nr] = f.l3_off;
    r.l3_len[nr] = f.l3_len;
    ++nr;
  }
  r.n = nr;
  if (nr == 0) return;

  // --- 2: route the burst; start loading the peer rows and this worker's activity rows ---------
  dst.lookup(dp_.allowed, r.peer);
  for (unsigned i = 0; i < nr; ++i) {
    if (r.peer[i] == kNoPeer) continue;
    rte_prefetch0(&dp_.peers[r.peer[i]]);
    prefetch_write(&dp_.activity(id_, r.peer[i]));  // written after the seal
  }
}

void Worker::finish_outbound(Nanos now) {
  OutBurst& r = out_burst_[out_next_ ^ 1];
  if (r.n == 0) return;
  OutPacket out[impl::kBurst];
  const unsigned k = find_keys(r, out, now);
  r.n = 0;
  stats_.encrypted += sealer_.seal(out, k, now, drops_);
  // --- 7: TX -------------------------------------------------------------------------------------
  for (unsigned i = 0; i < k; ++i) {
    if (out[i].m != nullptr) queue_tx(out[i].m, PortRole::outer);
  }
}

// --- 3: key and route. No route: ICMP unreachable; over the MTU: fragments (IPv4 without DF) or
// ICMP too big; no usable key or endpoint yet: stage via the control thread, which starts a
// handshake -------------------------------------------------------------------------------------
unsigned Worker::find_keys(OutBurst& r, OutPacket* out, Nanos now) noexcept {
  const unsigned nr = r.n;
  // The lines were prefetched a burst ago and may have dropped to L2 under this burst's packet
  // data: bring them back to L1 together rather than one dependent L2 hit after another.
  for (unsigned i = 0; i < nr; ++i) {
    if (r.peer[i] != kNoPeer) rte_prefetch0(&dp_.peers[r.peer[i]]);
  }
  prefetch_keys(r);
  unsigned k = 0;
  for (unsigned i = 0; i < nr; ++i) {
    rte_mbuf* m = r.m[i];
    const PeerId peer = r.peer[i];
    if (peer == kNoPeer) {
      refuse_outbound(m, wire::IcmpError::unreachable, Drop::no_route);
      continue;
    }
    // In the order of Linux's ip_forward(): the TTL, then the MTU (so that "too big" quotes the
    // packet as it came), then a router's rewrites: TTL, and the MSS of a SYN (the ECN field
    // goes to the outer header in the Sealer).
    auto* ip = rte_pktmbuf_mtod_offset(m, std::uint8_t*, r.l3_off[i]);
    if (r.l3_len[i] > dp_.mtu && !wire::ttl_runs_out(ip)) {
      oversized(m, r.l3_off[i], peer, now);
      continue;
    }
    if (wire::forward_ip(ip, r.l3_len[i], wire::kEcnNotEct, dp_.mss) != wire::Forward::ok) {
      refuse_outbound(m, wire::IcmpError::time_exceeded, Drop::ttl_expired);
      continue;
    }
    // The inner packet alone: strip Ethernet and any Ethernet padding.
    rte_pktmbuf_adj(m, r.l3_off[i]);
    trim_tail(m, static_cast<std::uint16_t>(m->data_len - r.l3_len[i]));
    Peer& pr = dp_.peers[peer];
    Keypair* kp = dp_.keypairs.lookup(pr.current.load(std::memory_order_acquire));
    if (kp == nullptr || now - kp->birth >= wire::spec::kRejectAfterTime) {
      to_control(m, ToControl::stage, PortRole::inner, peer);
      continue;
    }
    const PeerRoute* route = pr.route.load(std::memory_order_acquire);
    if (route == nullptr) {  // endpoint or its next hop not known yet
      to_control(m, ToControl::stage, PortRole::inner, peer);
      continue;
    }
    out[k++] = {m, kp, route, peer, r.l3_len[i], 0};
  }
  return k;
}

void Worker::refuse_outbound(rte_mbuf* m, wire::IcmpError kind, Drop reason) noexcept {
  // Rare: classify again rather than carry every frame's FrameInfo through the burst.
  const wire::FrameInfo f = wire::classify_frame(rte_pktmbuf_mtod(m, const std::uint8_t*),
                                                 m->data_len, {.verify_ipv4_checksum = false});
  send_icmp_error(m, f, kind);
  drop(m, reason);
}

void Worker::oversized(rte_mbuf* m, std::uint16_t l3_off, PeerId peer, Nanos now) noexcept {
  // A router fragments IPv4 without DF (RFC 791, RFC 1812 5.2.6) and nothing else: DF asks for
  // path-MTU discovery (RFC 1191), and IPv6 routers never fragment (RFC 8200 5).
  const auto* ip = rte_pktmbuf_mtod_offset(m, const std::uint8_t*, l3_off);
  if ((ip[0] >> 4) != 4 || (load_be16(ip + 6) & wire::spec::kIpv4FlagDf) != 0) {
    refuse_outbound(m, wire::IcmpError::too_big, Drop::too_big);
    return;
  }
  // Rewritten as any forwarded packet, before it is cut (its TTL is known to be > 1).
  wire::forward_ip(rte_pktmbuf_mtod_offset(m, std::uint8_t*, l3_off), load_be16(ip + 2),
                   wire::kEcnNotEct, dp_.mss);
  rte_pktmbuf_adj(m, l3_off);
  wire::Ipv4Fragmenter frag(rte_pktmbuf_mtod(m, const std::uint8_t*), load_be16(ip + 2), dp_.mtu);
  if (!frag.ok()) {
    drop(m, Drop::fragment_bad_options);
    return;
  }
  // Each fragment in a new mbuf, sealed in batches of its own: the burst's OutPacket array has
  // room for one packet per packet received, not for the pieces of one.
  rte_mbuf* pieces[impl::kBurst];
  unsigned n = 0;
  while (!frag.done()) {
    rte_mbuf* p = rte_pktmbuf_alloc(dp_.pool);
    if (p == nullptr || rte_pktmbuf_tailroom(p) < dp_.mtu) {
      rte_pktmbuf_free(p);  // null: a no-op
      drop(m, p == nullptr ? Drop::no_mbuf : Drop::no_headroom);
      seal_made(pieces, n, peer, now);  // those made: the far end may yet get the rest
      return;
    }
    const std::size_t len = frag.next(rte_pktmbuf_mtod(p, std::uint8_t*));
    rte_pktmbuf_append(p, static_cast<std::uint16_t>(len));
    pieces[n++] = p;
    if (n == impl::kBurst) {
      seal_made(pieces, n, peer, now);
      n = 0;
    }
  }
  rte_pktmbuf_free(m);
  seal_made(pieces, n, peer, now);
}

void Worker::seal_made(rte_mbuf** pieces, unsigned n, PeerId peer, Nanos now) noexcept {
  if (n == 0) return;
  // 0 taken: no usable keypair or route yet; staged like any other packet of the peer.
  const unsigned taken = sealer_.seal_for_peer(peer, pieces, n, now, drops_);
  for (unsigned i = 0; i < n; ++i) {
    if (i >= taken) {
      to_control(pieces[i], ToControl::stage, PortRole::inner, peer);
    } else if (pieces[i] != nullptr) {
      ++stats_.encrypted;
      queue_tx(pieces[i], PortRole::outer);
    }
  }
}

}  // namespace meshgate::dataplane
