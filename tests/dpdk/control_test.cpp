// Control's shutdown: the reclamations its parts deferred capture the parts (Peers, KeySlots), so
// they must all have run when Control is gone; whatever the Dataplane's Rcu still held would run
// in ~Rcu on freed memory. And its timers at many peers, which it ticks a slice at a time.
#include "meshgate/control/control.hpp"

#include <gtest/gtest.h>

#include "meshgate/control/tunables.hpp"
#include "meshgate/crypto/random.hpp"
#include "meshgate/crypto/x25519.hpp"
#include "meshgate/dataplane/dataplane.hpp"
#include "meshgate/wire/constants.hpp"
#include "ring_gateways.hpp"

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

/// The control loop's idle pause: short after work (a handshake burst is answered quickly),
/// doubling while nothing comes, never longer than the cap (the 10 ms timers stay on time).
TEST(Control, IdleSleepGrowsWhileIdleAndResetsOnWork) {
  control::IdleSleep idle;
  EXPECT_EQ(idle.next(), control::impl::kIdleSleep);
  std::vector<Nanos> sleeps;
  for (int i = 0; i < 6; ++i) {
    idle.after(0);
    sleeps.push_back(idle.next());
  }
  EXPECT_EQ(sleeps,
            (std::vector<Nanos>{200'000, 400'000, 800'000, millis(1), millis(1), millis(1)}));
  idle.after(3);
  EXPECT_EQ(idle.next(), control::impl::kIdleSleep) << "work did not end the back-off";
}

/// More peers than one timer period ticks (impl::kTimerSliceMin), each with a handshake that no
/// one answers: every one of them retries, none before its REKEY_TIMEOUT, each within
/// impl::kTimerSweep of its latest possible deadline.
TEST(Control, EveryOneOfManyPeersRetriesItsHandshakeOnTime) {
  constexpr unsigned kPeers =
      3 * control::impl::kTimerSliceMin + 17;  // slices that do not divide evenly
  control::GatewayLimits limits;
  limits.max_peers = kPeers + 1;
  RingGateways net("tmany", false, limits);
  control::Control& c = net.gw(0).control();
  // Peers at gateway B's address, on ports of their own: B drops their initiations (their mac1
  // is for keys it does not have), so nothing ever answers. PersistentKeepalive asks for a
  // keepalive at once, and with no session that is an initiation.
  for (unsigned i = 0; i < kPeers; ++i) {
    control::PeerSettings s;
    crypto::random_bytes(s.public_key.data(), s.public_key.size());
    s.endpoint = {*IpAddr::parse("198.51.100.3"), static_cast<std::uint16_t>(20000 + i)};
    s.allowed_ips = {Prefix{IpAddr::v4(0x0A640000 + i), 32}};  // 10.100.x.y
    s.persistent_keepalive = 25;
    ASSERT_TRUE(c.config().add_peer(s, net.now()).ok()) << "peer " << i;
  }
  const std::uint64_t first = c.stats().initiations_sent;
  ASSERT_EQ(first, kPeers);
  const Nanos start = net.now();
  while (net.now() + millis(10) < start + wire::spec::kRekeyTimeout) net.poll(millis(10));
  EXPECT_EQ(c.stats().initiations_sent, first) << "a retry before REKEY_TIMEOUT";

  const Nanos last_deadline =
      start + wire::spec::kRekeyTimeout + wire::spec::kRekeyTimeoutJitterMax;
  while (net.now() < last_deadline + control::impl::kTimerSweep) net.poll(millis(10));
  EXPECT_EQ(c.stats().initiations_sent, first + kPeers);
  unsigned retried = 0;
  for (peer::PeerId id = 0; id < c.peers().end(); ++id) {
    const control::PeerState* ps = c.peers().find(id);
    if (ps != nullptr && ps->settings.persistent_keepalive == 25) {
      retried += ps->timers.handshake_attempts() == 1 ? 1 : 0;
    }
  }
  EXPECT_EQ(retried, kPeers) << "peers whose retry did not go out";
}

}  // namespace
}  // namespace meshgate::test
