// The WireGuard handshake (protocol.md 3; whitepaper section 5.4):
// Noise_IKpsk2 with prologue IDENTIFIER, a TAI64N payload in the initiation and an empty
// payload in the response, framed in message types 1 and 2.
//
// Paired verbs, as in the kernel's noise.c:
//   initiator: create_initiation  ->  responder: decrypt_initiation_static + consume_initiation
//   responder: create_response    ->  initiator: consume_response
//   both:      begin_session      ->  SessionKeys
//
// What the caller owns (control thread):
//   - index allocation: it passes fresh random local indices in, and keeps the table
//     from index to handshake / keypair;
//   - peer lookup by static key: consume_initiation is two steps, so the caller can find the
//     peer between them (or use the consume_initiation(msg, id, lookup, now, ...) wrapper);
//   - mac1 / mac2 and cookies (cookie.hpp) around these verbs: macs are checked before
//     anything here runs, and added after create_* returns;
//   - time: `now` is monotonic (flood guard, keypair birth), `wall` is CLOCK_REALTIME for
//     TAI64N.
// A failed consume leaves the peer's handshake untouched (each verb works on a copy and
// commits on success).
#pragma once

#include <cstdint>

#include "meshgate/base/bytes.hpp"
#include "meshgate/base/result.hpp"
#include "meshgate/base/secret.hpp"
#include "meshgate/base/time.hpp"
#include "meshgate/crypto/tai64n.hpp"
#include "meshgate/noise/drop.hpp"
#include "meshgate/noise/identity.hpp"
#include "meshgate/noise/ikpsk2.hpp"
#include "meshgate/noise/session_keys.hpp"
#include "meshgate/wire/messages.hpp"

namespace meshgate::noise {

enum class HandshakeState : std::uint8_t {
  zeroed,
  initiation_created,   // initiator: waiting for the response
  initiation_consumed,  // responder: ready to create the response
  response_created,     // responder: ready to begin_session
  response_consumed,    // initiator: ready to begin_session
};

/// Per-peer handshake state. Configure it with handshake_configure(); the verbs below do the
/// rest. The fields are public for the peer module and tests; only the verbs change them.
struct Handshake {
  Key32 remote_static{};
  SecretKey preshared_key;  // all zero when none is configured; still mixed in (protocol.md 3)
  SecretKey precomputed_static_static;  // DH(S_local, S_peer), never all zero once configured
  bool configured = false;

  HandshakeState state = HandshakeState::zeroed;
  Ikpsk2 noise;  // C, H, our ephemeral, their ephemeral
  std::uint32_t local_index = 0;
  std::uint32_t remote_index = 0;
  crypto::Tai64n latest_timestamp{};  // greatest TAI64N accepted from this peer (replay)
  Nanos last_initiation_consumed = 0;
  bool has_consumed_initiation = false;

  /// Forgets the in-progress exchange (not the keys, not the replay timestamp).
  void reset() noexcept;
};

/// Sets the peer's static key and PSK (null = none) and precomputes DH(S_local, S_peer).
/// Fails when the local identity has no key, when the peer's key is ours, or when the DH is
/// all zero (the peer key has small order). Also the way to recompute after our private key
/// changed.
Status handshake_configure(Handshake& hs, const StaticIdentity& id, const Key32& remote_static,
                           const SecretKey* preshared_key);

/// Initiator: e, es, s, ss, {t}. Fills everything but the macs. `ephemeral` is for tests
/// and known-answer vectors; null generates a fresh one.
HandshakeDrop create_initiation(wire::MessageInitiation& out, Handshake& hs,
                                const StaticIdentity& id, std::uint32_t local_index, WallTime wall,
                                const SecretKey* ephemeral = nullptr) noexcept;

/// Responder, step 1: tokens e, es, s. Decrypts the initiator's static key so the caller can
/// look up the peer. Touches no peer state.
struct PendingInitiation {
  Ikpsk2 noise;
  Key32 initiator_static{};
  std::uint32_t sender_index = 0;
};
HandshakeDrop decrypt_initiation_static(const wire::MessageInitiation& msg,
                                        const StaticIdentity& id, PendingInitiation& out) noexcept;

/// Responder, step 2, with the peer found for pending.initiator_static: tokens ss, {t}, then
/// the timestamp replay check (strictly greater) and the 20 ms flood guard; on success the
/// state is committed to `hs` (INITIATION_CONSUMED).
HandshakeDrop consume_initiation(PendingInitiation& pending, const wire::MessageInitiation& msg,
                                 Handshake& hs, Nanos now) noexcept;

/// Both steps, with `lookup(const Key32&) -> Handshake*` (null: unknown peer) in between.
/// On success *peer_out is the peer's handshake.
template <class Lookup>
HandshakeDrop consume_initiation(const wire::MessageInitiation& msg, const StaticIdentity& id,
                                 Lookup&& lookup, Nanos now, Handshake** peer_out) {
  PendingInitiation pending;
  HandshakeDrop d = decrypt_initiation_static(msg, id, pending);
  if (d != HandshakeDrop::none) return d;
  Handshake* hs = lookup(static_cast<const Key32&>(pending.initiator_static));
  if (hs == nullptr) return HandshakeDrop::unknown_peer;
  d = consume_initiation(pending, msg, *hs, now);
  if (d == HandshakeDrop::none && peer_out != nullptr) *peer_out = hs;
  return d;
}

/// Responder: e, ee, se, psk, {}. Requires INITIATION_CONSUMED; leaves RESPONSE_CREATED.
HandshakeDrop create_response(wire::MessageResponse& out, Handshake& hs, const StaticIdentity& id,
                              std::uint32_t local_index,
                              const SecretKey* ephemeral = nullptr) noexcept;

/// Initiator: the caller found `hs` by msg.receiver_index; this checks it really is the
/// pending initiation (state and index), then mirrors create_response. On success the state
/// is RESPONSE_CONSUMED; on failure the pending initiation stays valid (protocol.md 3.5).
HandshakeDrop consume_response(const wire::MessageResponse& msg, Handshake& hs,
                               const StaticIdentity& id) noexcept;

/// Split (protocol.md 3.6): derives the keypair from RESPONSE_CREATED (responder) or
/// RESPONSE_CONSUMED (initiator), then wipes C, H and the ephemeral keys (state ZEROED).
/// `handshake_hash`, when non-null, receives the final H.
HandshakeDrop begin_session(Handshake& hs, SessionKeys& out, Nanos now,
                            SecretKey* handshake_hash = nullptr) noexcept;

/// The state every WireGuard handshake starts from: C0, H0 (protocol.md 3.1), computed once.
const SymmetricState& wireguard_initial_state() noexcept;

}  // namespace meshgate::noise
