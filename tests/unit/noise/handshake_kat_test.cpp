// WireGuard framing known answers: fixed keys, ephemerals, PSK, indices and clock give fixed
// bytes for the initiation and response (header, indices, Noise fields, mac1, zero mac2) and
// fixed transport keys. The expected values come from an independent model of protocol.md 0-3
// (Python hashlib BLAKE2s, HMAC, ChaCha20-Poly1305 and X25519 from the `cryptography` package), not
// from this code.
#include <gtest/gtest.h>

#include "meshgate/base/bytes.hpp"
#include "meshgate/noise/cookie.hpp"
#include "meshgate/noise/handshake.hpp"

namespace meshgate::noise {
namespace {

constexpr const char* kInitiatorStatic =
    "0002030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f60";
constexpr const char* kResponderStatic =
    "2022232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40";
constexpr const char* kInitiatorEphemeral =
    "4042434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f60";
constexpr const char* kResponderEphemeral =
    "6062636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f40";
constexpr const char* kPsk = "8182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0";

constexpr const char* kInitiation =
    "010000004433221164b101b1d0be5a8704bd078f9895001fc03e8e9f9522f188dd128d9846d48466158a0e4c"
    "a242d151ca97ab90159a98b67e616625e68b4065d357376b6598e644ad7d678c0295d22de4cb43d5135581ed"
    "36346bfa7cf42a122639f89315e67f2b43de40f99f8e6be9135e1632d45237be41c55cffa3e7b390a525fe65"
    "00000000000000000000000000000000";
constexpr const char* kResponse =
    "020000008877665544332211244fe3b963e899dd295baffce248d3530f3a9a7479ba063002680ebfe7adad49"
    "27d9d0c10dbd892b072dfd62f2b6d42bee99ce22cd644e00a4f7522e3d9c984400000000000000000000000000"
    "000000";
constexpr const char* kT1 = "248a29611829aaf7ee8bc8e87df805c1019f08f82d80eb79b7625821ba0a1317";
constexpr const char* kT2 = "848308e622b3e15e5ebc5312111efc31082e86c85e9ee93fe8c5aa7f972cc9c3";
constexpr const char* kHash = "3537b74e02005e1531d2c00660730b21d3672f2dce5dfca875851ca01845c604";

SecretKey secret_hex(const char* s) {
  SecretKey k;
  EXPECT_TRUE(from_hex(s, k.span()));
  return k;
}

template <class Msg>
std::string hex_of(const Msg& m) {
  return to_hex(ByteSpan(wire::message_bytes(m), sizeof m));
}

TEST(WireGuardKat, InitiationResponseAndKeys) {
  StaticIdentity ini_id, res_id;
  ini_id.set_private_key(secret_hex(kInitiatorStatic));
  res_id.set_private_key(secret_hex(kResponderStatic));
  const SecretKey psk = secret_hex(kPsk);
  Handshake ini, res;
  ASSERT_TRUE(handshake_configure(ini, ini_id, res_id.public_key, &psk).ok());
  ASSERT_TRUE(handshake_configure(res, res_id, ini_id.public_key, &psk).ok());
  CookieSender to_res, to_ini;
  to_res.init(res_id.public_key);
  to_ini.init(ini_id.public_key);
  const Nanos now = seconds(1);

  // TAI64N of 1700000000.123456789, whitened to a multiple of 2^24 ns.
  const SecretKey ei = secret_hex(kInitiatorEphemeral);
  wire::MessageInitiation init{};
  ASSERT_EQ(
      create_initiation(init, ini, ini_id, 0x11223344, WallTime{1'700'000'000, 123456789}, &ei),
      HandshakeDrop::none);
  to_res.add_macs(init, now);
  EXPECT_EQ(hex_of(init), kInitiation);

  PendingInitiation pending;
  ASSERT_EQ(decrypt_initiation_static(init, res_id, pending), HandshakeDrop::none);
  ASSERT_EQ(consume_initiation(pending, init, res, now), HandshakeDrop::none);
  const SecretKey er = secret_hex(kResponderEphemeral);
  wire::MessageResponse resp{};
  ASSERT_EQ(create_response(resp, res, res_id, 0x55667788, &er), HandshakeDrop::none);
  to_ini.add_macs(resp, now);
  EXPECT_EQ(hex_of(resp), kResponse);

  ASSERT_EQ(consume_response(resp, ini, ini_id), HandshakeDrop::none);
  SessionKeys ki, kr;
  SecretKey hi, hr;
  ASSERT_EQ(begin_session(ini, ki, now, &hi), HandshakeDrop::none);
  ASSERT_EQ(begin_session(res, kr, now, &hr), HandshakeDrop::none);
  EXPECT_EQ(to_hex(ki.send.span()), kT1);
  EXPECT_EQ(to_hex(ki.recv.span()), kT2);
  EXPECT_EQ(to_hex(kr.send.span()), kT2);
  EXPECT_EQ(to_hex(hi.span()), kHash);
  EXPECT_EQ(to_hex(hr.span()), kHash);
  EXPECT_EQ(ki.local_index, 0x11223344u);
  EXPECT_EQ(ki.remote_index, 0x55667788u);
  EXPECT_EQ(kr.local_index, 0x55667788u);
  EXPECT_EQ(kr.remote_index, 0x11223344u);
}

}  // namespace
}  // namespace meshgate::noise
