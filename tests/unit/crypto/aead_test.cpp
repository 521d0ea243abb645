// Single-message AEADs: ChaCha20-Poly1305 (RFC 8439) and XChaCha20-Poly1305
// (draft-irtf-cfrg-xchacha-03), known answers and tamper rejection.
#include "meshgate/crypto/aead.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "aead_vectors.hpp"
#include "test_hex.hpp"

namespace meshgate::crypto {
namespace {

using test::hex;
using test::text;
using test::unhex;

SecretKey secret_from(const std::vector<std::uint8_t>& k) {
  EXPECT_EQ(k.size(), 32u);
  return SecretKey::from(std::span<const std::uint8_t, 32>(k.data(), 32));
}

TEST(ChaCha20Poly1305, Rfc8439Section282RawNonce) {
  using V = test::Rfc8439_2_8_2;
  auto key = unhex(V::key);
  auto nonce = unhex(V::nonce);
  auto aad = unhex(V::aad);
  ByteSpan pt = text(V::plaintext);
  ASSERT_EQ(pt.size(), 114u);

  std::vector<std::uint8_t> sealed(pt.size() + kAeadTagLen);
  chacha20poly1305_seal(sealed.data(), key.data(), nonce.data(), pt.data(), pt.size(), aad);
  EXPECT_EQ(hex(sealed.data(), pt.size()), hex(unhex(V::ciphertext)));
  EXPECT_EQ(hex(sealed.data() + pt.size(), kAeadTagLen), hex(unhex(V::tag)));

  std::vector<std::uint8_t> back(pt.size());
  ASSERT_TRUE(
      chacha20poly1305_open(back.data(), key.data(), nonce.data(), sealed.data(), pt.size(), aad));
  EXPECT_EQ(hex(back), hex(pt));
}

TEST(ChaCha20Poly1305, Rfc8439AppendixA5ThroughWireGuardNonce) {
  using V = test::Rfc8439_A5;
  SecretKey key = secret_from(unhex(V::key));
  auto aad = unhex(V::aad);
  auto ct = unhex(V::ciphertext);
  auto tag = unhex(V::tag);
  ByteSpan pt = text(V::plaintext);
  ASSERT_EQ(ct.size(), 265u);
  ASSERT_EQ(pt.size(), 265u);

  // Our nonce for this counter must be the RFC's nonce byte for byte.
  std::uint8_t nonce[12] = {};
  store_le64(nonce + 4, V::counter);
  EXPECT_EQ(hex(nonce, 12), hex(unhex(V::nonce)));

  std::vector<std::uint8_t> wire(ct);
  wire.insert(wire.end(), tag.begin(), tag.end());
  std::vector<std::uint8_t> out(ct.size());
  ASSERT_TRUE(aead_open(out.data(), key, V::counter, wire.data(), ct.size(), aad));
  EXPECT_EQ(hex(out), hex(pt));

  // Sealing the plaintext gives the RFC's ciphertext and tag back, in place as well.
  std::vector<std::uint8_t> sealed(pt.begin(), pt.end());
  sealed.resize(pt.size() + kAeadTagLen);
  aead_seal(sealed.data(), key, V::counter, sealed.data(), pt.size(), aad);
  EXPECT_EQ(hex(sealed), hex(wire));
}

// Flips one bit at `at` of the ciphertext||tag (or of the AAD) and expects the open to fail.
TEST(ChaCha20Poly1305, TamperedTagCiphertextOrAadFailsToOpen) {
  using V = test::Rfc8439_A5;
  SecretKey key = secret_from(unhex(V::key));
  const auto aad = unhex(V::aad);
  std::vector<std::uint8_t> wire = unhex(V::ciphertext);
  const std::size_t len = wire.size();
  const auto tag = unhex(V::tag);
  wire.insert(wire.end(), tag.begin(), tag.end());
  std::vector<std::uint8_t> out(len);
  ASSERT_TRUE(aead_open(out.data(), key, V::counter, wire.data(), len, aad));

  for (std::size_t at : {std::size_t{0}, len / 2, len - 1, len, len + kAeadTagLen - 1}) {
    auto bad = wire;
    bad[at] ^= 0x01;
    EXPECT_FALSE(aead_open(out.data(), key, V::counter, bad.data(), len, aad)) << "byte " << at;
  }
  auto bad_aad = aad;
  bad_aad[11] ^= 0x80;
  EXPECT_FALSE(aead_open(out.data(), key, V::counter, wire.data(), len, bad_aad));
  EXPECT_FALSE(aead_open(out.data(), key, V::counter, wire.data(), len, {}));
  EXPECT_FALSE(aead_open(out.data(), key, V::counter + 1, wire.data(), len, aad));
}

TEST(ChaCha20Poly1305, EmptyMessageHasOnlyATag) {
  SecretKey key;
  for (std::size_t i = 0; i < 32; ++i) key.data()[i] = static_cast<std::uint8_t>(i);
  std::uint8_t tag[kAeadTagLen];
  aead_seal(tag, key, 7, nullptr, 0, {});
  std::uint8_t dummy = 0;
  EXPECT_TRUE(aead_open(&dummy, key, 7, tag, 0, {}));
  tag[3] ^= 0x10;
  EXPECT_FALSE(aead_open(&dummy, key, 7, tag, 0, {}));
}

// draft-irtf-cfrg-xchacha-03 Appendix A.3.1: same plaintext, AAD and key as RFC 8439 2.8.2,
// 24-byte nonce 40..57.
struct XChaChaA31 {
  static constexpr std::string_view key =
      "80 81 82 83 84 85 86 87 88 89 8a 8b 8c 8d 8e 8f"
      "90 91 92 93 94 95 96 97 98 99 9a 9b 9c 9d 9e 9f";
  static constexpr std::string_view nonce =
      "40 41 42 43 44 45 46 47 48 49 4a 4b 4c 4d 4e 4f 50 51 52 53 54 55 56 57";
  static constexpr std::string_view ciphertext =
      "bd 6d 17 9d 3e 83 d4 3b 95 76 57 94 93 c0 e9 39"
      "57 2a 17 00 25 2b fa cc be d2 90 2c 21 39 6c bb"
      "73 1c 7f 1b 0b 4a a6 44 0b f3 a8 2f 4e da 7e 39"
      "ae 64 c6 70 8c 54 c2 16 cb 96 b7 2e 12 13 b4 52"
      "2f 8c 9b a4 0d b5 d9 45 b1 1b 69 b9 82 c1 bb 9e"
      "3f 3f ac 2b c3 69 48 8f 76 b2 38 35 65 d3 ff f9"
      "21 f9 66 4c 97 63 7d a9 76 88 12 f6 15 c6 8b 13"
      "b5 2e";
  static constexpr std::string_view tag = "c0 87 59 24 c1 c7 98 79 47 de af d8 78 0a cf 49";
};

TEST(XChaCha20Poly1305, DraftAppendixA31) {
  auto key = unhex(XChaChaA31::key);
  auto nonce = unhex(XChaChaA31::nonce);
  auto aad = unhex(test::Rfc8439_2_8_2::aad);
  ByteSpan pt = text(test::Rfc8439_2_8_2::plaintext);
  std::vector<std::uint8_t> want = unhex(XChaChaA31::ciphertext);
  const auto tag = unhex(XChaChaA31::tag);
  want.insert(want.end(), tag.begin(), tag.end());

  std::vector<std::uint8_t> sealed(pt.size() + kAeadTagLen);
  xaead_seal(sealed.data(), key.data(), nonce.data(), pt.data(), pt.size(), aad);
  EXPECT_EQ(hex(sealed), hex(want));

  std::vector<std::uint8_t> back(pt.size());
  ASSERT_TRUE(xaead_open(back.data(), key.data(), nonce.data(), want.data(), pt.size(), aad));
  EXPECT_EQ(hex(back), hex(pt));
}

TEST(XChaCha20Poly1305, TamperedTagCiphertextAadOrNonceFailsToOpen) {
  auto key = unhex(XChaChaA31::key);
  auto nonce = unhex(XChaChaA31::nonce);
  auto aad = unhex(test::Rfc8439_2_8_2::aad);
  std::vector<std::uint8_t> wire = unhex(XChaChaA31::ciphertext);
  const std::size_t len = wire.size();
  const auto tag = unhex(XChaChaA31::tag);
  wire.insert(wire.end(), tag.begin(), tag.end());
  std::vector<std::uint8_t> out(len);
  ASSERT_TRUE(xaead_open(out.data(), key.data(), nonce.data(), wire.data(), len, aad));

  for (std::size_t at : {std::size_t{0}, len - 1, len, len + kAeadTagLen - 1}) {
    auto bad = wire;
    bad[at] ^= 0x04;
    EXPECT_FALSE(xaead_open(out.data(), key.data(), nonce.data(), bad.data(), len, aad))
        << "byte " << at;
  }
  auto bad_aad = aad;
  bad_aad[0] ^= 0x01;
  EXPECT_FALSE(xaead_open(out.data(), key.data(), nonce.data(), wire.data(), len, bad_aad));
  // The first 16 nonce bytes feed HChaCha20, the last 8 the inner nonce: both must matter.
  for (std::size_t at : {std::size_t{0}, std::size_t{23}}) {
    auto bad_nonce = nonce;
    bad_nonce[at] ^= 0x01;
    EXPECT_FALSE(xaead_open(out.data(), key.data(), bad_nonce.data(), wire.data(), len, aad));
  }
}

}  // namespace
}  // namespace meshgate::crypto
