// A Worker's stages on in-memory mbufs: frame admission, outbound's routing and its ICMP answers,
// inbound's classification and open, checked by what leaves the ports and the drop counters.
#include "meshgate/dataplane/worker.hpp"

#include <gtest/gtest.h>

#include <map>

#include "meshgate/wire/checksum.hpp"
#include "meshgate/wire/classify.hpp"
#include "packets.hpp"
#include "test_plane.hpp"

namespace meshgate::dataplane {
namespace {

using test::TestPlane;

TEST(AdmitFrame, TakesOurMacAndMulticastDropsTheRestWithAReason) {
  TestPlane t(1);
  DropCounters drops;
  wire::FrameInfo f;
  const IpAddr dst = TestPlane::peer_host(0, 5);
  EXPECT_TRUE(admit_frame(t.mbuf(TestPlane::lan_frame(dst, 100)), f, test::kInnerMac, true, drops));
  EXPECT_EQ(f.kind, wire::FrameKind::ipv4);
  EXPECT_EQ(f.dst_addr(), dst);
  EXPECT_TRUE(admit_frame(t.mbuf(TestPlane::lan_frame(dst, 100, wire::MacAddr::broadcast())), f,
                          test::kInnerMac, true, drops));
  EXPECT_EQ(drops.total(), 0u);

  // Another host's unicast frame, seen because the port is promiscuous.
  EXPECT_FALSE(admit_frame(t.mbuf(TestPlane::lan_frame(dst, 100, test::kHostMac)), f,
                           test::kInnerMac, true, drops));
  EXPECT_EQ(drops[Drop::other_mac], 1u);
  // A header the wire module rejects: the wire module's reason.
  auto bad = TestPlane::lan_frame(dst, 100);
  bad[14 + 10] ^= 0xFF;  // IPv4 header checksum
  EXPECT_FALSE(admit_frame(t.mbuf(bad), f, test::kInnerMac, true, drops));
  EXPECT_EQ(drops[wire::DropReason::ipv4_bad_checksum], 1u);
  EXPECT_TRUE(admit_frame(t.mbuf(bad), f, test::kInnerMac, false, drops));  // checksum offloaded
  // A chained mbuf.
  rte_mbuf* head = t.mbuf(TestPlane::lan_frame(dst, 100));
  ASSERT_EQ(rte_pktmbuf_chain(head, t.mbuf({0, 1, 2, 3})), 0);
  EXPECT_FALSE(admit_frame(head, f, test::kInnerMac, true, drops));
  EXPECT_EQ(drops[Drop::multi_segment], 1u);
  // Only the three admitted frames are still held: every rejected one was freed.
  EXPECT_EQ(rte_mempool_in_use_count(t.dp->pool), 3u);
}

/// Runs `frames` from the LAN host through the worker's outbound stages and flushes.
void send_out(TestPlane& t, Worker& w, const std::vector<std::vector<std::uint8_t>>& frames) {
  std::vector<rte_mbuf*> pkts;
  pkts.reserve(frames.size());
  for (const auto& f : frames) pkts.push_back(t.mbuf(f));
  const Nanos now = monotonic_now();
  w.outbound(pkts.data(), static_cast<unsigned>(pkts.size()), now);
  w.finish_outbound(now);
  w.flush();
}

/// The inner packets of the sealed frames peer `p` sent, padding stripped.
std::vector<std::vector<std::uint8_t>> opened(const TestPlane& t, PeerId p) {
  std::vector<std::vector<std::uint8_t>> out;
  for (const auto& frame : TestPlane::drain(t.outer_tx)) {
    auto plain = test::open_frame(t, frame, t.keys[p]).plain;
    plain.resize(wire::inner_packet_length(plain.data(), plain.size()));
    out.push_back(plain);
  }
  return out;
}

TEST(WorkerOutbound, OverTheMtuWithDfIsDroppedAndAnsweredWithIcmpTooBig) {
  TestPlane t(1);
  Worker w(*t.dp, 0);
  auto big = TestPlane::lan_frame(TestPlane::peer_host(0, 5), 1421);
  big[14 + 6] |= 0x40;  // DF
  store_be16(big.data() + 14 + 10, 0);
  store_be16(big.data() + 14 + 10, wire::ipv4_header_checksum(big.data() + 14));
  send_out(t, w, {big, TestPlane::lan_frame(TestPlane::peer_host(0, 5), 1420)});
  EXPECT_EQ(w.drops()[Drop::too_big], 1u);
  EXPECT_EQ(TestPlane::drain(t.outer_tx).size(), 1u);  // the 1420-byte one, sealed
  const auto lan = TestPlane::drain(t.inner_tx);
  ASSERT_EQ(lan.size(), 1u);
  const wire::FrameInfo f = wire::classify_frame(lan[0].data(), lan[0].size());
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f.l4_proto, wire::spec::kProtoIcmp);
  EXPECT_EQ(f.icmp_type, 3);                                 // destination unreachable
  EXPECT_EQ(lan[0][f.l4_off + 1], 4);                        // fragmentation needed
  EXPECT_EQ(load_be16(lan[0].data() + f.l4_off + 6), 1420);  // next-hop MTU
  EXPECT_EQ(f.dst_addr(), t.host);
  EXPECT_EQ(wire::MacAddr::from(lan[0].data()), test::kHostMac);
}

TEST(WorkerOutbound, OverTheMtuWithoutDfIsFragmentedAndTheFragmentsReassemble) {
  TestPlane t(1);
  Worker w(*t.dp, 0);
  // A full burst of them: the fragments do not fit the burst's own batch.
  std::vector<std::vector<std::uint8_t>> frames;
  for (unsigned i = 0; i < kBurst; ++i) {
    frames.push_back(TestPlane::lan_frame(TestPlane::peer_host(0, 5), 1500 + i));
    store_be16(frames.back().data() + 14 + 4, static_cast<std::uint16_t>(i));  // IPv4 id
    store_be16(frames.back().data() + 14 + 10, 0);
    store_be16(frames.back().data() + 14 + 10,
               wire::ipv4_header_checksum(frames.back().data() + 14));
  }
  send_out(t, w, frames);
  EXPECT_EQ(w.drops().total(), 0u);
  EXPECT_TRUE(TestPlane::drain(t.inner_tx).empty());  // no ICMP: DF was clear
  const auto inner = opened(t, 0);
  ASSERT_EQ(inner.size(), 2 * kBurst);
  std::map<std::uint16_t, std::vector<std::vector<std::uint8_t>>> by_id;
  for (const auto& p : inner) {
    EXPECT_LE(p.size(), 1420u);
    by_id[load_be16(p.data() + 4)].push_back(p);
  }
  ASSERT_EQ(by_id.size(), kBurst);
  for (unsigned i = 0; i < kBurst; ++i) {
    const auto want = test::forwarded({frames[i].begin() + 14, frames[i].end()});
    EXPECT_EQ(test::reference_reassemble(by_id[static_cast<std::uint16_t>(i)]), want) << i;
  }
  EXPECT_EQ(w.stats().encrypted, 2 * kBurst);
  EXPECT_EQ(rte_mempool_in_use_count(t.dp->pool), 0u);  // the originals were freed
}

TEST(WorkerOutbound, UnroutedIsAnsweredWithIcmpUnreachable) {
  TestPlane t(1);
  Worker w(*t.dp, 0);
  rte_mbuf* m = t.mbuf(TestPlane::lan_frame(*IpAddr::parse("172.16.0.1"), 100));
  const Nanos now = monotonic_now();
  w.outbound(&m, 1, now);
  w.finish_outbound(now);
  w.flush();
  EXPECT_EQ(w.drops()[Drop::no_route], 1u);
  const auto lan = TestPlane::drain(t.inner_tx);
  ASSERT_EQ(lan.size(), 1u);
  const wire::FrameInfo f = wire::classify_frame(lan[0].data(), lan[0].size());
  EXPECT_EQ(f.icmp_type, 3);
  EXPECT_EQ(lan[0][f.l4_off + 1], 1);  // host unreachable
}

TEST(WorkerInbound, OpensDeliversAndRejectsReplaysForgeriesAndSpoofedSources) {
  TestPlane t(2);
  Worker w(*t.dp, 0);
  const auto inner = TestPlane::ip_packet(TestPlane::peer_host(1, 7), t.host, 200);
  const auto good = t.sealed_frame(1, inner);
  auto forged = good;
  forged.back() ^= 1;  // the tag
  // Peer 0 sends a packet with peer 1's source address.
  const auto spoofed = t.sealed_frame(0, inner);
  rte_mbuf* pkts[4] = {t.mbuf(good), t.mbuf(good), t.mbuf(forged), t.mbuf(spoofed)};
  const Nanos now = monotonic_now();
  w.inbound(pkts, 4, now);
  w.finish_inbound(now);
  w.flush();
  const auto lan = TestPlane::drain(t.inner_tx);
  ASSERT_EQ(lan.size(), 1u);
  EXPECT_EQ(wire::MacAddr::from(lan[0].data()), test::kHostMac);
  EXPECT_EQ(wire::MacAddr::from(lan[0].data() + 6), test::kInnerMac);
  EXPECT_EQ(std::vector<std::uint8_t>(lan[0].begin() + 14, lan[0].end()),
            test::forwarded(inner));  // unpadded, TTL one lower
  EXPECT_EQ(w.drops()[Drop::wg_replay], 1u);
  EXPECT_EQ(w.drops()[Drop::wg_auth_failed], 1u);
  EXPECT_EQ(w.drops()[Drop::inner_source_not_allowed], 1u);
  EXPECT_EQ(t.dp->activity(0, 1).rx_packets.load(), 1u);
}

// Dual-stack traffic interleaves the families within a burst: every packet must leave for its own
// family's next hop, whichever hop the packet before it took.
TEST(WorkerInbound, InterleavedFamiliesEachGoToTheirOwnNextHop) {
  TestPlane t(1);
  const wire::MacAddr host6_mac{{0x02, 0, 0, 0, 0x11, 0x6a}};
  const IpAddr host6 = *IpAddr::parse("fd00:1::10");
  t.dp->addr.inner.push_back(*Prefix::parse("fd00:1::/64"));
  t.dp->addr.inner_v6 = *IpAddr::parse("fd00:1::1");
  ASSERT_TRUE(t.dp->neighbours.confirm(host6, host6_mac, monotonic_now()));
  ASSERT_TRUE(t.dp->allowed.insert(*Prefix::parse("fd00:2::/64"), 0));
  const auto in4 = TestPlane::ip_packet(TestPlane::peer_host(0, 7), t.host, 200);
  std::vector<std::uint8_t> f6(14 + 200);
  wire::OuterTemplate::make(test::kHostMac, test::kInnerMac, *IpAddr::parse("fd00:2::7"), host6,
                            1234, 80)
      .write(f6.data(), 200 - 48, 1, 0);
  const std::vector<std::uint8_t> in6(f6.begin() + 14, f6.end());
  Worker w(*t.dp, 0);
  rte_mbuf* pkts[5];
  for (unsigned i = 0; i < 5; ++i) pkts[i] = t.mbuf(t.sealed_frame(0, i % 2 == 0 ? in4 : in6));
  const Nanos now = monotonic_now();
  w.inbound(pkts, 5, now);
  w.finish_inbound(now);
  w.flush();
  const auto lan = TestPlane::drain(t.inner_tx);
  ASSERT_EQ(lan.size(), 5u);
  for (unsigned i = 0; i < 5; ++i) {
    const bool v6 = i % 2 == 1;
    EXPECT_EQ(wire::MacAddr::from(lan[i].data()), v6 ? host6_mac : test::kHostMac) << i;
    EXPECT_EQ(std::vector<std::uint8_t>(lan[i].begin() + 14, lan[i].end()),
              test::forwarded(v6 ? in6 : in4))
        << i;
  }
}

TEST(WorkerInbound, ClassifiesListenPortPayloads) {
  TestPlane t(1);
  Worker w(*t.dp, 0);
  const auto good = t.sealed_frame(0, TestPlane::ip_packet(TestPlane::peer_host(0, 7), t.host, 60));
  const wire::FrameInfo f = wire::classify_frame(good.data(), good.size());
  auto with_type = [&](std::uint8_t b0, std::uint8_t b1) {
    auto g = good;
    g[f.payload_off] = b0;
    g[f.payload_off + 1] = b1;
    return t.mbuf(g);
  };
  auto short_transport = good;  // 31 bytes of WireGuard message: header + less than a tag
  short_transport.resize(f.payload_off + 31);
  store_be16(short_transport.data() + 16, static_cast<std::uint16_t>(short_transport.size() - 14));
  store_be16(short_transport.data() + 14 + 20 + 4, 31 + 8);
  store_be16(short_transport.data() + 24, 0);
  store_be16(short_transport.data() + 24,
             static_cast<std::uint16_t>(~wire::ones_sum(short_transport.data() + 14, 20)));
  rte_mbuf* pkts[4] = {with_type(1, 0),  // a handshake type (of a wrong size: control checks)
                       with_type(9, 0),  // no WireGuard type
                       with_type(4, 1),  // reserved byte set
                       t.mbuf(short_transport)};
  const Nanos now = monotonic_now();
  w.inbound(pkts, 4, now);
  w.finish_inbound(now);
  EXPECT_EQ(rte_ring_count(t.dp->to_control), 1u);
  void* m;
  ASSERT_EQ(rte_ring_dequeue(t.dp->to_control, &m), 0);
  EXPECT_EQ(meta(static_cast<rte_mbuf*>(m)).kind, ToControl::outer_handshake);
  rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
  EXPECT_EQ(w.drops()[Drop::wg_bad_type], 2u);
  EXPECT_EQ(w.drops()[Drop::wg_bad_size], 1u);
}

}  // namespace
}  // namespace meshgate::dataplane
