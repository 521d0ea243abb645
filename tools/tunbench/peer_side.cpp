#include "peer_side.hpp"

#include <cstring>

#include "meshgate/base/bytes.hpp"
#include "meshgate/crypto/x25519.hpp"
#include "meshgate/wire/build.hpp"
#include "meshgate/wire/messages.hpp"

namespace tunbench {

using namespace meshgate;

namespace {

std::uint64_t endpoint_key(const IpAddr& addr, std::uint16_t port) {
  return std::uint64_t{load_be32(addr.bytes.data())} << 16 | port;
}

}  // namespace

Result<std::unique_ptr<PeerSide>> PeerSide::create(unsigned peers, const Key32& gateway) {
  std::unique_ptr<PeerSide> s(new PeerSide(peers));
  s->gateway_ = gateway;
  s->next_hops_[load_be32(outer_router().bytes.data())] = kRouterMac;
  for (PeerId p = 0; p < peers; ++p) {
    Peer& pe = s->peers_[p];
    pe.id.set_private_key(crypto::x25519_generate());
    if (auto st = noise::handshake_configure(pe.hs, pe.id, gateway, nullptr); !st) {
      return Error{"peer " + std::to_string(p) + ": " + st.error()};
    }
    pe.cookie.init(gateway);
    const Endpoint ep = peer_endpoint(p);
    if (endpoint_next_hop_mac(p) != kRouterMac) {
      s->next_hops_[load_be32(ep.addr.bytes.data())] = endpoint_next_hop_mac(p);
    }
    if (!s->peer_at_.emplace(endpoint_key(ep.addr, ep.port), p).second) {
      return Error{"two peers at " + ep.str()};
    }
  }
  return s;
}

unsigned PeerSide::serve(rte_ring* from_gateway, rte_ring* to_gateway, rte_mempool* pool,
                         const wire::MacAddr& gateway_mac) {
  rte_mbuf* got[32];
  const unsigned n =
      rte_ring_sc_dequeue_burst(from_gateway, reinterpret_cast<void**>(got), 32, nullptr);
  for (unsigned i = 0; i < n; ++i) {
    rte_mbuf* m = got[i];
    const auto* f = rte_pktmbuf_mtod(m, const std::uint8_t*);
    const std::size_t len = m->data_len;
    // The gateway writes plain Ethernet + IPv4 (20 bytes) + UDP to an IPv4 endpoint.
    const bool udp4 =
        len > wire::kOuterV4Len && load_be16(f + 12) == 0x0800 && f[14] == 0x45 && f[23] == 17;
    const std::uint8_t type = udp4 ? f[wire::kOuterV4Len] : 0;
    if (type == static_cast<std::uint8_t>(wire::MessageType::transport)) {
      ++stats_.transport;
    } else if (load_be16(f + 12) == wire::spec::kEtherTypeArp) {
      answer_arp(f, len, to_gateway, pool);
    } else if (type != static_cast<std::uint8_t>(wire::MessageType::initiation) ||
               len != wire::kOuterV4Len + sizeof(wire::MessageInitiation)) {
      ++stats_.other;
    } else {
      const auto at = peer_at_.find(std::uint64_t{load_be32(f + 30)} << 16 | load_be16(f + 36));
      wire::MessageInitiation msg;
      std::memcpy(&msg, f + wire::kOuterV4Len, sizeof msg);
      wire::MessageResponse resp;
      rte_mbuf* r = nullptr;
      if (at != peer_at_.end() && answer(msg, at->second, resp)) {
        r = frame(resp, at->second, pool, gateway_mac);
      }
      if (r != nullptr && rte_ring_sp_enqueue(to_gateway, r) == 0) {
        ++stats_.initiations;
      } else {
        ++stats_.refused;
        rte_pktmbuf_free(r);  // null: a no-op
      }
    }
    rte_pktmbuf_free(m);
  }
  return n;
}

void PeerSide::answer_arp(const std::uint8_t* f, std::size_t len, rte_ring* to_gateway,
                          rte_mempool* pool) {
  wire::ArpHdr arp;
  if (len < sizeof(wire::EthHdr) + sizeof arp) return void(++stats_.other);
  std::memcpy(&arp, f + sizeof(wire::EthHdr), sizeof arp);
  const auto at = next_hops_.find(load_be32(arp.tpa));
  if (arp.oper.get() != wire::spec::kArpOpRequest || at == next_hops_.end())
    return void(++stats_.other);
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  auto* r = m == nullptr ? nullptr
                         : reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(
                               m, static_cast<std::uint16_t>(wire::spec::kEthMinFrame)));
  if (r == nullptr) return rte_pktmbuf_free(m);
  wire::build_arp_reply(r, at->second, IpAddr::v4_bytes(arp.tpa), arp.sha,
                        IpAddr::v4_bytes(arp.spa));
  if (rte_ring_sp_enqueue(to_gateway, m) != 0) return rte_pktmbuf_free(m);
  ++stats_.arp_replies;
}

bool PeerSide::answer(const wire::MessageInitiation& msg, PeerId p, wire::MessageResponse& out) {
  Peer& pe = peers_[p];
  const Nanos now = monotonic_now();
  noise::PendingInitiation pending;
  if (noise::decrypt_initiation_static(msg, pe.id, pending) != noise::HandshakeDrop::none ||
      pending.initiator_static != gateway_ ||
      noise::consume_initiation(pending, msg, pe.hs, now) != noise::HandshakeDrop::none) {
    return false;
  }
  const std::uint32_t index = index_of(p, pe.handshakes);
  noise::SessionKeys keys;
  if (noise::create_response(out, pe.hs, pe.id, index) != noise::HandshakeDrop::none ||
      noise::begin_session(pe.hs, keys, now) != noise::HandshakeDrop::none) {
    return false;
  }
  pe.cookie.add_macs(out, now);
  // Before the response leaves: the gateway seals with the new keypair only after it.
  publish(p, index, keys.recv);
  ++pe.handshakes;
  return true;
}

void PeerSide::publish(PeerId p, std::uint32_t index, const SecretKey& key) noexcept {
  Entry& e = entries_[std::size_t{p} * kGenerations + (index - 1) / peers_.size() % kGenerations];
  e.index.store(0, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);  // readers see 0 before a changed key
  for (std::size_t w = 0; w < 4; ++w) {
    std::uint64_t v;
    std::memcpy(&v, key.data() + 8 * w, 8);
    e.key[w].store(v, std::memory_order_relaxed);
  }
  e.index.store(index, std::memory_order_release);
}

bool PeerSide::session(std::uint32_t index, PeerId& peer, SecretKey& key) const noexcept {
  if (index == 0) return false;
  const std::size_t n = peers_.size();
  peer = static_cast<PeerId>((index - 1) % n);
  const Entry& e = entries_[std::size_t{peer} * kGenerations + (index - 1) / n % kGenerations];
  if (e.index.load(std::memory_order_acquire) != index) return false;
  for (std::size_t w = 0; w < 4; ++w) {
    const std::uint64_t v = e.key[w].load(std::memory_order_relaxed);
    std::memcpy(key.data() + 8 * w, &v, 8);
  }
  std::atomic_thread_fence(std::memory_order_acquire);  // the key read, then the index again
  return e.index.load(std::memory_order_relaxed) == index;
}

rte_mbuf* PeerSide::frame(const wire::MessageResponse& msg, PeerId p, rte_mempool* pool,
                          const wire::MacAddr& gateway_mac) const {
  const Endpoint ep = peer_endpoint(p);
  const auto outer = wire::OuterTemplate::make(endpoint_next_hop_mac(p), gateway_mac, ep.addr,
                                               outer_address(), ep.port, kListenPort);
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  auto* f = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, outer.len + sizeof msg));
  std::memcpy(f + outer.len, &msg, sizeof msg);
  outer.write(f, sizeof msg, 0, 0);
  return m;
}

}  // namespace tunbench
