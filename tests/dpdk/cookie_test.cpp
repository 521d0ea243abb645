// Handshakes under load (protocol.md 3.8-3.9): with its handshake ring backed up, a gateway answers
// an initiation that has no valid mac2 with a cookie reply instead of doing any DH work; the
// initiator keeps the cookie and its retransmission, carrying mac2, is accepted.
#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstring>

#include "meshgate/crypto/random.hpp"
#include "meshgate/wire/build.hpp"
#include "meshgate/wire/messages.hpp"
#include "packets.hpp"
#include "ring_gateways.hpp"

namespace meshgate::test {
namespace {

/// Backs up gateway B's control ring with `n` initiations from strangers (random bytes: mac1
/// cannot verify), moved there by B's worker while B's control thread does not run.
void flood_b(RingGateways& net, int n) {
  control::Gateway& b = net.gw(1);
  const wire::MacAddr stranger{{0x02, 0x99, 0, 0, 0, 1}};
  const IpAddr src = *IpAddr::parse("198.51.100.77");
  const IpAddr dst = *IpAddr::parse("198.51.100.3");
  const wire::OuterTemplate t =
      wire::OuterTemplate::make(stranger, b.dataplane().addr.outer_mac, src, dst, 40000, 51820);
  for (int i = 0; i < n; ++i) {
    rte_mbuf* m = rte_pktmbuf_alloc(b.dataplane().pool);
    ASSERT_NE(m, nullptr);
    auto* f = reinterpret_cast<std::uint8_t*>(
        rte_pktmbuf_append(m, static_cast<std::uint16_t>(t.len + wire::spec::kInitiationSize)));
    std::uint8_t* msg = f + t.len;
    crypto::random_bytes(msg, wire::spec::kInitiationSize);
    store_le32(msg, 1);  // type 1, reserved zero
    t.write(f, wire::spec::kInitiationSize, static_cast<std::uint16_t>(i), 0);
    ASSERT_EQ(rte_ring_enqueue(net.wire_to(1), m), 0);
  }
  for (int i = 0; i < n / 32 + 2; ++i) b.worker(0).poll(net.now());
  ASSERT_GE(rte_ring_count(b.dataplane().handshakes), 128u);
}

/// Backs up gateway B's control ring with `n` ARP requests from B's LAN: work for the control
/// thread that is no handshake. B's worker moves them while B's control thread does not run.
void lan_arp_flood_b(RingGateways& net, int n) {
  control::Gateway& b = net.gw(1);
  LanHost& h = net.host(1);
  std::uint8_t frame[64];
  for (int i = 0; i < n; ++i) {
    const std::uint8_t target[4] = {10, 2, 0, static_cast<std::uint8_t>(10 + i % 200)};
    const std::size_t len = wire::build_arp_request(frame, h.mac, h.ip4, IpAddr::v4_bytes(target));
    ASSERT_TRUE(h.inject_frame(frame, len));
  }
  for (int i = 0; i < n / 32 + 2; ++i) b.worker(0).poll(net.now());
  ASSERT_GE(rte_ring_count(b.dataplane().to_control), 128u);
}

TEST(Cookies, ABacklogOfOtherWorkIsNoLoad) {
  // "Under load" means handshake messages queue up (protocol.md 3.8): LAN chatter, staged
  // packets and resolutions waiting for the control thread must not make a peer pay a cookie
  // round trip for its handshake.
  RingGateways net("ckl", false, {.max_peers = 16, .mbufs = 2047});
  LanHost& a = net.host(0);
  LanHost& b = net.host(1);
  auto& ca = net.gw(0).control();
  auto& cb = net.gw(1).control();
  const auto pkt = udp_packet(a.ip4, b.ip4, 1, 2, pattern(100, 5));
  ASSERT_TRUE(a.send_ip(pkt));  // a first session: the next hops are resolved
  ASSERT_TRUE(net.poll_until([&] { return b.received.size() == 1; }));
  for (int i = 0; i < 121; ++i) net.poll(seconds(1));
  ASSERT_TRUE(a.send_ip(pkt));  // A rekeys; its initiation is on the wire to B
  for (int i = 0; i < 3; ++i) net.poll_only(0);
  ASSERT_EQ(ca.stats().initiations_sent, 2u);
  lan_arp_flood_b(net, 600);
  ASSERT_TRUE(net.poll_until([&] { return cb.stats().responses_sent == 2; }, 50))
      << "B sent " << cb.stats().cookies_sent << " cookies";
  EXPECT_EQ(cb.stats().cookies_sent, 0u);
}

TEST(Cookies, UnderLoadACookieReplyThenTheRetryWithMac2IsAccepted) {
  RingGateways net("ck");
  LanHost& a = net.host(0);
  LanHost& b = net.host(1);
  auto& ca = net.gw(0).control();
  auto& cb = net.gw(1).control();
  const auto pkt = udp_packet(a.ip4, b.ip4, 1, 2, pattern(100, 5));

  // A first session, without load.
  ASSERT_TRUE(a.send_ip(pkt));
  ASSERT_TRUE(net.poll_until([&] { return b.received.size() == 1; }));
  ASSERT_EQ(cb.stats().responses_sent, 1u);

  // 121 s later (B's keepalive answered A's data, so no handshake was due), the initiator
  // rekeys on its next packet, and B is flooded when the initiation arrives.
  for (int i = 0; i < 121; ++i) net.poll(seconds(1));
  ASSERT_EQ(ca.stats().initiations_sent, 1u);
  ASSERT_TRUE(a.send_ip(pkt));
  for (int i = 0; i < 3; ++i) net.poll_only(0);
  ASSERT_EQ(ca.stats().initiations_sent, 2u);
  flood_b(net, 200);
  ASSERT_TRUE(net.poll_until([&] { return ca.stats().cookies_received == 1; }, 50))
      << "B sent " << cb.stats().cookies_sent << " cookies, " << cb.stats().responses_sent
      << " responses; A dropped "
      << ca.stats().handshake_drops[static_cast<int>(noise::HandshakeDrop::unexpected_cookie)]
      << " unexpected, "
      << ca.stats().handshake_drops[static_cast<int>(noise::HandshakeDrop::bad_cookie)] << " bad, "
      << ca.stats().handshake_drops[static_cast<int>(noise::HandshakeDrop::unknown_index)]
      << " unknown-index cookies; B got " << cb.stats().initiations_received
      << " initiations, rate limited " << cb.stats().rate_limited << ", drops " << [&] {
           std::string d;
           for (std::size_t r = 1; r <= noise::kHandshakeDropCount; ++r)
             d += std::to_string(cb.stats().handshake_drops[r]) + " ";
           return d;
         }();
  EXPECT_GE(cb.stats().cookies_sent, 1u);
  EXPECT_EQ(cb.stats().responses_sent, 1u);  // no DH work for a message without mac2
  for (int i = 0; i < 10; ++i) net.poll();   // B works through the rest of the flood
  EXPECT_EQ(cb.stats().handshake_drops[static_cast<int>(noise::HandshakeDrop::bad_mac1)], 200u);
  EXPECT_EQ(cb.stats().responses_sent, 1u);

  // The retransmission (REKEY_TIMEOUT + jitter later) carries mac2; B is still under load.
  for (int i = 0; i < 5400 && ca.stats().initiations_sent < 3; ++i) net.poll_only(0);
  ASSERT_EQ(ca.stats().initiations_sent, 3u);
  flood_b(net, 200);
  ASSERT_TRUE(net.poll_until([&] { return cb.stats().responses_sent == 2; }, 50))
      << "B: cookies " << cb.stats().cookies_sent << ", rate limited " << cb.stats().rate_limited
      << ", initiations " << cb.stats().initiations_received << ", drops " << [&] {
           std::string d;
           for (std::size_t r = 1; r <= noise::kHandshakeDropCount; ++r)
             d += std::to_string(cb.stats().handshake_drops[r]) + " ";
           return d;
         }();
  EXPECT_EQ(cb.stats().cookies_sent, 1u);  // the retry was not answered with another cookie
  // The new session carries traffic.
  b.received.clear();
  ASSERT_TRUE(a.send_ip(pkt));
  ASSERT_TRUE(net.poll_until([&] { return b.received.size() == 1; }));
  EXPECT_EQ(b.received.back(), forwarded(pkt, 2));
}

}  // namespace
}  // namespace meshgate::test
