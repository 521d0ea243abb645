// Inbound: Internet port -> LAN port (architecture section 2, "Inbound"; digest section 4).
//
//   1 classify   UDP to our address and listen port; type 4 goes on, types 1-3 and STUN/TURN
//                to the control thread, everything else is dropped with a reason
//   2 key        receiver index -> keypair, lock-free; dead, expired or exhausted: drop
//   3 open       one batch AEAD call; constant-time tag check; only then the replay window
//   4 events     first packet on a keypair (confirmation), new source address (roaming)
//   5 check      inner packet sane, inner source within the sending peer's allowed IPs
//   6 frame      strip padding and outer headers, Ethernet to the LAN neighbour, queue for TX;
//                packets for the gateway's own LAN address go to the control thread instead
#include <rte_config.h>

#include <cstring>
#include <rte_mbuf.h>

#include "meshgate/dataplane/worker.hpp"
#include "meshgate/wire/classify.hpp"
#include "meshgate/wire/messages.hpp"

namespace meshgate::dataplane {

namespace {

struct InPacket {
  rte_mbuf* m;
  Keypair* kp;
  std::uint8_t* payload;  // WireGuard message
  std::uint16_t wg_len;
  std::uint64_t counter;
  Endpoint source;
};

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
  InPacket in[kBurst];
  crypto::AeadJob jobs[kBurst];
  unsigned k = 0;
  const std::uint16_t listen_port = dp_.listen_port.load(std::memory_order_relaxed);

  // --- 1-2: classify, find the keypair --------------------------------------------------------
  for (unsigned i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void*));
    if (m->nb_segs != 1) {
      drop(m, Drop::multi_segment);
      continue;
    }
    auto* p = rte_pktmbuf_mtod(m, std::uint8_t*);
    wire::FrameInfo f = wire::classify_frame(p, m->data_len);
    if (!f.ok()) {
      drop(m, f.drop);
      continue;
    }
    if ((p[0] & 1) == 0 && std::memcmp(p, dp_.addr.outer_mac.b.data(), 6) != 0) {
      drop(m, Drop::other_mac);  // seen only because the port is promiscuous
      continue;
    }
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
    Keypair* kp = dp_.keypairs.lookup(load_le32(wg + 4));
    if (kp == nullptr) {
      drop(m, Drop::wg_no_keypair);
      continue;
    }
    if (now - kp->birth >= spec::REJECT_AFTER_TIME || kp->replay.exhausted()) {
      drop(m, Drop::wg_key_expired);
      continue;
    }
    const std::uint16_t ct_len = len - wire::spec::kTransportMinSize;
    InPacket& ip = in[k];
    ip = {m, kp, wg, len, load_le64(wg + 8),
          {v6 ? IpAddr::v6_bytes(f.src) : IpAddr::v4_bytes(f.src), f.src_port}};
    std::uint8_t* ct = wg + wire::spec::kTransportHeaderSize;
    jobs[k] = {.key = kp->recv_key, .counter = ip.counter, .src = ct, .dst = ct, .len = ct_len,
               .tag = ct + ct_len};
    ++k;
  }
  if (k == 0) return;

  // --- 3: one batch AEAD call ------------------------------------------------------------------
  aead_.open({jobs, k});
  stats_.decrypted += k;

  PeerId roamed = kNoPeer;  // one roaming event per peer and burst is enough
  for (unsigned i = 0; i < k; ++i) {
    InPacket& ip = in[i];
    if (!jobs[i].ok) {
      drop(ip.m, Drop::wg_auth_failed);
      continue;
    }
    Keypair* kp = ip.kp;
    kp->lock_replay();
    const bool fresh = kp->replay.check(ip.counter);
    kp->unlock_replay();
    if (!fresh) {
      drop(ip.m, Drop::wg_replay);
      continue;
    }

    // --- 4: events for the control thread ---------------------------------------------------
    const PeerId peer = kp->peer;
    Peer& pr = dp_.peers[peer];
    if (!kp->used.load(std::memory_order_relaxed) &&
        !kp->used.exchange(true, std::memory_order_relaxed) &&
        !post({Event::Kind::keypair_used, peer, kp->live_index.load(std::memory_order_relaxed), {}})) {
      kp->used.store(false, std::memory_order_relaxed);
    }
    const PeerRoute* route = pr.route.load(std::memory_order_acquire);
    if ((route == nullptr || !(route->endpoint == ip.source)) && roamed != peer) {
      post({Event::Kind::endpoint_changed, peer, 0, ip.source});
      roamed = peer;
    }
    pr.rx_bytes.fetch_add(ip.wg_len, std::memory_order_relaxed);
    pr.rx_packets.fetch_add(1, std::memory_order_relaxed);
    pr.last_rx_auth.store(now, std::memory_order_relaxed);

    const std::uint16_t ct_len = ip.wg_len - wire::spec::kTransportMinSize;
    if (ct_len == 0) {  // keepalive: authenticated, counted, never delivered
      rte_pktmbuf_free(ip.m);
      continue;
    }

    // --- 5: the inner packet -----------------------------------------------------------------
    std::uint8_t* inner = ip.payload + wire::spec::kTransportHeaderSize;
    const std::size_t inner_len = wire::inner_packet_length(inner, ct_len);
    if (inner_len == 0) {
      drop(ip.m, Drop::inner_bad_packet);
      continue;
    }
    const bool v6 = (inner[0] >> 4) == 6;
    const PeerId owner = v6 ? dp_.allowed.lookup(peer::Ip6::load(inner + 8))
                            : dp_.allowed.lookup(load_be32(inner + 12));
    if (owner != peer) {
      drop(ip.m, Drop::inner_source_not_allowed);
      continue;
    }
    pr.last_rx_data.store(now, std::memory_order_relaxed);

    // --- 6: decapsulate and frame for the LAN ------------------------------------------------
    rte_mbuf* m = ip.m;
    rte_pktmbuf_adj(m, static_cast<std::uint16_t>(inner - rte_pktmbuf_mtod(m, std::uint8_t*)));
    rte_pktmbuf_trim(m, static_cast<std::uint16_t>(m->data_len - inner_len));
    if (dp_.is_inner_address(inner + (v6 ? 24 : 16), v6)) {  // the gateway itself, not the LAN
      to_control(m, ToControl::tunnel_local, PortRole::inner, peer);
      continue;
    }
    const IpAddr dst = v6 ? IpAddr::v6_bytes(inner + 24) : IpAddr::v4_bytes(inner + 16);
    if (!add_ethernet(m, dp_.inner_next_hop(dst), v6, PortRole::inner)) continue;
    queue_tx(m, PortRole::inner);
  }
}

}  // namespace meshgate::dataplane
