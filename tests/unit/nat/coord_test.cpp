// Coordination messages: every type survives a round trip, and each rule of the decoder rejects
// what breaks it, by name, without reading past the message.
#include "meshgate/nat/coord.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace meshgate::nat::coord {
namespace {

Candidate v4(const char* ep, CandidateKind k) {
  return {*Endpoint::parse(ep), k};
}

Message sample(Type t) {
  Message m;
  m.type = t;
  for (std::size_t i = 0; i < 32; ++i) m.key[i] = static_cast<std::uint8_t>(i + 1);
  m.start_in_ms = 250;
  m.txid = 0x0123456789ABCDEFull;
  m.candidates.add(v4("198.51.100.34:40001", CandidateKind::reflexive));
  if (t != Type::pong) {
    m.candidates.add(v4("10.2.0.2:51820", CandidateKind::local));
    m.candidates.add({*Endpoint::parse("[2001:db8::7]:51820"), CandidateKind::configured});
    m.candidates.add(v4("203.0.113.1:50123", CandidateKind::relayed));
  }
  return m;
}

std::vector<std::uint8_t> bytes_of(const Message& m) {
  std::vector<std::uint8_t> b(kMaxMessageSize);
  b.resize(encode(m, b.data()));
  return b;
}

DecodeError decode_error(const std::vector<std::uint8_t>& b) {
  Message m;
  DecodeError why = DecodeError::none;
  EXPECT_FALSE(decode(b.data(), b.size(), m, why));
  return why;
}

TEST(Coord, EveryTypeRoundTrips) {
  for (Type t : {Type::report, Type::request, Type::introduce, Type::ping, Type::pong}) {
    const Message in = sample(t);
    const auto b = bytes_of(in);
    ASSERT_TRUE(is_message(b.data(), b.size())) << to_string(t);
    Message out;
    DecodeError why = DecodeError::none;
    ASSERT_TRUE(decode(b.data(), b.size(), out, why)) << to_string(t) << ": " << to_string(why);
    EXPECT_EQ(out.type, t);
    if (t == Type::request || t == Type::introduce) {
      EXPECT_EQ(out.key, in.key);
    }
    if (t == Type::introduce) {
      EXPECT_EQ(out.start_in_ms, 250);
    }
    if (t == Type::ping || t == Type::pong) {
      EXPECT_EQ(out.txid, in.txid);
    }
    const std::size_t want = t == Type::report || t == Type::introduce ? 4 : t == Type::pong;
    ASSERT_EQ(out.candidates.n, want) << to_string(t);
    for (std::size_t i = 0; i < want; ++i)
      EXPECT_EQ(out.candidates.items[i], in.candidates.items[i]);
  }
}

TEST(Coord, IsMessageNeedsTheMagicAndALengthWithinThePlaintext) {
  auto b = bytes_of(sample(Type::ping));
  std::vector<std::uint8_t> padded = b;
  padded.resize(32, 0);  // WireGuard pads the plaintext to 16 bytes
  EXPECT_TRUE(is_message(padded.data(), padded.size()));
  EXPECT_FALSE(is_message(b.data(), b.size() - 1));
  b[0] = 0x45;  // an IPv4 header
  EXPECT_FALSE(is_message(b.data(), b.size()));
}

TEST(Coord, DecoderNamesTheRuleThatBroke) {
  auto b = bytes_of(sample(Type::report));
  auto bad = b;
  bad[0] = 0x45;
  EXPECT_EQ(decode_error(bad), DecodeError::bad_magic);
  bad = b;
  bad[3] += 1;
  EXPECT_EQ(decode_error(bad), DecodeError::bad_length);
  bad = b;
  bad[1] = 9;
  EXPECT_EQ(decode_error(bad), DecodeError::bad_type);
  bad = b;
  bad[4] = 3;  // count says 3, four are there
  EXPECT_EQ(decode_error(bad), DecodeError::bad_count);
  bad = b;
  bad[5] = 1;
  EXPECT_EQ(decode_error(bad), DecodeError::nonzero_reserved);
  bad = b;
  bad[8] = 7;  // first candidate's kind
  EXPECT_EQ(decode_error(bad), DecodeError::bad_candidate);
  bad = b;
  bad[8 + 19] = 1;  // a byte after an IPv4 address
  EXPECT_EQ(decode_error(bad), DecodeError::bad_candidate);
  bad = b;
  bad[8 + 2] = bad[8 + 3] = 0;  // port 0
  EXPECT_EQ(decode_error(bad), DecodeError::bad_candidate);
  EXPECT_EQ(decode_error({kMagic, 2, 0, 3}), DecodeError::bad_length);
  EXPECT_EQ(decode_error({kMagic, 2, 0, 4}), DecodeError::short_message);  // request needs a key
}

TEST(Coord, TooManyCandidatesAreRefusedOnBothSides) {
  Candidates c;
  for (unsigned i = 0; i < kMaxCandidates + 2; ++i) {
    c.add({{IpAddr::v4_bytes(std::array<std::uint8_t, 4>{192, 0, 2, 1}.data()),
            static_cast<std::uint16_t>(1000 + i)},
           CandidateKind::local});
  }
  EXPECT_EQ(c.n, kMaxCandidates);
  EXPECT_FALSE(c.add(c.items[0]));  // full, and a duplicate anyway
  std::vector<std::uint8_t> b(4 + 4 + 9 * kCandidateSize, 0);
  b[0] = kMagic;
  b[1] = 1;
  store_be16(b.data() + 2, static_cast<std::uint16_t>(b.size()));
  b[4] = 9;
  EXPECT_EQ(decode_error(b), DecodeError::bad_count);
}

TEST(Coord, EveryPrefixAndRandomBytesDecodeWithoutHarm) {
  const auto full = bytes_of(sample(Type::introduce));
  for (std::size_t n = 0; n < full.size(); ++n) {
    std::vector<std::uint8_t> b(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    if (n >= 4) store_be16(b.data() + 2, static_cast<std::uint16_t>(n));
    Message m;
    DecodeError why = DecodeError::none;
    EXPECT_FALSE(decode(b.data(), b.size(), m, why)) << n;
    EXPECT_NE(why, DecodeError::none);
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> b(4 + rng() % 220);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    b[0] = kMagic;
    b[1] = static_cast<std::uint8_t>(1 + rng() % 5);
    store_be16(b.data() + 2, static_cast<std::uint16_t>(b.size()));
    Message m;
    DecodeError why = DecodeError::none;
    if (!decode(b.data(), b.size(), m, why)) {
      EXPECT_NE(why, DecodeError::none);
    }
  }
}

}  // namespace
}  // namespace meshgate::nat::coord
