// Handshake rate limiter: the kernel selftest/ratelimiter.c timing table with injected time,
// independence of sources, IPv6 /64 grouping, the table bound and idle expiry.
#include "meshgate/peer/ratelimiter.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace meshgate::peer {
namespace {

constexpr unsigned kBurst = wire::spec::kHandshakePacketsBurstable;
constexpr Nanos kCostMs = 1000 / wire::spec::kHandshakePacketsPerSecond;  // 50 ms

struct Step {
  bool allowed;
  Nanos ms_before;  // time that passes before this packet
};

// Burst of 5, refused; one token after 50 ms, refused; two after 100 ms, refused.
constexpr Step kTimings[] = {
    {true, 0},       {true, 0},  {true, 0},           {true, 0}, {true, 0},  {false, 0},
    {true, kCostMs}, {false, 0}, {true, kCostMs * 2}, {true, 0}, {false, 0},
};
static_assert(std::size(kTimings) == kBurst + 6);

TEST(RateLimiter, KernelTimingTable) {
  RateLimiter rl;
  Nanos now = seconds(1000);
  const std::uint32_t src4 = 8182;
  const Ip6 src6{(std::uint64_t{1212} << 32) | 289188, 0};
  for (std::size_t i = 0; i < std::size(kTimings); ++i) {
    now += millis(kTimings[i].ms_before);
    EXPECT_EQ(rl.allow(src4, now), kTimings[i].allowed) << "v4 step " << i;
    // Another address is another bucket: always allowed.
    EXPECT_TRUE(rl.allow(src4 + static_cast<std::uint32_t>(i) + 1, now)) << "v4 other " << i;
    // Same /64 with a different interface id: the same bucket as src6.
    Ip6 same64 = src6;
    same64.lo = (std::uint64_t{i} << 32) | i;
    EXPECT_EQ(rl.allow(same64, now), kTimings[i].allowed) << "v6 step " << i;
    Ip6 other = src6;
    other.hi += (std::uint64_t{i} + 1) << 32;
    EXPECT_TRUE(rl.allow(other, now)) << "v6 other " << i;
  }
}

TEST(RateLimiter, RefillIsCappedAtBurst) {
  RateLimiter rl;
  Nanos now = seconds(5);
  EXPECT_TRUE(rl.allow(1u, now));
  now += millis(900);  // plenty of refill time, below the idle expiry
  for (unsigned i = 0; i < kBurst; ++i) EXPECT_TRUE(rl.allow(1u, now)) << i;
  EXPECT_FALSE(rl.allow(1u, now));
  // Just short of one token: still refused; the partial token is kept.
  now += millis(kCostMs) - 1;
  EXPECT_FALSE(rl.allow(1u, now));
  now += 1;
  EXPECT_TRUE(rl.allow(1u, now));
  EXPECT_FALSE(rl.allow(1u, now));
}

TEST(RateLimiter, SteadyRateIsTwentyPerSecond) {
  RateLimiter rl;
  Nanos now = seconds(10);
  unsigned allowed = 0;
  for (int ms = 0; ms < 10000; ++ms) {  // one packet per ms for 10 s
    allowed += rl.allow(0x0a000001u, now + millis(ms));
  }
  EXPECT_EQ(allowed, kBurst + 10 * wire::spec::kHandshakePacketsPerSecond - 1);
}

TEST(RateLimiter, FamiliesDoNotShareBuckets) {
  RateLimiter rl;
  const Nanos now = seconds(3);
  for (unsigned i = 0; i < kBurst; ++i) ASSERT_TRUE(rl.allow(7u, now));
  EXPECT_FALSE(rl.allow(7u, now));
  // An IPv6 address whose top 64 bits equal 7 is a different source.
  EXPECT_TRUE(rl.allow(Ip6{7, 0}, now));
  // A different /64 right next door is also a different source.
  for (unsigned i = 0; i < kBurst; ++i) ASSERT_TRUE(rl.allow(Ip6{8, i}, now));
  EXPECT_FALSE(rl.allow(Ip6{8, 99}, now));
  EXPECT_TRUE(rl.allow(Ip6{9, 0}, now));
}

TEST(RateLimiter, TableIsBoundedAndIdleEntriesExpire) {
  constexpr std::size_t kMax = 1000;
  RateLimiter rl(kMax);
  Nanos now = seconds(100);
  for (std::uint32_t i = 0; i < kMax; ++i) ASSERT_TRUE(rl.allow(i, now)) << i;
  EXPECT_EQ(rl.size(), kMax);
  EXPECT_FALSE(rl.allow(static_cast<std::uint32_t>(kMax), now));  // full: new sources refused
  EXPECT_TRUE(rl.allow(0u, now));                                 // known ones still served
  EXPECT_EQ(rl.size(), kMax);

  now += millis(999);
  rl.gc(now);
  EXPECT_EQ(rl.size(), kMax);  // not idle long enough
  now += millis(1);
  rl.gc(now);
  EXPECT_EQ(rl.size(), 0u);
  EXPECT_TRUE(rl.allow(static_cast<std::uint32_t>(kMax), now));
}

TEST(RateLimiter, AllowCollectsGarbageOnItsOwn) {
  RateLimiter rl(10);
  Nanos now = seconds(50);
  for (std::uint32_t i = 0; i < 10; ++i) ASSERT_TRUE(rl.allow(i, now));
  EXPECT_FALSE(rl.allow(100u, now + millis(500)));
  // A second later the idle entries are gone without an explicit gc().
  EXPECT_TRUE(rl.allow(100u, now + seconds(2)));
  EXPECT_EQ(rl.size(), 1u);
  // An entry that expired and came back starts with a fresh burst, like a refilled one.
  for (unsigned i = 1; i < kBurst; ++i) EXPECT_TRUE(rl.allow(100u, now + seconds(2)));
  EXPECT_FALSE(rl.allow(100u, now + seconds(2)));
}

}  // namespace
}  // namespace meshgate::peer
