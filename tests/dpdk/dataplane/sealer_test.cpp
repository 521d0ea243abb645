// The Sealer (outbound stages 4-6) on in-memory mbufs: what a peer receiving its frames would
// check. Sealed frames open with the peer's key to the original bytes, padded as WireGuard pads;
// nonces are consecutive per keypair across a burst of mixed peers; an exhausted key is dropped
// and asks for a handshake; a peer without a usable key keeps its packets.
#include "meshgate/dataplane/sealer.hpp"

#include <gtest/gtest.h>

#include <map>

#include "meshgate/crypto/aead.hpp"
#include "meshgate/wire/classify.hpp"
#include "meshgate/wire/messages.hpp"
#include "test_plane.hpp"

namespace meshgate::dataplane {
namespace {

using test::open_frame;
using test::Opened;
using test::TestPlane;

TEST(Sealer, SealedFrameOpensWithThePeersKeyToTheOriginalBytes) {
  TestPlane t(2);
  Sealer s(*t.dp, 0, crypto::AeadBackend::ipsec_mb);
  DropCounters drops;
  for (std::size_t len : {28u, 100u, 1419u, 1420u}) {
    const auto pkt = TestPlane::ip_packet(t.host, TestPlane::peer_host(1, 5), len);
    rte_mbuf* m = t.mbuf(pkt);
    ASSERT_EQ(s.seal_for_peer(1, &m, 1, monotonic_now(), drops), 1u);
    ASSERT_NE(m, nullptr);
    const Opened o = open_frame(t, TestPlane::bytes(m), t.keys[1]);
    rte_pktmbuf_free(m);
    EXPECT_EQ(o.receiver, t.index[1]);
    ASSERT_EQ(o.plain.size(), wire::padded_len(len, 1420)) << len;
    EXPECT_TRUE(o.plain.size() % 16 == 0 || o.plain.size() == 1420) << len;
    EXPECT_TRUE(std::equal(pkt.begin(), pkt.end(), o.plain.begin())) << len;
    EXPECT_TRUE(std::all_of(o.plain.begin() + len, o.plain.end(), [](auto b) { return b == 0; }));
  }
  EXPECT_EQ(drops.total(), 0u);
  const PeerActivity& a = t.dp->activity(0, 1);
  EXPECT_EQ(a.tx_packets.load(), 4u);
  EXPECT_NE(a.last_tx_data.load(), 0);
  EXPECT_EQ(t.dp->activity(0, 0).tx_packets.load(), 0u);
}

TEST(Sealer, NoncesAreConsecutivePerKeypairAcrossAMixedBurst) {
  TestPlane t(5);
  Sealer s(*t.dp, 0, crypto::AeadBackend::ipsec_mb);
  DropCounters drops;
  const PeerId pattern[] = {0, 1, 0, 2, 2, 2, 1, 3, 0, 4, 4, 1, 0, 3, 2, 0};
  std::map<PeerId, std::uint64_t> next;
  for (int round = 0; round < 3; ++round) {
    OutPacket out[kBurst];
    unsigned k = 0;
    for (PeerId p : pattern) {
      const auto pkt = TestPlane::ip_packet(t.host, TestPlane::peer_host(p, 9), 60);
      Peer& pr = t.dp->peers[p];
      out[k++] = {t.mbuf(pkt), t.dp->keypairs.lookup(pr.current.load()), pr.route.load(), p, 60, 0};
    }
    ASSERT_EQ(s.seal(out, k, monotonic_now(), drops), k);
    for (unsigned i = 0; i < k; ++i) {
      ASSERT_NE(out[i].m, nullptr);
      const Opened o = open_frame(t, TestPlane::bytes(out[i].m), t.keys[out[i].peer]);
      rte_pktmbuf_free(out[i].m);
      EXPECT_EQ(o.counter, next[out[i].peer]++) << "round " << round << " packet " << i;
    }
  }
}

TEST(Sealer, PeerWithoutUsableKeyOrRouteKeepsItsPackets) {
  TestPlane t(2);
  Sealer s(*t.dp, 0, crypto::AeadBackend::ipsec_mb);
  DropCounters drops;
  rte_mbuf* m = t.mbuf(TestPlane::ip_packet(t.host, TestPlane::peer_host(0, 5), 60));
  rte_mbuf* const kept = m;
  t.dp->peers[0].route.store(nullptr);
  EXPECT_EQ(s.seal_for_peer(0, &m, 1, monotonic_now(), drops), 0u);
  t.dp->peers[1].current.store(0);
  EXPECT_EQ(s.seal_for_peer(1, &m, 1, monotonic_now(), drops), 0u);
  EXPECT_EQ(m, kept);
  EXPECT_EQ(drops.total(), 0u);
  rte_pktmbuf_free(m);
}

TEST(Sealer, KeepaliveIsAnEmptySealedMessage) {
  TestPlane t(1);
  Sealer s(*t.dp, 0, crypto::AeadBackend::ipsec_mb);
  DropCounters drops;
  rte_mbuf* m = rte_pktmbuf_alloc(t.dp->pool);
  ASSERT_EQ(s.seal_for_peer(0, &m, 1, monotonic_now(), drops), 1u);
  const Opened o = open_frame(t, TestPlane::bytes(m), t.keys[0]);
  rte_pktmbuf_free(m);
  EXPECT_TRUE(o.plain.empty());
  EXPECT_EQ(t.dp->activity(0, 0).tx_packets.load(), 1u);
  EXPECT_EQ(t.dp->activity(0, 0).last_tx_data.load(), 0);  // keepalives are not data
}

TEST(Sealer, ExhaustedKeyDropsAndAsksForAHandshake) {
  TestPlane t(1);
  Sealer s(*t.dp, 0, crypto::AeadBackend::ipsec_mb);
  DropCounters drops;
  t.dp->keypairs.lookup(t.index[0])->send_counter.store(wire::spec::kRejectAfterMessages - 1);
  rte_mbuf* pkts[2] = {t.mbuf(TestPlane::ip_packet(t.host, TestPlane::peer_host(0, 5), 60)),
                       t.mbuf(TestPlane::ip_packet(t.host, TestPlane::peer_host(0, 6), 60))};
  ASSERT_EQ(s.seal_for_peer(0, pkts, 2, monotonic_now(), drops), 2u);
  ASSERT_NE(pkts[0], nullptr);  // the last counter the key may use
  EXPECT_EQ(open_frame(t, TestPlane::bytes(pkts[0]), t.keys[0]).counter,
            wire::spec::kRejectAfterMessages - 1);
  rte_pktmbuf_free(pkts[0]);
  EXPECT_EQ(pkts[1], nullptr);
  EXPECT_EQ(drops[Drop::wg_key_expired], 1u);
  // Past REKEY_AFTER_MESSAGES too: at least one request, whichever stage noticed.
  EXPECT_GE(t.events_waiting(Event::Kind::want_handshake), 1u);
}

TEST(Sealer, InitiatorsKeypairPastRekeyAfterTimeAsksForAHandshake) {
  // REKEY_AFTER_TIME is the dataplane's (the benchmark shortens it): WireGuard's 120 s by
  // default, and only the initiator of a keypair rekeys for its age.
  TestPlane t(1);
  Sealer s(*t.dp, 0, crypto::AeadBackend::ipsec_mb);
  DropCounters drops;
  Keypair* kp = t.dp->keypairs.lookup(t.index[0]);
  const Nanos now = monotonic_now();
  auto seal_one = [&](Nanos at) {
    rte_mbuf* m = t.mbuf(TestPlane::ip_packet(t.host, TestPlane::peer_host(0, 5), 60));
    ASSERT_EQ(s.seal_for_peer(0, &m, 1, at, drops), 1u);
    rte_pktmbuf_free(m);
  };
  kp->initiator = true;
  kp->birth = now - seconds(100);
  seal_one(now);
  EXPECT_EQ(t.events_waiting(Event::Kind::want_handshake), 0u);  // 100 s old, under 120 s
  t.dp->rekey_after_time = seconds(90);
  kp->initiator = false;
  seal_one(now);
  EXPECT_EQ(t.events_waiting(Event::Kind::want_handshake), 0u);  // the responder waits
  kp->initiator = true;
  seal_one(now);
  EXPECT_EQ(t.events_waiting(Event::Kind::want_handshake), 1u);
  EXPECT_EQ(drops.total(), 0u);
}

}  // namespace
}  // namespace meshgate::dataplane
