// Inbound: Internet port -> LAN port (architecture section 2, "Inbound"; protocol.md 4).
//
//   1 classify   UDP to our address and listen port; type 4 goes on, types 1-3 and STUN/TURN
//                to the control thread, everything else is dropped with a reason
//   2 key        receiver index -> keypair, lock-free; dead, expired or exhausted: drop
//   3 open       one batch AEAD call; constant-time tag check; only then the replay window
//   4 events     first packet on a keypair (confirmation), new source address (roaming)
//   5 check      inner packet sane, inner source within the sending peer's allowed IPs (one
//                burst lookup for all of them)
//   6 frame      strip padding and outer headers, Ethernet to the LAN neighbour, queue for TX;
//                packets for the gateway's own LAN address go to the control thread instead
//
// Stages run as a one-burst pipeline: a burst is classified (and routed) when it arrives and
// finished by the next call, while the AEAD of the one before hides its table misses.
#include <rte_config.h>
#include <rte_mbuf.h>

#include <cstring>

#include "meshgate/dataplane/worker.hpp"
#include "meshgate/wire/classify.hpp"
#include "meshgate/wire/messages.hpp"

namespace meshgate::dataplane {

namespace {

constexpr std::uint32_t kStunMagic = 0x2112A442;

bool looks_like_stun(const std::uint8_t* p, std::size_t len) noexcept {
  // RFC 8489 6: top two bits zero, magic cookie at bytes 4-7. WireGuard messages have byte 1 ==
  // 0 and never this cookie; TURN ChannelData (0x40-0x4F first byte) is also ours to relay.
  return len >= 20 && ((p[0] & 0xC0) == 0 && load_be32(p + 4) == kStunMagic);
}

bool is_channel_data(const std::uint8_t* p, std::size_t len) noexcept {
  return len >= 4 && (p[0] & 0xC0) == 0x40;
}

}  // namespace

void Worker::inbound(rte_mbuf** pkts, unsigned n, Nanos now) {
  // A one-burst pipeline, as outbound: this burst is classified and its keypairs' receive lines
  // start loading; the previous burst is opened and delivered; then this burst's replay words
  // and activity rows start loading, for the next call (or finish_inbound) to find. A received
  // packet needs no line of its peer's row or route: the keypair's receive line has the peer,
  // and the endpoint tag for the roaming check.
  InBurst& cur = in_burst_[in_next_];
  classify_burst(pkts, n, cur);
  finish_inbound(now);
  for (unsigned i = 0; i < cur.n; ++i) {
    const Keypair* kp = dp_.keypairs.lookup_recv(cur.p[i].index);
    if (kp == nullptr) continue;
    kp->replay.prefetch(cur.p[i].counter);
    __builtin_prefetch(&dp_.activity(id_, kp->peer), 1);
  }
  in_next_ ^= 1;
}

void Worker::classify_burst(rte_mbuf** pkts, unsigned n, InBurst& b) {
  InPacket* in = b.p;
  unsigned k = 0;
  const std::uint16_t listen_port = dp_.listen_port.load(std::memory_order_relaxed);

  // --- 1: classify; start loading each message's keypair slot ---------------------------------
  for (unsigned i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void*));
    auto* p = rte_pktmbuf_mtod(m, std::uint8_t*);
    wire::FrameInfo f;
    if (!admit_frame(m, f, dp_.addr.outer_mac, true)) continue;
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
      drop(m, v6 ? wire::DropReason::ipv6_fragment : wire::DropReason::ipv4_fragment);
      continue;
    }
    if (f.l4_proto != wire::spec::kProtoUdp || f.dst_port != listen_port) {
      to_control(m, ToControl::outer_local, PortRole::outer);
      continue;
    }
    std::uint8_t* wg = p + f.payload_off;
    const std::uint16_t len = f.payload_len;
    const std::uint32_t type = len >= 4 ? load_le32(wg) : 0;
    if (type != static_cast<std::uint32_t>(wire::MessageType::transport)) {
      if (type >= 1 && type <= 3) {
        to_control(m, ToControl::outer_handshake, PortRole::outer);
      } else if (looks_like_stun(wg, len) || is_channel_data(wg, len)) {
        to_control(m, ToControl::outer_stun, PortRole::outer);
      } else {
        drop(m, Drop::wg_bad_type);
      }
      continue;
    }
    if (len < wire::spec::kTransportMinSize) {
      drop(m, Drop::wg_bad_size);
      continue;
    }
    const std::uint32_t index = load_le32(wg + 4);
    dp_.keypairs.prefetch_recv(index);
    in[k++] = {m,
               nullptr,
               wg,
               len,
               load_le64(wg + 8),
               index,
               {v6 ? IpAddr::v6_bytes(f.src) : IpAddr::v4_bytes(f.src), f.src_port}};
  }
  b.n = k;
}

void Worker::finish_inbound(Nanos now) {
  InBurst& b = in_burst_[in_next_ ^ 1];
  const unsigned k = b.n;
  if (k == 0) return;
  b.n = 0;
  InPacket* in = b.p;

  // --- 2: receiver index -> keypair ----------------------------------------------------------
  // The slots were prefetched a burst ago and may have dropped to L2 under the packet data since:
  // bring them back to L1 together rather than one dependent L2 hit after another.
  for (unsigned i = 0; i < k; ++i) dp_.keypairs.prefetch_recv(in[i].index);
  crypto::AeadJob jobs[kBurst];
  unsigned nj = 0;
  for (unsigned i = 0; i < k; ++i) {
    InPacket& ip = in[i];
    Keypair* kp = dp_.keypairs.lookup_recv(ip.index);
    if (kp == nullptr) {
      drop(ip.m, Drop::wg_no_keypair);
      continue;
    }
    if (now - kp->recv_birth >= spec::REJECT_AFTER_TIME || kp->replay.exhausted()) {
      drop(ip.m, Drop::wg_key_expired);
      continue;
    }
    ip.kp = kp;
    std::uint8_t* ct = ip.payload + wire::spec::kTransportHeaderSize;
    const std::uint16_t ct_len = ip.wg_len - wire::spec::kTransportMinSize;
    jobs[nj] = {.key = kp->recv_key,
                .counter = ip.counter,
                .src = ct,
                .dst = ct,
                .len = ct_len,
                .tag = ct + ct_len};
    if (nj != i) in[nj] = ip;
    ++nj;
  }
  if (nj == 0) return;

  // --- 3: one batch AEAD call; only then the replay window ------------------------------------
  aead_.open({jobs, nj});
  stats_.decrypted += nj;

  for (unsigned i = 0; i < nj; ++i) {  // back to L1 after the packet data went through it
    if (!jobs[i].ok) continue;
    const Keypair* kp = in[i].kp;
    kp->replay.prefetch(in[i].counter);
    __builtin_prefetch(&dp_.activity(id_, kp->peer), 1);
  }

  // --- 4: replay: one lock per run of packets on one keypair, tags verified first -------------
  bool fresh[kBurst];
  Keypair* held = nullptr;
  for (unsigned i = 0; i < nj; ++i) {
    if (!jobs[i].ok) continue;
    if (in[i].kp != held) {
      if (held != nullptr) held->unlock_replay();
      held = in[i].kp;
      held->lock_replay();
    }
    fresh[i] = held->replay.check(in[i].counter);
  }
  if (held != nullptr) held->unlock_replay();

  // --- 4: events, accounting; inner packets whose source is to be checked ---------------------
  std::uint32_t src4[kBurst];
  peer::Ip6 src6[kBurst];
  std::uint8_t at4[kBurst], at6[kBurst];
  std::uint16_t inner_len[kBurst];
  unsigned n4 = 0, n6 = 0;
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
  for (unsigned i = 0; i < nj; ++i) {
    InPacket& ip = in[i];
    if (!jobs[i].ok) {
      drop(ip.m, Drop::wg_auth_failed);
      ip.m = nullptr;
      continue;
    }
    if (!fresh[i]) {
      drop(ip.m, Drop::wg_replay);
      ip.m = nullptr;
      continue;
    }

    Keypair* kp = ip.kp;
    const PeerId peer = kp->peer;
    if (!kp->used.load(std::memory_order_relaxed) &&
        !kp->used.exchange(true, std::memory_order_relaxed) &&
        !post({Event::Kind::keypair_used,
               peer,
               kp->recv_live_index.load(std::memory_order_relaxed),
               {}})) {
      kp->used.store(false, std::memory_order_relaxed);
    }
    // Roaming: the tag of the endpoint the control thread routes to, on the keypair's own line.
    if (kp->endpoint_tag.load(std::memory_order_relaxed) != endpoint_tag(ip.source) &&
        roamed != peer) {
      post({Event::Kind::endpoint_changed, peer, 0, ip.source});
      roamed = peer;
    }
    if (peer != tally_peer) {
      settle();
      tally_peer = peer;
    }
    tally_bytes += ip.wg_len;
    ++tally_packets;

    const std::uint16_t ct_len = ip.wg_len - wire::spec::kTransportMinSize;
    if (ct_len == 0) {  // keepalive: authenticated, counted, never delivered
      rte_pktmbuf_free(ip.m);
      ip.m = nullptr;
      continue;
    }
    const std::uint8_t* inner = ip.payload + wire::spec::kTransportHeaderSize;
    inner_len[i] = static_cast<std::uint16_t>(wire::inner_packet_length(inner, ct_len));
    if (inner_len[i] == 0) {
      drop(ip.m, Drop::inner_bad_packet);
      ip.m = nullptr;
      continue;
    }
    if ((inner[0] >> 4) == 6) {
      src6[n6] = peer::Ip6::load(inner + 8);
      at6[n6++] = static_cast<std::uint8_t>(i);
    } else {
      src4[n4] = load_be32(inner + 12);
      at4[n4++] = static_cast<std::uint8_t>(i);
    }
  }
  settle();
  // --- 5: the inner source must be within the sending peer's allowed IPs (burst lookup) -------
  static_assert(kBurst <= peer::AllowedIps::kMaxBurst);
  PeerId owner[kBurst];
  PeerId found[kBurst];
  if (n4 != 0) {
    dp_.allowed.lookup_burst(src4, found, n4);
    for (unsigned j = 0; j < n4; ++j) owner[at4[j]] = found[j];
  }
  if (n6 != 0) {
    dp_.allowed.lookup_burst(src6, found, n6);
    for (unsigned j = 0; j < n6; ++j) owner[at6[j]] = found[j];
  }

  // --- 6: decapsulate and frame for the LAN ---------------------------------------------------
  // One neighbour lookup per run of packets to one next hop (all of a burst, when they go
  // through the LAN router), one last_rx_data store per run of packets from one peer.
  IpAddr hop;
  std::optional<wire::MacAddr> hop_mac;
  PeerId data_peer = kNoPeer;
  for (unsigned i = 0; i < nj; ++i) {
    InPacket& ip = in[i];
    if (ip.m == nullptr) continue;
    const PeerId peer = ip.kp->peer;
    if (owner[i] != peer) {
      drop(ip.m, Drop::inner_source_not_allowed);
      continue;
    }
    if (peer != data_peer) {
      dp_.activity(id_, peer).last_rx_data.store(now, std::memory_order_relaxed);
      data_peer = peer;
    }
    std::uint8_t* inner = ip.payload + wire::spec::kTransportHeaderSize;
    const bool v6 = (inner[0] >> 4) == 6;
    rte_mbuf* m = ip.m;
    rte_pktmbuf_adj(m, static_cast<std::uint16_t>(inner - rte_pktmbuf_mtod(m, std::uint8_t*)));
    rte_pktmbuf_trim(m, static_cast<std::uint16_t>(m->data_len - inner_len[i]));
    if (dp_.is_inner_address(inner + (v6 ? 24 : 16), v6)) {  // the gateway itself, not the LAN
      to_control(m, ToControl::tunnel_local, PortRole::inner, peer);
      continue;
    }
    const IpAddr next =
        dp_.inner_next_hop(v6 ? IpAddr::v6_bytes(inner + 24) : IpAddr::v4_bytes(inner + 16));
    if (!(next == hop)) {
      hop = next;
      hop_mac = next.family == IpAddr::Family::none ? std::nullopt : dp_.neighbours.lookup(next);
    }
    if (!add_ethernet(m, hop, hop_mac, v6, PortRole::inner)) continue;
    queue_tx(m, PortRole::inner);
  }
}

}  // namespace meshgate::dataplane
