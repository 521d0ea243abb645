// WireGuard handshake between two in-memory nodes, and everything it must refuse
// (protocol.md 3.1-3.6, 3.10, 11).
#include <gtest/gtest.h>

#include <vector>

#include "wg_peers.hpp"

namespace meshgate::noise {
namespace {

using testing::open_transport;
using testing::Pair;
using testing::seal_transport;

std::vector<std::uint8_t> text(const char* s) {
  return std::vector<std::uint8_t>(s, s + std::strlen(s));
}

// Re-computes mac1/mac2 after a test changed bytes, as anyone who knows the responder's
// public key can: this makes the change reach the Noise layer.
template <class Msg>
void remac(Pair& p, Msg& m, bool from_a = true) {
  (from_a ? p.a : p.b).cookie.add_macs(m, p.now);
}

void expect_keys_match(const SessionKeys& ka, const SessionKeys& kb) {
  EXPECT_TRUE(ka.initiator);
  EXPECT_FALSE(kb.initiator);
  EXPECT_TRUE(ka.send.ct_equals(kb.recv));
  EXPECT_TRUE(ka.recv.ct_equals(kb.send));
  EXPECT_FALSE(ka.send.ct_equals(ka.recv));
  EXPECT_EQ(ka.local_index, kb.remote_index);
  EXPECT_EQ(ka.remote_index, kb.local_index);
  EXPECT_NE(ka.local_index, kb.local_index);
}

void exchange_data(const SessionKeys& ka, const SessionKeys& kb) {
  const auto ping = text("ping from the initiator, 33 bytes");
  auto m1 = seal_transport(ka, 0, ping);
  EXPECT_EQ(m1.size(), 16u + 48u + 16u);  // 33 padded to 48
  auto got = open_transport(kb, m1);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(std::vector<std::uint8_t>(got->begin(), got->begin() + 33), ping);

  const auto pong = text("pong");
  auto m2 = seal_transport(kb, 0, pong);
  got = open_transport(ka, m2);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(std::vector<std::uint8_t>(got->begin(), got->begin() + 4), pong);

  // Keepalive: empty plaintext, 32 bytes on the wire.
  auto ka_msg = seal_transport(ka, 1, {});
  EXPECT_EQ(ka_msg.size(), wire::spec::kKeepaliveSize);
  got = open_transport(kb, ka_msg);
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(wire::is_keepalive(got->size()));

  // A keypair never opens what it sent itself, nor a tampered message.
  EXPECT_FALSE(open_transport(ka, m1).has_value());
  m2[20] ^= 1;
  EXPECT_FALSE(open_transport(ka, m2).has_value());
}

TEST(Handshake, CompletesWithoutPskAndCarriesData) {
  Pair p;
  SessionKeys ka, kb;
  p.handshake(ka, kb);
  expect_keys_match(ka, kb);
  exchange_data(ka, kb);
  EXPECT_EQ(p.a.hs.state, HandshakeState::zeroed);
  EXPECT_EQ(p.b.hs.state, HandshakeState::zeroed);
  EXPECT_TRUE(p.a.hs.noise.e.is_zero());  // ephemeral, C and H wiped after split
  EXPECT_TRUE(p.b.hs.noise.sym.chaining_key().is_zero());
  EXPECT_TRUE(p.b.hs.noise.sym.handshake_hash().is_zero());
}

TEST(Handshake, CompletesWithPsk) {
  SecretKey psk = crypto::x25519_generate();
  Pair p(&psk);
  SessionKeys ka, kb;
  p.handshake(ka, kb);
  expect_keys_match(ka, kb);
  exchange_data(ka, kb);
}

TEST(Handshake, PskMismatchFailsAtResponse) {
  SecretKey psk = crypto::x25519_generate();
  Pair p(&psk);
  SecretKey other = crypto::x25519_generate();
  ASSERT_TRUE(handshake_configure(p.b.hs, p.b.id, p.a.id.public_key, &other).ok());
  auto init = p.initiation();
  ASSERT_EQ(p.b_receives(init), HandshakeDrop::none);  // the PSK only enters at message 2
  auto resp = p.response();
  EXPECT_EQ(p.a_receives(resp), HandshakeDrop::bad_response);
  EXPECT_EQ(p.a.hs.state, HandshakeState::initiation_created);  // still pending
}

TEST(Handshake, RekeyGivesNewDistinctKeys) {
  Pair p;
  SessionKeys k1a, k1b, k2a, k2b;
  p.handshake(k1a, k1b);
  p.tick(seconds(120));
  p.handshake(k2a, k2b);
  expect_keys_match(k2a, k2b);
  EXPECT_FALSE(k1a.send.ct_equals(k2a.send));
  EXPECT_FALSE(k1a.recv.ct_equals(k2a.recv));
  EXPECT_NE(k1a.local_index, k2a.local_index);
  exchange_data(k2a, k2b);
  // Old keys do not open new traffic.
  EXPECT_FALSE(open_transport(k1b, seal_transport(k2a, 0, text("x"))).has_value());
}

TEST(Handshake, ResponderInitiatesToo) {
  // Roles swap: b initiates to a; the same verbs, keys still pair up.
  Pair p;
  std::swap(p.a, p.b);
  SessionKeys ka, kb;
  p.handshake(ka, kb);
  expect_keys_match(ka, kb);
}

TEST(Handshake, RejectsReplayedInitiation) {
  Pair p;
  auto init = p.initiation();
  ASSERT_EQ(p.b_receives(init), HandshakeDrop::none);
  p.tick(seconds(1));
  EXPECT_EQ(p.b_receives(init), HandshakeDrop::replayed_timestamp);
}

TEST(Handshake, RejectsOlderAndEqualTimestamps) {
  Pair p;
  p.tick(seconds(10));
  auto newer = p.initiation();
  ASSERT_EQ(p.b_receives(newer), HandshakeDrop::none);

  p.tick(seconds(1));
  const WallTime saved = p.wall;
  p.wall.sec -= 5;  // the initiator's clock went backwards
  auto older = p.initiation();
  EXPECT_EQ(p.b_receives(older), HandshakeDrop::replayed_timestamp);
  // The same TAI64N as the accepted one (whitening makes nearby instants equal).
  p.wall = saved;
  p.wall.sec -= 1;
  p.wall.nsec += 1000;
  auto equal = p.initiation();
  EXPECT_EQ(p.b_receives(equal), HandshakeDrop::replayed_timestamp);
  p.wall = saved;
  auto fine = p.initiation();
  EXPECT_EQ(p.b_receives(fine), HandshakeDrop::none);
}

TEST(Handshake, FloodGuardAt20Milliseconds) {
  Pair p;
  auto first = p.initiation();
  ASSERT_EQ(p.b_receives(first), HandshakeDrop::none);
  p.tick(millis(19));
  p.wall.sec += 1;  // a newer timestamp, so only the flood rule can refuse it
  auto second = p.initiation();
  EXPECT_EQ(p.b_receives(second), HandshakeDrop::initiation_flood);
  EXPECT_EQ(p.b.hs.remote_index, first.sender_index);  // nothing committed
  p.tick(millis(1));
  EXPECT_EQ(p.b_receives(second), HandshakeDrop::none);
}

TEST(Handshake, RejectsBadMac1) {
  Pair p;
  auto init = p.initiation();
  for (std::size_t i = 0; i < wire::spec::kMacLen; ++i) {
    auto bad = init;
    bad.macs.mac1[i] ^= 0x80;
    EXPECT_EQ(p.b_receives(bad), HandshakeDrop::bad_mac1) << i;
  }
  // mac1 keyed for the wrong receiver (a's own key instead of b's).
  CookieSender wrong;
  wrong.init(p.a.id.public_key);
  auto misaddressed = init;
  wrong.add_macs(misaddressed, p.now);
  EXPECT_EQ(p.b_receives(misaddressed), HandshakeDrop::bad_mac1);
  EXPECT_EQ(p.b_receives(init), HandshakeDrop::none);
}

TEST(Handshake, EveryBitFlipInInitiationIsRejected) {
  Pair p;
  // Hold a cookie, so mac2 is filled and can be checked under load.
  auto probe = p.initiation();
  wire::MessageCookieReply reply{};
  p.b.checker.create_reply(reply, probe, p.b.id, p.a.addr, p.now);
  ASSERT_EQ(p.a.cookie.consume_reply(reply, p.now), HandshakeDrop::none);
  p.tick(seconds(1));
  const auto init = p.initiation();
  const Handshake before = p.b.hs;

  for (std::size_t i = 0; i < sizeof init; ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      auto bad = init;
      wire::message_bytes(bad)[i] ^= static_cast<std::uint8_t>(1u << bit);
      // Under load, so mac2 counts too: every byte of the message is covered.
      EXPECT_NE(p.b_receives(bad, /*under_load=*/true), HandshakeDrop::none)
          << "byte " << i << " bit " << bit;
    }
  }
  // With valid macs recomputed over the flipped bytes, the Noise layer must refuse every
  // change from the ephemeral key on (bytes 0-7 are the header and sender index, which only
  // mac1 covers: a changed sender index is a different, valid initiation).
  for (std::size_t i = offsetof(wire::MessageInitiation, ephemeral);
       i < offsetof(wire::MessageInitiation, macs); ++i) {
    auto bad = init;
    wire::message_bytes(bad)[i] ^= static_cast<std::uint8_t>(1u << (i % 8));
    remac(p, bad);
    EXPECT_NE(p.b_receives(bad), HandshakeDrop::none) << "byte " << i;
  }
  EXPECT_EQ(p.b.hs.state, before.state);
  EXPECT_EQ(p.b.hs.latest_timestamp, before.latest_timestamp);
  EXPECT_EQ(p.b_receives(init, true), HandshakeDrop::none);
}

TEST(Handshake, EveryBitFlipInResponseIsRejected) {
  Pair p;
  auto init = p.initiation();
  ASSERT_EQ(p.b_receives(init), HandshakeDrop::none);
  const auto resp = p.response();
  for (std::size_t i = 0; i < offsetof(wire::MessageResponse, macs) + wire::spec::kMacLen; ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      auto bad = resp;
      wire::message_bytes(bad)[i] ^= static_cast<std::uint8_t>(1u << bit);
      EXPECT_NE(p.a_receives(bad), HandshakeDrop::none) << "byte " << i << " bit " << bit;
    }
  }
  // Re-mac'd: the receiver index and the Noise fields are checked without mac1's help.
  for (std::size_t i = offsetof(wire::MessageResponse, receiver_index);
       i < offsetof(wire::MessageResponse, macs); ++i) {
    auto bad = resp;
    wire::message_bytes(bad)[i] ^= static_cast<std::uint8_t>(1u << (i % 8));
    remac(p, bad, /*from_a=*/false);
    EXPECT_NE(p.a_receives(bad), HandshakeDrop::none) << "byte " << i;
  }
  // mac2 (bytes 76-91) is ignored when not under load, as in the reference implementations.
  EXPECT_EQ(p.a.hs.state, HandshakeState::initiation_created);
  EXPECT_EQ(p.a_receives(resp), HandshakeDrop::none);
}

TEST(Handshake, RejectsResponseToUnknownIndexOrWrongState) {
  Pair p;
  auto init = p.initiation();
  ASSERT_EQ(p.b_receives(init), HandshakeDrop::none);
  auto resp = p.response();
  auto wrong = resp;
  wrong.receiver_index ^= 0x5a5a5a5a;
  remac(p, wrong, false);
  EXPECT_EQ(p.a_receives(wrong), HandshakeDrop::unknown_index);
  ASSERT_EQ(p.a_receives(resp), HandshakeDrop::none);
  EXPECT_EQ(p.a_receives(resp), HandshakeDrop::wrong_state);  // already consumed

  wire::MessageResponse again{};
  EXPECT_EQ(create_response(again, p.a.hs, p.a.id, 7), HandshakeDrop::wrong_state);
  SessionKeys kp;
  Handshake idle;
  EXPECT_EQ(begin_session(idle, kp, p.now), HandshakeDrop::wrong_state);
}

TEST(Handshake, RejectsWrongReservedBytes) {
  Pair p;
  auto init = p.initiation();
  for (std::size_t i = 1; i < 4; ++i) {
    auto bad = init;
    bad.header.reserved[i - 1] = 1;
    remac(p, bad);
    auto c = wire::classify(wire::message_bytes(bad), sizeof bad);
    EXPECT_EQ(c.drop, wire::WireDrop::reserved_nonzero);
  }
}

TEST(Handshake, RejectsAllZeroDiffieHellman) {
  Pair p;
  // Small-order points: the identity (all zero) and a point of order 8 (RFC 7748 / kernel
  // curve25519 selftest). DH with them is all zero whatever the scalar.
  Key32 order8{};
  ASSERT_TRUE(from_hex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", order8));
  for (const Key32& bad_key : {Key32{}, order8}) {
    Handshake hs;
    EXPECT_FALSE(handshake_configure(hs, p.a.id, bad_key, nullptr).ok());
    EXPECT_FALSE(hs.configured);
    wire::MessageInitiation m{};
    EXPECT_EQ(create_initiation(m, hs, p.a.id, 1, p.wall), HandshakeDrop::wrong_state);

    // A small-order ephemeral in an initiation: es is zero at the responder.
    auto init = p.initiation();
    std::memcpy(init.ephemeral, bad_key.data(), 32);
    remac(p, init);
    EXPECT_EQ(p.b_receives(init), HandshakeDrop::zero_dh);
  }
  // ... and in a response: ee is zero at the initiator.
  p.tick(seconds(1));
  auto init = p.initiation();
  ASSERT_EQ(p.b_receives(init), HandshakeDrop::none);
  auto resp = p.response();
  std::memset(resp.ephemeral, 0, 32);
  remac(p, resp, false);
  EXPECT_EQ(p.a_receives(resp), HandshakeDrop::zero_dh);
}

TEST(Handshake, RejectsOwnKeyAsPeerAndMissingIdentity) {
  Pair p;
  Handshake hs;
  EXPECT_FALSE(handshake_configure(hs, p.a.id, p.a.id.public_key, nullptr).ok());
  StaticIdentity none;
  EXPECT_FALSE(handshake_configure(hs, none, p.b.id.public_key, nullptr).ok());
  auto init = p.initiation();
  PendingInitiation pending;
  EXPECT_EQ(decrypt_initiation_static(init, none, pending), HandshakeDrop::no_identity);
}

TEST(Handshake, UnknownPeerIsDropped) {
  Pair p;
  auto init = p.initiation();
  auto nobody = [](const Key32&) -> Handshake* { return nullptr; };
  EXPECT_EQ(consume_initiation(init, p.b.id, nobody, p.now, nullptr), HandshakeDrop::unknown_peer);
  // The two-step API hands out the initiator's static key for the lookup.
  PendingInitiation pending;
  ASSERT_EQ(decrypt_initiation_static(init, p.b.id, pending), HandshakeDrop::none);
  EXPECT_EQ(pending.initiator_static, p.a.id.public_key);
  EXPECT_EQ(pending.sender_index, init.sender_index);
  Handshake stranger;
  EXPECT_EQ(consume_initiation(pending, init, stranger, p.now), HandshakeDrop::unknown_peer);
  EXPECT_EQ(consume_initiation(pending, init, p.b.hs, p.now), HandshakeDrop::none);
}

TEST(Handshake, NewInitiationOverwritesPendingOne) {
  // Simultaneous initiations: b's consumption of a's initiation replaces b's own pending one;
  // a's later response to b's initiation is then refused (protocol.md 3.10).
  Pair p;
  wire::MessageInitiation from_b{};
  ASSERT_EQ(create_initiation(from_b, p.b.hs, p.b.id, 0x77, p.wall), HandshakeDrop::none);
  auto from_a = p.initiation();
  ASSERT_EQ(p.b_receives(from_a), HandshakeDrop::none);
  EXPECT_EQ(p.b.hs.state, HandshakeState::initiation_consumed);
  SessionKeys ka, kb;
  auto resp = p.response();
  ASSERT_EQ(p.a_receives(resp), HandshakeDrop::none);
  ASSERT_EQ(begin_session(p.a.hs, ka, p.now), HandshakeDrop::none);
  ASSERT_EQ(begin_session(p.b.hs, kb, p.now), HandshakeDrop::none);
  expect_keys_match(ka, kb);
}

TEST(Handshake, DropReasonsHaveNames) {
  for (std::size_t i = 1; i <= kHandshakeDropCount; ++i) {
    auto d = static_cast<HandshakeDrop>(i);
    EXPECT_NE(to_string(d), "unknown");
    EXPECT_GT(describe(d).size(), 10u);
  }
}

}  // namespace
}  // namespace meshgate::noise
