// Outbound: LAN port -> Internet port (architecture section 2, "Outbound"; protocol.md 4).
//
//   1 classify   Ethernet/IP; ARP and NDP to the control thread
//   2 route      longest-prefix match of the inner destination -> peer
//   3 key        the peer's current keypair; none usable: stage via the control thread
//   4 nonces     one atomic add per keypair per burst
//   5 seal       pad to 16, make room for the headers, one batch AEAD call
//   6 frame      outer Ethernet/IP/UDP from the peer's route, WireGuard header, queue for TX
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

/// WireGuard padding (protocol.md 2): a multiple of 16, never beyond the MTU.
inline std::uint32_t padded_length(std::uint32_t len, std::uint32_t mtu) noexcept {
  std::uint32_t padded = (len + 15) & ~15u;
  return padded < mtu ? padded : (len > mtu ? len : mtu);
}

}  // namespace

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
  std::uint32_t dst4[kBurst];
  peer::Ip6 dst6[kBurst];
  std::uint8_t at4[kBurst], at6[kBurst];
  unsigned nr = 0, n4 = 0, n6 = 0;
  for (unsigned i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void*));
    wire::FrameInfo f;
    if (!admit_frame(m, f, dp_.addr.inner_mac, false)) continue;
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
    if (v6) {
      dst6[n6] = peer::Ip6::load(f.dst);
      at6[n6++] = static_cast<std::uint8_t>(nr);
    } else {
      dst4[n4] = load_be32(f.dst);
      at4[n4++] = static_cast<std::uint8_t>(nr);
    }
    r.m[nr] = m;
    r.l3_off[nr] = f.l3_off;
    r.l3_len[nr] = f.l3_len;
    ++nr;
  }
  r.n = nr;
  if (nr == 0) return;

  // --- 2: route the burst: the walks advance together, so a big table costs about one memory
  // latency per level for the burst rather than per packet ------------------------------------
  static_assert(kBurst <= peer::AllowedIps::kMaxBurst);
  PeerId found[kBurst];
  if (n4 != 0) {
    dp_.allowed.lookup_burst(dst4, found, n4);
    for (unsigned j = 0; j < n4; ++j) r.peer[at4[j]] = found[j];
  }
  if (n6 != 0) {
    dp_.allowed.lookup_burst(dst6, found, n6);
    for (unsigned j = 0; j < n6; ++j) r.peer[at6[j]] = found[j];
  }
  for (unsigned i = 0; i < nr; ++i) {
    if (r.peer[i] == kNoPeer) continue;
    rte_prefetch0(&dp_.peers[r.peer[i]]);
    __builtin_prefetch(&dp_.activity(id_, r.peer[i]), 1);  // written after the seal
  }
}

void Worker::finish_outbound(Nanos now) {
  OutBurst& r = out_burst_[out_next_ ^ 1];
  const unsigned nr = r.n;
  if (nr == 0) return;

  // --- 3: key, route; no usable key: stage via the control thread -----------------------------
  // The lines were prefetched a burst ago and may have dropped to L2 under this burst's packet
  // data: bring them back to L1 together rather than one dependent L2 hit after another.
  for (unsigned i = 0; i < nr; ++i) {
    if (r.peer[i] != kNoPeer) rte_prefetch0(&dp_.peers[r.peer[i]]);
  }
  prefetch_keys(r);
  r.n = 0;
  OutPacket out[kBurst];
  unsigned k = 0;
  for (unsigned i = 0; i < nr; ++i) {
    rte_mbuf* m = r.m[i];
    const PeerId peer = r.peer[i];
    if (peer == kNoPeer || r.l3_len[i] > dp_.mtu) {
      // Rare: classify again rather than carry every frame's FrameInfo through the burst.
      const wire::FrameInfo f = wire::classify_frame(rte_pktmbuf_mtod(m, const std::uint8_t*),
                                                     m->data_len, {.verify_ipv4_checksum = false});
      const bool no_route = peer == kNoPeer;
      send_icmp_error(m, f, no_route ? wire::IcmpError::unreachable : wire::IcmpError::too_big);
      drop(m, no_route ? Drop::no_route : Drop::too_big);
      continue;
    }
    // The inner packet alone: strip Ethernet and any Ethernet padding.
    rte_pktmbuf_adj(m, r.l3_off[i]);
    rte_pktmbuf_trim(m, static_cast<std::uint16_t>(m->data_len - r.l3_len[i]));

    Peer& pr = dp_.peers[peer];
    Keypair* kp = dp_.keypairs.lookup(pr.current.load(std::memory_order_acquire));
    if (kp == nullptr || now - kp->birth >= spec::REJECT_AFTER_TIME) {
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
  encrypt_and_queue(out, k, now);
}

unsigned Worker::send_to_peer(PeerId peer, rte_mbuf** pkts, unsigned n, Nanos now) {
  Peer& pr = dp_.peers[peer];
  Keypair* kp = dp_.keypairs.lookup(pr.current.load(std::memory_order_acquire));
  const PeerRoute* route = pr.route.load(std::memory_order_acquire);
  if (kp == nullptr || route == nullptr || now - kp->birth >= spec::REJECT_AFTER_TIME) return 0;
  OutPacket out[kBurst];
  unsigned k = 0;
  for (; k < n && k < kBurst; ++k) {
    out[k] = {pkts[k], kp, route, peer, static_cast<std::uint16_t>(pkts[k]->data_len), 0};
  }
  encrypt_and_queue(out, k, now);
  return k;
}

void Worker::encrypt_and_queue(OutPacket* out, unsigned k, Nanos now) {
  if (k == 0) return;

  // --- 4: nonces, one fetch_add per keypair: count the packets of each keypair (a small hash
  // table: with many peers every packet may have its own), reserve, hand out in packet order ---
  struct Reservation {
    Keypair* kp;
    std::uint64_t next;
  };
  Reservation res[kBurst];
  std::uint8_t res_of[kBurst];
  constexpr unsigned kSlots = 2 * kBurst;  // power of two, at most half full
  std::uint8_t slot[kSlots];
  std::memset(slot, 0xFF, sizeof slot);
  unsigned nres = 0;
  static_assert(kSlots == 64, "the hash below keeps 6 bits");
  for (unsigned i = 0; i < k; ++i) {
    Keypair* kp = out[i].kp;
    if (i != 0 && kp == out[i - 1].kp) {  // a run of one flow: no hashing
      res_of[i] = res_of[i - 1];
      ++res[res_of[i]].next;
      continue;
    }
    unsigned h = static_cast<unsigned>(
        ((reinterpret_cast<std::uintptr_t>(kp) >> 6) * 0x9E3779B97F4A7C15ull) >> 58);
    while (slot[h] != 0xFF && res[slot[h]].kp != kp) h = (h + 1) & (kSlots - 1);
    if (slot[h] == 0xFF) {
      slot[h] = static_cast<std::uint8_t>(nres);
      res[nres++] = {kp, 0};
    }
    res_of[i] = slot[h];
    ++res[slot[h]].next;  // a count until the reservation below
  }
  for (unsigned r = 0; r < nres; ++r) {
    res[r].next = res[r].kp->send_counter.fetch_add(res[r].next, std::memory_order_relaxed);
  }
  for (unsigned i = 0; i < k; ++i) out[i].counter = res[res_of[i]].next++;

  // --- 5: pad, make room, seal ----------------------------------------------------------------
  crypto::AeadJob jobs[kBurst];
  unsigned nj = 0;
  for (unsigned i = 0; i < k; ++i) {
    OutPacket& o = out[i];
    if (o.counter >= spec::REJECT_AFTER_MESSAGES) {
      post({Event::Kind::want_handshake, o.peer, 0, {}});
      drop(o.m, Drop::wg_key_expired);
      o.m = nullptr;
      continue;
    }
    const std::uint32_t padded = padded_length(o.inner_len, dp_.mtu);
    const std::uint32_t grow = padded - o.inner_len + wire::spec::kTagLen;
    const std::uint32_t hdr = o.route->outer.len + wire::spec::kTransportHeaderSize;
    if (rte_pktmbuf_tailroom(o.m) < grow || rte_pktmbuf_headroom(o.m) < hdr) {
      drop(o.m, Drop::no_headroom);
      o.m = nullptr;
      continue;
    }
    auto* plain = rte_pktmbuf_mtod(o.m, std::uint8_t*);
    std::memset(plain + o.inner_len, 0, padded - o.inner_len);
    rte_pktmbuf_append(o.m, static_cast<std::uint16_t>(grow));
    jobs[nj++] = {.key = o.kp->send_key,
                  .counter = o.counter,
                  .src = plain,
                  .dst = plain,
                  .len = padded,
                  .tag = plain + padded};
  }
  if (nj == 0) return;
  aead_.seal({jobs, nj});
  stats_.encrypted += nj;

  // --- 6: WireGuard and outer headers, accounting, TX -----------------------------------------
  for (unsigned i = 0; i < k; ++i) {  // back to L1 after the packet data went through it
    if (out[i].m == nullptr) continue;
    rte_prefetch0(out[i].kp);
    rte_prefetch0(out[i].route);
    __builtin_prefetch(&dp_.activity(id_, out[i].peer), 1);
  }
  // The peer's counters and time stamps (this worker's own row): one update per run of packets
  // to one peer (a burst is mostly one flow or a few) instead of one per packet.
  PeerId tally_peer = kNoPeer;
  std::uint64_t tally_bytes = 0, tally_packets = 0;
  bool tally_data = false;
  auto settle = [&] {
    if (tally_packets == 0) return;
    PeerActivity& a = dp_.activity(id_, tally_peer);
    PeerActivity::add(a.tx_bytes, tally_bytes);
    PeerActivity::add(a.tx_packets, tally_packets);
    if (tally_data) a.last_tx_data.store(now, std::memory_order_relaxed);
    tally_bytes = tally_packets = 0;
    tally_data = false;
  };
  for (unsigned i = 0; i < k; ++i) {
    OutPacket& o = out[i];
    if (o.m == nullptr) continue;
    auto* wg =
        reinterpret_cast<std::uint8_t*>(rte_pktmbuf_prepend(o.m, wire::spec::kTransportHeaderSize));
    store_le32(wg, static_cast<std::uint32_t>(wire::MessageType::transport));
    store_le32(wg + 4, o.kp->remote_index);
    store_le64(wg + 8, o.counter);
    const auto wg_len = static_cast<std::uint16_t>(o.m->data_len);
    auto* frame = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_prepend(o.m, o.route->outer.len));
    // The IPv4 id only has to differ between packets in flight (RFC 6864): the low bits of the
    // nonce counter do.
    o.route->outer.write(frame, wg_len, static_cast<std::uint16_t>(o.counter), 0);

    if (o.peer != tally_peer) {
      settle();
      tally_peer = o.peer;
    }
    tally_bytes += wg_len;
    ++tally_packets;
    tally_data |= o.inner_len != 0;  // keepalives are not data (protocol.md 5)
    // Keep the key fresh (protocol.md 4, send step 4).
    if (o.counter > spec::REKEY_AFTER_MESSAGES ||
        (o.kp->initiator && now - o.kp->birth > spec::REKEY_AFTER_TIME)) {
      Peer& pr = dp_.peers[o.peer];
      if (!pr.handshake_wanted.exchange(true, std::memory_order_relaxed) &&
          !post({Event::Kind::want_handshake, o.peer, 0, {}})) {
        pr.handshake_wanted.store(false, std::memory_order_relaxed);
      }
    }
    queue_tx(o.m, PortRole::outer);
  }
  settle();
}

}  // namespace meshgate::dataplane
