// Outbound stages 4-6 (see sealer.hpp). Called with up to a burst of packets, each stage one
// pass over the burst, so a stage's table lines are loaded together rather than per packet.
#include "meshgate/dataplane/sealer.hpp"

#include <cstring>

#include "meshgate/base/bytes.hpp"
#include "meshgate/base/prefetch.hpp"
#include "meshgate/peer/timers.hpp"
#include "meshgate/wire/messages.hpp"
#include "meshgate/wire/rewrite.hpp"

namespace meshgate::dataplane {

namespace {

void drop(rte_mbuf*& m, Drop d, DropCounters& drops) noexcept {
  drops.add(d);
  rte_pktmbuf_free(m);
  m = nullptr;
}

}  // namespace

Sealer::Sealer(Dataplane& dp, unsigned writer, crypto::AeadBackend backend)
    : dp_(dp), writer_(writer), aead_(backend) {}

unsigned Sealer::seal(OutPacket* out, unsigned k, Nanos now, DropCounters& drops) noexcept {
  if (k == 0) return 0;
  reserve_nonces(out, k);
  const unsigned sealed = pad_and_seal(out, k, drops);
  if (sealed != 0) frame_and_account(out, k, now, drops);
  return sealed;
}

unsigned Sealer::seal_for_peer(PeerId peer, rte_mbuf** pkts, unsigned n, Nanos now,
                               DropCounters& drops) noexcept {
  const PeerRoute* route = dp_.peers[peer].route.load(std::memory_order_acquire);
  if (route == nullptr) return 0;
  return seal_for_route(peer, *route, pkts, n, now, drops);
}

unsigned Sealer::seal_for_route(PeerId peer, const PeerRoute& route, rte_mbuf** pkts, unsigned n,
                                Nanos now, DropCounters& drops) noexcept {
  Keypair* kp = dp_.keypairs.lookup(dp_.peers[peer].current.load(std::memory_order_acquire));
  if (kp == nullptr || now - kp->birth >= wire::spec::kRejectAfterTime) return 0;
  OutPacket out[impl::kBurst];
  unsigned k = 0;
  for (; k < n && k < impl::kBurst; ++k) {
    out[k] = {pkts[k], kp, &route, peer, static_cast<std::uint16_t>(pkts[k]->data_len), 0};
  }
  seal(out, k, now, drops);
  for (unsigned i = 0; i < k; ++i) pkts[i] = out[i].m;
  return k;
}

// --- 4: nonces, one fetch_add per keypair: count the packets of each keypair (a small hash table:
// with many peers every packet may have its own), reserve, hand out in packet order ------------
void Sealer::reserve_nonces(OutPacket* out, unsigned k) noexcept {
  struct Reservation {
    Keypair* kp;
    std::uint64_t next;  // a count until the reservation below
  };
  Reservation res[impl::kBurst];
  std::uint8_t res_of[impl::kBurst];
  std::uint8_t slot[impl::kNonceSlots];
  std::memset(slot, 0xFF, sizeof slot);
  unsigned nres = 0;
  static_assert(impl::kNonceSlots == 64, "the hash below keeps 6 bits");
  for (unsigned i = 0; i < k; ++i) {
    Keypair* kp = out[i].kp;
    if (i != 0 && kp == out[i - 1].kp) {  // a run of one flow: no hashing
      res_of[i] = res_of[i - 1];
      ++res[res_of[i]].next;
      continue;
    }
    unsigned h = static_cast<unsigned>(
        ((reinterpret_cast<std::uintptr_t>(kp) >> 6) * 0x9E3779B97F4A7C15ull) >> 58);
    while (slot[h] != 0xFF && res[slot[h]].kp != kp) h = (h + 1) & (impl::kNonceSlots - 1);
    if (slot[h] == 0xFF) {
      slot[h] = static_cast<std::uint8_t>(nres);
      res[nres++] = {kp, 0};
    }
    res_of[i] = slot[h];
    ++res[slot[h]].next;
  }
  for (unsigned r = 0; r < nres; ++r) {
    res[r].next = res[r].kp->send_counter.fetch_add(res[r].next, std::memory_order_relaxed);
  }
  for (unsigned i = 0; i < k; ++i) out[i].counter = res[res_of[i]].next++;
}

// --- 5: pad, make room, seal in one batch --------------------------------------------------------
unsigned Sealer::pad_and_seal(OutPacket* out, unsigned k, DropCounters& drops) noexcept {
  crypto::AeadJob jobs[impl::kBurst];
  unsigned nj = 0;
  for (unsigned i = 0; i < k; ++i) {
    OutPacket& o = out[i];
    if (o.counter >= wire::spec::kRejectAfterMessages) {
      post_event(dp_, {.kind = Event::Kind::want_handshake, .peer = o.peer}, drops);
      drop(o.m, Drop::wg_key_expired, drops);
      continue;
    }
    const auto padded = static_cast<std::uint32_t>(wire::padded_len(o.inner_len, dp_.mtu));
    const std::uint32_t grow = padded - o.inner_len + wire::spec::kTagLen;
    const std::uint32_t hdr = o.route->outer.len + wire::spec::kTransportHeaderSize;
    if (rte_pktmbuf_tailroom(o.m) < grow || rte_pktmbuf_headroom(o.m) < hdr) {
      drop(o.m, Drop::no_headroom, drops);
      continue;
    }
    auto* plain = rte_pktmbuf_mtod(o.m, std::uint8_t*);
    // Read before the seal hides it; DSCP is not copied (the kernel's WireGuard does not).
    o.tos = o.inner_len == 0 ? 0 : wire::ecn_encapsulate(wire::ecn_of(plain));
    std::memset(plain + o.inner_len, 0, padded - o.inner_len);
    append_tail(o.m, static_cast<std::uint16_t>(grow));
    jobs[nj++] = {.key = o.kp->send_key,
                  .counter = o.counter,
                  .src = plain,
                  .dst = plain,
                  .len = padded,
                  .tag = plain + padded};
  }
  if (nj != 0) aead_.seal({jobs, nj});
  return nj;
}

// --- 6: WireGuard and outer headers, the peer's activity, keep the key fresh ---------------------
void Sealer::frame_and_account(OutPacket* out, unsigned k, Nanos now,
                               DropCounters& drops) noexcept {
  for (unsigned i = 0; i < k; ++i) {  // back to L1 after the packet data went through it
    if (out[i].m == nullptr) continue;
    rte_prefetch0(out[i].kp);
    rte_prefetch0(out[i].route);
    prefetch_write(&dp_.activity(writer_, out[i].peer));
  }
  // The peer's counters and time stamps (this writer's own row): one update per run of packets
  // to one peer (a burst is mostly one flow or a few) instead of one per packet.
  PeerId tally_peer = kNoPeer;
  std::uint64_t tally_bytes = 0, tally_packets = 0;
  bool tally_data = false;
  auto settle = [&] {
    if (tally_packets == 0) return;
    PeerActivity& a = dp_.activity(writer_, tally_peer);
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
    o.route->outer.write(frame, wg_len, static_cast<std::uint16_t>(o.counter), o.tos);
    if (o.peer != tally_peer) {
      settle();
      tally_peer = o.peer;
    }
    tally_bytes += wg_len;
    ++tally_packets;
    tally_data |= o.inner_len != 0;  // keepalives are not data (protocol.md 5)
    // Keep the key fresh (protocol.md 4, send step 4).
    if (peer::keep_key_fresh_on_send(o.counter, o.kp->initiator, o.kp->birth, now,
                                     dp_.rekey_after_time)) {
      want_handshake(o.peer, drops);
    }
  }
  settle();
}

void Sealer::want_handshake(PeerId peer, DropCounters& drops) noexcept {
  // One request until the control thread clears the flag, not one per packet of the burst. The
  // flag is read first: until the handshake completes every packet to the peer comes here, and
  // an exchange on each would bounce the peer's line between all workers sealing for it.
  Peer& pr = dp_.peers[peer];
  if (pr.handshake_wanted.load(std::memory_order_relaxed)) return;
  if (!pr.handshake_wanted.exchange(true, std::memory_order_relaxed) &&
      !post_event(dp_, {.kind = Event::Kind::want_handshake, .peer = peer}, drops)) {
    pr.handshake_wanted.store(false, std::memory_order_relaxed);
  }
}

}  // namespace meshgate::dataplane
