// Rekeys and configuration churn on two gateways carrying traffic (net_ring ports, simulated
// clock): every frame is checked byte for byte and by sequence number, so a frame lost, doubled,
// altered or delivered to the wrong site fails the test; the mbuf pools return to their start.
//
// The clock is the test's (RingGateways): a jump past REKEY_AFTER_TIME makes the initiator rekey
// on its next packet, so ten thousand key rotations take seconds instead of months, with the
// product's own timer constants.
#include <gtest/gtest.h>
#include <rte_mempool.h>

#include "meshgate/control/gateway.hpp"
#include "meshgate/control/uapi_server.hpp"
#include "meshgate/crypto/x25519.hpp"
#include "meshgate/wire/constants.hpp"
#include "packets.hpp"
#include "ring_gateways.hpp"
#include "stream.hpp"

namespace meshgate::test {
namespace {

std::uint64_t handshakes(control::Gateway& g) {
  return g.metrics().peers.at(0).handshakes;
}

/// Runs until nothing moves any more (rings empty, staged packets sent).
void settle(RingGateways& net, Stream& ab, Stream& ba) {
  for (int quiet = 0, i = 0; quiet < 20 && i < 2000; ++i) {
    quiet = net.poll(millis(1)) == 0 ? quiet + 1 : 0;
    ab.collect();
    ba.collect();
  }
}

TEST(Churn, TenThousandKeyRotationsUnderTrafficLoseNothing) {
  RingGateways net("rot");
  Stream ab(net.host(0), net.host(1), 4001), ba(net.host(1), net.host(0), 4002);
  ASSERT_TRUE(ab.send());
  ASSERT_TRUE(net.poll_until([&] { return handshakes(net.gw(0)) == 1; }));
  settle(net, ab, ba);
  rte_mempool* pools[2] = {net.gw(0).dataplane().pool, net.gw(1).dataplane().pool};
  const unsigned avail[2] = {rte_mempool_avail_count(pools[0]), rte_mempool_avail_count(pools[1])};

  constexpr std::uint64_t kRotations = 10000;
  while (handshakes(net.gw(0)) < kRotations + 1) {
    const std::uint64_t before = handshakes(net.gw(0));
    // Old enough to rekey, still young enough to carry traffic while the handshake runs.
    net.poll(wire::spec::kRekeyAfterTime + seconds(1));
    for (int step = 0; step < 6; ++step) {
      for (int i = 0; i < 8; ++i) {
        ASSERT_TRUE(ab.send());
        ASSERT_TRUE(ba.send());
      }
      net.poll(millis(1));
      ab.collect();
      ba.collect();
    }
    ASSERT_GT(handshakes(net.gw(0)), before) << "no rotation after " << before;
  }
  settle(net, ab, ba);
  EXPECT_EQ(ab.delivered(), ab.sent()) << "A->B lost packets";
  EXPECT_EQ(ba.delivered(), ba.sent()) << "B->A lost packets";
  EXPECT_EQ(handshakes(net.gw(1)), handshakes(net.gw(0)));
  EXPECT_EQ(rte_mempool_avail_count(pools[0]), avail[0]) << "gateway A leaked mbufs";
  EXPECT_EQ(rte_mempool_avail_count(pools[1]), avail[1]) << "gateway B leaked mbufs";
  RecordProperty("rotations", static_cast<int>(handshakes(net.gw(0)) - 1));
  RecordProperty("packets", static_cast<int>(ab.sent() + ba.sent()));
}

/// Gateway A's UAPI, as `wg set` drives it.
class Uapi {
 public:
  explicit Uapi(control::Control& c) : dev_(control::make_uapi_device(c)), conn_(*dev_) {}
  void set(const std::string& body) {
    std::string out;
    EXPECT_TRUE(conn_.feed("set=1\n" + body + "\n", out));
    EXPECT_EQ(out, "errno=0\n\n") << body;
  }

 private:
  std::unique_ptr<control::uapi::Device> dev_;
  control::uapi::Connection conn_;
};

std::string random_key_hex() {
  return to_hex(as_bytes(crypto::x25519_public(crypto::x25519_generate())));
}

// Peers come and go at 1,000 per second of the gateway's clock, each sent a packet while it
// exists (staged for a handshake that cannot complete), and site B's IPv4 prefix moves to a
// decoy peer and back every half second, all while A and B exchange numbered packets.
TEST(Churn, PeersComeAndGoAndPrefixesMoveUnderTraffic) {
  RingGateways net("peers");
  LanHost& a = net.host(0);
  Stream ab(a, net.host(1), 4001), ba(net.host(1), a, 4002);
  ASSERT_TRUE(ab.send());
  ASSERT_TRUE(net.poll_until([&] { return ab.sent() == (ab.collect(), ab.delivered()); }));
  settle(net, ab, ba);
  rte_mempool* pools[2] = {net.gw(0).dataplane().pool, net.gw(1).dataplane().pool};
  const unsigned avail[2] = {rte_mempool_avail_count(pools[0]), rte_mempool_avail_count(pools[1])};
  control::Control& ca = net.gw(0).control();
  const std::string b_hex = to_hex(as_bytes(net.gw(1).control().sessions().identity().public_key));
  const std::string decoy = random_key_hex();
  Uapi uapi(ca);
  uapi.set("public_key=" + decoy + "\nendpoint=198.51.100.66:51820\n");

  constexpr int kSteps = 5000;  // 5 s at 1 ms: 5,000 peers added and as many removed
  constexpr int kLive = 50;     // churn peers alive at once
  std::vector<std::string> live;
  std::uint64_t sent_to_decoy = 0;
  bool decoy_owns = false;
  int switches_away = 0;
  for (int step = 0; step < kSteps; ++step) {
    const std::string key = random_key_hex();
    const std::string host =
        "10.3." + std::to_string(step / 250) + "." + std::to_string(step % 250);
    std::string add = "public_key=" + key;
    add += "\nendpoint=198.51.100." + std::to_string(10 + step % 40) + ":51820";
    add += "\nallowed_ip=" + host + "/32\n";
    uapi.set(add);
    live.push_back(key);
    ASSERT_TRUE(a.send_ip(udp_packet(a.ip4, *IpAddr::parse(host), 9, 9, pattern(100, 1))));
    if (live.size() > kLive) {
      uapi.set("public_key=" + live.front() + "\nremove=true\n");
      live.erase(live.begin());
    }
    if (step % 500 == 0) {  // B's IPv4 prefix moves to the decoy, or back
      decoy_owns = !decoy_owns;
      switches_away += decoy_owns ? 1 : 0;
      const std::string to = decoy_owns ? decoy : b_hex;
      const std::string from = decoy_owns ? b_hex : decoy;
      std::string body = "public_key=" + from + "\nreplace_allowed_ips=true\n";
      if (from == b_hex) body += "allowed_ip=fd02::/64\n";  // B keeps its IPv6 prefix
      body += "public_key=" + to + "\nallowed_ip=10.2.0.0/24\n";
      uapi.set(body);
    }
    // Numbered packets only while B owns its prefix (A drops B's as inner_source_not_allowed
    // while it does not); what A sends meanwhile is routed to the decoy.
    for (int i = 0; i < 4; ++i) {
      if (decoy_owns) {
        ASSERT_TRUE(a.send_ip(udp_packet(a.ip4, net.host(1).ip4, 4001, 4001, pattern(64, 9))));
        ++sent_to_decoy;
      } else {
        ASSERT_TRUE(ab.send());
        ASSERT_TRUE(ba.send());
      }
    }
    net.poll(millis(1));
    ab.collect();
    ba.collect();
    ASSERT_TRUE(net.host(1).received.empty() || !decoy_owns)
        << "B received a packet routed to the decoy peer";
  }
  for (const std::string& key : live) uapi.set("public_key=" + key + "\nremove=true\n");
  uapi.set("public_key=" + decoy + "\nremove=true\n");
  for (int i = 0; i < 30; ++i) net.poll(seconds(1));  // handshakes to nowhere give up
  settle(net, ab, ba);

  EXPECT_GT(sent_to_decoy, 0u);
  EXPECT_EQ(ab.delivered(), ab.sent()) << "A->B lost packets";
  // B->A: the packets B sent in the step before its prefix moved were on the wire when A
  // stopped accepting that source: those are lost, counted, and no others.
  const std::uint64_t in_flight = 4 * static_cast<std::uint64_t>(switches_away);
  EXPECT_LE(ba.sent() - ba.delivered(), in_flight);
  EXPECT_EQ(ba.sent() - ba.delivered(),
            net.gw(0).worker(0).drops()[dataplane::Drop::inner_source_not_allowed]);
  EXPECT_EQ(ca.peers().ids().size(), 1u);
  EXPECT_EQ(rte_mempool_avail_count(pools[0]), avail[0]) << "gateway A leaked mbufs";
  EXPECT_EQ(rte_mempool_avail_count(pools[1]), avail[1]) << "gateway B leaked mbufs";
}

}  // namespace
}  // namespace meshgate::test
