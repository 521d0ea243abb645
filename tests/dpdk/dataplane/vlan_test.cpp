// 802.1Q tags at the ports' edges (dataplane/vlan.hpp): frames of the port's VLAN are taken
// without their tags, every other frame is dropped by name, and every frame sent is tagged.
#include "meshgate/dataplane/vlan.hpp"

#include <gtest/gtest.h>

#include "meshgate/dataplane/worker.hpp"
#include "meshgate/wire/classify.hpp"
#include "test_plane.hpp"

namespace meshgate::dataplane {
namespace {

using test::TestPlane;
using Bytes = std::vector<std::uint8_t>;

/// `f` with an 802.1Q tag (TPID 0x8100, TCI `tci`) after the MAC addresses.
Bytes tagged(const Bytes& f, std::uint16_t tci) {
  Bytes t(f.size() + 4);
  std::copy(f.begin(), f.begin() + 12, t.begin());
  store_be16(t.data() + 12, wire::spec::kEtherTypeVlan);
  store_be16(t.data() + 14, tci);
  std::copy(f.begin() + 12, f.end(), t.begin() + 16);
  return t;
}

TEST(Vlan, UntagKeepsThePortsVlanAndDropsTheRestByName) {
  TestPlane t(1);
  const Bytes plain = TestPlane::lan_frame(TestPlane::peer_host(0, 5), 100);
  rte_mbuf* stripped_by_pmd = t.mbuf(plain);
  stripped_by_pmd->ol_flags |= RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED;
  stripped_by_pmd->vlan_tci = 10;
  rte_mbuf* pkts[5] = {
      t.mbuf(tagged(plain, 10)),
      t.mbuf(tagged(plain, 0xE000 | 10)),  // priority 7: still VLAN 10
      t.mbuf(tagged(plain, 11)),           // another VLAN
      t.mbuf(plain),                       // untagged
      stripped_by_pmd,
  };
  DropCounters drops;
  ASSERT_EQ(untag_burst(pkts, 5, 10, drops), 3u);
  EXPECT_EQ(drops[Drop::vlan_mismatch], 2u);
  for (unsigned i = 0; i < 3; ++i) EXPECT_EQ(TestPlane::bytes(pkts[i]), plain) << i;
  EXPECT_EQ(rte_mempool_in_use_count(t.dp->pool), 3u);  // the dropped ones were freed
  rte_pktmbuf_free_bulk(pkts, 3);
}

TEST(Vlan, TagInsertsAfterTheMacsAndRefusesSharedMbufs) {
  TestPlane t(1);
  const Bytes plain = TestPlane::lan_frame(TestPlane::peer_host(0, 5), 100);
  rte_mbuf* m = t.mbuf(plain);
  ASSERT_TRUE(tag_frame(m, 4094));
  EXPECT_EQ(TestPlane::bytes(m), tagged(plain, 4094));
  rte_mbuf_refcnt_update(m, 1);  // shared: the tag would change another holder's bytes
  EXPECT_FALSE(tag_frame(m, 5));
  rte_pktmbuf_free(m);
  rte_pktmbuf_free(m);
}

TEST(Vlan, AWorkerOnTaggedPortsTunnelsBothWaysAndSendsOnlyTaggedFrames) {
  constexpr std::uint16_t kInnerVid = 10, kOuterVid = 20;
  TestPlane t(2);
  t.dp->vlan[static_cast<int>(PortRole::inner)] = kInnerVid;
  t.dp->vlan[static_cast<int>(PortRole::outer)] = kOuterVid;
  Worker w(*t.dp, 0);
  const Nanos now = monotonic_now();

  // Outbound: a LAN frame of the inner VLAN leaves sealed, tagged with the outer VLAN; one of
  // another VLAN goes nowhere.
  const Bytes lan = TestPlane::lan_frame(TestPlane::peer_host(0, 5), 200);
  ASSERT_EQ(rte_ring_enqueue(t.inner_rx, t.mbuf(tagged(lan, kInnerVid))), 0);
  ASSERT_EQ(rte_ring_enqueue(t.inner_rx, t.mbuf(tagged(lan, kOuterVid))), 0);
  w.poll(now);
  const auto out = TestPlane::drain(t.outer_tx);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(load_be16(out[0].data() + 12), wire::spec::kEtherTypeVlan);
  EXPECT_EQ(load_be16(out[0].data() + 14), kOuterVid);
  Bytes untagged(out[0].begin(), out[0].begin() + 12);
  untagged.insert(untagged.end(), out[0].begin() + 16, out[0].end());
  EXPECT_TRUE(wire::classify_frame(untagged.data(), untagged.size()).ok());
  EXPECT_EQ(w.drops()[Drop::vlan_mismatch], 1u);

  // Inbound: a transport frame of the outer VLAN reaches the LAN host tagged with the inner one.
  const Bytes inner = TestPlane::ip_packet(TestPlane::peer_host(1, 7), t.host, 300);
  ASSERT_EQ(rte_ring_enqueue(t.outer_rx, t.mbuf(tagged(t.sealed_frame(1, inner), kOuterVid))), 0);
  w.poll(now);
  const auto delivered = TestPlane::drain(t.inner_tx);
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(load_be16(delivered[0].data() + 12), wire::spec::kEtherTypeVlan);
  EXPECT_EQ(load_be16(delivered[0].data() + 14), kInnerVid);
  EXPECT_EQ(Bytes(delivered[0].begin() + 18, delivered[0].end()), test::forwarded(inner));
  EXPECT_EQ(rte_mempool_in_use_count(t.dp->pool), 0u);
}

}  // namespace
}  // namespace meshgate::dataplane
