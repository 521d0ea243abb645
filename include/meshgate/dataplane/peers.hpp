// Peers as the workers see them: a fixed array indexed by PeerId.
//
// Thread contract: the control thread is the only writer of the keypair slots and the route;
// it publishes with release stores, and frees a replaced route after an RCU grace period.
// Workers read with acquire loads and write nothing here but handshake_wanted; their counters
// and activity timestamps go to rows of their own (PeerActivity).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>

#include "meshgate/base/huge_array.hpp"
#include "meshgate/base/ip.hpp"
#include "meshgate/base/time.hpp"
#include "meshgate/dataplane/keypairs.hpp"
#include "meshgate/wire/build.hpp"

namespace meshgate::dataplane {

/// Where a peer's packets go: its endpoint and the outer Ethernet/IP/UDP header to reach it.
/// Immutable once published; the control thread builds a new one when the endpoint or the
/// next hop's MAC changes. Sending reads the first line (an IPv4 template), receiving the second
/// (the endpoint, to notice roaming).
struct alignas(64) PeerRoute {
  wire::OuterTemplate outer;
  Endpoint endpoint;
};

/// A 32-bit fingerprint of an endpoint, never 0 (0 stands for none). Keypairs carry their peer's
/// (Keypair::endpoint_tag), so the receive path checks a packet's source without loading the
/// peer's row and route; on a mismatch the control thread compares the endpoints themselves.
/// Two endpoints with one tag (about 1 in 2^31) would hide a roam until the next handshake,
/// which updates the endpoint on its own.
inline std::uint32_t endpoint_tag(const Endpoint& e) noexcept {
  std::uint64_t a = 0, b = 0;
  std::memcpy(&a, e.addr.bytes.data(), 8);
  std::memcpy(&b, e.addr.bytes.data() + 8, 8);
  // The channel is part of the endpoint: the same TURN server on another channel is another
  // peer path, and a direct packet from the server's address is not a relayed one.
  const std::uint64_t x = (std::uint64_t{e.channel} << 24) | (std::uint64_t{e.port} << 8) |
                          static_cast<std::uint8_t>(e.addr.family);
  std::uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15ull) ^ x) * 0xD6E8FEB86659FD93ull;
  h ^= h >> 29;
  h *= 0x9E3779B97F4A7C15ull;
  return static_cast<std::uint32_t>(h >> 32) | 1u;
}

struct alignas(64) Peer {
  // Keypair slots by our receiver index (0 = empty). Sending uses `current` only.
  std::atomic<std::uint32_t> current{0};
  std::atomic<std::uint32_t> previous{0};
  std::atomic<std::uint32_t> next{0};
  std::atomic<const PeerRoute*> route{nullptr};
  std::atomic<bool> active{false};
  /// Set by a worker that asked the control thread for a handshake; cleared by the control
  /// thread when it sends the initiation or a fresh keypair becomes current (KeySlots). Keeps
  /// the packets sent meanwhile from flooding the control ring with the same request.
  std::atomic<bool> handshake_wanted{false};

  // Counters and activity timestamps: per worker, in Dataplane::activity (PeerActivity).
};

/// What one worker records about one peer as packets pass. Each worker (and the control thread's
/// TX) has a row of its own per peer (Dataplane::activity), so no two threads write one line and
/// no update needs a locked instruction: the counters went from two `lock xadd`s per packet on a
/// line all workers share to plain stores (bench/RESULTS.md). The control thread reads every
/// row (Dataplane::peer_totals).
struct alignas(64) PeerActivity {
  std::atomic<std::uint64_t> rx_bytes{0};  // UDP payload bytes, as `wg show`
  std::atomic<std::uint64_t> tx_bytes{0};
  std::atomic<std::uint64_t> rx_packets{0};
  std::atomic<std::uint64_t> tx_packets{0};
  std::atomic<Nanos> last_rx_auth{0};  // any authenticated packet (data or keepalive)
  std::atomic<Nanos> last_rx_data{0};  // a non-keepalive data packet
  std::atomic<Nanos> last_tx_data{0};

  /// The row's owner adds to a counter: it is the only writer, so a load and a store do.
  static void add(std::atomic<std::uint64_t>& c, std::uint64_t n) noexcept {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
};

/// A peer's activity over every worker: counters summed, timestamps the latest.
struct PeerTotals {
  std::uint64_t rx_bytes = 0, tx_bytes = 0, rx_packets = 0, tx_packets = 0;
  Nanos last_rx_auth = 0, last_rx_data = 0, last_tx_data = 0;
};

class PeerTable {
 public:
  explicit PeerTable(std::uint32_t capacity) : capacity_(capacity), peers_(capacity) {}
  Peer& operator[](PeerId id) noexcept { return peers_[id]; }
  const Peer& operator[](PeerId id) const noexcept { return peers_[id]; }
  std::uint32_t capacity() const noexcept { return capacity_; }

 private:
  std::uint32_t capacity_;
  HugeArray<Peer> peers_;  // indexed at random per packet: huge pages where available
};

}  // namespace meshgate::dataplane
