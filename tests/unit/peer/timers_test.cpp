// Peer timers: each timer of protocol.md 5 on a fake clock, driven the way the
// control thread drives them (expire, carry out, report through the hooks).
#include "meshgate/peer/timers.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace meshgate::peer {
namespace {

Nanos g_jitter = millis(200);
Nanos fixed_jitter() noexcept {
  return g_jitter;
}

// Plays the control thread: carries out actions and reports sends through the hooks.
struct Driver {
  PeerTimers t{&fixed_jitter};
  std::vector<Nanos> initiations;
  std::vector<Nanos> keepalives;
  std::vector<Nanos> zeroed;
  std::vector<Nanos> give_ups;
  int endpoint_clears = 0;
  bool interface_up = true;

  void sent_authenticated(Nanos now) {
    t.on_any_authenticated_packet_sent(now);
    t.on_any_authenticated_packet_traversal(now);
  }
  void received_authenticated(Nanos now) {
    t.on_any_authenticated_packet_received(now);
    t.on_any_authenticated_packet_traversal(now);
  }
  bool initiate(Nanos now, bool retry) {
    if (!t.prepare_initiation(now, retry)) return false;
    initiations.push_back(now);
    t.on_handshake_initiated(now);
    sent_authenticated(now);
    return true;
  }
  void keepalive(Nanos now) {
    keepalives.push_back(now);
    sent_authenticated(now);
  }
  void data_sent(Nanos now) {
    t.on_data_sent(now);
    sent_authenticated(now);
  }
  void data_received(Nanos now) {
    received_authenticated(now);
    t.on_data_received(now);
  }
  void carry_out(TimerActions a, Nanos now) {
    if (a.has(TimerAction::kClearEndpointSource)) ++endpoint_clears;
    if (a.has(TimerAction::kSendInitiationRetry)) initiate(now, true);
    if (a.has(TimerAction::kSendInitiationNew)) initiate(now, false);
    if (a.has(TimerAction::kSendKeepalive)) keepalive(now);
    if (a.has(TimerAction::kZeroKeyMaterial)) zeroed.push_back(now);
    if (a.has(TimerAction::kGiveUp)) give_ups.push_back(now);
  }
  // Fires every deadline up to `until`, in order.
  void run_until(Nanos until) {
    for (Nanos d = t.next_deadline(); d <= until; d = t.next_deadline()) carry_out(t.expire(d), d);
  }
};

class TimersTest : public ::testing::Test {
 protected:
  void SetUp() override { g_jitter = millis(200); }
};

TEST_F(TimersTest, RetransmitTwentyInitiationsThenGiveUp) {
  Driver d;
  ASSERT_TRUE(d.initiate(0, false));
  d.run_until(seconds(200));
  // The first initiation plus MAX_TIMER_HANDSHAKES + 1 retries, 5 s + jitter apart.
  ASSERT_EQ(d.initiations.size(), 20u);
  for (std::size_t i = 0; i < d.initiations.size(); ++i) {
    EXPECT_EQ(d.initiations[i], static_cast<Nanos>(i) * (seconds(5) + millis(200))) << i;
  }
  EXPECT_EQ(d.endpoint_clears, 19);  // every retry forgets the cached source address
  // Give up one more timeout after the last retry: about 104 s in.
  ASSERT_EQ(d.give_ups.size(), 1u);
  EXPECT_EQ(d.give_ups[0], 20 * (seconds(5) + millis(200)));
  EXPECT_EQ(d.t.retransmit_handshake_deadline(), kNever);
  // No session was ever derived, so giving up arms the zeroing timer itself.
  EXPECT_EQ(d.t.zero_key_material_deadline(), d.give_ups[0] + seconds(540));
  d.run_until(seconds(1000));
  EXPECT_EQ(d.zeroed, std::vector<Nanos>{d.give_ups[0] + seconds(540)});
  EXPECT_EQ(d.initiations.size(), 20u);  // nothing more until new data asks for it
  EXPECT_EQ(d.t.next_deadline(), kNever);
}

TEST_F(TimersTest, RetransmitWithMaximumJitterStaysNearAttemptTime) {
  g_jitter = wire::spec::kRekeyTimeoutJitterMax;
  Driver d;
  ASSERT_TRUE(d.initiate(0, false));
  d.run_until(seconds(200));
  ASSERT_EQ(d.initiations.size(), 20u);
  EXPECT_EQ(d.initiations.back(), 19 * (seconds(5) + millis(333)));
  ASSERT_EQ(d.give_ups.size(), 1u);
  EXPECT_LE(d.give_ups[0], seconds(107));
  EXPECT_GE(d.give_ups[0], wire::spec::kRekeyAttemptTime);
}

TEST_F(TimersTest, GiveUpKeepsAnEarlierZeroingDeadline) {
  Driver d;
  d.t.on_session_derived(0);
  ASSERT_TRUE(d.initiate(seconds(100), false));
  d.run_until(seconds(300));
  ASSERT_EQ(d.give_ups.size(), 1u);
  EXPECT_EQ(d.t.zero_key_material_deadline(), seconds(540));  // not pushed out by giving up
}

TEST_F(TimersTest, GiveUpCancelsPassiveKeepalive) {
  Driver d;
  ASSERT_TRUE(d.initiate(0, false));
  d.run_until(seconds(99));
  d.t.on_data_received(seconds(100));  // would want a keepalive at 110 s
  d.run_until(seconds(105));
  ASSERT_EQ(d.give_ups.size(), 1u);
  EXPECT_EQ(d.t.send_keepalive_deadline(), kNever);
  d.run_until(seconds(120));
  EXPECT_TRUE(d.keepalives.empty());
}

TEST_F(TimersTest, HandshakeCompleteStopsRetransmitsAndResetsAttempts) {
  Driver d;
  ASSERT_TRUE(d.initiate(0, false));
  d.run_until(seconds(12));
  EXPECT_EQ(d.initiations.size(), 3u);
  EXPECT_EQ(d.t.handshake_attempts(), 2u);
  d.received_authenticated(seconds(13));
  d.t.on_handshake_complete(seconds(13), WallTime{1700000000, 5});
  d.t.on_session_derived(seconds(13));
  EXPECT_EQ(d.t.handshake_attempts(), 0u);
  EXPECT_EQ(d.t.last_handshake().sec, 1700000000);
  d.run_until(seconds(500));
  EXPECT_EQ(d.initiations.size(), 3u);
  EXPECT_TRUE(d.give_ups.empty());
  // Zeroing is 540 s after the session, not after the first initiation.
  d.run_until(seconds(1000));
  EXPECT_EQ(d.zeroed, std::vector<Nanos>{seconds(13 + 540)});
}

TEST_F(TimersTest, NewSeriesResetsAttemptsButRetriesKeepThem) {
  Driver d;
  ASSERT_TRUE(d.initiate(0, false));
  d.run_until(seconds(16));  // three retries
  EXPECT_EQ(d.t.handshake_attempts(), 3u);
  // Data wants a handshake: a new series. The gate is closed (last send at 15.6 s)...
  EXPECT_FALSE(d.t.prepare_initiation(seconds(17), false));
  EXPECT_EQ(d.t.handshake_attempts(), 0u);  // ...but the series is new regardless (kernel order)
}

TEST_F(TimersTest, InitiationGateIsRekeyTimeout) {
  EXPECT_TRUE(initiation_allowed(kNever, 0));
  EXPECT_FALSE(initiation_allowed(seconds(10), seconds(10)));
  EXPECT_FALSE(initiation_allowed(seconds(10), seconds(15) - 1));
  EXPECT_TRUE(initiation_allowed(seconds(10), seconds(15)));

  Driver d;
  ASSERT_TRUE(d.initiate(seconds(1), false));
  EXPECT_FALSE(d.initiate(seconds(2), false));
  EXPECT_FALSE(d.initiate(seconds(6) - 1, false));
  EXPECT_TRUE(d.initiate(seconds(6), false));
  // A response sent closes the gate as well.
  d.t.on_handshake_response_sent(seconds(20));
  EXPECT_FALSE(d.t.prepare_initiation(seconds(24), false));
  EXPECT_TRUE(d.t.prepare_initiation(seconds(25), false));
}

TEST_F(TimersTest, PassiveKeepaliveAfterDataReceived) {
  Driver d;
  d.data_received(seconds(1));
  EXPECT_EQ(d.t.send_keepalive_deadline(), seconds(11));
  d.run_until(seconds(30));
  EXPECT_EQ(d.keepalives, std::vector<Nanos>{seconds(11)});  // exactly one: no ping-pong
}

TEST_F(TimersTest, NoPassiveKeepaliveIfSomethingWasSent) {
  Driver d;
  d.data_received(seconds(1));
  d.data_sent(seconds(4));               // our answer carries the acknowledgement
  d.received_authenticated(seconds(5));  // and the peer answers (keeps new_handshake quiet)
  d.run_until(seconds(30));
  EXPECT_TRUE(d.keepalives.empty());
  EXPECT_TRUE(d.initiations.empty());
}

TEST_F(TimersTest, SecondDataReceivedSetsNeedAnotherKeepalive) {
  PeerTimers t(&fixed_jitter);
  t.on_data_received(seconds(0));
  t.on_data_received(seconds(4));  // timer pending: not pushed out, flagged instead
  EXPECT_EQ(t.send_keepalive_deadline(), seconds(10));
  TimerActions a = t.expire(seconds(10));
  EXPECT_TRUE(a.has(TimerAction::kSendKeepalive));
  EXPECT_EQ(t.send_keepalive_deadline(), seconds(20));  // re-armed for the flagged packet
  a = t.expire(seconds(20));
  EXPECT_TRUE(a.has(TimerAction::kSendKeepalive));
  EXPECT_EQ(t.send_keepalive_deadline(), kNever);  // flag consumed
  // Sending anything cancels the pending keepalive.
  t.on_data_received(seconds(30));
  t.on_any_authenticated_packet_sent(seconds(31));
  EXPECT_EQ(t.send_keepalive_deadline(), kNever);
}

TEST_F(TimersTest, NewHandshakeWhenDataSentGetsNoAnswer) {
  Driver d;
  d.data_sent(seconds(1));
  d.data_sent(seconds(3));  // already pending: not pushed out
  EXPECT_EQ(d.t.new_handshake_deadline(), seconds(16) + millis(200));
  d.run_until(seconds(17));
  EXPECT_EQ(d.initiations, std::vector<Nanos>{seconds(16) + millis(200)});
  EXPECT_EQ(d.endpoint_clears, 1);
  EXPECT_EQ(d.t.handshake_attempts(), 0u);  // not a retry
}

TEST_F(TimersTest, NoNewHandshakeWhenAnythingComesBack) {
  Driver d;
  d.data_sent(seconds(1));
  d.received_authenticated(seconds(15));  // a keepalive is enough
  d.run_until(seconds(60));
  EXPECT_TRUE(d.initiations.empty());
}

TEST_F(TimersTest, PersistentKeepaliveEveryIntervalOfSilence) {
  Driver d;
  const TimerActions on = d.t.set_persistent_keepalive(25, seconds(2), d.interface_up);
  EXPECT_TRUE(on.has(TimerAction::kSendKeepalive));  // one at once when turned on
  d.carry_out(on, seconds(2));
  d.run_until(seconds(80));
  EXPECT_EQ(d.keepalives, (std::vector<Nanos>{seconds(2), seconds(27), seconds(52), seconds(77)}));
  // Traffic in either direction restarts the interval.
  d.received_authenticated(seconds(90));
  d.run_until(seconds(114));
  EXPECT_EQ(d.keepalives.size(), 4u);
  d.run_until(seconds(115));
  EXPECT_EQ(d.keepalives.back(), seconds(115));
  // Changing the interval while on sends nothing at once; a shorter one applies at once.
  EXPECT_TRUE(d.t.set_persistent_keepalive(10, seconds(116), true).empty());
  d.run_until(seconds(136));
  EXPECT_EQ(d.keepalives.back(), seconds(136));
  EXPECT_EQ(d.keepalives[d.keepalives.size() - 2], seconds(126));
  // Turning it off stops it.
  EXPECT_TRUE(d.t.set_persistent_keepalive(0, seconds(137), true).empty());
  const std::size_t n = d.keepalives.size();
  d.run_until(seconds(300));
  EXPECT_EQ(d.keepalives.size(), n);
}

TEST_F(TimersTest, PersistentKeepaliveOnWhileDownWaitsForTraffic) {
  Driver d;
  EXPECT_TRUE(d.t.set_persistent_keepalive(25, 0, /*interface_up=*/false).empty());
  EXPECT_EQ(d.t.next_deadline(), kNever);
  d.received_authenticated(seconds(5));
  EXPECT_EQ(d.t.persistent_keepalive_deadline(), seconds(30));
}

TEST_F(TimersTest, ZeroKeyMaterialAfterThreeRejectTimes) {
  Driver d;
  d.t.on_session_derived(seconds(10));
  d.run_until(seconds(549));
  EXPECT_TRUE(d.zeroed.empty());
  d.t.on_session_derived(seconds(300));  // a newer session pushes it out
  d.run_until(seconds(2000));
  EXPECT_EQ(d.zeroed, std::vector<Nanos>{seconds(840)});
}

TEST_F(TimersTest, StopDisarmsEverything) {
  Driver d;
  d.initiate(0, false);
  d.data_sent(0);
  d.data_received(0);
  d.t.on_session_derived(0);
  d.t.set_persistent_keepalive(25, 0, false);
  d.received_authenticated(0);
  EXPECT_NE(d.t.next_deadline(), kNever);
  d.t.stop();
  EXPECT_EQ(d.t.next_deadline(), kNever);
}

TEST(KeepKeyFresh, SenderSide) {
  const Nanos birth = seconds(1000);
  EXPECT_FALSE(keep_key_fresh_on_send(5, true, birth, birth + seconds(120)));
  EXPECT_TRUE(keep_key_fresh_on_send(5, true, birth, birth + seconds(120) + 1));
  EXPECT_FALSE(keep_key_fresh_on_send(5, false, birth, birth + seconds(170)));  // responder
  EXPECT_FALSE(keep_key_fresh_on_send(wire::spec::kRekeyAfterMessages, false, birth, birth));
  EXPECT_TRUE(keep_key_fresh_on_send(wire::spec::kRekeyAfterMessages + 1, false, birth, birth));
}

TEST(KeepKeyFresh, ReceiverSideOncePerSession) {
  const Nanos birth = seconds(1000);
  EXPECT_FALSE(keep_key_fresh_on_receive(true, birth, birth + seconds(165) - 1, false));
  EXPECT_TRUE(keep_key_fresh_on_receive(true, birth, birth + seconds(165), false));
  EXPECT_FALSE(keep_key_fresh_on_receive(true, birth, birth + seconds(165), true));
  EXPECT_FALSE(keep_key_fresh_on_receive(false, birth, birth + seconds(179), false));

  PeerTimers t(&fixed_jitter);
  EXPECT_FALSE(t.want_lastminute_handshake(true, birth, birth + seconds(100)));
  EXPECT_TRUE(t.want_lastminute_handshake(true, birth, birth + seconds(166)));
  EXPECT_FALSE(t.want_lastminute_handshake(true, birth, birth + seconds(167)));  // sent already
  t.on_handshake_complete(birth + seconds(168), WallTime{});
  EXPECT_TRUE(t.want_lastminute_handshake(true, birth, birth + seconds(169)));  // flag reset
}

TEST(DefaultJitter, WithinZeroTo333Ms) {
  Nanos lo = kNever, hi = 0;
  for (int i = 0; i < 5000; ++i) {
    const Nanos j = default_jitter();
    ASSERT_GE(j, 0);
    ASSERT_LE(j, wire::spec::kRekeyTimeoutJitterMax);
    ASSERT_EQ(j % kNsPerMs, 0);
    lo = std::min(lo, j);
    hi = std::max(hi, j);
  }
  EXPECT_LT(lo, millis(20));
  EXPECT_GT(hi, millis(310));
}

}  // namespace
}  // namespace meshgate::peer
