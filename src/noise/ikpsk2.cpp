// Noise_IKpsk2 message processing (Noise rev 34 sections 5.3, 7.5, 9; protocol.md 3).
#include "meshgate/noise/ikpsk2.hpp"

#include <cstring>

#include "meshgate/crypto/x25519.hpp"
#include "meshgate/wire/messages.hpp"

namespace meshgate::noise {

namespace {

// Token `e` when writing: generate-or-take E, send E^pub, MixHash and (PSK mode) MixKey.
void write_e(Ikpsk2& hs, std::uint8_t* out, const SecretKey& e_priv) noexcept {
  hs.e = e_priv;
  hs.e_pub = crypto::x25519_public(hs.e);
  std::memcpy(out, hs.e_pub.data(), kKeyLen);
  hs.sym.mix_hash(hs.e_pub);
  hs.sym.mix_key(hs.e_pub);
}

// Token `e` when reading.
void read_e(Ikpsk2& hs, const std::uint8_t* in) noexcept {
  std::memcpy(hs.re.data(), in, kKeyLen);
  hs.sym.mix_hash(hs.re);
  hs.sym.mix_key(hs.re);
}

// Tokens es / ee / se: MixKey(DH(priv, pub)); an all-zero result aborts the handshake.
[[nodiscard]] bool mix_dh(Ikpsk2& hs, const SecretKey& priv, const Key32& pub) noexcept {
  SecretKey shared;
  if (!crypto::x25519(shared, priv, pub)) return false;
  hs.sym.mix_key(shared.span());
  return true;
}

StepResult decrypted(bool ok) noexcept {
  return ok ? StepResult::ok : StepResult::decrypt_failed;
}

constexpr StepResult kZeroDh = StepResult::zero_dh;

// Token ss with a precomputed DH(S_i, S_r).
[[nodiscard]] bool mix_precomputed(Ikpsk2& hs, const SecretKey& shared) noexcept {
  if (shared.is_zero()) return false;
  hs.sym.mix_key(shared.span());
  return true;
}

}  // namespace

void Ikpsk2::clear() noexcept {
  sym.clear();
  e.clear();
  secure_wipe(e_pub.data(), e_pub.size());
  secure_wipe(re.data(), re.size());
  secure_wipe(rs.data(), rs.size());
}

void ikpsk2_init(Ikpsk2& hs, ByteSpan prologue, const Key32& responder_static) noexcept {
  SymmetricState initial;
  initial.initialize(wire::spec::kConstruction, prologue);
  ikpsk2_init(hs, initial, responder_static);
}

void ikpsk2_init(Ikpsk2& hs, const SymmetricState& initialized,
                 const Key32& responder_static) noexcept {
  hs.clear();
  hs.sym = initialized;
  hs.sym.mix_hash(responder_static);  // pre-message `<- s`
  hs.rs = responder_static;           // the initiator's remote static; a responder overwrites it
}

StepResult ikpsk2_write_msg1(Ikpsk2& hs, std::uint8_t* out, const SecretKey& e_priv,
                             const Key32& s_pub, const SecretKey& ss, ByteSpan payload) noexcept {
  write_e(hs, out, e_priv);                                       // e
  if (!mix_dh(hs, hs.e, hs.rs)) return kZeroDh;                   // es
  hs.sym.encrypt_and_hash(out + kKeyLen, s_pub.data(), kKeyLen);  // s
  if (!mix_precomputed(hs, ss)) return kZeroDh;                   // ss
  std::uint8_t* p = out + kKeyLen + kKeyLen + kTagLen;
  hs.sym.encrypt_and_hash(p, payload.data(), payload.size());  // {payload}
  return StepResult::ok;
}

StepResult ikpsk2_read_msg1_static(Ikpsk2& hs, const std::uint8_t* msg,
                                   const SecretKey& s_priv) noexcept {
  read_e(hs, msg);                                                                  // e
  if (!mix_dh(hs, s_priv, hs.re)) return kZeroDh;                                   // es
  return decrypted(hs.sym.decrypt_and_hash(hs.rs.data(), msg + kKeyLen, kKeyLen));  // s
}

StepResult ikpsk2_read_msg1_payload(Ikpsk2& hs, const std::uint8_t* msg, const SecretKey& ss,
                                    std::uint8_t* payload_out, std::size_t payload_len) noexcept {
  if (!mix_precomputed(hs, ss)) return kZeroDh;  // ss
  const std::uint8_t* p = msg + kKeyLen + kKeyLen + kTagLen;
  return decrypted(hs.sym.decrypt_and_hash(payload_out, p, payload_len));  // {payload}
}

StepResult ikpsk2_write_msg2(Ikpsk2& hs, std::uint8_t* out, const SecretKey& e_priv,
                             const SecretKey& psk, ByteSpan payload) noexcept {
  write_e(hs, out, e_priv);                                                // e
  if (!mix_dh(hs, hs.e, hs.re)) return kZeroDh;                            // ee
  if (!mix_dh(hs, hs.e, hs.rs)) return kZeroDh;                            // se
  hs.sym.mix_key_and_hash(psk.span());                                     // psk
  hs.sym.encrypt_and_hash(out + kKeyLen, payload.data(), payload.size());  // {payload}
  return StepResult::ok;
}

StepResult ikpsk2_read_msg2(Ikpsk2& hs, const std::uint8_t* msg, const SecretKey& s_priv,
                            const SecretKey& psk, std::uint8_t* payload_out,
                            std::size_t payload_len) noexcept {
  read_e(hs, msg);                                 // e
  if (!mix_dh(hs, hs.e, hs.re)) return kZeroDh;    // ee
  if (!mix_dh(hs, s_priv, hs.re)) return kZeroDh;  // se
  hs.sym.mix_key_and_hash(psk.span());             // psk
  return decrypted(hs.sym.decrypt_and_hash(payload_out, msg + kKeyLen, payload_len));
}

void ikpsk2_split(Ikpsk2& hs, SecretKey& i2r, SecretKey& r2i, SecretKey* handshake_hash) noexcept {
  hs.sym.split(i2r, r2i);
  if (handshake_hash != nullptr) *handshake_hash = hs.sym.handshake_hash();
  hs.clear();
}

}  // namespace meshgate::noise
