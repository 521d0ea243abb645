#include "meshgate/dataplane/poll_gaps.hpp"

#include <gtest/gtest.h>

namespace meshgate::dataplane {
namespace {

TEST(PollGaps, OnlyAGapOverAMillisecondBetweenTwoPollsIsAStall) {
  PollGaps g;
  EXPECT_FALSE(g.late(5 * kNsPerSec)) << "the first poll has nothing before it";
  EXPECT_FALSE(g.late(5 * kNsPerSec + 200'000)) << "a long poll of 200 us is work, not a stall";
  EXPECT_FALSE(g.late(5 * kNsPerSec + 200'000 + PollGaps::kStall));
  EXPECT_TRUE(g.late(5 * kNsPerSec + 200'000 + 2 * PollGaps::kStall + 1));
  EXPECT_FALSE(g.late(5 * kNsPerSec + 200'000 + 2 * PollGaps::kStall + 2'000));
}

TEST(PollGaps, AGapAfterASleepOrAStopIsNotAStall) {
  PollGaps g;
  EXPECT_FALSE(g.late(kNsPerSec));
  g.paused();  // idle back-off slept 200 us, or the worker was stopped and launched again
  EXPECT_FALSE(g.late(3 * kNsPerSec));
  EXPECT_TRUE(g.late(3 * kNsPerSec + 5 * PollGaps::kStall)) << "counting starts again after it";
}

}  // namespace
}  // namespace meshgate::dataplane
