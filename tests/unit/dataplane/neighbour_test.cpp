// Neighbour table: state transitions over injected time, a naive reference model, table-full
// behaviour, and lock-free lookups while the control thread writes.
#include "meshgate/dataplane/neighbour.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <thread>

namespace meshgate::dataplane {
namespace {

using wire::MacAddr;
IpAddr ip(const char* s) {
  return *IpAddr::parse(s);
}
const MacAddr kMac1{{0x02, 0, 0, 0, 0, 1}};
const MacAddr kMac2{{0x02, 0, 0, 0, 0, 2}};

TEST(Neighbour, ResolutionProbesThenFails) {
  NeighbourTable t;
  const IpAddr a = ip("10.0.0.7");
  EXPECT_FALSE(t.lookup(a));
  auto w = t.want(a, 0);
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE(*w);  // first probe now
  EXPECT_EQ(t.state(a), NeighState::incomplete);
  EXPECT_FALSE(t.want(a, millis(10)).value());  // already resolving
  EXPECT_TRUE(t.tick(millis(999)).empty());
  auto p = t.tick(seconds(1));  // second probe
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].ip, a);
  EXPECT_FALSE(p[0].unicast_to);
  EXPECT_EQ(t.tick(seconds(2)).size(), 1u);  // third and last
  EXPECT_TRUE(t.tick(seconds(3)).empty());
  EXPECT_EQ(t.state(a), NeighState::failed);
  EXPECT_FALSE(t.lookup(a));
  EXPECT_FALSE(t.want(a, seconds(4)).value());  // failed recently: no new probes yet
  t.tick(millis(5999));
  EXPECT_EQ(t.state(a), NeighState::failed);
  t.tick(seconds(6));  // failed_hold over: removed
  EXPECT_FALSE(t.state(a));
  EXPECT_TRUE(t.want(a, seconds(7)).value());
  EXPECT_EQ(t.size(), 1u);
}

TEST(Neighbour, ReachableStaleProbeCycle) {
  NeighbourTable t;
  const IpAddr a = ip("fe80::5");
  ASSERT_TRUE(t.want(a, 0).value());
  ASSERT_TRUE(t.confirm(a, kMac1, millis(3)).ok());
  EXPECT_EQ(t.state(a), NeighState::reachable);
  EXPECT_EQ(t.lookup(a), kMac1);
  EXPECT_TRUE(t.tick(seconds(30)).empty());  // 29.997 s after confirmation
  EXPECT_EQ(t.state(a), NeighState::reachable);
  EXPECT_TRUE(t.tick(seconds(31)).empty());
  EXPECT_EQ(t.state(a), NeighState::stale);
  EXPECT_EQ(t.lookup(a), kMac1);  // stale is still usable, and this use triggers a re-probe
  auto p = t.tick(seconds(32));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].unicast_to, kMac1);
  EXPECT_EQ(t.state(a), NeighState::probe);
  EXPECT_EQ(t.lookup(a), kMac1);
  EXPECT_EQ(t.tick(seconds(33)).size(), 1u);
  ASSERT_TRUE(t.confirm(a, kMac2, millis(33500)).ok());  // answered, from a new MAC
  EXPECT_EQ(t.state(a), NeighState::reachable);
  EXPECT_EQ(t.lookup(a), kMac2);
  // Used but never answering: stale -> probe x3 -> failed.
  t.tick(seconds(64));
  EXPECT_EQ(t.state(a), NeighState::stale);
  t.lookup(a);
  EXPECT_EQ(t.tick(seconds(65)).size(), 1u);
  EXPECT_EQ(t.tick(seconds(66)).size(), 1u);
  EXPECT_EQ(t.tick(seconds(67)).size(), 1u);
  EXPECT_TRUE(t.tick(seconds(68)).empty());
  EXPECT_EQ(t.state(a), NeighState::failed);
  EXPECT_FALSE(t.lookup(a));
}

TEST(Neighbour, UnusedStaleEntriesExpire) {
  NeighbourTable t;
  const IpAddr a = ip("10.0.0.1");
  ASSERT_TRUE(t.confirm(a, kMac1, 0).ok());
  t.tick(seconds(30));
  EXPECT_EQ(t.state(a), NeighState::stale);
  t.tick(seconds(299));
  EXPECT_EQ(t.state(a), NeighState::stale);
  t.tick(seconds(300));  // 5 min since the last use (its creation)
  EXPECT_FALSE(t.state(a));
  EXPECT_FALSE(t.lookup(a));
  EXPECT_EQ(t.size(), 0u);
}

TEST(Neighbour, LearnIsUnconfirmed) {
  NeighbourTable t;
  const IpAddr a = ip("10.0.0.2");
  ASSERT_TRUE(t.learn(a, kMac1, 0).ok());
  EXPECT_EQ(t.state(a), NeighState::stale);
  EXPECT_EQ(t.lookup(a), kMac1);
  ASSERT_TRUE(t.confirm(a, kMac1, 1).ok());
  ASSERT_TRUE(t.learn(a, kMac1, 2).ok());  // same MAC: stays reachable
  EXPECT_EQ(t.state(a), NeighState::reachable);
  ASSERT_TRUE(t.learn(a, kMac2, 3).ok());  // a new MAC: taken, but unconfirmed
  EXPECT_EQ(t.state(a), NeighState::stale);
  EXPECT_EQ(t.lookup(a), kMac2);
}

TEST(Neighbour, FamiliesAreDistinctKeys) {
  NeighbourTable t;
  // Same leading bytes and zero tail: only the family tells them apart.
  ASSERT_TRUE(t.confirm(ip("1.2.3.4"), kMac1, 0).ok());
  ASSERT_TRUE(t.confirm(ip("102:304::"), kMac2, 0).ok());
  EXPECT_EQ(t.lookup(ip("1.2.3.4")), kMac1);
  EXPECT_EQ(t.lookup(ip("102:304::")), kMac2);
  EXPECT_FALSE(t.lookup(IpAddr{}));
}

TEST(Neighbour, MatchesNaiveModel) {
  NeighbourTable t({.capacity = 64});
  std::map<std::uint32_t, MacAddr> model;
  std::mt19937 rng(4861);
  for (int i = 0; i < 200000; ++i) {
    const std::uint32_t host = 0x0A000000 | (rng() % 80);
    const IpAddr a = IpAddr::v4(host);
    switch (rng() % 3) {
      case 0: {
        const MacAddr m = MacAddr::from_u64(rng() | 0x020000000000ull);
        const bool full = model.size() >= t.max_entries() && !model.count(host);
        const Status s = t.confirm(a, m, 0);
        ASSERT_EQ(s.ok(), !full) << i;
        if (s.ok()) model[host] = m;
        break;
      }
      case 1:
        ASSERT_EQ(t.erase(a), model.erase(host) == 1) << i;
        break;
      default: {
        const auto it = model.find(host);
        const auto got = t.lookup(a);
        ASSERT_EQ(got.has_value(), it != model.end()) << i;
        if (got) {
          ASSERT_EQ(*got, it->second);
        }
      }
    }
    ASSERT_EQ(t.size(), model.size());
  }
}

// Poisoning: a host floods a segment with requests from ever new senders. Unasked entries stay
// within their segment's share, so next hops the gateway needs on either segment still resolve.
TEST(Neighbour, UnaskedFloodLeavesRoomForWantedNextHops) {
  NeighbourTable t({.capacity = 64});
  std::size_t taken = 0;
  for (std::uint32_t i = 0; i < 1000; ++i) {
    taken += t.learn(IpAddr::v4(0x0A000100 + i), kMac1, 0, /*segment=*/0).ok() ? 1 : 0;
  }
  EXPECT_EQ(taken, t.max_entries() / 4);
  EXPECT_EQ(t.unasked(0), taken);
  EXPECT_EQ(t.unasked(1), 0u);
  // A sender on the other segment still gets in, and wanted next hops on both resolve.
  EXPECT_TRUE(t.learn(ip("198.51.100.7"), kMac2, 0, /*segment=*/1).ok());
  for (const char* hop : {"10.0.0.1", "198.51.100.1"}) {
    const auto w = t.want(ip(hop), millis(1));
    ASSERT_TRUE(w.ok()) << hop << ": " << w.error();
    EXPECT_TRUE(*w);
    ASSERT_TRUE(t.confirm(ip(hop), kMac2, millis(2)).ok());
    EXPECT_EQ(t.lookup(ip(hop)), kMac2);
  }
  // An unasked entry the gateway then needs no longer counts against the flood's share.
  EXPECT_FALSE(t.want(IpAddr::v4(0x0A000100), millis(3)).value());
  EXPECT_EQ(t.unasked(0), taken - 1);
}

// Crafted collisions need the hash seed: each table draws its own.
TEST(Neighbour, HashSeedIsRandomPerTable) {
  NeighbourTable a, b;
  EXPECT_NE(a.hash_seed(), 0u);
  EXPECT_NE(a.hash_seed(), b.hash_seed());
  EXPECT_NE(a.hash_seed(), 0x9E3779B97F4A7C15ull);                // the old fixed seed
  EXPECT_EQ(NeighbourTable({.hash_seed = 42}).hash_seed(), 42u);  // tests may still fix one
}

TEST(Neighbour, FullTableIsAClearError) {
  NeighbourTable t({.capacity = 16});
  EXPECT_EQ(t.capacity(), 16u);
  EXPECT_EQ(t.max_entries(), 12u);
  for (std::uint32_t i = 0; i < 12; ++i) ASSERT_TRUE(t.confirm(IpAddr::v4(i + 1), kMac1, 0).ok());
  const Status s = t.confirm(IpAddr::v4(100), kMac1, 0);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("full"), std::string::npos) << s.error();
  const auto w = t.want(IpAddr::v4(101), 0);
  ASSERT_FALSE(w.ok());
  EXPECT_FALSE(t.learn(IpAddr::v4(102), kMac1, 0).ok());
  EXPECT_FALSE(t.lookup(IpAddr::v4(100)));               // terminates on a full table
  EXPECT_TRUE(t.confirm(IpAddr::v4(1), kMac2, 0).ok());  // updates still work
  EXPECT_TRUE(t.erase(IpAddr::v4(5)));
  EXPECT_TRUE(t.confirm(IpAddr::v4(100), kMac1, 0).ok());
  EXPECT_EQ(t.lookup(IpAddr::v4(100)), kMac1);
}

TEST(Neighbour, ChurnNeverWedgesTheTable) {
  // Many inserts and removals of distinct keys in a tiny table: tombstones must not make inserts
  // fail or lookups walk forever.
  NeighbourTable t({.capacity = 16});
  for (std::uint32_t i = 0; i < 100000; ++i) {
    ASSERT_TRUE(t.confirm(IpAddr::v4(i), kMac1, 0).ok()) << i;
    if (i >= 10) {
      ASSERT_TRUE(t.erase(IpAddr::v4(i - 10)));
    }
    ASSERT_FALSE(t.lookup(IpAddr::v4(0xFFFFFFFF)));
  }
}

// Lookups from two reader threads while the control thread inserts, updates and removes
// entries. Stable entries must always be found with their MAC; churned entries may miss but
// never return a MAC that belongs to another address (a torn key or MAC would).
TEST(Neighbour, ConcurrentReadersSeeConsistentEntries) {
  NeighbourTable t({.capacity = 256});
  auto mac_for = [](std::uint32_t host, std::uint64_t variant) {
    return MacAddr::from_u64(0x020000000000ull | (variant << 32) | host);
  };
  constexpr std::uint32_t kStable = 64, kChurn = 100;
  for (std::uint32_t h = 0; h < kStable; ++h) {
    ASSERT_TRUE(t.confirm(IpAddr::v4(0x0A000000 + h), mac_for(0x0A000000 + h, 0), 0).ok());
  }
  std::atomic<bool> stop{false};
  std::atomic<long> errors{0}, hits{0};
  auto reader = [&] {
    std::mt19937 rng(std::hash<std::thread::id>{}(std::this_thread::get_id()));
    while (!stop.load(std::memory_order_relaxed)) {
      const std::uint32_t s = 0x0A000000 + rng() % kStable;
      const auto m = t.lookup(IpAddr::v4(s));
      if (!m || *m != mac_for(s, 0)) {
        errors.fetch_add(1);
      }
      const std::uint32_t c = 0x0B000000 + rng() % kChurn;
      if (const auto mc = t.lookup(IpAddr::v4(c))) {
        hits.fetch_add(1, std::memory_order_relaxed);
        if (*mc != mac_for(c, 1) && *mc != mac_for(c, 2)) {
          errors.fetch_add(1);
        }
      }
    }
  };
  std::thread r1(reader), r2(reader);
  std::mt19937 rng(99);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(400);
  long ops = 0;
  while (std::chrono::steady_clock::now() < deadline) {  // bounded well under 1 s
    for (int k = 0; k < 256; ++k, ++ops) {
      const std::uint32_t c = 0x0B000000 + rng() % kChurn;
      if (rng() % 2) {
        (void)t.confirm(IpAddr::v4(c), mac_for(c, 1 + rng() % 2), 0);
      } else {
        t.erase(IpAddr::v4(c));
      }
    }
  }
  stop = true;
  r1.join();
  r2.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_GT(ops, 1000);
  EXPECT_GT(hits.load(), 0);
}

}  // namespace
}  // namespace meshgate::dataplane
