// SHA-1 (FIPS 180-4 examples), HMAC-SHA1 (RFC 2202) and MD5 (RFC 1321 A.5) known answers.
#include "meshgate/crypto/legacy_hash.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "test_hex.hpp"

namespace meshgate::crypto {
namespace {

using test::hex;

ByteSpan text(std::string_view s) {
  return ByteSpan(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

TEST(Sha1, FipsExamples) {
  EXPECT_EQ(hex(sha1(text("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(hex(sha1(text(""))), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(hex(sha1(text("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  const std::string million(1000000, 'a');
  EXPECT_EQ(hex(sha1(text(million))), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(HmacSha1, Rfc2202) {
  const Bytes<20> k1 = [] {
    Bytes<20> k;
    k.fill(0x0b);
    return k;
  }();
  EXPECT_EQ(hex(hmac_sha1(as_bytes(k1), text("Hi There"))),
            "b617318655057264e28bc0b6fb378c8ef146be00");
  EXPECT_EQ(hex(hmac_sha1(text("Jefe"), text("what do ya want for nothing?"))),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  // Case 6: an 80-byte key is hashed first.
  const std::string k6(80, '\xaa');
  EXPECT_EQ(
      hex(hmac_sha1(text(k6), text("Test Using Larger Than Block-Size Key - Hash Key First"))),
      "aa4ae5e15272d00e95705637ce8a3b55ed402112");
}

TEST(HmacSha1, EmptyKeyAndMessage) {
  EXPECT_EQ(hex(hmac_sha1(text(""), text(""))), "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d");
}

TEST(Md5, Rfc1321Suite) {
  EXPECT_EQ(hex(md5(text(""))), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(hex(md5(text("a"))), "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(hex(md5(text("abc"))), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(hex(md5(text("message digest"))), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(hex(md5(text("abcdefghijklmnopqrstuvwxyz"))), "c3fcd3d76192e4007dfb496cca67e13b");
  EXPECT_EQ(hex(md5(text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))),
            "d174ab98d277d9f5a5611c2c9f419d9f");
  EXPECT_EQ(hex(md5(text("1234567890123456789012345678901234567890"
                         "1234567890123456789012345678901234567890"))),
            "57edf4a22be3c955ac49da2e2107b67a");
}

// The padding boundaries: 55 bytes fit the length in one block, 56 need a second, 64 is a
// whole block plus a padding-only block. Values from Python's hashlib.
TEST(Md5, PaddingBoundaries) {
  EXPECT_EQ(hex(md5(text(std::string(55, 'a')))), "ef1772b6dff9a122358552954ad0df65");
  EXPECT_EQ(hex(md5(text(std::string(56, 'a')))), "3b0c8ac703f828b04c6c197006d17218");
  EXPECT_EQ(hex(md5(text(std::string(64, 'a')))), "014842d480b571495a4a0363793f7367");
}

}  // namespace
}  // namespace meshgate::crypto
