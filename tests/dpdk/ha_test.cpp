// High availability (docs/design.md): a standby gateway answers nothing and sends nothing on
// either port, and counts what it receives as `standby`; switched to active it announces its
// addresses on both ports and starts a handshake with every peer whose endpoint it knows.
#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstring>
#include <vector>

#include "meshgate/control/gateway.hpp"
#include "meshgate/wire/build.hpp"
#include "meshgate/wire/classify.hpp"
#include "packets.hpp"
#include "ring_gateways.hpp"

namespace meshgate::test {
namespace {

using Frames = std::vector<std::vector<std::uint8_t>>;

IpAddr ip(const char* s) {
  return *IpAddr::parse(s);
}

/// Site A's gateway (gateway 0) starts as a standby; it knows site B's endpoint and sends a
/// persistent keepalive every second, so an active one would send within the tests' waits.
RingGateways standby_pair(const std::string& tag) {
  RingGateways::Extra extra;
  extra.gateway[0] = "Role = standby\n";
  extra.peer[0] = "PersistentKeepalive = 1\n";
  return RingGateways(tag, false, {}, extra);
}

/// Puts a frame on `ring` (a port's RX ring) as a wire would.
void inject(rte_ring* ring, rte_mempool* pool, const std::uint8_t* f, std::size_t len) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  ASSERT_NE(m, nullptr);
  std::memcpy(rte_pktmbuf_append(m, static_cast<std::uint16_t>(len)), f, len);
  ASSERT_EQ(rte_ring_enqueue(ring, m), 0);
}

/// What a LAN host and an Internet neighbour would send a gateway: ARP and NS for its addresses
/// on both ports, and a packet for site B.
void ask_everything(RingGateways& net) {
  LanHost& a = net.host(0);
  std::uint8_t f[128];
  ASSERT_TRUE(a.inject_frame(f, wire::build_arp_request(f, a.mac, a.ip4, ip("10.1.0.1"))));
  ASSERT_TRUE(
      a.inject_frame(f, wire::build_neighbour_solicitation(f, a.mac, a.ip6, ip("fd01::1"))));
  ASSERT_TRUE(a.send_ip(udp_packet(a.ip4, net.host(1).ip4, 4000, 5000, pattern(100, 1))));
  const wire::MacAddr router{{0x02, 0, 0, 0, 9, 9}};
  rte_mempool* pool = net.gw(0).dataplane().pool;
  inject(net.wire_to(0), pool, f,
         wire::build_arp_request(f, router, ip("198.51.100.9"), ip("198.51.100.2")));
}

std::uint64_t standby_drops(control::Gateway& g) {
  return g.worker(0).drops()[dataplane::Drop::standby] +
         g.control().drops()[dataplane::Drop::standby];
}

/// The ARP messages among `frames` (ARP requests and replies alike).
std::vector<wire::ArpMessage> arps(const Frames& frames) {
  std::vector<wire::ArpMessage> out;
  for (const auto& f : frames) {
    const wire::FrameInfo info = wire::classify_frame(f.data(), f.size());
    if (info.ok() && info.kind == wire::FrameKind::arp)
      out.push_back(wire::parse_arp(f.data(), info));
  }
  return out;
}

std::vector<wire::NdpMessage> ndps(const Frames& frames) {
  std::vector<wire::NdpMessage> out;
  for (const auto& f : frames) {
    const wire::FrameInfo info = wire::classify_frame(f.data(), f.size());
    if (!info.ok() || info.kind != wire::FrameKind::ndp) continue;
    if (auto nd = wire::parse_ndp(f.data(), info)) out.push_back(*nd);
  }
  return out;
}

/// `frames` hold exactly one gratuitous ARP for `addr` (sender and target both `addr`) from
/// `mac`, broadcast, and exactly one unsolicited override NA for `addr6` to all nodes.
void expect_announced(const Frames& frames, const char* addr, const char* addr6,
                      const wire::MacAddr& mac) {
  int garps = 0, nas = 0;
  for (const wire::ArpMessage& a : arps(frames)) {
    if (a.spa == ip(addr) && a.tpa == ip(addr) && a.op == wire::spec::kArpOpRequest) {
      EXPECT_EQ(a.sha, mac);
      ++garps;
    }
  }
  for (const wire::NdpMessage& n : ndps(frames)) {
    if (n.type != wire::spec::kNdpNeighbourAdvert || !(n.target == ip(addr6))) continue;
    EXPECT_EQ(n.dst, ip("ff02::1"));
    EXPECT_EQ(n.flags & (wire::spec::kNaFlagOverride | wire::spec::kNaFlagSolicited),
              wire::spec::kNaFlagOverride);
    EXPECT_EQ(n.lla, mac);
    ++nas;
  }
  EXPECT_EQ(garps, 1) << addr;
  EXPECT_EQ(nas, 1) << addr6;
}

TEST(HighAvailability, StandbyAnswersNoArpAndSendsNothing) {
  RingGateways net = standby_pair("hasb");
  control::Gateway& g = net.gw(0);
  ASSERT_TRUE(g.control().standby());
  ask_everything(net);
  // Three seconds: the persistent keepalive, the staged packet's initiation and the ARP answers
  // an active gateway would have sent long before.
  for (int i = 0; i < 3000; ++i) net.poll_only(0, millis(1), /*service_host=*/false);
  EXPECT_TRUE(drain(net.host(0).from_gw).empty());
  EXPECT_TRUE(drain(net.wire_to(1)).empty());
  EXPECT_EQ(standby_drops(g), 4u);  // ARP and NS on the LAN, the packet, ARP on the Internet
  EXPECT_EQ(g.control().stats().arp_replies, 0u);
  EXPECT_EQ(g.control().stats().initiations_sent, 0u);
}

TEST(HighAvailability, BecomingActiveAnnouncesAndHandshakesAtOnce) {
  RingGateways net = standby_pair("haup");
  control::Gateway& g = net.gw(0);
  for (int i = 0; i < 100; ++i) net.poll_only(0, millis(1), false);
  g.control().set_role(config::Role::active, net.now(), net.wall());
  EXPECT_FALSE(g.control().standby());
  net.poll_only(0, millis(1), false);
  const Frames lan = drain(net.host(0).from_gw);
  const Frames wan = drain(net.wire_to(1));
  expect_announced(lan, "10.1.0.1", "fd01::1", g.dataplane().addr.inner_mac);
  expect_announced(wan, "198.51.100.2", "2001:db8::2", g.dataplane().addr.outer_mac);
  EXPECT_EQ(g.control().stats().announcements, 4u);
  // The initiation to B waits for B's MAC: the ARP request for it is out already.
  EXPECT_EQ(g.control().stats().initiations_sent, 1u);
  bool asked_b = false;
  for (const wire::ArpMessage& a : arps(wan)) asked_b |= a.tpa == ip("198.51.100.3");
  EXPECT_TRUE(asked_b);
  // And the tunnel works: B's gateway answers the probe and the handshake on their retries.
  LanHost& a = net.host(0);
  const auto pkt = udp_packet(a.ip4, net.host(1).ip4, 4000, 5000, pattern(100, 2));
  ASSERT_TRUE(a.send_ip(pkt));
  ASSERT_TRUE(net.poll_until([&] { return !net.host(1).received.empty(); }, 8000));
  EXPECT_EQ(net.host(1).received.back(), forwarded(pkt, 2));  // two gateways: TTL two lower
  EXPECT_EQ(standby_drops(g), 0u);
}

TEST(HighAvailability, GoingStandbyStopsAnsweringAtOnceAndActiveAgainResumes) {
  RingGateways net("hadn");
  control::Gateway& g = net.gw(0);
  LanHost& a = net.host(0);
  ASSERT_TRUE(a.send_ip(udp_packet(a.ip4, net.host(1).ip4, 4000, 5000, pattern(100, 3))));
  ASSERT_TRUE(net.poll_until([&] { return !net.host(1).received.empty(); }));

  g.control().set_role(config::Role::standby, net.now(), net.wall());
  drain(net.host(0).from_gw);
  drain(net.wire_to(1));
  ask_everything(net);
  for (int i = 0; i < 100; ++i) net.poll_only(0, millis(1), false);
  EXPECT_TRUE(drain(net.host(0).from_gw).empty());
  EXPECT_TRUE(drain(net.wire_to(1)).empty());
  EXPECT_EQ(standby_drops(g), 4u);

  g.control().set_role(config::Role::active, net.now(), net.wall());
  net.host(1).received.clear();
  const auto pkt = udp_packet(a.ip4, net.host(1).ip4, 4000, 5000, pattern(100, 4));
  ASSERT_TRUE(a.send_ip(pkt));
  ASSERT_TRUE(net.poll_until([&] { return !net.host(1).received.empty(); }, 8000));
  EXPECT_EQ(net.host(1).received.back(), forwarded(pkt, 2));  // two gateways: TTL two lower
}

}  // namespace
}  // namespace meshgate::test
