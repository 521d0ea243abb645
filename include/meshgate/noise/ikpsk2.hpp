// The Noise_IKpsk2 handshake pattern (Noise rev 34 sections 7.5 and 9; protocol.md 3):
//
//   <- s
//   ...
//   -> e, es, s, ss, {payload}
//   <- e, ee, se, psk, {payload}
//
// Generic over prologue and payloads: the public Noise test vectors use prologue
// "John Galt" and text payloads; WireGuard uses prologue IDENTIFIER, a 12-byte TAI64N
// payload in message 1 and an empty one in message 2 (see handshake.hpp). In PSK mode the
// `e` token also runs MixKey(e.pub) (Noise 9.2), which is WireGuard's C = KDF1(C, E^pub).
//
// Every step function works on the state it is given and may leave it half-updated when it
// fails; callers that must roll back (the WireGuard verbs) run it on a copy. An all-zero DH
// result fails the step (protocol.md 0, DH).
#pragma once

#include <cstddef>
#include <cstdint>

#include "meshgate/base/bytes.hpp"
#include "meshgate/base/secret.hpp"
#include "meshgate/noise/symmetric_state.hpp"

namespace meshgate::noise {

inline constexpr std::size_t kKeyLen = 32;

/// Noise message 1: e (32) || encrypted s (48) || encrypted payload (n + 16).
constexpr std::size_t ikpsk2_msg1_len(std::size_t payload_len) noexcept {
  return kKeyLen + (kKeyLen + kTagLen) + payload_len + kTagLen;
}
/// Noise message 2: e (32) || encrypted payload (n + 16).
constexpr std::size_t ikpsk2_msg2_len(std::size_t payload_len) noexcept {
  return kKeyLen + payload_len + kTagLen;
}

/// Outcome of one message step.
enum class StepResult : std::uint8_t {
  ok,
  zero_dh,         // an X25519 result was all zero (small-order public key)
  decrypt_failed,  // an AEAD field did not authenticate
};

/// One side's HandshakeState for IKpsk2.
struct Ikpsk2 {
  SymmetricState sym;
  SecretKey e;  // local ephemeral private key
  Key32 e_pub{};
  Key32 re{};  // remote ephemeral public key
  Key32 rs{};  // remote static: known to the initiator, learned by the responder

  void clear() noexcept;
};

/// Initialize(): protocol name, prologue, and the pre-message `<- s` (MixHash(S_r^pub)).
void ikpsk2_init(Ikpsk2& hs, ByteSpan prologue, const Key32& responder_static) noexcept;
/// The same from a state that already holds the protocol name and prologue (WireGuard keeps
/// one, computed once: C0 and H0 of protocol.md 1.1).
void ikpsk2_init(Ikpsk2& hs, const SymmetricState& initialized,
                 const Key32& responder_static) noexcept;

/// Initiator writes message 1 into out (ikpsk2_msg1_len(payload.size()) bytes).
/// `ss` is DH(S_i, S_r), precomputed by the caller. Fails only on a zero `es` or `ss`.
[[nodiscard]] StepResult ikpsk2_write_msg1(Ikpsk2& hs, std::uint8_t* out, const SecretKey& e_priv,
                                           const Key32& s_pub, const SecretKey& ss,
                                           ByteSpan payload) noexcept;

/// Responder reads message 1, first half: tokens e, es, s. Returns the initiator's static
/// key in hs.rs so the caller can find the peer (and its precomputed ss) before going on.
[[nodiscard]] StepResult ikpsk2_read_msg1_static(Ikpsk2& hs, const std::uint8_t* msg,
                                                 const SecretKey& s_priv) noexcept;

/// Responder reads message 1, second half: token ss and the payload (payload_len bytes
/// written to payload_out; the message holds payload_len + 16 more bytes after s).
[[nodiscard]] StepResult ikpsk2_read_msg1_payload(Ikpsk2& hs, const std::uint8_t* msg,
                                                  const SecretKey& ss, std::uint8_t* payload_out,
                                                  std::size_t payload_len) noexcept;

/// Responder writes message 2 (ikpsk2_msg2_len(payload.size()) bytes).
[[nodiscard]] StepResult ikpsk2_write_msg2(Ikpsk2& hs, std::uint8_t* out, const SecretKey& e_priv,
                                           const SecretKey& psk, ByteSpan payload) noexcept;

/// Initiator reads message 2 (tokens e, ee, se, psk, then the payload).
[[nodiscard]] StepResult ikpsk2_read_msg2(Ikpsk2& hs, const std::uint8_t* msg,
                                          const SecretKey& s_priv, const SecretKey& psk,
                                          std::uint8_t* payload_out,
                                          std::size_t payload_len) noexcept;

/// Split(): initiator -> responder key, responder -> initiator key, and the handshake hash
/// (may be null). Wipes the whole handshake state afterwards.
void ikpsk2_split(Ikpsk2& hs, SecretKey& i2r, SecretKey& r2i, SecretKey* handshake_hash) noexcept;

}  // namespace meshgate::noise
