// The control thread's ARP handling (control/neighbours.cpp) against what a LAN host may send:
// news the gateway did not ask for is refused (neighbour-table poisoning), and every refusal is
// counted and logged, never silent; chatter between other hosts is none of its business.
#include <gtest/gtest.h>

#include "meshgate/wire/build.hpp"
#include "ring_gateways.hpp"

namespace meshgate::test {
namespace {

TEST(Neighbours, AnArpReplyNobodyAskedForIsRefusedCountedAndLogged) {
  RingGateways net("nbref");
  control::Gateway& gb = net.gw(1);
  LanHost& host = net.host(1);
  LogCapture log(gb);

  // A reply claiming 10.2.0.77 (a LAN address nobody asked about) for another MAC.
  const wire::MacAddr liar{{0x02, 0, 0, 0, 0, 0x77}};
  const IpAddr claimed = *IpAddr::parse("10.2.0.77");
  std::uint8_t frame[64];
  ASSERT_TRUE(host.inject_frame(
      frame, wire::build_arp_reply(frame, liar, claimed, host.gw_mac, *IpAddr::parse("10.2.0.1"))));
  EXPECT_TRUE(net.poll_until([&] { return gb.control().stats().neighbour_refused == 1; }, 200));
  EXPECT_FALSE(gb.dataplane().neighbours.state(claimed).has_value()) << "learnt a lie";

  // A request from one host to another: not learnt, not a refusal either.
  const IpAddr other = *IpAddr::parse("10.2.0.78");
  ASSERT_TRUE(host.inject_frame(frame, wire::build_arp_request(frame, liar, other, claimed)));
  net.poll_only(1);
  net.poll_only(1);
  EXPECT_FALSE(gb.dataplane().neighbours.state(other).has_value());
  EXPECT_EQ(gb.control().stats().neighbour_refused, 1u);
  EXPECT_TRUE(
      log.has("dropped (neighbour_refused): 10.2.0.77 at 02:00:00:00:00:77 from the "
              "inner port: not asked for"))
      << log.text();
}

}  // namespace
}  // namespace meshgate::test
