// The keypair table as the workers use it: an index finds its keypair with one compare, from the
// send line and from the receive line, only while published.
#include "meshgate/dataplane/keypairs.hpp"

#include <gtest/gtest.h>

namespace meshgate::dataplane {
namespace {

TEST(KeypairTable, PublishedIndexIsFoundFromBothLinesUntilUnpublished) {
  KeypairTable t(16);
  const std::uint32_t idx = *t.reserve();
  EXPECT_EQ(t.lookup(idx), nullptr);  // reserved, not yet published
  noise::SessionKeys kp;
  kp.send.data()[0] = 1;
  kp.recv.data()[0] = 2;
  kp.local_index = idx;
  kp.remote_index = 77;
  kp.birth = 5;
  t.publish(idx, kp, 3);
  Keypair* k = t.lookup(idx);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(t.lookup_recv(idx), k);
  EXPECT_EQ(k->remote_index, 77u);
  EXPECT_EQ(k->peer, 3u);
  EXPECT_EQ(k->send_key[0], 1);
  EXPECT_EQ(k->recv_key[0], 2);
  EXPECT_EQ(t.lookup(idx ^ 0x80000000u), nullptr);  // same slot, other random bits
  EXPECT_EQ(t.lookup(0), nullptr);
  t.unpublish(idx);
  EXPECT_EQ(t.lookup(idx), nullptr);
  EXPECT_EQ(t.lookup_recv(idx), nullptr);
  t.free(idx);
  EXPECT_EQ(t.in_use(), 0u);
}

}  // namespace
}  // namespace meshgate::dataplane
