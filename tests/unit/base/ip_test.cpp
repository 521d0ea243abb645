#include "meshgate/base/ip.hpp"

#include <gtest/gtest.h>

namespace meshgate {
namespace {

TEST(Ip, ParsesAndFormatsAddressesPrefixesEndpoints) {
  auto a = IpAddr::parse("192.0.2.1");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->v4_host_order(), 0xC0000201u);
  EXPECT_EQ(a->str(), "192.0.2.1");
  auto b = IpAddr::parse("2001:db8::1");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->is_v6());
  EXPECT_EQ(b->str(), "2001:db8::1");
  EXPECT_FALSE(IpAddr::parse("300.1.1.1"));
  EXPECT_FALSE(IpAddr::parse(""));
  EXPECT_FALSE(IpAddr::parse("fe80::1%eth0"));

  auto p = Prefix::parse("10.1.2.3/8");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->str(), "10.0.0.0/8");  // host bits cleared, as the kernel does
  EXPECT_TRUE(p->contains(*IpAddr::parse("10.200.0.1")));
  EXPECT_FALSE(p->contains(*IpAddr::parse("11.0.0.1")));
  EXPECT_EQ(Prefix::parse("10.0.0.1")->len, 32);
  EXPECT_EQ(Prefix::parse("fd00::1")->len, 128);
  EXPECT_EQ(Prefix::parse("fd00:1:2:3:4::/61")->str(), "fd00:1:2::/61");
  EXPECT_EQ(Prefix::parse("0.0.0.0/0")->str(), "0.0.0.0/0");
  EXPECT_FALSE(Prefix::parse("10.0.0.0/33"));
  EXPECT_FALSE(Prefix::parse("10.0.0.0/"));
  EXPECT_FALSE(Prefix::parse("10.0.0.0/2x"));

  auto e = Endpoint::parse("[2001:db8::7]:51820");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->port, 51820);
  EXPECT_EQ(e->str(), "[2001:db8::7]:51820");
  EXPECT_EQ(Endpoint::parse("192.0.2.9:1")->str(), "192.0.2.9:1");
  EXPECT_FALSE(Endpoint::parse("192.0.2.9"));
  EXPECT_FALSE(Endpoint::parse("192.0.2.9:65536"));
  EXPECT_FALSE(Endpoint::parse("2001:db8::7:51820"));
  EXPECT_FALSE(Endpoint::parse("[2001:db8::7]51820"));
}

}  // namespace
}  // namespace meshgate
