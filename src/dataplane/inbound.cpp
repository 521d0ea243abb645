// Inbound: Internet port -> LAN port (architecture section 2, "Inbound"; protocol.md 4).
//
//   1 classify   UDP to our address and listen port; type 4 goes on, types 1-3 and STUN/TURN
//                to the control thread, everything else is dropped with a reason; ChannelData
//                from our TURN server is unwrapped first (unwrap_channel_data)
//   2 key        receiver index -> keypair, lock-free; dead, expired or exhausted: drop
//   3 open       one batch AEAD call; constant-time tag check
//   4 replay     the replay window, only for packets whose tag verified
//   5 account    events (first packet on a keypair: confirmation; new source: roaming), the
//                peer's activity row, the inner packet's length (padding stripped); a
//                coordination message (nat/coord.hpp) goes to the control thread, no roaming
//   6 source     inner source within the sending peer's allowed IPs (one burst lookup)
//   7 frame      strip padding and outer headers; a router's rewrites (wire/rewrite.hpp): TTL
//                (ICMP time exceeded back through the tunnel), ECN from the outer header
//                (RFC 6040), the MSS of TCP SYNs; Ethernet to the LAN neighbour, queue for TX;
//                packets for the gateway's own LAN address go to the control thread instead
//
// Stages run as a one-burst pipeline: a burst is classified (and routed) when it arrives and
// finished by the next call, while the AEAD of the one before hides its table misses.
#include <rte_config.h>
#include <rte_mbuf.h>

#include <cstring>

#include "meshgate/base/prefetch.hpp"
#include "meshgate/dataplane/worker.hpp"
#include "meshgate/nat/coord.hpp"
#include "meshgate/nat/stun.hpp"
#include "meshgate/wire/classify.hpp"
#include "meshgate/wire/messages.hpp"
#include "meshgate/wire/rewrite.hpp"

namespace meshgate::dataplane {

namespace {

using wire::spec::kTransportHeaderSize;
using wire::spec::kTransportMinSize;

}  // namespace

void Worker::inbound(rte_mbuf** pkts, unsigned n, Nanos now) {
  // A one-burst pipeline, as outbound: this burst is classified and its keypairs' receive lines
  // start loading; the previous burst is opened and delivered; then this burst's replay words
  // and activity rows start loading, for the next call (or finish_inbound) to find. A received
  // packet needs no line of its peer's row or route: the keypair's receive line has the peer,
  // and the endpoint tag for the roaming check.
  InBurst& cur = in_burst_[in_next_];
  classify_burst(pkts, n, cur, now);
  finish_inbound(now);
  for (unsigned i = 0; i < cur.n; ++i) {
    const Keypair* kp = dp_.keypairs.lookup_recv(cur.p[i].index);
    if (kp == nullptr) continue;
    kp->replay.prefetch(cur.p[i].counter);
    prefetch_write(&dp_.activity(id_, kp->peer));
  }
  in_next_ ^= 1;
}

unsigned Worker::classify_burst(rte_mbuf** pkts, unsigned n, InBurst& b, Nanos now,
                                bool reassembles) {
  InPacket* in = b.p;
  unsigned k = 0;
  const std::uint16_t listen_port = dp_.listen_port.load(std::memory_order_relaxed);

  // --- 1: classify; start loading each message's keypair slot ---------------------------------
  unsigned i = 0;
  for (; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void*));
    auto* p = rte_pktmbuf_mtod(m, std::uint8_t*);
    wire::FrameInfo f;
    if (!admit_frame(m, f, dp_.addr.outer_mac, true, drops_)) continue;
    if (f.kind == wire::FrameKind::arp || f.kind == wire::FrameKind::ndp) {
      to_control(m, ToControl::outer_neighbour, PortRole::outer);
      continue;
    }
    const bool v6 = f.kind == wire::FrameKind::ipv6;
    if (!dp_.is_outer_address(f.dst, v6)) {
      drop(m, Drop::not_for_us);
      continue;
    }
    if (f.fragment) {
      if (!reassembles) break;
      m = reassemble(m, f, now);
      if (m == nullptr) continue;
      p = rte_pktmbuf_mtod(m, std::uint8_t*);
    }
    if (f.l4_proto != wire::spec::kProtoUdp || f.dst_port != listen_port) {
      to_control(m, ToControl::outer_local, PortRole::outer);
      continue;
    }
    std::uint8_t* wg = p + f.payload_off;
    std::uint16_t wg_len = f.payload_len;
    Endpoint source{v6 ? IpAddr::v6_bytes(f.src) : IpAddr::v4_bytes(f.src), f.src_port};
    const wire::Classified c = wire::classify(wg, wg_len);
    if ((!c.ok() || c.type != wire::MessageType::transport) &&
        !not_transport(m, c, wg, wg_len, source)) {
      continue;
    }
    const std::uint32_t index = load_le32(wg + 4);
    dp_.keypairs.prefetch_recv(index);
    in[k++] = {m,
               nullptr,
               wg,
               wg_len,
               load_le64(wg + 8),
               index,
               source,
               static_cast<std::uint8_t>(f.tos & 3)};
  }
  b.n = k;
  return i;
}

rte_mbuf* Worker::reassemble(rte_mbuf* m, wire::FrameInfo& f, Nanos now) noexcept {
  rte_mbuf* whole = frags_.add(m, f, now, drops_);
  // The datagram goes on as if it had come whole: the same checks, on its rewritten header.
  if (whole == nullptr || !admit_frame(whole, f, dp_.addr.outer_mac, true, drops_)) return nullptr;
  return whole;
}

bool Worker::not_transport(rte_mbuf* m, const wire::Classified& c, std::uint8_t*& wg,
                           std::uint16_t& len, Endpoint& source) noexcept {
  wire::Classified msg = c;
  if (c.type == wire::MessageType{}) {
    const nat::stun::Demuxed d = nat::stun::demux(wg, len);
    if (d.kind == nat::stun::PayloadKind::stun) {
      // STUN and TURN answers are the control thread's; junk is dropped here, before the ring,
      // so a flood of it costs the control thread nothing.
      to_control(m, ToControl::outer_stun, PortRole::outer);
      return false;
    }
    // ChannelData from our TURN server: the WireGuard message inside goes on as if it had come
    // directly, from the relayed endpoint (the server with the channel).
    const Relayed r = unwrap_channel_data(d, wg, source, dp_.turn_server);
    if (!r.ok()) {
      drop(m, r.drop);
      return false;
    }
    wg += nat::stun::kChannelDataHeaderSize;
    len = r.len;
    source = r.source;
    msg = r.wg;
    if (msg.ok() && msg.type == wire::MessageType::transport) return true;
  }
  if (msg.type == wire::MessageType::transport) {  // bad_size: shorter than header + tag
    drop(m, Drop::wg_bad_size);
  } else {
    // Types 1-3, of any size: the control thread checks the size (wire::is_handshake_message)
    // and counts a wrong one, with the rest of its handshake accounting; it unwraps a relayed
    // one again by the same rule.
    to_control(m, ToControl::outer_handshake, PortRole::outer);
  }
  return false;
}

void Worker::finish_inbound(Nanos now) {
  InBurst& b = in_burst_[in_next_ ^ 1];
  if (b.n != 0) open_burst(b, now);
}

void Worker::open_burst(InBurst& b, Nanos now) {
  Opened o;
  find_recv_keys(b, o, now);
  b.n = 0;
  if (o.n == 0) return;

  // --- 3: one batch AEAD call ------------------------------------------------------------------
  sealer_.aead().open({o.jobs, o.n});
  stats_.decrypted += o.n;

  check_replay(b.p, o);
  authenticate_and_account(b.p, o, now);
  // --- 6: the inner source must be within the sending peer's allowed IPs (burst lookup) -------
  o.sources.lookup(dp_.allowed, o.owner);
  deliver(b.p, o, now);
}

// --- 2: receiver index -> keypair; live ones become AEAD jobs, compacted to in[0..o.n) --------
void Worker::find_recv_keys(InBurst& b, Opened& o, Nanos now) noexcept {
  InPacket* in = b.p;
  const unsigned k = b.n;
  // The slots were prefetched a burst ago and may have dropped to L2 under the packet data since:
  // bring them back to L1 together rather than one dependent L2 hit after another.
  for (unsigned i = 0; i < k; ++i) dp_.keypairs.prefetch_recv(in[i].index);
  unsigned nj = 0;
  for (unsigned i = 0; i < k; ++i) {
    InPacket& ip = in[i];
    Keypair* kp = dp_.keypairs.lookup_recv(ip.index);
    if (kp == nullptr) {
      drop(ip.m, Drop::wg_no_keypair);
      continue;
    }
    if (now - kp->recv_birth >= wire::spec::kRejectAfterTime || kp->replay.exhausted()) {
      drop(ip.m, Drop::wg_key_expired);
      continue;
    }
    ip.kp = kp;
    std::uint8_t* ct = ip.payload + kTransportHeaderSize;
    const auto ct_len = static_cast<std::uint16_t>(ip.wg_len - kTransportMinSize);
    o.jobs[nj] = {.key = kp->recv_key,
                  .counter = ip.counter,
                  .src = ct,
                  .dst = ct,
                  .len = ct_len,
                  .tag = ct + ct_len};
    if (nj != i) in[nj] = ip;
    ++nj;
  }
  o.n = nj;
}

// --- 4: replay: one lock per run of packets on one keypair, tags verified first ---------------
void Worker::check_replay(const InPacket* in, Opened& o) noexcept {
  for (unsigned i = 0; i < o.n; ++i) {  // back to L1 after the packet data went through it
    if (!o.jobs[i].ok) continue;
    const Keypair* kp = in[i].kp;
    kp->replay.prefetch(in[i].counter);
    prefetch_write(&dp_.activity(id_, kp->peer));
  }
  Keypair* held = nullptr;
  for (unsigned i = 0; i < o.n; ++i) {
    if (!o.jobs[i].ok) continue;
    if (in[i].kp != held) {
      if (held != nullptr) held->unlock_replay();
      held = in[i].kp;
      held->lock_replay();
    }
    o.fresh[i] = held->replay.check(in[i].counter);
  }
  if (held != nullptr) held->unlock_replay();
}

// --- 5: drop the forged and the replayed; events, the peer's activity; the inner packet's length
// and source. Afterwards in[i].m is null for every packet that goes no further ----------------
void Worker::authenticate_and_account(InPacket* in, Opened& o, Nanos now) noexcept {
  PeerId roamed = kNoPeer;  // one roaming event per peer and burst is enough
  // The peer's counters and time stamps (this worker's own row): one update per run of packets
  // from one peer instead of one per packet.
  PeerId tally_peer = kNoPeer;
  std::uint64_t tally_bytes = 0, tally_packets = 0;
  auto settle = [&] {
    if (tally_packets == 0) return;
    PeerActivity& a = dp_.activity(id_, tally_peer);
    PeerActivity::add(a.rx_bytes, tally_bytes);
    PeerActivity::add(a.rx_packets, tally_packets);
    a.last_rx_auth.store(now, std::memory_order_relaxed);
    tally_bytes = tally_packets = 0;
  };
  for (unsigned i = 0; i < o.n; ++i) {
    InPacket& ip = in[i];
    if (!o.jobs[i].ok || !o.fresh[i]) {
      drop(ip.m, o.jobs[i].ok ? Drop::wg_replay : Drop::wg_auth_failed);
      ip.m = nullptr;
      continue;
    }
    const auto ct_len = static_cast<std::uint16_t>(ip.wg_len - kTransportMinSize);
    const std::uint8_t* inner = ip.payload + kTransportHeaderSize;
    o.inner_len[i] =
        ct_len == 0 ? 0 : static_cast<std::uint16_t>(wire::inner_packet_length(inner, ct_len));
    // Only a plaintext that is not IP can be a coordination message (its first byte is no IP
    // version), so IP traffic pays nothing for the check.
    const bool coordination =
        ct_len != 0 && o.inner_len[i] == 0 && nat::coord::is_message(inner, ct_len);
    post_keypair_events(ip.kp, ip.source, roamed, !coordination);
    if (ip.kp->peer != tally_peer) {
      settle();
      tally_peer = ip.kp->peer;
    }
    tally_bytes += ip.wg_len;
    ++tally_packets;

    if (ct_len == 0) {  // keepalive: authenticated, counted, never delivered
      rte_pktmbuf_free(ip.m);
      ip.m = nullptr;
      continue;
    }
    if (o.inner_len[i] == 0) {
      if (coordination) {
        coordination_to_control(ip);
      } else {
        drop(ip.m, Drop::inner_bad_packet);
      }
      ip.m = nullptr;
      continue;
    }
    const bool v6 = (inner[0] >> 4) == 6;
    o.sources.add(inner + (v6 ? 8 : 12), v6, i);
  }
  settle();
}

void Worker::coordination_to_control(InPacket& ip) noexcept {
  rte_mbuf* m = ip.m;
  std::uint8_t* msg = ip.payload + kTransportHeaderSize;
  rte_pktmbuf_adj(m, static_cast<std::uint16_t>(msg - rte_pktmbuf_mtod(m, std::uint8_t*)));
  trim_tail(m, static_cast<std::uint16_t>(m->data_len - load_be16(msg + 2)));
  meta(m).endpoint = ip.source;
  to_control(m, ToControl::tunnel_coordination, PortRole::outer, ip.kp->peer);
}

void Worker::post_keypair_events(Keypair* kp, const Endpoint& source, PeerId& roamed,
                                 bool may_roam) noexcept {
  const PeerId peer = kp->peer;
  // The first authenticated packet on a keypair confirms it (the responder may now send on it).
  if (!kp->used.load(std::memory_order_relaxed) &&
      !kp->used.exchange(true, std::memory_order_relaxed) &&
      !post({.kind = Event::Kind::keypair_used,
             .peer = peer,
             .index = kp->recv_live_index.load(std::memory_order_relaxed)})) {
    kp->used.store(false, std::memory_order_relaxed);
  }
  // Roaming: the tag of the endpoint the control thread routes to, on the keypair's own line.
  // A coordination message (may_roam false) may be a probe of another path: the control thread's
  // path selection decides about endpoints for those, not the roaming rule.
  if (may_roam && kp->endpoint_tag.load(std::memory_order_relaxed) != endpoint_tag(source) &&
      roamed != peer) {
    post({.kind = Event::Kind::endpoint_changed, .endpoint = source, .peer = peer});
    roamed = peer;
  }
}

// --- 7: decapsulate and frame for the LAN ------------------------------------------------------
// One neighbour lookup per run of packets to one next hop of a family (all of a burst, when they
// go through the LAN router: dual-stack traffic interleaves the families, and one remembered hop
// for both would look up nearly every packet), one last_rx_data store per run of packets from
// one peer.
void Worker::deliver(InPacket* in, const Opened& o, Nanos now) noexcept {
  IpAddr hops[2];  // by family: [v6]
  std::optional<wire::MacAddr> hop_macs[2];
  PeerId data_peer = kNoPeer;
  for (unsigned i = 0; i < o.n; ++i) {
    InPacket& ip = in[i];
    if (ip.m == nullptr) continue;
    const PeerId peer = ip.kp->peer;
    if (o.owner[i] != peer) {
      drop(ip.m, Drop::inner_source_not_allowed);
      continue;
    }
    if (peer != data_peer) {
      dp_.activity(id_, peer).last_rx_data.store(now, std::memory_order_relaxed);
      data_peer = peer;
    }
    std::uint8_t* inner = ip.payload + kTransportHeaderSize;
    const bool v6 = (inner[0] >> 4) == 6;
    rte_mbuf* m = ip.m;
    rte_pktmbuf_adj(m, static_cast<std::uint16_t>(inner - rte_pktmbuf_mtod(m, std::uint8_t*)));
    trim_tail(m, static_cast<std::uint16_t>(m->data_len - o.inner_len[i]));
    if (dp_.is_inner_address(inner + (v6 ? 24 : 16), v6)) {  // the gateway itself, not the LAN
      to_control(m, ToControl::tunnel_local, PortRole::inner, peer);
      continue;
    }
    const wire::Forward fw = wire::forward_ip(inner, o.inner_len[i], ip.outer_ecn, dp_.mss);
    if (fw != wire::Forward::ok) {
      refuse_inbound(m, fw, peer, now);
      continue;
    }
    const IpAddr next =
        dp_.inner_next_hop(v6 ? IpAddr::v6_bytes(inner + 24) : IpAddr::v4_bytes(inner + 16));
    IpAddr& hop = hops[v6 ? 1 : 0];
    std::optional<wire::MacAddr>& hop_mac = hop_macs[v6 ? 1 : 0];
    if (!(next == hop)) {
      hop = next;
      hop_mac = next.family == IpAddr::Family::none ? std::nullopt : dp_.neighbours.lookup(next);
    }
    if (!add_ethernet(m, hop, hop_mac, v6, PortRole::inner)) continue;
    if (sink_ != nullptr) {  // another worker's burst: its owner sends it, in order
      sink_->out[sink_->n_out++] = m;
    } else {
      queue_tx(m, PortRole::inner);
    }
  }
}

void Worker::refuse_inbound(rte_mbuf* m, wire::Forward why, PeerId peer, Nanos now) noexcept {
  if (why == wire::Forward::ecn_ce_not_ect) {
    drop(m, Drop::ecn_ce_not_ect);
    return;
  }
  // As a router behind a WireGuard interface: the error goes back into the tunnel, from our LAN
  // address (the peer's allowed IPs for us hold it, as they hold our LAN).
  const auto* pkt = rte_pktmbuf_mtod(m, const std::uint8_t*);
  const IpAddr& from = (pkt[0] >> 4) == 6 ? dp_.addr.inner_v6 : dp_.addr.inner_v4;
  rte_mbuf* r = from.family == IpAddr::Family::none ? nullptr : rte_pktmbuf_alloc(dp_.pool);
  if (r != nullptr) {
    const std::size_t len =
        wire::build_icmp_error_ip(rte_pktmbuf_mtod(r, std::uint8_t*), rte_pktmbuf_tailroom(r),
                                  wire::IcmpError::time_exceeded, pkt, m->data_len, from, dp_.mtu);
    if (len == 0) {
      rte_pktmbuf_free(r);
    } else {
      rte_pktmbuf_append(r, static_cast<std::uint16_t>(len));
      seal_made(&r, 1, peer, now);
    }
  }
  drop(m, Drop::ttl_expired);
}

}  // namespace meshgate::dataplane
