// Coordination through a lighthouse, over two gateways joined by rings: B is a lighthouse, and
// A's [Peer] for B says so. A reports its candidates to B inside the tunnel; B keeps the report
// with the source it came from. Coordination messages that nobody may send are counted by
// verdict, never acted on, and leave the tunnel working.
#include "meshgate/control/lighthouse.hpp"

#include <gtest/gtest.h>

#include "meshgate/nat/coord.hpp"
#include "packets.hpp"
#include "ring_gateways.hpp"

namespace meshgate::test {
namespace {

namespace coord = nat::coord;
using control::CoordVerdict;
using peer::kNoPeer;
using peer::PeerId;

const control::GatewayLimits kSmall{.max_peers = 16, .mbufs = 2047};

RingGateways::Extra lighthouse_b() {
  RingGateways::Extra e;
  e.peer[0] = "Lighthouse = on\n";     // A: peer B is a lighthouse
  e.gateway[1] = "Lighthouse = on\n";  // B: serves introductions
  return e;
}

PeerId peer_of(control::Gateway& at, control::Gateway& who) {
  const auto id = at.control().peers().find(who.control().sessions().identity().public_key);
  EXPECT_TRUE(id.has_value());
  return id.value_or(kNoPeer);
}

std::uint64_t count(control::Gateway& g, coord::Type t, CoordVerdict v) {
  return g.control().lighthouse().stats().messages[static_cast<std::size_t>(t)]
                                                  [static_cast<std::size_t>(v)];
}

TEST(Lighthouse, GatewayReportsItsCandidatesInsideTheTunnel) {
  RingGateways net("lhr", false, kSmall, lighthouse_b());
  control::Gateway& a = net.gw(0);
  control::Gateway& b = net.gw(1);
  EXPECT_TRUE(b.control().lighthouse().serving());
  EXPECT_FALSE(a.control().lighthouse().serving());
  // No traffic at all: A starts the session with its lighthouse on its own, and reports.
  ASSERT_TRUE(net.poll_until([&] { return !b.control().lighthouse().reports().empty(); }, 3000))
      << "A sent " << a.control().stats().initiations_sent << " initiations and "
      << a.control().lighthouse().stats().reports_sent << " reports";
  const auto& reports = b.control().lighthouse().reports();
  ASSERT_EQ(reports.begin()->first, peer_of(b, a));
  const Endpoint a_outer{a.dataplane().addr.outer_v4, 51820};
  unsigned local = 0, listed = 0;
  for (const coord::Candidate& c : reports.begin()->second.candidates.view()) {
    local += c.kind == coord::CandidateKind::local && c.endpoint == a_outer;
    listed += c.endpoint == a_outer;
  }
  EXPECT_EQ(local, 1u) << "A's outer address with its listen port";
  // The source B saw the report come from is that address too (no NAT between the rings): an
  // observed candidate that repeats a reported one is not listed twice.
  EXPECT_EQ(listed, 1u);
  EXPECT_EQ(count(b, coord::Type::report, CoordVerdict::accepted), 1u);
}

TEST(Lighthouse, MessagesNobodyMaySendAreCountedAndIgnored) {
  RingGateways net("lhb", false, kSmall, lighthouse_b());
  control::Gateway& a = net.gw(0);
  control::Gateway& b = net.gw(1);
  ASSERT_TRUE(net.poll_until([&] { return !b.control().lighthouse().reports().empty(); }, 3000));
  const PeerId b_at_a = peer_of(a, b);
  const PeerId a_at_b = peer_of(b, a);
  const std::uint64_t rejected_before = b.control().drops()[dataplane::Drop::control_rejected];
  LogCapture log(b);

  coord::Message m;
  m.type = coord::Type::introduce;  // A is no lighthouse of B's
  m.key = a.control().sessions().identity().public_key;
  ASSERT_TRUE(a.control().paths().send(b_at_a, m, {}, net.now()));
  m.type = coord::Type::request;  // about a key B does not know
  m.key.fill(0x77);
  ASSERT_TRUE(a.control().paths().send(b_at_a, m, {}, net.now()));
  m.type = coord::Type::pong;  // answers no ping of B's
  m.txid = 42;
  ASSERT_TRUE(a.control().paths().send(b_at_a, m, {}, net.now()));
  m.type = coord::Type::report;  // A serves nobody
  ASSERT_TRUE(b.control().paths().send(a_at_b, m, {}, net.now()));
  // The magic and a length that fits, but no such type.
  const std::uint8_t junk[] = {coord::kMagic, 9, 0, 8, 1, 2, 3, 4};
  ASSERT_TRUE(
      a.control().tx().send_sealed_to(b_at_a, a.control().peers().find(b_at_a)->settings.endpoint,
                                      b.dataplane().addr.outer_mac, junk, sizeof junk, net.now()));
  for (int i = 0; i < 50; ++i) net.poll();

  EXPECT_EQ(count(b, coord::Type::introduce, CoordVerdict::not_lighthouse), 1u);
  EXPECT_EQ(count(b, coord::Type::request, CoordVerdict::unknown_peer), 1u);
  EXPECT_EQ(count(b, coord::Type::pong, CoordVerdict::unexpected), 1u);
  EXPECT_EQ(count(a, coord::Type::report, CoordVerdict::not_serving), 1u);
  EXPECT_EQ(b.control().lighthouse().stats().messages[0][static_cast<std::size_t>(
                CoordVerdict::malformed)],
            1u);
  EXPECT_EQ(b.control().drops()[dataplane::Drop::control_rejected] - rejected_before, 4u);
  // Each refusal is logged too (throttled per reason, and these are all different).
  for (const char* r : {"dropped (not_lighthouse)", "dropped (unknown_peer)",
                        "dropped (unexpected)", "dropped (coord_malformed)"}) {
    EXPECT_TRUE(log.has(r)) << r << " missing from:\n" << log.text();
  }
  EXPECT_EQ(b.control().lighthouse().stats().introductions_sent, 0u);

  // The tunnel still carries traffic both ways.
  const auto there = udp_packet(net.host(0).ip4, net.host(1).ip4, 4000, 5000, pattern(200, 3));
  ASSERT_TRUE(net.host(0).send_ip(there));
  ASSERT_TRUE(net.poll_until([&] { return !net.host(1).received.empty(); }));
  EXPECT_EQ(net.host(1).received.back(), forwarded(there, 2));
}

}  // namespace
}  // namespace meshgate::test
