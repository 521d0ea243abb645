// The far side of gateway mode's live handshakes (`tunbench inmem --gateway --rekey-after`):
// N WireGuard peers, each with a static key of its own at its own endpoint (peer_endpoint), that
// answer the gateway's handshake initiations as a stock peer does. The gateway under test then
// makes and renews its keypairs itself, its control thread on its own timers, and its workers
// seal with whatever that thread installed; this side keeps the keys it derived, for the
// feeders to check the gateway's frames with.
//
// Thread contract: serve() on one thread (the lcore that runs the gateway's control thread);
// session() from any thread, lock-free (a feeder checking what a worker sent).
#pragma once

#include <rte_config.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "meshgate/base/result.hpp"
#include "meshgate/base/secret.hpp"
#include "meshgate/base/time.hpp"
#include "meshgate/noise/cookie.hpp"
#include "meshgate/noise/handshake.hpp"
#include "meshgate/wire/headers.hpp"
#include "site.hpp"

namespace tunbench {

class PeerSide {
 public:
  /// Peers 0..peers-1, each with a fresh static key, configured for the gateway whose static
  /// public key is `gateway`. Two X25519 operations a peer: about 10 s for 100,000.
  static meshgate::Result<std::unique_ptr<PeerSide>> create(unsigned peers,
                                                            const meshgate::Key32& gateway);
  const meshgate::Key32& public_key(PeerId p) const noexcept { return peers_[p].id.public_key; }

  /// Takes every frame the gateway's control thread sent on the Internet port (`from_gateway`,
  /// its TX ring): each initiation is answered into `to_gateway` (an RX ring of that port; the
  /// caller's thread is its only producer) from the peer's endpoint to the gateway's MAC
  /// `gateway_mac`, with mbufs of `pool`; the rest is counted and freed. Returns the frames taken.
  unsigned serve(rte_ring* from_gateway, rte_ring* to_gateway, rte_mempool* pool,
                 const meshgate::wire::MacAddr& gateway_mac);

  /// The peer and the key that open the gateway's messages to receiver index `index`: the
  /// session this side made under that index. False for an index it never gave out.
  bool session(std::uint32_t index, PeerId& peer, meshgate::SecretKey& key) const noexcept;

  struct Stats {
    std::uint64_t initiations = 0;  // answered
    std::uint64_t refused = 0;      // initiations that failed a check here, or found no room
    std::uint64_t transport = 0;    // data and keepalives the control thread sent
    std::uint64_t arp_replies = 0;  // for the router and the on-link endpoints
    std::uint64_t other = 0;        // anything else (cookie replies, ...)
  };
  /// serve()'s thread, or after it stopped.
  const Stats& stats() const noexcept { return stats_; }

 private:
  /// The last kGenerations sessions of a peer, by the peer's handshake number modulo this. The
  /// gateway seals with its newest keypair only, so an index four handshakes old has no frame
  /// left in flight when its entry is reused.
  static constexpr unsigned kGenerations = 4;

  struct Peer {
    meshgate::noise::StaticIdentity id;
    meshgate::noise::Handshake hs;
    meshgate::noise::CookieSender cookie;  // mac1 for the gateway
    std::uint32_t handshakes = 0;
  };
  /// One session's entry: written by serve() (index 0 while the key changes), read by anyone.
  struct Entry {
    std::atomic<std::uint32_t> index{0};
    std::atomic<std::uint64_t> key[4] = {};
  };

  explicit PeerSide(unsigned peers) : peers_(peers), entries_(peers * kGenerations) {}
  /// Answers an ARP request from the gateway for one of next_hops_, as that host would: the
  /// control thread probes a next hop once its entry grows stale (30 s), and unanswered it
  /// would fail, with frames held waiting for it.
  void answer_arp(const std::uint8_t* f, std::size_t len, rte_ring* to_gateway, rte_mempool* pool);
  /// Answers peer p's initiation; false (counted) when it does not check out.
  bool answer(const meshgate::wire::MessageInitiation& msg, PeerId p,
              meshgate::wire::MessageResponse& out);
  void publish(PeerId p, std::uint32_t index, const meshgate::SecretKey& key) noexcept;
  std::uint32_t index_of(PeerId p, std::uint32_t handshake) const noexcept {
    return 1 + p + static_cast<std::uint32_t>(peers_.size()) * handshake;
  }
  /// The response from peer p's endpoint to the gateway, in a frame; null without an mbuf.
  rte_mbuf* frame(const meshgate::wire::MessageResponse& msg, PeerId p, rte_mempool* pool,
                  const meshgate::wire::MacAddr& gateway_mac) const;

  std::vector<Peer> peers_;
  std::vector<Entry> entries_;  // peer p's generation g at p * kGenerations + g
  std::unordered_map<std::uint64_t, PeerId> peer_at_;  // endpoint (address << 16 | port)
  /// The outer /24's hosts that answer ARP: the router and the on-link endpoints (address).
  std::unordered_map<std::uint32_t, meshgate::wire::MacAddr> next_hops_;
  meshgate::Key32 gateway_{};
  Stats stats_;
};

}  // namespace tunbench
