// STUN rejections: each malformed input fails with its own reason, and no input makes the
// parser, the getters or the verifier read outside the buffer (every case runs on a heap copy
// of exactly the input's size, so a sanitizer build flags any overrun).
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "meshgate/nat/stun.hpp"
#include "rfc5769.hpp"
#include "test_hex.hpp"

namespace meshgate::nat::stun {
namespace {

using test::text;
using test::unhex;
using Buf = std::vector<std::uint8_t>;

ParseError parse_copy(const Buf& b, std::size_t len, Message& m) {
  Buf exact(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(len));
  return parse(exact.data(), exact.size(), m);
}

ParseError parse_buf(const Buf& b) {
  Message m;
  return parse_copy(b, b.size(), m);
}

// resize + memcpy rather than vector::insert, which trips GCC 12's -Warray-bounds here.
void append(Buf& b, const Buf& tail) {
  const std::size_t at = b.size();
  b.resize(at + tail.size());
  if (!tail.empty()) std::memcpy(b.data() + at, tail.data(), tail.size());
}

// A header with no attributes plus `body`, the length field set to body's size.
Buf with_body(const Buf& body) {
  Buf b(20, 0);
  store_be16(b.data(), 0x0001);
  store_be16(b.data() + 2, static_cast<std::uint16_t>(body.size()));
  store_be32(b.data() + 4, kMagicCookie);
  append(b, body);
  return b;
}

TEST(StunMalformed, TruncatedHeader) {
  const Buf b = unhex(test::kSampleRequest);
  Message m;
  for (std::size_t len = 0; len < kHeaderSize; ++len) {
    EXPECT_EQ(parse_copy(b, len, m), ParseError::too_short) << len;
  }
}

TEST(StunMalformed, EveryTruncationIsRejected) {
  const Buf b = unhex(test::kSampleRequest);
  Message m;
  for (std::size_t len = kHeaderSize; len < b.size(); ++len) {
    EXPECT_EQ(parse_copy(b, len, m), ParseError::bad_length) << len;
  }
}

TEST(StunMalformed, HeaderFields) {
  Buf b = unhex(test::kSampleRequest);
  Buf top = b;
  top[0] |= 0x40;
  EXPECT_EQ(parse_buf(top), ParseError::not_stun);
  Buf cookie = b;
  cookie[4] = 0x21 ^ 0xFF;
  EXPECT_EQ(parse_buf(cookie), ParseError::bad_cookie);
  Buf odd = b;
  odd.push_back(0);
  store_be16(odd.data() + 2, static_cast<std::uint16_t>(odd.size() - 20));  // 0x59
  EXPECT_EQ(parse_buf(odd), ParseError::bad_length);
  Buf longer = b;
  append(longer, Buf(4, 0));  // datagram longer than the length field says
  EXPECT_EQ(parse_buf(longer), ParseError::bad_length);
}

TEST(StunMalformed, AttributeLengthPastTheEnd) {
  // SOFTWARE claims 9 bytes (12 with padding) where 8 remain.
  EXPECT_EQ(parse_buf(with_body(unhex("80220009 6162636465666768"))),
            ParseError::truncated_attribute);
  // A value that fits only without its padding is cut too.
  EXPECT_EQ(parse_buf(with_body(unhex("80220005 61626364 00000000 80220001"))),
            ParseError::truncated_attribute);
  // An attribute header claiming 0xFFFF bytes.
  EXPECT_EQ(parse_buf(with_body(unhex("8022ffff"))), ParseError::truncated_attribute);
}

TEST(StunMalformed, KnownAttributeWithWrongLength) {
  EXPECT_EQ(parse_buf(with_body(unhex("000d0003 00000000"))), ParseError::bad_attribute_length);
  EXPECT_EQ(parse_buf(with_body(unhex("00080010 00000000 00000000 00000000 00000000"))),
            ParseError::bad_attribute_length);  // 16-byte MESSAGE-INTEGRITY
  EXPECT_EQ(parse_buf(with_body(unhex("00200004 00010000"))), ParseError::bad_attribute_length);
}

TEST(StunMalformed, UnknownComprehensionRequired) {
  Message m;
  const Buf b = with_body(unhex("7fff0004 01020304 00300000 80aa0000"));
  EXPECT_EQ(parse_copy(b, b.size(), m), ParseError::unknown_required);
  ASSERT_EQ(m.unknown_count, 2);  // listed for the 420 answer; 0x80aa is optional
  EXPECT_EQ(m.unknown[0], 0x7fff);
  EXPECT_EQ(m.unknown[1], 0x0030);
  // An unknown comprehension-optional attribute alone is fine.
  EXPECT_EQ(parse_buf(with_body(unhex("80aa0002 01020000"))), ParseError::none);
}

TEST(StunMalformed, AttributeAfterFingerprint) {
  Buf b = unhex(test::kIpv4Response);
  const Buf extra = unhex("80220000");
  append(b, extra);
  store_be16(b.data() + 2, static_cast<std::uint16_t>(b.size() - 20));
  EXPECT_EQ(parse_buf(b), ParseError::after_fingerprint);
}

TEST(StunMalformed, TooManyAttributes) {
  Buf body;
  for (std::size_t i = 0; i < kMaxAttributes; ++i) {
    const Buf a = unhex("80220000");
    append(body, a);
  }
  EXPECT_EQ(parse_buf(with_body(body)), ParseError::none);
  const Buf a = unhex("80220000");
  append(body, a);
  EXPECT_EQ(parse_buf(with_body(body)), ParseError::too_many_attributes);
}

// Attributes after MESSAGE-INTEGRITY (other than FINGERPRINT) are ignored, not trusted.
TEST(StunMalformed, AttributesAfterIntegrityAreIgnored) {
  Buf b = unhex(test::kLongTermRequest);
  const Buf extra = unhex("000d0004 00000258 7fff0000");  // LIFETIME 600, unknown required
  append(b, extra);
  store_be16(b.data() + 2, static_cast<std::uint16_t>(b.size() - 20));
  Message m;
  ASSERT_EQ(parse_copy(b, b.size(), m), ParseError::none);
  EXPECT_EQ(m.find(attr::kLifetime), nullptr);
  const auto key =
      long_term_key(test::kLongTermUser, test::kLongTermRealm, test::kLongTermPassword);
  Buf exact = b;  // the verifier reads the message through m.data
  ASSERT_EQ(parse(exact.data(), exact.size(), m), ParseError::none);
  EXPECT_EQ(verify_message(m, as_bytes(key)), AuthVerdict::none);
}

TEST(StunMalformed, WrongFingerprint) {
  Buf b = unhex(test::kIpv4Response);
  b.back() ^= 0x01;
  Message m;
  ASSERT_EQ(parse(b.data(), b.size(), m), ParseError::none);
  EXPECT_EQ(check_fingerprint(m), AuthVerdict::bad_fingerprint);
  EXPECT_EQ(verify_message(m, text(test::kShortTermPassword)), AuthVerdict::bad_fingerprint);
  // The integrity itself is still good: only the fingerprint was touched.
  EXPECT_EQ(check_integrity(m, text(test::kShortTermPassword)), AuthVerdict::none);
}

TEST(StunMalformed, WrongIntegrity) {
  Buf b = unhex(test::kLongTermRequest);  // no FINGERPRINT to trip first
  b[b.size() - 1] ^= 0x80;
  Message m;
  ASSERT_EQ(parse(b.data(), b.size(), m), ParseError::none);
  const auto key =
      long_term_key(test::kLongTermUser, test::kLongTermRealm, test::kLongTermPassword);
  EXPECT_EQ(verify_message(m, as_bytes(key)), AuthVerdict::bad_integrity);
  // A changed covered byte (a nonce character) breaks it too.
  Buf nonce = unhex(test::kLongTermRequest);
  nonce[48] ^= 0x01;
  ASSERT_EQ(parse(nonce.data(), nonce.size(), m), ParseError::none);
  EXPECT_EQ(verify_message(m, as_bytes(key)), AuthVerdict::bad_integrity);
}

TEST(StunMalformed, MissingIntegrity) {
  Message m;
  const Buf b = with_body(unhex("80220000"));
  ASSERT_EQ(parse(b.data(), b.size(), m), ParseError::none);
  EXPECT_EQ(verify_message(m, text("k")), AuthVerdict::missing_integrity);
}

TEST(StunMalformed, BadAttributeValues) {
  Message m;
  const Buf fam = with_body(unhex("00200008 0003a147 e112a643"));  // family 3
  ASSERT_EQ(parse(fam.data(), fam.size(), m), ParseError::none);
  EXPECT_FALSE(get_xor_address(m, attr::kXorMappedAddress));
  const Buf v4long = with_body(unhex("00010014 00010001 0a000001 00000000 00000000 00000000"));
  ASSERT_EQ(parse(v4long.data(), v4long.size(), m), ParseError::none);
  EXPECT_FALSE(get_address(m, attr::kMappedAddress));      // IPv4 with an IPv6-sized value
  const Buf code = with_body(unhex("00090004 00000200"));  // class 2: not an error
  ASSERT_EQ(parse(code.data(), code.size(), m), ParseError::none);
  EXPECT_FALSE(get_error_code(m));
  const Buf chan = with_body(unhex("000c0004 50000000"));
  ASSERT_EQ(parse(chan.data(), chan.size(), m), ParseError::none);
  EXPECT_FALSE(get_channel_number(m));
  EXPECT_FALSE(get_u32(m, attr::kLifetime));  // absent
}

TEST(StunMalformed, BuilderRefusals) {
  Buf small(30);
  EXPECT_FALSE(Builder(small, Method::binding, Class::request, {})
                   .add_string(attr::kSoftware, "0123456789")
                   .finish());
  Buf buf(256);
  EXPECT_FALSE(Builder(buf, Method::binding, Class::error, {}).add_error_code(200, "").finish());
  EXPECT_FALSE(
      Builder(buf, Method::channel_bind, Class::request, {}).add_channel_number(0x5000).finish());
  EXPECT_FALSE(
      Builder(buf, Method::binding, Class::request, {}).add_fingerprint().add_lifetime(1).finish());
  EXPECT_FALSE(Builder(buf, Method::binding, Class::request, {})
                   .add_integrity(text("k"))
                   .add_lifetime(1)
                   .finish());
  EXPECT_FALSE(Builder(buf, Method::binding, Class::request, {})
                   .add_address(attr::kMappedAddress, Endpoint{})
                   .finish());
  Buf tiny(10);
  EXPECT_FALSE(Builder(tiny, Method::binding, Class::request, {}).finish());
}

// Every single-bit flip and truncation of each vector goes through parse, the getters and the
// verifiers without crashing; each flip of a covered byte is caught by one of the checks.
TEST(StunMalformed, BitFlipsAndTruncationsStayInBounds) {
  const std::uint16_t types[] = {attr::kXorMappedAddress, attr::kMappedAddress,
                                 attr::kUsername,         attr::kErrorCode,
                                 attr::kLifetime,         attr::kChannelNumber};
  for (auto v : {test::kSampleRequest, test::kIpv4Response, test::kIpv6Response}) {
    const Buf orig = unhex(v);
    for (std::size_t bit = 0; bit < orig.size() * 8; ++bit) {
      Buf b = orig;
      b[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
      Message m;
      if (parse(b.data(), b.size(), m) != ParseError::none) continue;
      for (auto t : types) {
        (void)get_xor_address(m, t);
        (void)get_address(m, t);
        (void)get_string(m, t);
      }
      (void)get_error_code(m);
      (void)get_channel_number(m);
      // Integrity and fingerprint cover padding bytes too, so every accepted flip fails one,
      // but for FINGERPRINT's type: renamed, it becomes an attribute after MESSAGE-INTEGRITY,
      // which RFC 8489 14.5 ignores, and the message is still authentic.
      const bool fingerprint_type = bit / 8 >= orig.size() - 8 && bit / 8 < orig.size() - 6;
      const AuthVerdict want_fail = verify_message(m, text(test::kShortTermPassword));
      if (fingerprint_type) {
        EXPECT_EQ(m.fingerprint, -1) << bit;
      } else {
        EXPECT_NE(want_fail, AuthVerdict::none) << bit;
      }
    }
  }
}

}  // namespace
}  // namespace meshgate::nat::stun
