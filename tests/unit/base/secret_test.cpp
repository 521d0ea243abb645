#include "meshgate/base/secret.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace meshgate {
namespace {

TEST(Secret, WipesAndComparesInConstantTime) {
  Secret<32> s;
  EXPECT_TRUE(s.is_zero());
  s.data()[5] = 1;
  EXPECT_FALSE(s.is_zero());
  Secret<32> t = s;
  EXPECT_TRUE(s.ct_equals(t));
  t.data()[31] ^= 0x80;
  EXPECT_FALSE(s.ct_equals(t));
  s.clear();
  EXPECT_TRUE(s.is_zero());
  std::uint8_t a[3] = {1, 2, 3}, b[3] = {1, 2, 4};
  EXPECT_FALSE(ct_equal(a, b, 3));
  EXPECT_TRUE(ct_equal(a, b, 2));
}

}  // namespace
}  // namespace meshgate
