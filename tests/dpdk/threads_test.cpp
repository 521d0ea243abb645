// Gateway A's worker on an lcore of its own while the test's thread runs A's control thread (and
// all of gateway B), as in the daemon: the worker reads the tables the control thread writes
// (peers, keypairs, allowed IPs, neighbours, RCU) while a handshake completes and traffic flows
// both ways. tools/tsan's check of the worker against the control thread; built only in the TSan
// build for now (tests/dpdk/meson.build).
#include <gtest/gtest.h>

#include "meshgate/control/gateway.hpp"
#include "packets.hpp"
#include "ring_gateways.hpp"

namespace meshgate::test {
namespace {

TEST(Threads, WorkerOnItsLcoreWhileTheControlThreadHandshakesAndForwards) {
  RingGateways net("thr");
  const Status started = net.gw(0).start();
  ASSERT_TRUE(started) << started.error();
  LanHost& a = net.host(0);
  LanHost& b = net.host(1);
  const auto there = udp_packet(a.ip4, b.ip4, 4000, 5000, pattern(300, 1));
  const auto back = udp_packet(b.ip4, a.ip4, 5000, 4000, pattern(700, 2));
  const Nanos deadline = monotonic_now() + seconds(30);
  Nanos next_send = 0;
  // Real time: the worker on its lcore reads the monotonic clock itself.
  while ((b.received.empty() || a.received.empty()) && monotonic_now() < deadline) {
    const Nanos now = monotonic_now();
    const WallTime wall = wall_now();
    net.gw(0).control().poll(now, wall);
    net.gw(1).poll(now, wall);
    a.service();
    b.service();
    if (now >= next_send) {  // every 50 ms until each side has heard the other
      if (b.received.empty()) a.send_ip(there);
      if (!b.received.empty() && a.received.empty()) b.send_ip(back);
      next_send = now + millis(50);
    }
  }
  net.gw(0).request_stop();
  net.gw(0).join();
  ASSERT_FALSE(b.received.empty()) << "A's worker sealed nothing that reached B";
  ASSERT_FALSE(a.received.empty()) << "A's worker opened nothing from B";
  EXPECT_EQ(b.received.front(), forwarded(there, 2));  // two gateways: TTL two lower
  EXPECT_EQ(a.received.front(), forwarded(back, 2));
  EXPECT_GE(net.gw(0).control().stats().initiations_sent, 1u);
}

}  // namespace
}  // namespace meshgate::test
