// The Noise core against known answers: the cacophony Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s
// vector byte for byte, and WireGuard's C0 / H0 (protocol.md 1.1, 12, 13).
#include "meshgate/noise/ikpsk2.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "meshgate/base/bytes.hpp"
#include "meshgate/crypto/aead.hpp"
#include "meshgate/crypto/x25519.hpp"
#include "meshgate/noise/handshake.hpp"
#include "noise_vectors.hpp"

namespace meshgate::noise {
namespace {

using V = testvec::CacophonyIkpsk2;

std::vector<std::uint8_t> hex(const char* s) {
  std::string_view sv(s);
  std::vector<std::uint8_t> out(sv.size() / 2);
  EXPECT_TRUE(from_hex(sv, out)) << s;
  return out;
}

SecretKey secret_hex(const char* s) {
  SecretKey k;
  EXPECT_TRUE(from_hex(s, k.span()));
  return k;
}

std::string hex_of(ByteSpan b) {
  return to_hex(b);
}

TEST(NoiseVector, CacophonyIkpsk2ChaChaPolyBlake2s) {
  const SecretKey i_s = secret_hex(V::kInitStatic);
  const SecretKey i_e = secret_hex(V::kInitEphemeral);
  const SecretKey r_s = secret_hex(V::kRespStatic);
  const SecretKey r_e = secret_hex(V::kRespEphemeral);
  const SecretKey psk = secret_hex(V::kPsk);
  const auto prologue = hex(V::kPrologue);
  const Key32 i_pub = crypto::x25519_public(i_s);
  const Key32 r_pub = crypto::x25519_public(r_s);
  ASSERT_EQ(hex_of(r_pub), V::kInitRemoteStatic);

  // Both sides precompute ss = DH(S_i, S_r) the way WireGuard does.
  SecretKey ss_i;
  SecretKey ss_r;
  ASSERT_TRUE(crypto::x25519(ss_i, i_s, r_pub));
  ASSERT_TRUE(crypto::x25519(ss_r, r_s, i_pub));

  Ikpsk2 ini;
  Ikpsk2 res;
  ikpsk2_init(ini, prologue, r_pub);
  ikpsk2_init(res, prologue, r_pub);

  // -> e, es, s, ss, {payload}
  const auto p1 = hex(V::kMessages[0].payload);
  std::vector<std::uint8_t> m1(ikpsk2_msg1_len(p1.size()));
  ASSERT_EQ(ikpsk2_write_msg1(ini, m1.data(), i_e, i_pub, ss_i, p1), StepResult::ok);
  EXPECT_EQ(hex_of(m1), V::kMessages[0].ciphertext);

  ASSERT_EQ(ikpsk2_read_msg1_static(res, m1.data(), r_s), StepResult::ok);
  EXPECT_EQ(res.rs, i_pub);
  std::vector<std::uint8_t> got1(p1.size());
  ASSERT_EQ(ikpsk2_read_msg1_payload(res, m1.data(), ss_r, got1.data(), got1.size()),
            StepResult::ok);
  EXPECT_EQ(got1, p1);

  // <- e, ee, se, psk, {payload}
  const auto p2 = hex(V::kMessages[1].payload);
  std::vector<std::uint8_t> m2(ikpsk2_msg2_len(p2.size()));
  ASSERT_EQ(ikpsk2_write_msg2(res, m2.data(), r_e, psk, p2), StepResult::ok);
  EXPECT_EQ(hex_of(m2), V::kMessages[1].ciphertext);
  std::vector<std::uint8_t> got2(p2.size());
  ASSERT_EQ(ikpsk2_read_msg2(ini, m2.data(), i_s, psk, got2.data(), got2.size()), StepResult::ok);
  EXPECT_EQ(got2, p2);

  // Split and the handshake hash.
  SecretKey i_i2r, i_r2i, i_h, r_i2r, r_r2i, r_h;
  ikpsk2_split(ini, i_i2r, i_r2i, &i_h);
  ikpsk2_split(res, r_i2r, r_r2i, &r_h);
  EXPECT_EQ(hex_of(i_h.span()), V::kHandshakeHash);
  EXPECT_EQ(hex_of(r_h.span()), V::kHandshakeHash);
  EXPECT_TRUE(i_i2r.ct_equals(r_i2r));
  EXPECT_TRUE(i_r2i.ct_equals(r_r2i));
  EXPECT_TRUE(ini.sym.chaining_key().is_zero());  // wiped after split
  EXPECT_TRUE(ini.e.is_zero());

  // Transport: initiator -> responder with T1, back with T2, counters 0, 0, 1, 1, ad empty.
  for (int i = 2; i < 6; ++i) {
    const bool from_initiator = i % 2 == 0;
    const std::uint64_t counter = static_cast<std::uint64_t>((i - 2) / 2);
    const SecretKey& send = from_initiator ? i_i2r : r_r2i;
    const SecretKey& recv = from_initiator ? r_i2r : i_r2i;
    const auto p = hex(V::kMessages[i].payload);
    std::vector<std::uint8_t> c(p.size() + crypto::kAeadTagLen);
    crypto::aead_seal(c.data(), send, counter, p.data(), p.size(), {});
    EXPECT_EQ(hex_of(c), V::kMessages[i].ciphertext) << "message " << i;
    std::vector<std::uint8_t> back(p.size());
    ASSERT_TRUE(crypto::aead_open(back.data(), recv, counter, c.data(), p.size(), {}));
    EXPECT_EQ(back, p);
  }
}

TEST(NoiseVector, CacophonyRejectsWrongPskAtMessage2) {
  const SecretKey i_s = secret_hex(V::kInitStatic);
  const SecretKey r_s = secret_hex(V::kRespStatic);
  const SecretKey psk = secret_hex(V::kPsk);
  SecretKey wrong_psk = psk;
  wrong_psk.data()[0] ^= 1;
  const auto prologue = hex(V::kPrologue);
  const Key32 i_pub = crypto::x25519_public(i_s);
  const Key32 r_pub = crypto::x25519_public(r_s);
  SecretKey ss;
  ASSERT_TRUE(crypto::x25519(ss, i_s, r_pub));

  Ikpsk2 ini, res;
  ikpsk2_init(ini, prologue, r_pub);
  ikpsk2_init(res, prologue, r_pub);
  std::vector<std::uint8_t> m1(ikpsk2_msg1_len(0)), m2(ikpsk2_msg2_len(0));
  ASSERT_EQ(ikpsk2_write_msg1(ini, m1.data(), secret_hex(V::kInitEphemeral), i_pub, ss, {}),
            StepResult::ok);
  ASSERT_EQ(ikpsk2_read_msg1_static(res, m1.data(), r_s), StepResult::ok);
  ASSERT_EQ(ikpsk2_read_msg1_payload(res, m1.data(), ss, nullptr, 0), StepResult::ok);
  ASSERT_EQ(ikpsk2_write_msg2(res, m2.data(), secret_hex(V::kRespEphemeral), wrong_psk, {}),
            StepResult::ok);
  EXPECT_EQ(ikpsk2_read_msg2(ini, m2.data(), i_s, psk, nullptr, 0), StepResult::decrypt_failed);
}

TEST(NoiseVector, WireGuardInitialChainingKeyAndHash) {
  // protocol.md 1.1: C0 = HASH(CONSTRUCTION), H0 = HASH(C0 || IDENTIFIER).
  const SymmetricState& s = wireguard_initial_state();
  EXPECT_EQ(hex_of(s.chaining_key().span()),
            "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
  EXPECT_EQ(hex_of(s.handshake_hash().span()),
            "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3");
}

}  // namespace
}  // namespace meshgate::noise
