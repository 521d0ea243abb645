// A live tunnel between two ring gateways, seen from B (gateway 1): frame surgery on captured
// WireGuard frames, crafted transport messages, and what B did with one injected packet (drop
// counters, control-ring handoffs, LAN deliveries, peer transfer counters). For the drop tests.
#pragma once

#include <gtest/gtest.h>
#include <rte_config.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "meshgate/base/bytes.hpp"
#include "meshgate/control/gateway.hpp"
#include "meshgate/crypto/aead.hpp"
#include "meshgate/crypto/x25519.hpp"
#include "meshgate/dataplane/drops.hpp"
#include "meshgate/wire/checksum.hpp"
#include "meshgate/wire/classify.hpp"
#include "meshgate/wire/messages.hpp"
#include "packets.hpp"
#include "ring_gateways.hpp"

namespace meshgate::test::drops {

using Bytes = std::vector<std::uint8_t>;
using dataplane::Drop;
using dataplane::drop_index;
using dataplane::drop_name;
using wire::DropReason;

constexpr std::uint32_t kTypeTransport = 4;
constexpr std::size_t kWgHeader = wire::spec::kTransportHeaderSize;  // type, receiver, counter

// --- frame surgery --------------------------------------------------------------------------

/// Where the headers of an outer frame are (as classify_frame finds them).
struct Layout {
  std::size_t l3 = 0, l4 = 0, payload = 0;
  bool v6 = false;
};

inline Layout layout_of(const Bytes& f) {
  const wire::FrameInfo fi = wire::classify_frame(f.data(), f.size());
  EXPECT_TRUE(fi.ok()) << "not a well-formed frame: " << wire::drop_reason_name(fi.drop);
  return {fi.l3_off, fi.l4_off, fi.payload_off, fi.is_v6()};
}

inline void fix_ipv4_checksum(Bytes& f, std::size_t l3) {
  store_be16(f.data() + l3 + 10, 0);
  store_be16(f.data() + l3 + 10, wire::ipv4_header_checksum(f.data() + l3));
}

/// Recomputes the IP lengths, the IPv4 header checksum and the UDP length and checksum after the
/// UDP payload (everything after `lay.payload`) changed size or content.
inline void fix_lengths(Bytes& f, const Layout& lay) {
  std::uint8_t* ip = f.data() + lay.l3;
  std::uint8_t* udp = f.data() + lay.l4;
  const std::size_t udp_len = f.size() - lay.l4;
  store_be16(udp + 4, static_cast<std::uint16_t>(udp_len));
  store_be16(udp + 6, 0);
  if (lay.v6) {
    store_be16(ip + 4, static_cast<std::uint16_t>(f.size() - lay.l3 - 40));
    store_be16(udp + 6, wire::udp_checksum_v6(ip + 8, ip + 24, udp, udp_len));
  } else {
    store_be16(ip + 2, static_cast<std::uint16_t>(f.size() - lay.l3));
    fix_ipv4_checksum(f, lay.l3);
    store_be16(udp + 6, wire::udp_checksum_v4(ip + 12, ip + 16, udp, udp_len));
  }
}

/// The frame `base` with its UDP payload replaced by `payload`, every length and checksum right.
inline Bytes with_payload(const Bytes& base, const Bytes& payload) {
  const Layout lay = layout_of(base);
  Bytes f(base.begin(), base.begin() + static_cast<std::ptrdiff_t>(lay.payload));
  f.insert(f.end(), payload.begin(), payload.end());
  fix_lengths(f, lay);
  return f;
}

inline Bytes payload_of(const Bytes& frame) {
  const Layout lay = layout_of(frame);
  return Bytes(frame.begin() + static_cast<std::ptrdiff_t>(lay.payload), frame.end());
}

/// A WireGuard transport message (protocol.md 2): plaintext padded to 16, sealed with `key`.
inline Bytes seal_transport(const std::uint8_t key[32], std::uint32_t receiver,
                            std::uint64_t counter, Bytes plain) {
  plain.resize((plain.size() + 15) & ~std::size_t{15}, 0);
  Bytes msg(kWgHeader + plain.size() + wire::spec::kTagLen);
  store_le32(msg.data(), kTypeTransport);
  store_le32(msg.data() + 4, receiver);
  store_le64(msg.data() + 8, counter);
  std::uint8_t nonce[12] = {};
  store_le64(nonce + 4, counter);
  crypto::chacha20poly1305_seal(msg.data() + kWgHeader, key, nonce, plain.data(), plain.size(), {});
  return msg;
}

inline bool ipv4_header_ok(const Bytes& ip) {
  return wire::ipv4_header_checksum_ok(ip.data(), 20);
}

// --- what gateway B did with one packet -------------------------------------------------------

struct Snapshot {
  dataplane::DropCounters drops;
  dataplane::WorkerStats stats;
  std::uint64_t control_drops = 0;
  std::uint64_t peer_rx_packets = 0, peer_rx_bytes = 0;
  Nanos peer_last_rx_data = 0;
  std::size_t delivered = 0;
};

struct Outcome {
  std::vector<std::pair<std::size_t, std::uint64_t>>
      drops;  // counter slots that moved, by how much
  std::uint64_t rx_outer = 0, to_control = 0, tx_inner = 0;
  std::uint64_t control_drops = 0;
  std::uint64_t peer_rx_packets = 0, peer_rx_bytes = 0;
  bool last_rx_data_moved = false;
  std::vector<Bytes> delivered;

  std::string describe() const {
    std::ostringstream s;
    s << "drops {";
    for (auto [i, n] : drops) s << ' ' << drop_name(i) << "+" << n;
    s << " } to_control+" << to_control << " delivered " << delivered.size() << " rx_outer+"
      << rx_outer << " peer_rx+" << peer_rx_packets;
    return s.str();
  }
};

inline std::vector<std::pair<std::size_t, std::uint64_t>> moved(const dataplane::DropCounters& a,
                                                                const dataplane::DropCounters& b) {
  std::vector<std::pair<std::size_t, std::uint64_t>> out;
  for (std::size_t i = 0; i < dataplane::kDropCount; ++i) {
    if (b.count[i] != a.count[i]) out.emplace_back(i, b.count[i] - a.count[i]);
  }
  return out;
}

/// The pair of gateways with a live tunnel, seen from B (index 1), which receives.
class Tunnel {
 public:
  Tunnel(const std::string& tag, bool outer_v6)
      : net_(tag, outer_v6, control::GatewayLimits{.max_peers = 16, .mbufs = 2047}) {
    LanHost& a = net_.host(0);
    LanHost& b = net_.host(1);
    // Data both ways: B's keypair is confirmed, each side knows the other's endpoint and both
    // LAN hosts' MAC addresses are resolved.
    const Bytes there = udp_packet(a.ip4, b.ip4, 4000, 5000, pattern(100, 1));
    EXPECT_TRUE(a.send_ip(there));
    EXPECT_TRUE(net_.poll_until([&] { return !b.received.empty(); })) << "no tunnel A -> B";
    const Bytes back = udp_packet(b.ip4, a.ip4, 5000, 4000, pattern(100, 2));
    EXPECT_TRUE(b.send_ip(back));
    EXPECT_TRUE(net_.poll_until([&] { return !a.received.empty(); })) << "no tunnel B -> A";
    for (int i = 0; i < 20; ++i) net_.poll();
    a.received.clear();
    b.received.clear();
    auto peer = net_.gw(1).control().peers().find(
        crypto::x25519_public(net_.gw(0).control().sessions().identity().private_key));
    EXPECT_TRUE(peer.has_value());
    peer_a_ = peer.value_or(0);
    EXPECT_EQ(net_.gw(1).worker(0).drops().total(), 0u);
    EXPECT_EQ(net_.gw(0).worker(0).drops().total(), 0u);
  }

  RingGateways& net() { return net_; }
  LanHost& host(int i) { return net_.host(i); }
  control::Gateway& gw(int i) { return net_.gw(i); }
  const dataplane::Worker& worker_b() { return net_.gw(1).worker(0); }
  dataplane::Peer& peer_at_b() { return net_.gw(1).dataplane().peers[peer_a_]; }

  /// Has host A send `inner` and takes the WireGuard data frame A put on the wire before B saw
  /// it. Anything else A sent meanwhile is discarded.
  Bytes capture(const Bytes& inner) {
    EXPECT_TRUE(host(0).send_ip(inner));
    Bytes out;
    for (int step = 0; step < 20 && out.empty(); ++step) {
      net_.poll_only(0);
      rte_mbuf* m = nullptr;
      while (rte_ring_dequeue(net_.wire_to(1), reinterpret_cast<void**>(&m)) == 0) {
        const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
        Bytes f(p, p + m->data_len);
        rte_pktmbuf_free(m);
        const wire::FrameInfo fi = wire::classify_frame(f.data(), f.size());
        if (fi.ok() && fi.payload_len > wire::spec::kTransportMinSize &&
            load_le32(f.data() + fi.payload_off) == kTypeTransport) {
          out = std::move(f);
        }
      }
    }
    EXPECT_FALSE(out.empty()) << "A sent no data frame";
    return out;
  }

  /// B's receive keypair for the tunnel, found from the receiver index of a frame A sent.
  dataplane::Keypair& keypair_of(const Bytes& frame) {
    const std::uint32_t index = load_le32(payload_of(frame).data() + 4);
    dataplane::Keypair* kp = gw(1).dataplane().keypairs.lookup(index);
    EXPECT_NE(kp, nullptr);
    EXPECT_EQ(kp->peer, peer_a_);
    return *kp;
  }

  Snapshot snapshot() {
    Snapshot s;
    s.drops = worker_b().drops();
    s.stats = worker_b().stats();
    s.control_drops = gw(1).control().drops().total();
    const dataplane::PeerTotals t = net_.gw(1).dataplane().peer_totals(peer_a_);
    s.peer_rx_packets = t.rx_packets;
    s.peer_rx_bytes = t.rx_bytes;
    s.peer_last_rx_data = t.last_rx_data;
    s.delivered = host(1).received.size();
    return s;
  }

  Outcome since(const Snapshot& before) {
    const Snapshot after = snapshot();
    Outcome o;
    o.drops = moved(before.drops, after.drops);
    o.rx_outer = after.stats.rx_outer - before.stats.rx_outer;
    o.to_control = after.stats.to_control - before.stats.to_control;
    o.tx_inner = after.stats.tx_inner - before.stats.tx_inner;
    o.control_drops = after.control_drops - before.control_drops;
    o.peer_rx_packets = after.peer_rx_packets - before.peer_rx_packets;
    o.peer_rx_bytes = after.peer_rx_bytes - before.peer_rx_bytes;
    o.last_rx_data_moved = after.peer_last_rx_data != before.peer_last_rx_data;
    o.delivered.assign(host(1).received.begin() + static_cast<std::ptrdiff_t>(before.delivered),
                       host(1).received.end());
    return o;
  }

  rte_mbuf* mbuf_of(const Bytes& frame) {
    rte_mbuf* m = rte_pktmbuf_alloc(host(1).pool);
    EXPECT_NE(m, nullptr);
    if (m == nullptr) return nullptr;
    EXPECT_LE(frame.size(), rte_pktmbuf_tailroom(m));
    const std::size_t len = std::min<std::size_t>(frame.size(), rte_pktmbuf_tailroom(m));
    auto* p = rte_pktmbuf_append(m, static_cast<std::uint16_t>(len));
    if (len != 0) std::memcpy(p, frame.data(), len);
    return m;
  }

  /// Puts one mbuf on B's Internet port and runs B alone until it has been handled (worker and
  /// control thread), A not polled.
  Outcome inject(rte_mbuf* m) {
    const Snapshot before = snapshot();
    EXPECT_EQ(rte_ring_enqueue(net_.wire_to(1), m), 0);
    for (int i = 0; i < 3; ++i) net_.poll_only(1);
    return since(before);
  }
  Outcome inject(const Bytes& frame) { return inject(mbuf_of(frame)); }

 private:
  RingGateways net_;
  dataplane::PeerId peer_a_ = 0;
};

// --- verdicts ---------------------------------------------------------------------------------

inline void expect_drop(const Outcome& o, std::size_t slot, std::uint64_t peer_rx = 0) {
  EXPECT_EQ(o.rx_outer, 1u) << o.describe();
  ASSERT_EQ(o.drops.size(), 1u) << "want exactly " << drop_name(slot) << "; " << o.describe();
  EXPECT_STREQ(drop_name(o.drops[0].first), drop_name(slot)) << o.describe();
  EXPECT_EQ(o.drops[0].second, 1u) << o.describe();
  EXPECT_EQ(o.to_control, 0u) << o.describe();
  EXPECT_TRUE(o.delivered.empty()) << o.describe();
  // Only authenticated packets count towards the peer's transfer (`wg show`).
  EXPECT_EQ(o.peer_rx_packets, peer_rx) << o.describe();
  EXPECT_FALSE(o.last_rx_data_moved);
}
inline void expect_drop(const Outcome& o, Drop d, std::uint64_t peer_rx = 0) {
  expect_drop(o, drop_index(d), peer_rx);
}
inline void expect_drop(const Outcome& o, DropReason r) {
  expect_drop(o, drop_index(r));
}

/// `inner` as B must deliver it: its TTL already lowered by the gateways it crossed.
inline void expect_delivered(const Outcome& o, const Bytes& inner) {
  EXPECT_EQ(o.rx_outer, 1u) << o.describe();
  EXPECT_TRUE(o.drops.empty()) << o.describe();
  EXPECT_EQ(o.to_control, 0u) << o.describe();
  ASSERT_EQ(o.delivered.size(), 1u) << o.describe();
  EXPECT_EQ(o.delivered[0], inner);  // byte for byte: headers kept, padding stripped
  EXPECT_EQ(o.peer_rx_packets, 1u);
  EXPECT_TRUE(o.last_rx_data_moved);
}

/// Handed to the control thread (and freed there): no data-path drop, nothing on the LAN.
inline void expect_to_control(const Outcome& o) {
  EXPECT_EQ(o.rx_outer, 1u) << o.describe();
  EXPECT_TRUE(o.drops.empty()) << o.describe();
  EXPECT_EQ(o.to_control, 1u) << o.describe();
  EXPECT_TRUE(o.delivered.empty()) << o.describe();
  EXPECT_EQ(o.peer_rx_packets, 0u) << o.describe();
}

inline std::string outer_name(const ::testing::TestParamInfo<bool>& p) {
  return p.param ? "Ipv6" : "Ipv4";
}

}  // namespace meshgate::test::drops
