// mac2 and cookie replies under load (protocol.md 3.8, 3.9).
#include <gtest/gtest.h>

#include "meshgate/base/secret.hpp"
#include "wg_peers.hpp"

namespace meshgate::noise {
namespace {

using testing::Pair;

bool mac2_is_zero(const wire::MessageInitiation& m) {
  return ct_is_zero(m.macs.mac2, sizeof m.macs.mac2);
}

TEST(Cookie, UnderLoadRoundTrip) {
  Pair p;
  // 1. Under load, an initiation without mac2 is answered with a cookie reply, not processed.
  auto first = p.initiation();
  EXPECT_TRUE(mac2_is_zero(first));
  ASSERT_EQ(p.b_receives(first, /*under_load=*/true), HandshakeDrop::cookie_required);
  EXPECT_EQ(p.b.hs.state, HandshakeState::zeroed);
  wire::MessageCookieReply reply{};
  p.b.checker.create_reply(reply, first, p.b.id, p.a.addr, p.now);
  EXPECT_EQ(reply.header.type, 3);
  EXPECT_EQ(reply.receiver_index, first.sender_index);
  auto c = wire::classify(wire::message_bytes(reply), sizeof reply);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.type, wire::MessageType::cookie_reply);

  // 2. The initiator takes the cookie (ad = the mac1 it sent) but does not resend at once.
  p.tick(millis(5));
  ASSERT_EQ(p.a.cookie.consume_reply(reply, p.now), HandshakeDrop::none);
  EXPECT_TRUE(p.a.cookie.has_fresh_cookie(p.now));
  // A second copy of the reply is refused until a new mac1 goes out.
  EXPECT_EQ(p.a.cookie.consume_reply(reply, p.now), HandshakeDrop::unexpected_cookie);

  // 3. The retransmitted initiation carries a valid mac2 and is accepted under load.
  p.tick(seconds(5));
  auto retry = p.initiation();
  EXPECT_FALSE(mac2_is_zero(retry));
  EXPECT_EQ(p.b.checker.validate(retry, p.b.id, p.a.addr, true, p.now),
            MacVerdict::valid_mac1_and_mac2);
  ASSERT_EQ(p.b_receives(retry, /*under_load=*/true), HandshakeDrop::none);

  // The cookie is bound to the source address and port.
  Endpoint moved = p.a.addr;
  moved.port = 51821;
  EXPECT_EQ(p.b.checker.validate(retry, p.b.id, moved, true, p.now), MacVerdict::valid_mac1);

  // The rest of the handshake, with mac2 on the response as well.
  auto resp = p.response();
  ASSERT_EQ(p.a_receives(resp), HandshakeDrop::none);
  SessionKeys ka, kb;
  ASSERT_EQ(begin_session(p.a.hs, ka, p.now), HandshakeDrop::none);
  ASSERT_EQ(begin_session(p.b.hs, kb, p.now), HandshakeDrop::none);
  EXPECT_TRUE(ka.send.ct_equals(kb.recv));
}

TEST(Cookie, ResponseUnderLoadGetsCookieToo) {
  Pair p;
  auto init = p.initiation();
  ASSERT_EQ(p.b_receives(init), HandshakeDrop::none);
  auto resp = p.response();
  EXPECT_EQ(p.a.checker.validate(resp, p.a.id, p.b.addr, true, p.now), MacVerdict::valid_mac1);
  wire::MessageCookieReply reply{};
  p.a.checker.create_reply(reply, resp, p.a.id, p.b.addr, p.now);
  EXPECT_EQ(reply.receiver_index, resp.sender_index);
  ASSERT_EQ(p.b.cookie.consume_reply(reply, p.now), HandshakeDrop::none);
  p.b.cookie.add_macs(resp, p.now);
  EXPECT_EQ(p.a.checker.validate(resp, p.a.id, p.b.addr, true, p.now),
            MacVerdict::valid_mac1_and_mac2);
}

TEST(Cookie, ReplyWithWrongAdIsRejected) {
  Pair p;
  auto first = p.initiation();
  wire::MessageCookieReply reply{};
  p.b.checker.create_reply(reply, first, p.b.id, p.a.addr, p.now);
  // A newer initiation went out since: its mac1 is the ad now, so the old reply fails.
  p.tick(seconds(5));
  auto second = p.initiation();
  EXPECT_EQ(p.a.cookie.consume_reply(reply, p.now), HandshakeDrop::bad_cookie);
  EXPECT_FALSE(p.a.cookie.has_fresh_cookie(p.now));

  // A reply encrypted under another responder's cookie key fails too.
  StaticIdentity other;
  other.set_private_key(crypto::x25519_generate());
  CookieChecker other_checker;
  other_checker.create_reply(reply, second, other, p.a.addr, p.now);
  EXPECT_EQ(p.a.cookie.consume_reply(reply, p.now), HandshakeDrop::bad_cookie);

  // Tampering with the nonce or the ciphertext fails.
  p.b.checker.create_reply(reply, second, p.b.id, p.a.addr, p.now);
  auto bad = reply;
  bad.nonce[0] ^= 1;
  EXPECT_EQ(p.a.cookie.consume_reply(bad, p.now), HandshakeDrop::bad_cookie);
  bad = reply;
  bad.encrypted_cookie[31] ^= 1;
  EXPECT_EQ(p.a.cookie.consume_reply(bad, p.now), HandshakeDrop::bad_cookie);
  EXPECT_EQ(p.a.cookie.consume_reply(reply, p.now), HandshakeDrop::none);
}

TEST(Cookie, NoReplyAcceptedBeforeAnyMac1) {
  Pair p;
  wire::MessageCookieReply reply{};
  EXPECT_EQ(p.a.cookie.consume_reply(reply, p.now), HandshakeDrop::unexpected_cookie);
}

TEST(Cookie, ExpiredCookieIsNotUsed) {
  Pair p;
  auto first = p.initiation();
  wire::MessageCookieReply reply{};
  p.b.checker.create_reply(reply, first, p.b.id, p.a.addr, p.now);
  ASSERT_EQ(p.a.cookie.consume_reply(reply, p.now), HandshakeDrop::none);
  const Nanos born = p.now;

  // Used up to 115 s (120 s minus the kernel's 5 s latency margin) ...
  p.tick(seconds(114));
  auto m = p.initiation();
  EXPECT_FALSE(mac2_is_zero(m));
  EXPECT_EQ(p.b.checker.validate(m, p.b.id, p.a.addr, true, p.now),
            MacVerdict::valid_mac1_and_mac2);
  // ... and not after: mac2 is zeros again and under load the initiator gets a new cookie.
  p.now = born + seconds(115);
  EXPECT_FALSE(p.a.cookie.has_fresh_cookie(p.now));
  m = p.initiation();
  EXPECT_TRUE(mac2_is_zero(m));
  EXPECT_EQ(p.b.checker.validate(m, p.b.id, p.a.addr, true, p.now), MacVerdict::valid_mac1);
}

TEST(Cookie, ResponderSecretRotatesAfter120Seconds) {
  Pair p;
  auto first = p.initiation();
  wire::MessageCookieReply reply{};
  p.b.checker.create_reply(reply, first, p.b.id, p.a.addr, p.now);  // R_m born now
  ASSERT_EQ(p.a.cookie.consume_reply(reply, p.now), HandshakeDrop::none);
  auto m = p.initiation();
  // A message carrying that cookie's mac2 stops validating once R_m is renewed.
  EXPECT_EQ(p.b.checker.validate(m, p.b.id, p.a.addr, true, p.now + seconds(119)),
            MacVerdict::valid_mac1_and_mac2);
  EXPECT_EQ(p.b.checker.validate(m, p.b.id, p.a.addr, true, p.now + seconds(120)),
            MacVerdict::valid_mac1);
}

TEST(Cookie, Mac1AndCookieKeysAreLabelledHashesOfThePublicKey) {
  // mac1 key = HASH("mac1----" || pub), cookie key = HASH("cookie--" || pub), and the
  // identity precomputes both for its own public key.
  Pair p;
  EXPECT_EQ(p.b.id.mac1_key, mac1_key_for(p.b.id.public_key));
  EXPECT_EQ(p.b.id.cookie_key, cookie_key_for(p.b.id.public_key));
  EXPECT_NE(p.b.id.mac1_key, p.b.id.cookie_key);
  const std::uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
  auto src6 = Endpoint{IpAddr::v6_bytes(v6), 443};
  EXPECT_EQ(src6.addr.size(), 16u);
  EXPECT_EQ(p.a.addr.addr.size(), 4u);
  auto init = p.initiation();
  EXPECT_EQ(p.b.checker.validate(init, p.b.id, src6, false, p.now), MacVerdict::valid_mac1);
}

}  // namespace
}  // namespace meshgate::noise
