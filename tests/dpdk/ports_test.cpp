// The DPDK plumbing the gateway stands on: pools, ring ports joined back to back, RCU.
#include <gtest/gtest.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "meshgate/dpdk/port.hpp"
#include "meshgate/dpdk/rcu.hpp"
#include "meshgate/dpdk/ring_port.hpp"

namespace meshgate::dpdk {
namespace {

TEST(Ports, TwoRingPortsCarryFramesBothWays) {
  auto pool = make_pool("ports_pool", 1023, SOCKET_ID_ANY);
  ASSERT_TRUE(pool) << pool.error();
  auto ab = make_ring("ports_ab", 256);
  auto ba = make_ring("ports_ba", 256);
  ASSERT_TRUE(ab && ba);
  auto a = make_ring_port("ports_a", *ba, 1, *ab, 2);
  auto b = make_ring_port("ports_b", *ab, 1, *ba, 2);
  ASSERT_TRUE(a && b);
  std::string b_name;
  for (std::uint16_t p : {*a, *b}) {
    auto info = setup_port({.port_id = p, .rx_queues = 1, .tx_queues = 2, .pool = *pool});
    ASSERT_TRUE(info) << info.error();
    EXPECT_EQ(info->driver, "net_ring");
    b_name = info->name;
  }
  auto by_name = find_port(b_name);
  ASSERT_TRUE(by_name) << by_name.error();
  EXPECT_EQ(*by_name, *b);
  EXPECT_EQ(*find_port(std::to_string(*b)), *b);
  EXPECT_FALSE(find_port("no_such_port"));
  EXPECT_FALSE(find_port("99"));

  // Both TX queues of A feed B's single RX queue.
  for (std::uint16_t q = 0; q < 2; ++q) {
    rte_mbuf* m = rte_pktmbuf_alloc(*pool);
    ASSERT_NE(m, nullptr);
    char* d = rte_pktmbuf_append(m, 60);
    std::memset(d, 0x40 + q, 60);
    ASSERT_EQ(rte_eth_tx_burst(*a, q, &m, 1), 1);
  }
  rte_mbuf* got[4];
  ASSERT_EQ(rte_eth_rx_burst(*b, 0, got, 4), 2);
  EXPECT_EQ(rte_pktmbuf_mtod(got[0], std::uint8_t*)[0], 0x40);
  EXPECT_EQ(rte_pktmbuf_mtod(got[1], std::uint8_t*)[0], 0x41);
  rte_pktmbuf_free_bulk(got, 2);
  EXPECT_EQ(rte_eth_rx_burst(*a, 0, got, 4), 0);
  close_port(*a);
  close_port(*b);
}

TEST(Rcu, DefersReclamationUntilEveryReaderIsQuiescent) {
  Rcu rcu(2);
  rcu.reader_register(0);
  rcu.reader_register(1);
  int freed = 0;
  rcu.defer([&] { ++freed; });
  EXPECT_EQ(rcu.poll(), 0u);
  rcu.quiescent(0);
  EXPECT_EQ(rcu.poll(), 0u);  // reader 1 may still hold a reference
  rcu.quiescent(1);
  EXPECT_EQ(rcu.poll(), 1u);
  EXPECT_EQ(freed, 1);
  rcu.defer([&] { ++freed; });
  rcu.reader_offline(0);
  rcu.reader_offline(1);  // offline readers do not hold up the writer
  EXPECT_EQ(rcu.poll(), 1u);
  EXPECT_EQ(freed, 2);
}

/// Calls `report` (a reader's quiescent state) until `done` holds, for at most 5 s.
template <typename Done, typename Report>
bool report_until(Done done, Report report) {
  for (int i = 0; i < 5000 && !done(); ++i) {
    report();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return done();
}

TEST(Rcu, SynchronizeWaitsForEveryReaderEvenWithNothingDeferred) {
  // A writer that unpublished something without deferring its reclamation (tunbench's rekeys
  // free keypairs this way) relies on synchronize() for the grace period itself.
  Rcu rcu(1);
  rcu.reader_register(0);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    rcu.synchronize();
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_FALSE(done.load()) << "returned while reader 0 may still hold a reference";
  EXPECT_TRUE(report_until([&] { return done.load(); }, [&] { rcu.quiescent(0); }));
  writer.join();
  rcu.reader_offline(0);
}

TEST(Rcu, WorkDeferredDuringSynchronizeWaitsForAGracePeriodOfItsOwn) {
  // At shutdown a reclamation may defer another (an object that owns deferred objects): what it
  // defers was unpublished after the first grace period began, so it needs a second one.
  Rcu rcu(1);
  rcu.reader_register(0);
  std::atomic<bool> first{false}, second{false};
  rcu.defer([&] {
    first = true;
    rcu.defer([&] { second = true; });
  });
  std::thread writer([&] { rcu.synchronize(); });
  EXPECT_TRUE(report_until([&] { return first.load(); }, [&] { rcu.quiescent(0); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_FALSE(second.load()) << "ran with no quiescent state after it was deferred";
  EXPECT_TRUE(report_until([&] { return second.load(); }, [&] { rcu.quiescent(0); }));
  writer.join();
  EXPECT_EQ(rcu.pending(), 0u);
  rcu.reader_offline(0);
}

}  // namespace
}  // namespace meshgate::dpdk
