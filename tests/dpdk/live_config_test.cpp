// UAPI changes on a gateway that is carrying traffic (two gateways joined by net_ring ports):
// listen port, allowed IPs, a second peer added and removed; `get` reports what was sent.
#include <gtest/gtest.h>

#include "meshgate/control/gateway.hpp"
#include "meshgate/control/uapi_server.hpp"
#include "meshgate/crypto/x25519.hpp"
#include "packets.hpp"
#include "ring_gateways.hpp"

namespace meshgate::test {
namespace {

TEST(LiveConfig, UapiChangesApplyWhileTrafficFlows) {
  RingGateways net("live");
  LanHost& a = net.host(0);
  LanHost& b = net.host(1);
  auto& ca = net.gw(0).control();
  auto& cb = net.gw(1).control();
  auto dev = control::make_uapi_device(ca);
  control::uapi::Connection conn(*dev);
  auto uapi = [&](const std::string& r) {
    std::string out;
    EXPECT_TRUE(conn.feed(r, out));
    return out;
  };
  auto a_to_b = [&](bool v6, std::size_t size) {
    b.received.clear();
    EXPECT_TRUE(
        a.send_ip(udp_packet(v6 ? a.ip6 : a.ip4, v6 ? b.ip6 : b.ip4, 1, 2, pattern(size, 7))));
    return net.poll_until([&] { return !b.received.empty(); }, 300);
  };
  const std::string b_hex = to_hex(as_bytes(cb.sessions().identity().public_key));

  ASSERT_TRUE(a_to_b(false, 1000));
  std::string got = uapi("get=1\n\n");
  EXPECT_NE(got.find("listen_port=51820\npublic_key=" + b_hex + "\n"), std::string::npos) << got;
  EXPECT_NE(got.find("allowed_ip=10.2.0.0/24\nallowed_ip=fd02::/64\nerrno=0\n\n"),
            std::string::npos)
      << got;
  // The 148-byte initiation, then the 1028-byte IPv4 packet: padded to 1040, plus 32 bytes of
  // WireGuard framing (handshake messages count, as in the kernel).
  EXPECT_NE(got.find("tx_bytes=1220\n"), std::string::npos) << got;

  // Listen port: A's packets leave from the new port at once, B roams to it, replies follow.
  EXPECT_EQ(uapi("set=1\nlisten_port=40000\n\n"), "errno=0\n\n");
  ASSERT_TRUE(a_to_b(false, 100));
  auto a_at_b = cb.peers().find(ca.sessions().identity().public_key);
  ASSERT_TRUE(a_at_b);
  EXPECT_EQ(cb.peers().find(*a_at_b)->settings.endpoint.str(), "198.51.100.2:40000");
  a.received.clear();
  ASSERT_TRUE(b.send_ip(udp_packet(b.ip4, a.ip4, 2, 1, pattern(100, 8))));
  EXPECT_TRUE(net.poll_until([&] { return !a.received.empty(); }, 300));

  // Allowed IPs replaced: IPv4 to B has no route any more, IPv6 goes on.
  const auto no_route_before = net.gw(0).worker(0).drops()[dataplane::Drop::no_route];
  EXPECT_EQ(
      uapi("set=1\npublic_key=" + b_hex + "\nreplace_allowed_ips=true\nallowed_ip=fd02::/64\n\n"),
      "errno=0\n\n");
  EXPECT_FALSE(a_to_b(false, 100));
  EXPECT_EQ(net.gw(0).worker(0).drops()[dataplane::Drop::no_route], no_route_before + 1);
  EXPECT_TRUE(a_to_b(true, 100));

  // A second peer comes and goes; B's traffic does not notice.
  const std::string c_hex(64, 'c');
  EXPECT_EQ(uapi("set=1\npublic_key=" + c_hex +
                 "\nendpoint=198.51.100.9:51820\nallowed_ip=10.3.0.0/24\n\n"),
            "errno=0\n\n");
  EXPECT_EQ(ca.peers().ids().size(), 2u);
  EXPECT_TRUE(a_to_b(true, 300));
  EXPECT_EQ(uapi("set=1\npublic_key=" + c_hex + "\nremove=true\n\n"), "errno=0\n\n");
  EXPECT_EQ(ca.peers().ids().size(), 1u);
  EXPECT_TRUE(a_to_b(true, 300));
  // An interface key after a peer is refused and changes nothing.
  EXPECT_EQ(uapi("set=1\npublic_key=" + b_hex + "\nlisten_port=1\n\n"), "errno=-22\n\n");
  EXPECT_EQ(ca.config().listen_port(), 40000);
}

// A worker's pipeline may carry a packet routed to a peer across one quiescent state, so a removed
// peer's id must not go to a new peer until two grace periods have passed: that packet would be
// sealed for the newcomer.
TEST(LiveConfig, ARemovedPeersIdWaitsTwoGracePeriods) {
  RingGateways net("reuse");
  auto& c = net.gw(0).control();
  auto settings = [](std::uint8_t net_byte) {
    control::PeerSettings s;
    s.public_key = crypto::x25519_public(crypto::x25519_generate());
    s.allowed_ips = {*Prefix::parse("10.77." + std::to_string(net_byte) + ".0/24")};
    return s;
  };
  auto first = c.config().add_peer(settings(1), monotonic_now());
  ASSERT_TRUE(first.ok()) << first.error();
  c.config().remove_peer(*first);
  auto second = c.config().add_peer(settings(2), monotonic_now());
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_NE(*second, *first) << "a removed peer's id was handed out again at once";
  for (int i = 0; i < 5; ++i) net.poll(millis(1));  // workers pass quiescent states; RCU polls
  auto third = c.config().add_peer(settings(3), monotonic_now());
  ASSERT_TRUE(third.ok()) << third.error();
  EXPECT_EQ(*third, *first) << "the id should be free again once the grace periods are over";
}

// A peer add that fails changes nothing: no record, no id held back, no allowed IP taken from the
// peer that had it; the last free id goes to the next add at once.
TEST(LiveConfig, AFailedPeerAddLeavesNothing) {
  RingGateways net("halfadd", false, control::GatewayLimits{.max_peers = 2, .mbufs = 1023});
  auto& c = net.gw(0).control();
  const auto& allowed = net.gw(0).dataplane().allowed;
  const peer::PeerId b = c.peers().ids().at(0);
  const std::uint32_t in_b = IpAddr::parse("10.2.0.5")->v4_host_order();
  const std::uint32_t in_new = IpAddr::parse("10.8.0.5")->v4_host_order();
  const std::size_t prefixes = allowed.size();
  auto settings = [](const std::vector<Prefix>& ips) {
    control::PeerSettings s;
    s.public_key = crypto::x25519_public(crypto::x25519_generate());
    s.allowed_ips = ips;
    return s;
  };
  auto expect_unchanged = [&] {
    EXPECT_EQ(c.peers().ids(), std::vector<peer::PeerId>{b});
    EXPECT_EQ(c.peers().end(), b + 1);
    EXPECT_EQ(allowed.size(), prefixes);
    EXPECT_EQ(allowed.lookup(in_b), b) << "B lost an allowed IP to a peer that was never added";
    EXPECT_EQ(allowed.lookup(in_new), peer::kNoPeer);
  };

  // B's own prefix first, then one that cannot go in.
  Prefix bad = *Prefix::parse("10.9.0.0/16");
  bad.len = 40;
  auto r = c.config().add_peer(settings({*Prefix::parse("10.2.0.0/24"), bad}), monotonic_now());
  EXPECT_FALSE(r.ok());
  expect_unchanged();

  // A key the handshake refuses (the interface's own).
  control::PeerSettings own = settings({*Prefix::parse("10.8.0.0/24")});
  own.public_key = c.sessions().identity().public_key;
  r = c.config().add_peer(own, monotonic_now());
  EXPECT_FALSE(r.ok());
  expect_unchanged();

  // No grace period in between: the failed adds published nothing, so the id is free.
  r = c.config().add_peer(settings({*Prefix::parse("10.8.0.0/24")}), monotonic_now());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(allowed.lookup(in_new), *r);
  EXPECT_EQ(allowed.lookup(in_b), b);
}

}  // namespace
}  // namespace meshgate::test
