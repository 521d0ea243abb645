// BLAKE2s (RFC 7693), the 16-byte keyed MAC, HMAC-BLAKE2s and the KDF chain (protocol.md 0):
// known answers from RFC 7693, the BLAKE2 KAT and wireguard-go's kdf_test.go.
#include "meshgate/crypto/blake2s.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "test_hex.hpp"

namespace meshgate::crypto {
namespace {

using test::hex;
using test::text;
using test::unhex;

std::vector<std::uint8_t> counting(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i);
  return v;
}

TEST(Blake2s, Rfc7693AppendixBAbc) {
  EXPECT_EQ(hex(as_bytes(blake2s({text("abc")}))),
            "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
  // The parts are one message: splitting it anywhere changes nothing.
  EXPECT_EQ(blake2s({text("a"), text(""), text("bc")}), blake2s({text("abc")}));
}

// RFC 7693 Appendix E: a deterministic Fibonacci byte sequence...
void selftest_seq(std::uint8_t* out, std::size_t len, std::uint32_t seed) {
  std::uint32_t a = 0xDEAD4BADu * seed;
  std::uint32_t b = 1;
  for (std::size_t i = 0; i < len; ++i) {
    const std::uint32_t t = a + b;
    a = b;
    b = t;
    out[i] = static_cast<std::uint8_t>(t >> 24);
  }
}

// ...hashed unkeyed and keyed (key length = output length) for output lengths 16/20/28/32 and
// input lengths 0..1024; the 32-byte hash of all the results is the grand hash. The keyed
// 16-byte case is WireGuard's MAC, so a MAC computed as a truncated 32-byte digest fails here.
TEST(Blake2s, Rfc7693AppendixESelfTestGrandHash) {
  constexpr std::size_t kOutLens[] = {16, 20, 28, 32};
  constexpr std::size_t kInLens[] = {0, 3, 64, 65, 255, 1024};
  std::vector<std::uint8_t> results;
  std::uint8_t in[1024];
  std::uint8_t key[32];
  std::uint8_t md[32];
  for (std::size_t outlen : kOutLens) {
    for (std::size_t inlen : kInLens) {
      selftest_seq(in, inlen, static_cast<std::uint32_t>(inlen));
      blake2s_keyed(MutByteSpan(md, outlen), {}, {ByteSpan(in, inlen)});
      results.insert(results.end(), md, md + outlen);

      selftest_seq(key, outlen, static_cast<std::uint32_t>(outlen));
      blake2s_keyed(MutByteSpan(md, outlen), ByteSpan(key, outlen), {ByteSpan(in, inlen)});
      results.insert(results.end(), md, md + outlen);
    }
  }
  EXPECT_EQ(hex(as_bytes(blake2s({results}))),
            "6a411f08ce25adcdfb02aba641451cec53c598b24f4fc787fbdc88797f4c1dfe");
}

// BLAKE2 reference KAT (BLAKE2/BLAKE2 testvectors/blake2s-test.txt): key 00..1f, input 00..n-1.
TEST(Blake2s, KeyedKat) {
  const auto key = counting(32);
  struct Case {
    std::size_t inlen;
    const char* hash;
  };
  const Case cases[] = {
      {0, "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49"},
      {1, "40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1"},
      {64, "8975b0577fd35566d750b362b0897a26c399136df07bababbde6203ff2954ed4"},
      {65, "21fe0ceb0052be7fb0f004187cacd7de67fa6eb0938d927677f2398c132317a8"},
  };
  for (const Case& c : cases) {
    const auto in = counting(c.inlen);
    std::uint8_t out[32];
    blake2s_keyed(out, key, {in});
    EXPECT_EQ(hex(out, 32), c.hash) << "input length " << c.inlen;
  }
}

TEST(Blake2s, Mac16IsKeyedWithOutlen16NotATruncatedDigest) {
  const auto key = counting(32);
  const auto in = counting(65);
  std::uint8_t mac[kMacLen];
  mac16(std::span<std::uint8_t, kMacLen>(mac), key,
        {ByteSpan(in).first(10), ByteSpan(in).subspan(10)});
  std::uint8_t generic[kMacLen];
  blake2s_keyed(generic, key, {in});
  EXPECT_EQ(hex(mac, kMacLen), hex(generic, kMacLen));
  // The 32-byte keyed digest of the same input (KAT above) starts 21fe0ceb...: a different value.
  EXPECT_NE(hex(mac, kMacLen), "21fe0ceb0052be7fb0f004187cacd7de");
}

// wireguard-go device/kdf_test.go: (key, input) -> T1, T2, T3 for KDF1, KDF2 and KDF3.
struct KdfCase {
  const char* key;
  const char* input;
  const char* t[3];
};
constexpr KdfCase kKdfCases[] = {
    {"746573742d6b6579",      // "test-key"
     "746573742d696e707574",  // "test-input"
     {"6f0e5ad38daba1bea8a0d213688736f19763239305e0f58aba697f9ffc41c633",
      "df1194df20802a4fe594cde27e92991c8cae66c366e8106aaa937a55fa371e8a",
      "fac6e2745a325f5dc5d11a5b165aad08b0ada28e7b4e666b7c077934a4d76c24"}},
    {"776972656775617264",  // "wireguard"
     "776972656775617264",
     {"491d43bbfdaa8750aaf535e334ecbfe5129967cd64635101c566d4caefda96e8",
      "1e71a379baefd8a79aa4662212fcafe19a23e2b609a3db7d6bcba8f560e3d25f",
      "31e1ae48bddfbe5de38f295e5452b1909a1b4e38e183926af3780b0c1e1f0160"}},
    {"",
     "",
     {"8387b46bf43eccfcf349552a095d8315c4055beb90208fb1be23b894bc2ed5d0",
      "58a0e5f6faefccf4807bff1f05fa8a9217945762040bcec2f4b4a62bdfe0e86e",
      "0ce6ea98ec548f8e281e93e32db65621c45eb18dc6f0a7ad94178610a2f7338e"}},
};

TEST(Kdf, WireGuardGoVectorsKdf1Kdf2Kdf3) {
  for (const KdfCase& c : kKdfCases) {
    SCOPED_TRACE(c.key);
    const auto key = unhex(c.key);
    const auto input = unhex(c.input);
    SecretKey t1, t2, t3;
    kdf(&t1, &t2, &t3, key, input);
    EXPECT_EQ(hex(t1.span()), c.t[0]);
    EXPECT_EQ(hex(t2.span()), c.t[1]);
    EXPECT_EQ(hex(t3.span()), c.t[2]);

    SecretKey u1, u2;
    kdf(&u1, &u2, nullptr, key, input);
    EXPECT_EQ(hex(u1.span()), c.t[0]);
    EXPECT_EQ(hex(u2.span()), c.t[1]);

    SecretKey v1;
    kdf(&v1, nullptr, nullptr, key, input);
    EXPECT_EQ(hex(v1.span()), c.t[0]);
  }
}

// T1 is HMAC(HMAC(key, input), 0x01): the first step of the chain checks hmac() on its own.
TEST(Kdf, FirstOutputIsNestedHmac) {
  const auto key = unhex(kKdfCases[0].key);
  const auto input = unhex(kKdfCases[0].input);
  std::uint8_t prk[kHashLen];
  std::uint8_t t1[kHashLen];
  const std::uint8_t one = 1;
  hmac(std::span<std::uint8_t, kHashLen>(prk), key, {input});
  hmac(std::span<std::uint8_t, kHashLen>(t1), ByteSpan(prk), {ByteSpan(&one, 1)});
  EXPECT_EQ(hex(t1, kHashLen), kKdfCases[0].t[0]);
}

// The chaining-key overload is the same function, and its outputs may alias the key, as the
// handshake writes C = KDF1(C, ...).
TEST(Kdf, ChainingKeyOverloadAgreesAndMayAlias) {
  SecretKey ck;
  for (std::size_t i = 0; i < 32; ++i) ck.data()[i] = static_cast<std::uint8_t>(0x60 + i);
  const auto input = unhex(kKdfCases[0].input);
  SecretKey a1, a2, a3;
  kdf(&a1, &a2, &a3, ByteSpan(ck.span()), input);
  SecretKey b1, b2, b3;
  kdf(&b1, &b2, &b3, ck, input);
  EXPECT_TRUE(a1.ct_equals(b1));
  EXPECT_TRUE(a2.ct_equals(b2));
  EXPECT_TRUE(a3.ct_equals(b3));

  SecretKey c = ck;
  SecretKey k2;
  kdf(&c, &k2, nullptr, c, input);
  EXPECT_TRUE(c.ct_equals(a1));
  EXPECT_TRUE(k2.ct_equals(a2));
}

// RFC 2104: a key longer than the 64-byte block is first hashed, so both give one MAC.
TEST(Hmac, LongKeyIsHashedFirst) {
  const auto long_key = counting(100);
  const Key32 hashed = blake2s({long_key});
  std::uint8_t a[kHashLen];
  std::uint8_t b[kHashLen];
  hmac(std::span<std::uint8_t, kHashLen>(a), long_key, {text("msg")});
  hmac(std::span<std::uint8_t, kHashLen>(b), as_bytes(hashed), {text("msg")});
  EXPECT_EQ(hex(a, kHashLen), hex(b, kHashLen));
}

}  // namespace
}  // namespace meshgate::crypto
