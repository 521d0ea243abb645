// Control's shutdown: the reclamations its parts deferred capture the parts (Peers, KeySlots), so
// they must all have run when Control is gone; whatever the Dataplane's Rcu still held would run
// in ~Rcu on freed memory.
#include "meshgate/control/control.hpp"

#include <gtest/gtest.h>

#include "meshgate/crypto/x25519.hpp"
#include "meshgate/dataplane/dataplane.hpp"

namespace meshgate::test {
namespace {

TEST(Control, LeavesNoDeferredReclamationBehind) {
  ASSERT_TRUE(dataplane::register_mbuf_meta());
  dataplane::Dataplane dp(4, 1);
  {
    control::Control c(dp, 1);
    c.config().set_private_key(crypto::x25519_generate());
    control::PeerSettings s;
    s.public_key = crypto::x25519_public(crypto::x25519_generate());
    s.allowed_ips = {*Prefix::parse("10.7.0.0/24")};
    auto id = c.config().add_peer(s, monotonic_now());
    ASSERT_TRUE(id.ok()) << id.error();
    // No poll after the removal: its reclamations (one of them deferring another) are pending.
    c.config().remove_peer(*id);
    ASSERT_GT(dp.rcu.pending(), 0u);
  }
  EXPECT_EQ(dp.rcu.pending(), 0u) << "reclamations outlived the Control whose parts they use";
}

}  // namespace
}  // namespace meshgate::test
