// Noise SymmetricState / CipherState (Noise rev 34 sections 5.1, 5.2; protocol.md 3).
#include "meshgate/noise/symmetric_state.hpp"

#include <cstring>

#include "meshgate/crypto/aead.hpp"
#include "meshgate/crypto/blake2s.hpp"

namespace meshgate::noise {

void SymmetricState::initialize(std::string_view protocol_name, ByteSpan prologue) noexcept {
  clear();
  // Noise 5.2: a name of at most HASHLEN bytes is zero-padded, a longer one is hashed.
  // "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s" is 37 bytes, so it is hashed (protocol.md 3.1).
  ByteSpan name(reinterpret_cast<const std::uint8_t*>(protocol_name.data()), protocol_name.size());
  if (name.size() <= kHashLen) {
    std::memcpy(h_.data(), name.data(), name.size());
  } else {
    crypto::blake2s(h_.span(), {name});
  }
  ck_ = h_;
  mix_hash(prologue);
}

void SymmetricState::mix_hash(ByteSpan data) noexcept {
  crypto::blake2s(h_.span(), {h_.span(), data});
}

void SymmetricState::mix_key(ByteSpan ikm) noexcept {
  crypto::kdf(&ck_, &k_, nullptr, ck_, ikm);
  n_ = 0;
  has_key_ = true;
}

void SymmetricState::mix_key_and_hash(ByteSpan ikm) noexcept {
  SecretKey temp_h;
  crypto::kdf(&ck_, &temp_h, &k_, ck_, ikm);
  mix_hash(temp_h.span());
  n_ = 0;
  has_key_ = true;
}

void SymmetricState::encrypt_and_hash(std::uint8_t* dst, const std::uint8_t* src,
                                      std::size_t len) noexcept {
  if (!has_key_) {
    if (dst != src) std::memmove(dst, src, len);
    mix_hash(ByteSpan(dst, len));
    return;
  }
  crypto::aead_seal(dst, k_, n_++, src, len, h_.span());
  mix_hash(ByteSpan(dst, len + kTagLen));
}

bool SymmetricState::decrypt_and_hash(std::uint8_t* dst, const std::uint8_t* src,
                                      std::size_t len) noexcept {
  if (!has_key_) {
    if (dst != src) std::memmove(dst, src, len);
    mix_hash(ByteSpan(src, len));
    return true;
  }
  // H is mixed with the ciphertext, so hash it before an in-place open overwrites it.
  SecretKey next_h;
  crypto::blake2s(next_h.span(), {h_.span(), ByteSpan(src, len + kTagLen)});
  if (!crypto::aead_open(dst, k_, n_, src, len, h_.span())) return false;
  ++n_;
  h_ = next_h;
  return true;
}

void SymmetricState::split(SecretKey& k1, SecretKey& k2) noexcept {
  crypto::kdf(&k1, &k2, nullptr, ck_, {});
  ck_.clear();
  k_.clear();
  n_ = 0;
  has_key_ = false;
}

void SymmetricState::clear() noexcept {
  ck_.clear();
  h_.clear();
  k_.clear();
  n_ = 0;
  has_key_ = false;
}

}  // namespace meshgate::noise
