// TAI64N handshake timestamps (protocol.md 3.7): BE64(2^62 + 10 + unix seconds) ||
// BE32(nanoseconds), the low 24 bits of the nanoseconds cleared, compared bytewise.
#include "meshgate/crypto/tai64n.hpp"

#include <gtest/gtest.h>

#include "test_hex.hpp"

namespace meshgate::crypto {
namespace {

using test::hex;

TEST(Tai64n, EncodesKnownTimes) {
  EXPECT_EQ(hex(as_bytes(tai64n({0, 0}))), "400000000000000a00000000");
  // 2019-01-01T00:00:00Z = 1546300800 = 0x5c2aad80; 123456789 ns = 0x075bcd15 -> 0x07000000.
  EXPECT_EQ(hex(as_bytes(tai64n({1546300800, 123456789}))), "400000005c2aad8a07000000");
  // 2^32 seconds carries into the fifth byte of the seconds field.
  EXPECT_EQ(hex(as_bytes(tai64n({0x100000000ll, 0}))), "400000010000000a00000000");
}

TEST(Tai64n, WhitensLow24BitsOfNanoseconds) {
  EXPECT_EQ(hex(as_bytes(tai64n({5, 0xffffff}))), "400000000000000f00000000");
  EXPECT_EQ(hex(as_bytes(tai64n({5, 0x1000000}))), "400000000000000f01000000");
  // 999999999 ns = 0x3b9ac9ff -> 0x3b000000.
  EXPECT_EQ(hex(as_bytes(tai64n({5, 999999999}))), "400000000000000f3b000000");
  // Every value inside one 2^24 ns window encodes the same.
  EXPECT_EQ(tai64n({7, 0x2000000}), tai64n({7, 0x2ffffff}));
}

TEST(Tai64n, CompareIsMonotonic) {
  const Tai64n t0 = tai64n({1000, 0});
  const Tai64n t1 = tai64n({1000, 0x1000000});
  const Tai64n t2 = tai64n({1001, 0});
  EXPECT_TRUE(tai64n_after(t1, t0));
  EXPECT_TRUE(tai64n_after(t2, t1));
  EXPECT_FALSE(tai64n_after(t0, t1));
  EXPECT_FALSE(tai64n_after(t0, t0));  // a replayed timestamp is not later
  // Within one whitening window two initiations look equal, so the second is refused.
  EXPECT_FALSE(tai64n_after(tai64n({1000, 5}), tai64n({1000, 0xffff00})));
  // The seconds dominate the nanoseconds, across byte boundaries too.
  EXPECT_TRUE(tai64n_after(tai64n({256, 0}), tai64n({255, 999999999})));
  EXPECT_TRUE(tai64n_after(tai64n({0x100000000ll, 0}), tai64n({0xffffffffll, 999999999})));
  // A strictly increasing clock gives non-decreasing stamps, increasing across windows.
  Tai64n prev = tai64n({1700000000, 0});
  for (std::int64_t ns = 0x1000000; ns < 1'000'000'000; ns += 0x1000000) {
    const Tai64n next = tai64n({1700000000, ns});
    EXPECT_TRUE(tai64n_after(next, prev)) << ns;
    prev = next;
  }
}

}  // namespace
}  // namespace meshgate::crypto
