// X25519 (RFC 7748) and WireGuard's rule that an all-zero shared secret is an error.
#include "meshgate/crypto/x25519.hpp"

#include <gtest/gtest.h>

#include "test_hex.hpp"

namespace meshgate::crypto {
namespace {

using test::hex;
using test::unhex_n;

SecretKey scalar(std::string_view h) {
  return SecretKey::from(unhex_n<32>(h));
}

// RFC 7748 section 5.2: two single scalar multiplications. The second u has its top bit set,
// which X25519 must ignore.
TEST(X25519, Rfc7748Section52Vectors) {
  struct Case {
    const char* k;
    const char* u;
    const char* out;
  };
  const Case cases[] = {
      {"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
       "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
       "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
      {"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
       "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
       "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
  };
  for (const Case& c : cases) {
    SecretKey out;
    ASSERT_TRUE(x25519(out, scalar(c.k), unhex_n<32>(c.u)));
    EXPECT_EQ(hex(out.span()), c.out);
  }
}

// RFC 7748 section 5.2, iterated: k = u = 9; each round k, u = X25519(k, u), k.
TEST(X25519, Rfc7748Section52Iterated1And1000) {
  Key32 k{};
  k[0] = 9;
  Key32 u = k;
  for (int i = 1; i <= 1000; ++i) {
    SecretKey r;
    ASSERT_TRUE(x25519(r, SecretKey::from(k), u));
    u = k;
    std::copy(r.data(), r.data() + 32, k.begin());
    if (i == 1) {
      EXPECT_EQ(hex(as_bytes(k)),
                "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
    }
  }
  EXPECT_EQ(hex(as_bytes(k)), "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
}

TEST(X25519, Rfc7748Section61AliceAndBob) {
  const SecretKey alice =
      scalar("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const SecretKey bob = scalar("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  const Key32 alice_pub = x25519_public(alice);
  const Key32 bob_pub = x25519_public(bob);
  EXPECT_EQ(hex(as_bytes(alice_pub)),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(hex(as_bytes(bob_pub)),
            "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  SecretKey ab;
  SecretKey ba;
  ASSERT_TRUE(x25519(ab, alice, bob_pub));
  ASSERT_TRUE(x25519(ba, bob, alice_pub));
  EXPECT_EQ(hex(ab.span()), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  EXPECT_TRUE(ab.ct_equals(ba));
}

// Points of small order (and non-canonical encodings of them) give the all-zero result for
// every clamped scalar; WireGuard aborts the handshake then (protocol.md 0).
TEST(X25519, SmallOrderPointsAreRejected) {
  const char* points[] = {
      "0000000000000000000000000000000000000000000000000000000000000000",  // 0
      "0100000000000000000000000000000000000000000000000000000000000000",  // 1 (order 4)
      "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",  // order 8
      "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",  // order 8
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p - 1 (order 2)
      "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p = 0
      "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p + 1 = 1
  };
  const SecretKey alice =
      scalar("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  for (const char* p : points) {
    SecretKey out;
    out.data()[0] = 0xaa;  // must come back wiped
    EXPECT_FALSE(x25519(out, alice, unhex_n<32>(p))) << p;
    EXPECT_TRUE(out.is_zero()) << p;
  }
}

TEST(X25519, ClampAndGenerate) {
  SecretKey k;
  for (std::size_t i = 0; i < 32; ++i) k.data()[i] = 0xff;
  x25519_clamp(k);
  EXPECT_EQ(hex(k.span()), "f8ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");

  const SecretKey g = x25519_generate();
  EXPECT_EQ(g.data()[0] & 7, 0);
  EXPECT_EQ(g.data()[31] & 0xc0, 0x40);
  // Two generated keys agree on a shared secret.
  const SecretKey h = x25519_generate();
  SecretKey gh;
  SecretKey hg;
  ASSERT_TRUE(x25519(gh, g, x25519_public(h)));
  ASSERT_TRUE(x25519(hg, h, x25519_public(g)));
  EXPECT_TRUE(gh.ct_equals(hg));
}

}  // namespace
}  // namespace meshgate::crypto
