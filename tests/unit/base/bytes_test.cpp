#include "meshgate/base/bytes.hpp"

#include <gtest/gtest.h>

namespace meshgate {
namespace {

TEST(Bytes, HexRoundTripAndRejects) {
  Bytes<4> b{0xde, 0xad, 0x01, 0xff};
  EXPECT_EQ(to_hex(as_bytes(b)), "dead01ff");
  Bytes<4> out{};
  ASSERT_TRUE(from_hex("DEAD01ff", out));
  EXPECT_EQ(out, b);
  EXPECT_FALSE(from_hex("dead01f", out));
  EXPECT_FALSE(from_hex("dead01fg", out));
  EXPECT_FALSE(from_hex("dead01ff00", out));
}

TEST(Bytes, Base64MatchesWgKeys) {
  // RFC 4648 section 10 vectors, plus a 32-byte key round trip.
  const char* in[] = {"f", "fo", "foo", "foob", "fooba", "foobar"};
  const char* want[] = {"Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (int i = 0; i < 6; ++i) {
    std::string_view s(in[i]);
    ByteSpan bytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
    EXPECT_EQ(to_base64(bytes), want[i]);
  }
  Key32 k;
  for (int i = 0; i < 32; ++i) k[i] = static_cast<std::uint8_t>(i * 7 + 3);
  std::string enc = to_base64(as_bytes(k));
  EXPECT_EQ(enc.size(), 44u);
  Key32 back{};
  ASSERT_TRUE(from_base64(enc, back));
  EXPECT_EQ(back, k);
  EXPECT_FALSE(from_base64(enc.substr(0, 43), back));
  std::string bad = enc;
  bad[10] = '*';
  EXPECT_FALSE(from_base64(bad, back));
  // Non-canonical last symbol: stray low bits set.
  std::string noncanon = enc;
  noncanon[42] = noncanon[42] == 'B' ? 'C' : 'B';
  Key32 tmp{};
  if (noncanon != enc) {
    bool okdec = from_base64(noncanon, tmp);
    // Either it decodes to a different key (canonical change) or is rejected; never to `k`.
    EXPECT_TRUE(!okdec || tmp != k);
  }
}

TEST(Bytes, EndianHelpers) {
  std::uint8_t buf[8];
  store_le32(buf, 0x04030201);
  EXPECT_EQ(buf[0], 1);
  EXPECT_EQ(load_le32(buf), 0x04030201u);
  store_be64(buf, 0x0102030405060708ull);
  EXPECT_EQ(buf[0], 1);
  EXPECT_EQ(buf[7], 8);
  EXPECT_EQ(load_be64(buf), 0x0102030405060708ull);
  store_be16(buf, 0xabcd);
  EXPECT_EQ(load_be16(buf), 0xabcd);
}

}  // namespace
}  // namespace meshgate
