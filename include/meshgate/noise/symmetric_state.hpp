// Noise SymmetricState and CipherState (Noise rev 34 sections 5.1-5.2) for the suite
// 25519 / ChaChaPoly / BLAKE2s, the one WireGuard uses (protocol.md 0 and 3).
//
// Generic: the protocol name and prologue are parameters, so the same core runs the public
// Noise test vectors and WireGuard (prologue = IDENTIFIER). C (chaining key), H (hash) and
// the cipher key are Secret and wiped by clear(), split() and the destructor.
// Control-plane code: one handshake at a time per object, no sharing between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "meshgate/base/bytes.hpp"
#include "meshgate/base/secret.hpp"

namespace meshgate::noise {

inline constexpr std::size_t kHashLen = 32;
inline constexpr std::size_t kTagLen = 16;

class SymmetricState {
 public:
  /// InitializeSymmetric(protocol_name) then MixHash(prologue) (Noise 5.2 and 5.3).
  void initialize(std::string_view protocol_name, ByteSpan prologue) noexcept;

  /// MixHash(data): H = HASH(H || data).
  void mix_hash(ByteSpan data) noexcept;
  /// MixKey(ikm): (C, k) = KDF2(C, ikm); n = 0.
  void mix_key(ByteSpan ikm) noexcept;
  /// MixKeyAndHash(ikm): (C, t, k) = KDF3(C, ikm); MixHash(t); n = 0. The psk token.
  void mix_key_and_hash(ByteSpan ikm) noexcept;

  /// EncryptAndHash: dst gets len + 16 bytes, AEAD(k, n++, src, ad = H); then MixHash(dst).
  /// Without a key (never the case in IKpsk2) it copies the plaintext, as Noise says.
  /// dst may equal src.
  void encrypt_and_hash(std::uint8_t* dst, const std::uint8_t* src, std::size_t len) noexcept;
  /// DecryptAndHash: src holds len + 16 bytes. On failure returns false and leaves H, n and
  /// dst's meaning unspecified: callers work on a copy of the state and drop it.
  [[nodiscard]] bool decrypt_and_hash(std::uint8_t* dst, const std::uint8_t* src,
                                      std::size_t len) noexcept;

  /// Split(): (k1, k2) = KDF2(C, empty). k1 is initiator -> responder. Wipes C and k;
  /// H stays readable as the handshake hash until clear().
  void split(SecretKey& k1, SecretKey& k2) noexcept;

  const SecretKey& handshake_hash() const noexcept { return h_; }
  const SecretKey& chaining_key() const noexcept { return ck_; }
  bool has_key() const noexcept { return has_key_; }

  void clear() noexcept;

 private:
  SecretKey ck_;
  SecretKey h_;
  SecretKey k_;
  std::uint64_t n_ = 0;
  bool has_key_ = false;
};

}  // namespace meshgate::noise
