// Outer fragments (dataplane/reassembly.hpp) between two gateways over net_ring: a transport
// message that crossed a small-MTU path arrives in pieces, in any order, over IPv4 and IPv6, and
// is delivered; a flood of fragments that never complete holds a bounded number of mbufs, is
// counted, and gives every mbuf back once the timeout passes.
#include "meshgate/dataplane/reassembly.hpp"

#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "meshgate/wire/checksum.hpp"
#include "meshgate/wire/classify.hpp"
#include "outer_fragments.hpp"
#include "packets.hpp"
#include "ring_gateways.hpp"

namespace meshgate::test {
namespace {

using Bytes = std::vector<std::uint8_t>;
using dataplane::Drop;

const control::GatewayLimits kSmall{.max_peers = 16, .mbufs = 4095};

bool inject(rte_ring* r, rte_mempool* pool, const Bytes& frame) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return false;
  std::memcpy(rte_pktmbuf_append(m, static_cast<std::uint16_t>(frame.size())), frame.data(),
              frame.size());
  if (rte_ring_enqueue(r, m) == 0) return true;
  rte_pktmbuf_free(m);
  return false;
}

/// Two gateways with a session; A's next transport messages, captured on the wire to B.
struct Captured {
  explicit Captured(bool outer_v6) : net(outer_v6 ? "rf6" : "rf4", outer_v6, kSmall) {
    LanHost& a = net.host(0);
    LanHost& b = net.host(1);
    EXPECT_TRUE(a.send_ip(udp_packet(a.ip4, b.ip4, 1, 2, pattern(100, 1))));
    EXPECT_TRUE(net.poll_until([&] { return !b.received.empty(); }));
    b.received.clear();
  }
  /// A's transport message carrying `inner`, taken off the wire before B sees it.
  Bytes transport(const Bytes& inner) {
    EXPECT_TRUE(net.host(0).send_ip(inner));
    for (int i = 0; i < 10; ++i) {
      net.poll_only(0);
      for (const Bytes& f : drain(net.wire_to(1))) {
        const wire::FrameInfo fi = wire::classify_frame(f.data(), f.size());
        if (fi.ok() && fi.payload_len > 32 && f[fi.payload_off] == 4) return f;
      }
    }
    ADD_FAILURE() << "no transport message from A";
    return {};
  }
  RingGateways net;
};

std::string dump(control::Gateway& g) {
  std::string out = "reassembled " + std::to_string(g.worker(0).reassembled());
  const dataplane::DropCounters& d = g.worker(0).drops();
  for (std::size_t i = 0; i < dataplane::kDropCount; ++i) {
    if (d.count[i] != 0)
      out += std::string(" ") + dataplane::drop_name(i) + "=" + std::to_string(d.count[i]);
  }
  return out;
}

void delivered_in_pieces(bool outer_v6) {
  Captured c(outer_v6);
  control::Gateway& b = c.net.gw(1);
  LanHost& host = c.net.host(1);
  const Bytes inner = udp_packet(c.net.host(0).ip4, host.ip4, 7, 8, pattern(1300, 3));
  const Bytes second = udp_packet(c.net.host(0).ip6, host.ip6, 7, 8, pattern(1000, 4));

  // In order, three pieces (a path MTU of 576).
  const auto in_order = fragments(c.transport(inner), 512, 0x1234);
  ASSERT_EQ(in_order.size(), 3u);
  for (const Bytes& f : in_order) ASSERT_TRUE(inject(c.net.wire_to(1), b.dataplane().pool, f));
  c.net.poll_only(1);
  ASSERT_EQ(host.received.size(), 1u);
  EXPECT_EQ(host.received[0], forwarded(inner, 2));

  // Last piece first, then the first, then the middle ones.
  auto pieces = fragments(c.transport(second), 256, 0x5678);
  ASSERT_GE(pieces.size(), 4u);
  std::rotate(pieces.begin(), pieces.end() - 1, pieces.end());
  std::swap(pieces[1], pieces[pieces.size() - 1]);
  for (const Bytes& f : pieces) ASSERT_TRUE(inject(c.net.wire_to(1), b.dataplane().pool, f));
  for (int i = 0; i < 5; ++i) c.net.poll_only(1);  // the first IPv6 packet to the host: NDP
  ASSERT_EQ(host.received.size(), 2u) << dump(b);
  EXPECT_EQ(host.received[1], forwarded(second, 2));

  EXPECT_EQ(b.worker(0).reassembled(), 2u);
  EXPECT_EQ(b.worker(0).drops().total(), 0u);
  EXPECT_EQ(b.metrics().lcores[0].reassembled, 2u);
}

TEST(OuterFragments, Ipv4PiecesInAndOutOfOrderAreDelivered) {
  delivered_in_pieces(false);
}

TEST(OuterFragments, Ipv6PiecesInAndOutOfOrderAreDelivered) {
  delivered_in_pieces(true);
}

TEST(OuterFragments, ADatagramTooBigForAnMbufIsDroppedWithItsReason) {
  Captured c(false);
  control::Gateway& b = c.net.gw(1);
  // 3000 bytes of UDP payload in a datagram that is never a message of ours; the pieces are
  // real, so the table completes it, and it cannot be made one segment.
  Bytes frame = c.transport(udp_packet(c.net.host(0).ip4, c.net.host(1).ip4, 7, 8, pattern(64, 1)));
  frame.resize(14 + 20 + 3000);
  store_be16(frame.data() + 14 + 2, 20 + 3000);
  store_be16(frame.data() + 14 + 10, 0);
  store_be16(frame.data() + 14 + 10, wire::ipv4_header_checksum(frame.data() + 14));
  for (const Bytes& f : fragments(frame, 1400, 99)) {
    ASSERT_TRUE(inject(c.net.wire_to(1), b.dataplane().pool, f));
  }
  c.net.poll_only(1);
  EXPECT_EQ(b.worker(0).drops()[Drop::fragmented_too_big], 1u);
  EXPECT_EQ(b.worker(0).reassembled(), 1u);
}

TEST(OuterFragments, AFloodOfIncompleteDatagramsIsBoundedCountedAndExpires) {
  Captured c(false);
  control::Gateway& b = c.net.gw(1);
  rte_mempool* pool = b.dataplane().pool;
  const Bytes base = c.transport(udp_packet(c.net.host(0).ip4, c.net.host(1).ip4, 7, 8, {}));
  for (int i = 0; i < 5; ++i) c.net.poll_only(1);
  drain(c.net.wire_to(0));
  const unsigned start = rte_mempool_avail_count(pool);

  // Fragments of datagrams that never complete: random ids from more than the table holds, random
  // offsets, never a first piece (offset 0) nor a last one.
  std::mt19937 rng(7);
  const dataplane::ReassemblyLimits& limits = b.dataplane().reassembly;
  Bytes big = base;
  big.resize(14 + 20 + 8192);
  unsigned sent = 0;
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 200; ++i) {
      const std::uint32_t offset = 8 * (1 + rng() % 1000);
      ASSERT_TRUE(inject(c.net.wire_to(1), pool, fragment(big, offset, 64, true, rng() % 1000)));
      ++sent;
    }
    while (rte_ring_count(c.net.wire_to(1)) != 0) c.net.poll_only(1, 100'000, false);
    const unsigned held = start - rte_mempool_avail_count(pool);
    ASSERT_LE(held, limits.max_mbufs()) << "round " << round;
  }
  drain(c.net.wire_to(0));
  const dataplane::DropCounters& d = b.worker(0).drops();
  EXPECT_GT(d[Drop::fragment_table_full], 0u);
  const unsigned held = start - rte_mempool_avail_count(pool);
  EXPECT_GT(held, 0u);
  EXPECT_EQ(
      d[Drop::fragment_table_full] + d[Drop::fragment_malformed] + d[Drop::fragment_expired] + held,
      sent);
  EXPECT_EQ(b.worker(0).reassembled(), 0u);

  // Past the timeout every incomplete datagram is freed, and counted.
  c.net.poll_only(1, limits.timeout + millis(1), false);
  drain(c.net.wire_to(0));
  EXPECT_EQ(rte_mempool_avail_count(pool), start);
  EXPECT_EQ(d[Drop::fragment_table_full] + d[Drop::fragment_malformed] + d[Drop::fragment_expired],
            sent);
}

TEST(OuterFragments, MalformedPiecesAreDroppedWithTheirReason) {
  Captured c(false);
  control::Gateway& b = c.net.gw(1);
  Bytes big = c.transport(udp_packet(c.net.host(0).ip4, c.net.host(1).ip4, 7, 8, {}));
  big.resize(14 + 20 + 1000);
  // Not the last piece, but 60 bytes long: not a multiple of 8.
  ASSERT_TRUE(inject(c.net.wire_to(1), b.dataplane().pool, fragment(big, 0, 60, true, 1)));
  c.net.poll_only(1);
  EXPECT_EQ(b.worker(0).drops()[Drop::fragment_malformed], 1u);
}

}  // namespace
}  // namespace meshgate::test
