// The TURN client's state machine against a fake TURN server built from the codec: long-term
// credentials (401 then 200), refresh timing, stale nonces, refused credentials, forged answers,
// permissions and channels, on an in-memory clock.
#include "meshgate/nat/turn_client.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace meshgate::nat {
namespace {

using Buf = std::vector<std::uint8_t>;

Endpoint ep(const char* s) {
  return *Endpoint::parse(s);
}

const Endpoint kServer = ep("203.0.113.1:3478");
const Endpoint kRelayed = ep("203.0.113.1:49152");
const Endpoint kMapped = ep("198.51.100.7:51820");
const Endpoint kPeer = ep("192.0.2.44:51820");
const Endpoint kPeer2 = ep("192.0.2.45:40000");

Buf bytes_of(const TurnRequest& r) {
  return Buf(r.bytes.begin(), r.bytes.begin() + static_cast<std::ptrdiff_t>(r.len));
}

stun::Message parse_ok(const Buf& b) {
  stun::Message m;
  EXPECT_EQ(stun::parse(b.data(), b.size(), m), stun::ParseError::none);
  return m;
}

std::string str_attr(const stun::Message& m, std::uint16_t type) {
  auto s = stun::get_string(m, type);
  return s ? std::string(*s) : std::string("<absent>");
}

/// A FINGERPRINT that matches the bytes again, after a test changed them.
void refingerprint(Buf& b) {
  const std::size_t at = b.size() - stun::kFingerprintSize;
  store_be32(b.data() + at,
             stun::crc32(ByteSpan(b.data(), at - stun::kAttrHeaderSize)) ^ stun::kFingerprintXor);
}

/// A TURN server with one user, answering by the RFC 8656 rules the client relies on.
class FakeTurn {
 public:
  std::string realm = "natlab.test";
  std::string password = "password";  // the server's idea of the user's password
  std::string nonce = "nonce-1";
  std::uint32_t lifetime = 600;
  std::string stale_next;    // non-empty: answer the next authenticated request 438 with it
  std::uint16_t refuse = 0;  // non-zero: answer authenticated requests with this error
  std::optional<stun::Method> refuse_only;  // ... only requests of this method
  int refuse_left = -1;                     // ... only this many times (-1: always)
  bool sign_wrong = false;                  // sign success answers with a wrong key
  bool sign_none = false;                   // no MESSAGE-INTEGRITY on success answers
  bool stale_every = false;                 // every authenticated request: 438 with a new nonce
  std::vector<stun::Method> seen;           // methods of authenticated requests that succeeded

  Buf respond(const TurnRequest& r) {
    last = bytes_of(r);
    const stun::Message m = parse_ok(last);
    EXPECT_EQ(stun::check_fingerprint(m), stun::AuthVerdict::none) << "requests carry FINGERPRINT";
    EXPECT_EQ(r.to, kServer);
    auto user = stun::get_string(m, stun::attr::kUsername);
    if (!user) return error(m, 401, "Unauthorized", true);
    const auto key = stun::long_term_key(*user, realm, password);
    if (stun::check_integrity(m, key) != stun::AuthVerdict::none) {
      return error(m, 401, "Unauthorized", true);
    }
    if (stale_every) stale_next = nonce + "x";
    if (!stale_next.empty()) {
      nonce = std::exchange(stale_next, {});
      return error(m, 438, "Stale Nonce", true);
    }
    if (str_attr(m, stun::attr::kNonce) != nonce) return error(m, 438, "Stale Nonce", true);
    if (refuse != 0 && (!refuse_only || *refuse_only == m.method) && refuse_left != 0) {
      if (refuse_left > 0) --refuse_left;
      return error(m, refuse, "Refused", false, key);
    }
    seen.push_back(m.method);
    return success(m, key);
  }

  Buf last;  // the latest request

 private:
  Buf finish(stun::Builder& b, const Bytes<16>* key) {
    if (key != nullptr && !sign_none) {
      Bytes<16> k = *key;
      if (sign_wrong) k[0] ^= 1;
      b.add_integrity(ByteSpan(k));
    }
    b.add_fingerprint();
    const auto len = b.finish();
    EXPECT_TRUE(len.ok());
    out.resize(len ? *len : 0);
    return out;
  }
  Buf error(const stun::Message& m, std::uint16_t code, const char* reason, bool challenge,
            const Bytes<16>& key = {}) {
    out.assign(512, 0);
    stun::Builder b(out, m.method, stun::Class::error, m.transaction_id);
    b.add_error_code(code, reason);
    if (challenge) {
      b.add_string(stun::attr::kRealm, realm);
      b.add_string(stun::attr::kNonce, nonce);
      return finish(b, nullptr);
    }
    return finish(b, &key);
  }
  Buf success(const stun::Message& m, const Bytes<16>& key) {
    out.assign(512, 0);
    stun::Builder b(out, m.method, stun::Class::success, m.transaction_id);
    if (m.method == stun::Method::allocate) {
      b.add_xor_address(stun::attr::kXorRelayedAddress, kRelayed);
      b.add_xor_address(stun::attr::kXorMappedAddress, kMapped);
    }
    if (m.method == stun::Method::allocate || m.method == stun::Method::refresh) {
      b.add_lifetime(lifetime);
    }
    return finish(b, &key);
  }
  Buf out;
};

/// The client wired to a FakeTurn, stepped every 10 ms as the control thread's timer does.
struct Harness {
  explicit Harness(std::string password = "password") {
    client.configure({kServer, "user", std::move(password)}, now);
  }
  /// One poll; every request answered at once. Returns the number of requests sent.
  /// A repeat the answers ask for (after a 401 or 438) goes out in the same step.
  int step() {
    int sent = 0;
    for (int round = 0; round < 4; ++round) {
      const auto reqs = client.poll(now);
      for (const TurnRequest& r : reqs) {
        const Buf answer = server.respond(r);
        client.on_message(answer.data(), answer.size(), kServer, now);
      }
      sent += static_cast<int>(reqs.size());
    }
    const auto ev = client.take_events();
    events.insert(events.end(), ev.begin(), ev.end());
    now += millis(10);
    return sent;
  }
  int run_for(Nanos d) {
    int sent = 0;
    for (const Nanos end = now + d; now < end;) sent += step();
    return sent;
  }
  std::uint64_t verdict(TurnVerdict v) const {
    return client.stats().verdicts[static_cast<std::size_t>(v)];
  }

  Nanos now = seconds(1000);
  TurnClient client;
  FakeTurn server;
  std::vector<TurnEvent> events;
};

TEST(TurnClient, AllocateChallengeThenSuccessBytes) {
  TurnClient c;
  FakeTurn s;
  const Nanos now = seconds(5);
  c.configure({kServer, "user", "password"}, now);
  EXPECT_EQ(c.state(), TurnState::allocating);
  auto reqs = c.poll(now);
  ASSERT_EQ(reqs.size(), 1u);
  Buf sent = bytes_of(reqs[0]);  // the parsed message points into it
  stun::Message m = parse_ok(sent);
  EXPECT_EQ(m.method, stun::Method::allocate);
  EXPECT_EQ(m.cls, stun::Class::request);
  EXPECT_EQ(stun::get_requested_transport(m).value(), 17);
  EXPECT_EQ(m.find(stun::attr::kUsername), nullptr);
  EXPECT_EQ(m.integrity, -1);
  EXPECT_GE(m.fingerprint, 0);

  Buf answer = s.respond(reqs[0]);
  EXPECT_EQ(c.on_message(answer.data(), answer.size(), kServer, now), TurnVerdict::challenge);
  reqs = c.poll(now);
  ASSERT_EQ(reqs.size(), 1u);
  sent = bytes_of(reqs[0]);
  m = parse_ok(sent);
  EXPECT_EQ(m.method, stun::Method::allocate);
  EXPECT_EQ(str_attr(m, stun::attr::kUsername), "user");
  EXPECT_EQ(str_attr(m, stun::attr::kRealm), "natlab.test");
  EXPECT_EQ(str_attr(m, stun::attr::kNonce), "nonce-1");
  EXPECT_EQ(stun::get_requested_transport(m).value(), 17);
  const auto key = stun::long_term_key("user", "natlab.test", "password");
  EXPECT_EQ(stun::verify_message(m, key), stun::AuthVerdict::none);
  EXPECT_EQ(stun::verify_message(m, stun::long_term_key("user", "natlab.test", "passwore")),
            stun::AuthVerdict::bad_integrity);
  // The fingerprint is the last attribute, the integrity just before it.
  EXPECT_EQ(m.fingerprint, m.count - 1);
  EXPECT_EQ(m.integrity, m.count - 2);

  answer = s.respond(reqs[0]);
  EXPECT_EQ(c.on_message(answer.data(), answer.size(), kServer, now), TurnVerdict::none);
  EXPECT_EQ(c.state(), TurnState::allocated);
  EXPECT_EQ(c.allocation().relayed, kRelayed);
  EXPECT_EQ(c.allocation().mapped, kMapped);
  EXPECT_EQ(c.allocation().lifetime, 600u);
  const auto ev = c.take_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, TurnEvent::Kind::allocated);
  EXPECT_EQ(ev[0].relayed, kRelayed);
  EXPECT_EQ(ev[0].lifetime, 600u);
  EXPECT_EQ(c.stats().requests_sent, 2u);
  EXPECT_EQ(c.stats().allocations, 1u);
  EXPECT_EQ(to_string(TurnVerdict::challenge), "challenge");
  EXPECT_EQ(to_string(TurnVerdict::none), "accepted");
  EXPECT_EQ(to_string(c.state()), "allocated");
}

TEST(TurnClient, RefreshesAMinuteBeforeExpiry) {
  Harness h;
  h.step();
  ASSERT_EQ(h.client.state(), TurnState::allocated);
  // 600 s lifetime: the Refresh goes at 540 s, with time for every retransmission before 600.
  EXPECT_EQ(h.run_for(seconds(539)), 0);
  EXPECT_EQ(h.run_for(seconds(2)), 1);
  EXPECT_EQ(h.server.seen.back(), stun::Method::refresh);
  const stun::Message m = parse_ok(h.server.last);
  EXPECT_EQ(m.method, stun::Method::refresh);
  EXPECT_EQ(m.find(stun::attr::kLifetime), nullptr) << "the server's default lifetime";
  EXPECT_EQ(stun::verify_message(m, stun::long_term_key("user", "natlab.test", "password")),
            stun::AuthVerdict::none);
  ASSERT_FALSE(h.events.empty());
  EXPECT_EQ(h.events.back().kind, TurnEvent::Kind::refreshed);
  EXPECT_EQ(h.events.back().lifetime, 600u);
  EXPECT_EQ(h.client.state(), TurnState::allocated);
}

TEST(TurnClient, ShortLifetimeRefreshesAtHalf) {
  Harness h;
  h.server.lifetime = 60;
  h.step();
  ASSERT_EQ(h.client.state(), TurnState::allocated);
  EXPECT_EQ(h.run_for(seconds(29)), 0);
  EXPECT_EQ(h.run_for(seconds(2)), 1);
  EXPECT_EQ(h.server.seen.back(), stun::Method::refresh);
}

TEST(TurnClient, StaleNonceRetriesWithTheNewOne) {
  Harness h;
  h.step();
  ASSERT_EQ(h.client.state(), TurnState::allocated);
  h.server.stale_next = "nonce-2";
  // The Refresh, answered 438, and the same Refresh again with the new nonce.
  EXPECT_EQ(h.run_for(seconds(541)), 2);
  EXPECT_EQ(h.verdict(TurnVerdict::stale_nonce), 1u);
  const stun::Message m = parse_ok(h.server.last);
  EXPECT_EQ(m.method, stun::Method::refresh);
  EXPECT_EQ(str_attr(m, stun::attr::kNonce), "nonce-2");
  EXPECT_EQ(h.events.back().kind, TurnEvent::Kind::refreshed);
  EXPECT_EQ(h.client.state(), TurnState::allocated);
}

TEST(TurnClient, StaleNonceForeverGivesUp) {
  Harness h;
  h.step();
  h.server.stale_every = true;            // every authenticated request: 438 with yet another nonce
  EXPECT_EQ(h.run_for(seconds(541)), 4);  // the Refresh and three retries
  EXPECT_EQ(h.verdict(TurnVerdict::stale_nonce), 3u);
  EXPECT_EQ(h.client.state(), TurnState::failed);
  EXPECT_EQ(h.events.back().kind, TurnEvent::Kind::failed);
  EXPECT_EQ(h.events.back().error_code, 438);
}

TEST(TurnClient, WrongCredentialsFailAndBackOff) {
  Harness h("not-the-password");
  EXPECT_EQ(h.step(), 2);  // Allocate: 401; Allocate with credentials: 401 again
  EXPECT_EQ(h.client.state(), TurnState::failed);
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].kind, TurnEvent::Kind::failed);
  EXPECT_EQ(h.events[0].error_code, 401);
  EXPECT_EQ(h.events[0].reason, "Unauthorized");
  EXPECT_STREQ(h.events[0].what, "Allocate");
  EXPECT_EQ(h.verdict(TurnVerdict::challenge), 1u);
  EXPECT_EQ(h.verdict(TurnVerdict::error_response), 1u);
  // Back-off: nothing for a minute, then a fresh Allocate without credentials.
  EXPECT_EQ(h.run_for(seconds(59)), 0);
  EXPECT_EQ(h.run_for(seconds(1) + millis(10)), 2);
  EXPECT_EQ(h.client.state(), TurnState::failed);
}

TEST(TurnClient, ErrorResponseNeedsIntegrityAndFails) {
  Harness h;
  h.server.refuse = 486;  // Allocation Quota Reached
  h.step();
  h.step();
  EXPECT_EQ(h.client.state(), TurnState::failed);
  EXPECT_EQ(h.events.back().error_code, 486);
  EXPECT_EQ(h.verdict(TurnVerdict::error_response), 1u);
}

/// The client after the 401, with the authenticated Allocate in hand.
struct Pending {
  Harness h;
  TurnRequest req;
  Buf answer;
  Pending() {
    auto r = h.client.poll(h.now);
    Buf a = h.server.respond(r.at(0));
    h.client.on_message(a.data(), a.size(), kServer, h.now);
    req = h.client.poll(h.now).at(0);
    answer = h.server.respond(req);
  }
  TurnVerdict feed(const Buf& b, const Endpoint& from = kServer) {
    return h.client.on_message(b.data(), b.size(), from, h.now);
  }
};

TEST(TurnClient, ForgedAnswersIgnoredAndCounted) {
  Pending p;
  Buf other_tid = p.answer;
  other_tid[10] ^= 0xFF;
  refingerprint(other_tid);
  EXPECT_EQ(p.feed(other_tid), TurnVerdict::unknown_transaction);
  EXPECT_EQ(p.feed(p.answer, ep("203.0.113.2:3478")), TurnVerdict::wrong_source);
  EXPECT_EQ(p.feed(p.answer, ep("203.0.113.1:3479")), TurnVerdict::wrong_source);
  EXPECT_EQ(p.feed(Buf{0, 1, 0, 0}), TurnVerdict::malformed);

  p.h.server.sign_wrong = true;
  EXPECT_EQ(p.feed(p.h.server.respond(p.req)), TurnVerdict::bad_integrity);
  p.h.server.sign_wrong = false;
  p.h.server.sign_none = true;
  EXPECT_EQ(p.feed(p.h.server.respond(p.req)), TurnVerdict::missing_integrity);
  Buf bad_fp = p.answer;
  bad_fp[bad_fp.size() - 1] ^= 1;
  EXPECT_EQ(p.feed(bad_fp), TurnVerdict::bad_fingerprint);
  EXPECT_EQ(p.h.client.state(), TurnState::allocating);

  // The transaction stayed open: the real answer still counts.
  EXPECT_TRUE(p.h.client.expects(p.answer.data(), p.answer.size()));
  EXPECT_FALSE(p.h.client.expects(other_tid.data(), other_tid.size()));
  EXPECT_EQ(p.feed(p.answer), TurnVerdict::none);
  EXPECT_EQ(p.h.client.state(), TurnState::allocated);
  EXPECT_EQ(p.feed(p.answer), TurnVerdict::unknown_transaction) << "a duplicate";
  const auto& s = p.h.client.stats();
  EXPECT_EQ(s.verdicts[static_cast<std::size_t>(TurnVerdict::unknown_transaction)], 2u);
  EXPECT_EQ(s.verdicts[static_cast<std::size_t>(TurnVerdict::wrong_source)], 2u);
  EXPECT_EQ(s.verdicts[static_cast<std::size_t>(TurnVerdict::bad_integrity)], 1u);
  EXPECT_EQ(s.verdicts[static_cast<std::size_t>(TurnVerdict::missing_integrity)], 1u);
  EXPECT_EQ(s.verdicts[static_cast<std::size_t>(TurnVerdict::bad_fingerprint)], 1u);
  EXPECT_EQ(s.verdicts[static_cast<std::size_t>(TurnVerdict::malformed)], 1u);
}

TEST(TurnClient, RetransmitsThenTimesOut) {
  TurnClient c;
  Nanos now = 0;
  c.configure({kServer, "user", "password"}, now);
  std::vector<Nanos> sends;
  std::vector<TurnEvent> events;
  for (; now < seconds(45); now += millis(10)) {
    for (const TurnRequest& r : c.poll(now)) {
      (void)r;
      sends.push_back(now);
    }
    for (auto& e : c.take_events()) events.push_back(e);
  }
  const std::vector<Nanos> expected = {
      0, millis(500), millis(1500), millis(3500), millis(7500), millis(15500), millis(31500)};
  EXPECT_EQ(sends, expected);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, TurnEvent::Kind::failed);
  EXPECT_EQ(events[0].error_code, 0);
  EXPECT_EQ(events[0].reason, "no answer");
  EXPECT_EQ(c.state(), TurnState::failed);
  EXPECT_EQ(c.stats().timeouts, 1u);
}

TEST(TurnClient, PermissionAndChannel) {
  Harness h;
  EXPECT_FALSE(h.client.permitted(kPeer.addr));
  // Asked for before the allocation: sent once it exists.
  h.client.permit(kPeer, h.now);
  EXPECT_TRUE(h.client.permitted(kPeer.addr));
  EXPECT_FALSE(h.client.permitted(kPeer2.addr)) << "another address";
  EXPECT_EQ(h.client.bind_channel(kPeer2, h.now), 0x4000);
  EXPECT_EQ(h.client.bind_channel(kPeer2, h.now), 0x4000) << "one channel per peer";
  EXPECT_EQ(h.client.channel_of(kPeer2), 0) << "not bound yet";
  EXPECT_EQ(h.step(), 4);  // the two Allocates, then CreatePermission and ChannelBind
  ASSERT_EQ(h.server.seen.size(), 3u);
  EXPECT_EQ(h.server.seen[1], stun::Method::create_permission);
  EXPECT_EQ(h.server.seen[2], stun::Method::channel_bind);
  const stun::Message m = parse_ok(h.server.last);
  EXPECT_EQ(stun::get_channel_number(m).value(), 0x4000);
  EXPECT_EQ(stun::get_xor_address(m, stun::attr::kXorPeerAddress).value(), kPeer2);
  EXPECT_EQ(stun::verify_message(m, stun::long_term_key("user", "natlab.test", "password")),
            stun::AuthVerdict::none);
  EXPECT_EQ(h.client.channel_of(kPeer2), 0x4000);
  EXPECT_EQ(h.client.channel_of(kPeer), 0) << "a permission has no channel";
  ASSERT_EQ(h.events.size(), 3u);
  EXPECT_EQ(h.events[1].kind, TurnEvent::Kind::permission_created);
  EXPECT_EQ(h.events[1].peer, kPeer);
  EXPECT_EQ(h.events[2].kind, TurnEvent::Kind::channel_bound);
  EXPECT_EQ(h.events[2].channel, 0x4000);
  EXPECT_EQ(h.client.bind_channel(kPeer, h.now), 0x4001);

  // Refresh before the 300 s permission expires: at 240 s, both entries.
  h.run_for(millis(100));  // the new channel for kPeer
  const std::size_t before = h.server.seen.size();
  EXPECT_EQ(h.run_for(seconds(239)), 0);
  EXPECT_EQ(h.run_for(seconds(2)), 2);
  ASSERT_EQ(h.server.seen.size(), before + 2);
  EXPECT_EQ(h.server.seen[before], stun::Method::channel_bind);
  EXPECT_EQ(h.client.channel_of(kPeer2), 0x4000);
  EXPECT_EQ(h.events.size(), 4u) << "refreshes are not events";
}

TEST(TurnClient, PeerRefusalBacksOffThatPeerOnly) {
  Harness h;
  h.step();
  h.server.refuse = 403;
  h.client.bind_channel(kPeer, h.now);
  EXPECT_EQ(h.step(), 1);
  EXPECT_EQ(h.client.channel_of(kPeer), 0);
  EXPECT_EQ(h.events.back().kind, TurnEvent::Kind::failed);
  EXPECT_STREQ(h.events.back().what, "ChannelBind");
  EXPECT_EQ(h.client.state(), TurnState::allocated);
  h.server.refuse = 0;
  EXPECT_EQ(h.run_for(seconds(59)), 0);
  EXPECT_EQ(h.run_for(seconds(2)), 1);
  EXPECT_EQ(h.client.channel_of(kPeer), 0x4000);
}

TEST(TurnClient, AllocationMismatchAllocatesAgainAtOnce) {
  // Our NAT rebound the listen port: the server knows no allocation for the new mapping and
  // says 437 to the next request; a new Allocate must not wait out the one-minute back-off.
  Harness h;
  h.client.bind_channel(kPeer, h.now);
  h.step();
  ASSERT_EQ(h.client.channel_of(kPeer), 0x4000);
  h.server.refuse = kAllocationMismatch;
  h.server.refuse_only = stun::Method::channel_bind;
  h.server.refuse_left = 1;
  const std::uint64_t allocations = h.client.stats().allocations;
  h.run_for(seconds(241));  // the channel's refresh at 240 s: 437
  EXPECT_EQ(h.client.stats().allocations, allocations + 1)
      << "Allocate (401, then 200) at once, not after a minute";
  EXPECT_EQ(h.client.state(), TurnState::allocated);
  EXPECT_EQ(h.client.channel_of(kPeer), 0x4000) << "the channel is bound again";
  bool mismatch_seen = false;
  for (const TurnEvent& e : h.events) mismatch_seen |= e.error_code == kAllocationMismatch;
  EXPECT_TRUE(mismatch_seen);
}

TEST(TurnClient, ReboundPortAllocatesAgainWithItsChannels) {
  Harness h;
  h.client.rebound(h.now);  // nothing allocated yet: nothing to re-make
  h.client.bind_channel(kPeer, h.now);
  h.step();
  ASSERT_EQ(h.client.channel_of(kPeer), 0x4000);
  h.client.rebound(h.now);
  EXPECT_EQ(h.client.channel_of(kPeer), 0) << "the old allocation's channel is gone";
  h.run_for(millis(50));
  EXPECT_EQ(h.client.state(), TurnState::allocated);
  EXPECT_EQ(h.client.stats().allocations, 2u);
  EXPECT_EQ(h.client.channel_of(kPeer), 0x4000) << "the same number on the new allocation";
}

TEST(TurnClient, LostAllocationIsRebuiltWithItsChannels) {
  Harness h;
  h.client.bind_channel(kPeer, h.now);
  h.step();
  ASSERT_EQ(h.client.channel_of(kPeer), 0x4000);
  h.server.refuse = 437;  // the Refresh: Allocation Mismatch (the server forgot us)
  h.run_for(seconds(541));
  // The Refresh's 437 starts a new Allocate at once; the server refuses that too, and only
  // then does the client back off.
  EXPECT_EQ(h.client.state(), TurnState::failed);
  EXPECT_FALSE(h.client.allocation().relayed.known());
  EXPECT_EQ(h.client.channel_of(kPeer), 0) << "no allocation, no channel";
  EXPECT_STREQ(h.events.back().what, "Allocate");
  h.server.refuse = 0;
  h.run_for(seconds(61));
  EXPECT_EQ(h.client.state(), TurnState::allocated);
  EXPECT_EQ(h.client.channel_of(kPeer), 0x4000) << "the same number, bound again";
  EXPECT_EQ(h.client.stats().allocations, 2u);
}

TEST(TurnClient, NewCredentialsStartOver) {
  Harness h;
  h.step();
  ASSERT_EQ(h.client.state(), TurnState::allocated);
  h.client.configure({kServer, "user", "password"}, h.now);
  EXPECT_EQ(h.client.state(), TurnState::allocated) << "the same settings change nothing";
  h.server.password = "new";
  h.client.configure({kServer, "user", "new"}, h.now);
  EXPECT_EQ(h.client.state(), TurnState::allocating);
  EXPECT_FALSE(h.client.allocation().relayed.known());
  const auto reqs = h.client.poll(h.now);
  ASSERT_EQ(reqs.size(), 1u);
  const Buf sent = bytes_of(reqs[0]);
  EXPECT_EQ(parse_ok(sent).find(stun::attr::kUsername), nullptr) << "a fresh 401 first";
  h.client.configure({}, h.now);
  EXPECT_EQ(h.client.state(), TurnState::idle);
  EXPECT_TRUE(h.client.poll(h.now).empty());
}

TEST(TurnClient, AnswerOfAnotherMethodIsNotOurs) {
  Pending p;
  stun::Message m = parse_ok(p.answer);
  Buf other(256);
  stun::Builder b(other, stun::Method::refresh, stun::Class::success, m.transaction_id);
  b.add_lifetime(600).add_fingerprint();
  other.resize(*b.finish());
  EXPECT_EQ(p.feed(other), TurnVerdict::unknown_transaction);
  EXPECT_EQ(p.feed(p.answer), TurnVerdict::none);
}

TEST(TurnClient, IdleWithoutServer) {
  TurnClient c;
  EXPECT_EQ(c.state(), TurnState::idle);
  EXPECT_TRUE(c.poll(0).empty());
  EXPECT_FALSE(c.is_server(kServer));
  c.configure({kServer, "user", "password"}, 0);
  EXPECT_TRUE(c.is_server(kServer));
  EXPECT_FALSE(c.is_server(ep("203.0.113.2:3478")));
}

}  // namespace
}  // namespace meshgate::nat
