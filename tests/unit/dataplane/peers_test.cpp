// Endpoint tags: the receive path's roaming check compares a packet's source with the tag its
// keypair carries, so every change a roam can make (address, port, family) must change the tag,
// and no endpoint may take 0, which stands for "no route".
#include "meshgate/dataplane/peers.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace meshgate::dataplane {
namespace {

Endpoint ep(const char* s) {
  return *Endpoint::parse(s);
}

TEST(EndpointTag, EveryPartOfTheEndpointCounts) {
  const std::uint32_t base = endpoint_tag(ep("192.0.2.1:51820"));
  EXPECT_EQ(base, endpoint_tag(ep("192.0.2.1:51820")));
  EXPECT_NE(base, endpoint_tag(ep("192.0.2.1:51821")));  // NAT rebinding: same address
  EXPECT_NE(base, endpoint_tag(ep("192.0.2.2:51820")));  // same port, next address
  EXPECT_NE(base, endpoint_tag(ep("[::ffff:192.0.2.1]:51820")));
  EXPECT_NE(endpoint_tag(ep("[2001:db8::1]:51820")), endpoint_tag(ep("[2001:db8::1:0:0:1]:51820")));
  EXPECT_NE(endpoint_tag(ep("[2001:db8::1]:51820")), endpoint_tag(ep("[2001:db9::1]:51820")));
}

TEST(EndpointTag, NeverZeroAndSpreadOverNeighbouringEndpoints) {
  // A NAT hands out neighbouring ports and addresses: 65,536 of them, no tag 0, and collisions
  // no more frequent than for random 31-bit values (about 1 expected in 65,536 pairs of 2^31).
  std::set<std::uint32_t> seen;
  unsigned zero = 0;
  for (unsigned host = 0; host < 256; ++host) {
    for (unsigned port = 40000; port < 40256; ++port) {
      IpAddr a = IpAddr::v4(0xC6336400u | host);
      const std::uint32_t t = endpoint_tag(Endpoint{a, static_cast<std::uint16_t>(port)});
      zero += t == 0;
      seen.insert(t);
    }
  }
  EXPECT_EQ(zero, 0u);
  EXPECT_GE(seen.size(), 65536u - 4);
  EXPECT_NE(endpoint_tag(Endpoint{}), 0u);  // even the unknown endpoint
}

}  // namespace
}  // namespace meshgate::dataplane
