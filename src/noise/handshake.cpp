// WireGuard handshake verbs (protocol.md 3.1-3.6, 3.10; whitepaper 5.4.2-5.4.6).
//
// This implements Noise_IKpsk2:
//   <- s
//   ******
//   -> e, es, s, ss, {t}
//   <- e, ee, se, psk, {}
// The token work is in ikpsk2.cpp; here are the framing, the state machine, the replay and
// flood rules, and the commit-on-success discipline.
#include "meshgate/noise/handshake.hpp"

#include <cstddef>
#include <cstring>

#include "meshgate/crypto/x25519.hpp"

namespace meshgate::noise {

namespace {

using wire::MessageInitiation;
using wire::MessageResponse;

// The Noise part of a message starts at its ephemeral key; the fields after it are laid out
// back to back exactly as Noise concatenates them (static asserts in messages.hpp).
constexpr std::size_t kInitiationNoiseOffset = offsetof(MessageInitiation, ephemeral);
constexpr std::size_t kResponseNoiseOffset = offsetof(MessageResponse, ephemeral);
static_assert(offsetof(MessageInitiation, macs) - kInitiationNoiseOffset ==
              ikpsk2_msg1_len(wire::spec::kTimestampLen));
static_assert(offsetof(MessageResponse, macs) - kResponseNoiseOffset == ikpsk2_msg2_len(0));

SecretKey ephemeral_or_fresh(const SecretKey* ephemeral) noexcept {
  return ephemeral != nullptr ? *ephemeral : crypto::x25519_generate();
}

}  // namespace

const SymmetricState& wireguard_initial_state() noexcept {
  // C0 = HASH(CONSTRUCTION), H0 = HASH(C0 || IDENTIFIER) (protocol.md 1.1, 3.1 steps 1-2).
  static const SymmetricState initial = [] {
    SymmetricState s;
    const auto& id = wire::spec::kIdentifier;
    s.initialize(wire::spec::kConstruction,
                 ByteSpan(reinterpret_cast<const std::uint8_t*>(id.data()), id.size()));
    return s;
  }();
  return initial;
}

void Handshake::reset() noexcept {
  state = HandshakeState::zeroed;
  noise.clear();
  local_index = 0;
  remote_index = 0;
}

Status handshake_configure(Handshake& hs, const StaticIdentity& id, const Key32& remote_static,
                           const SecretKey* preshared_key) {
  if (!ct_equal(hs.remote_static.data(), remote_static.data(), remote_static.size())) {
    // A different peer key: nothing of the old exchange or its replay state applies.
    hs.reset();
    hs.latest_timestamp = {};
    hs.has_consumed_initiation = false;
  }
  hs.remote_static = remote_static;
  hs.preshared_key = preshared_key != nullptr ? *preshared_key : SecretKey{};
  hs.precomputed_static_static.clear();
  hs.configured = false;
  if (!id.has_private_key) return Error{"the interface has no private key"};
  if (ct_equal(remote_static.data(), id.public_key.data(), remote_static.size())) {
    return Error{"the peer's public key is the interface's own"};
  }
  // protocol.md 3: the handshake must fail when DH(S_local, S_peer) is all zero.
  if (!crypto::x25519(hs.precomputed_static_static, id.private_key, remote_static)) {
    return Error{"the peer's public key has small order (static-static DH is all zero)"};
  }
  hs.configured = true;
  return ok_status();
}

HandshakeDrop create_initiation(MessageInitiation& out, Handshake& hs, const StaticIdentity& id,
                                std::uint32_t local_index, WallTime wall,
                                const SecretKey* ephemeral) noexcept {
  if (!id.has_private_key) return HandshakeDrop::no_identity;
  if (!hs.configured) return HandshakeDrop::wrong_state;

  Ikpsk2 next;
  ikpsk2_init(next, wireguard_initial_state(), hs.remote_static);  // C, H; `<- s`
  const SecretKey e = ephemeral_or_fresh(ephemeral);
  const crypto::Tai64n timestamp = crypto::tai64n(wall);

  std::memset(&out, 0, sizeof out);
  out.header = wire::make_header(wire::MessageType::initiation);
  out.sender_index = local_index;
  // e, es, s, ss, {t} (protocol.md 3.2 steps 1-6).
  const StepResult r =
      ikpsk2_write_msg1(next, wire::message_bytes(out) + kInitiationNoiseOffset, e, id.public_key,
                        hs.precomputed_static_static, ByteSpan(timestamp));
  if (r != StepResult::ok) return HandshakeDrop::zero_dh;

  // protocol.md 3.2 step 8: keep C, H, E_i. A new initiation replaces any exchange in progress.
  hs.noise = next;
  hs.local_index = local_index;
  hs.remote_index = 0;
  hs.state = HandshakeState::initiation_created;
  return HandshakeDrop::none;
}

HandshakeDrop decrypt_initiation_static(const MessageInitiation& msg, const StaticIdentity& id,
                                        PendingInitiation& out) noexcept {
  if (!id.has_private_key) return HandshakeDrop::no_identity;
  ikpsk2_init(out.noise, wireguard_initial_state(), id.public_key);  // protocol.md 3.3 step 1
  // e, es, s (protocol.md 3.3 steps 1-2).
  const StepResult r = ikpsk2_read_msg1_static(
      out.noise, wire::message_bytes(msg) + kInitiationNoiseOffset, id.private_key);
  if (r == StepResult::zero_dh) return HandshakeDrop::zero_dh;
  if (r != StepResult::ok) return HandshakeDrop::bad_static;
  out.initiator_static = out.noise.rs;
  out.sender_index = msg.sender_index;
  return HandshakeDrop::none;
}

HandshakeDrop consume_initiation(PendingInitiation& pending, const MessageInitiation& msg,
                                 Handshake& hs, Nanos now) noexcept {
  // The caller's lookup must have found the peer this static key belongs to.
  if (!hs.configured || !ct_equal(hs.remote_static.data(), pending.initiator_static.data(),
                                  hs.remote_static.size())) {
    return HandshakeDrop::unknown_peer;
  }
  // ss, {t} (protocol.md 3.3 step 4).
  crypto::Tai64n timestamp{};
  const StepResult r =
      ikpsk2_read_msg1_payload(pending.noise, wire::message_bytes(msg) + kInitiationNoiseOffset,
                               hs.precomputed_static_static, timestamp.data(), timestamp.size());
  if (r == StepResult::zero_dh) return HandshakeDrop::zero_dh;
  if (r != StepResult::ok) return HandshakeDrop::bad_timestamp;

  // protocol.md 3.3 step 5: replay (strictly newer TAI64N) and flood (20 ms) guards.
  if (!crypto::tai64n_after(timestamp, hs.latest_timestamp)) {
    return HandshakeDrop::replayed_timestamp;
  }
  if (hs.has_consumed_initiation &&
      now - hs.last_initiation_consumed < wire::spec::kInitiationMinInterval) {
    return HandshakeDrop::initiation_flood;
  }

  // protocol.md 3.3 step 6: commit. Overwrites any exchange in progress (protocol.md 3.10).
  hs.noise = pending.noise;
  hs.remote_index = pending.sender_index;
  hs.local_index = 0;
  hs.latest_timestamp = timestamp;
  hs.last_initiation_consumed = now;
  hs.has_consumed_initiation = true;
  hs.state = HandshakeState::initiation_consumed;
  pending.noise.clear();
  return HandshakeDrop::none;
}

HandshakeDrop create_response(MessageResponse& out, Handshake& hs, const StaticIdentity& id,
                              std::uint32_t local_index, const SecretKey* ephemeral) noexcept {
  if (!id.has_private_key) return HandshakeDrop::no_identity;
  if (hs.state != HandshakeState::initiation_consumed) return HandshakeDrop::wrong_state;

  Ikpsk2 next = hs.noise;
  const SecretKey e = ephemeral_or_fresh(ephemeral);
  std::memset(&out, 0, sizeof out);
  out.header = wire::make_header(wire::MessageType::response);
  out.sender_index = local_index;
  out.receiver_index = hs.remote_index;
  // e, ee, se, psk, {} (protocol.md 3.4 steps 1-5).
  const StepResult r = ikpsk2_write_msg2(next, wire::message_bytes(out) + kResponseNoiseOffset, e,
                                         hs.preshared_key, ByteSpan());
  if (r != StepResult::ok) return HandshakeDrop::zero_dh;

  hs.noise = next;
  hs.local_index = local_index;
  hs.state = HandshakeState::response_created;
  return HandshakeDrop::none;
}

HandshakeDrop consume_response(const MessageResponse& msg, Handshake& hs,
                               const StaticIdentity& id) noexcept {
  if (!id.has_private_key) return HandshakeDrop::no_identity;
  // protocol.md 3.5 step 1: it must answer our pending initiation.
  if (hs.state != HandshakeState::initiation_created) return HandshakeDrop::wrong_state;
  if (msg.receiver_index != hs.local_index) return HandshakeDrop::unknown_index;

  Ikpsk2 next = hs.noise;
  // e, ee, se, psk, {} (protocol.md 3.5 steps 2-3).
  const StepResult r = ikpsk2_read_msg2(next, wire::message_bytes(msg) + kResponseNoiseOffset,
                                        id.private_key, hs.preshared_key, nullptr, 0);
  if (r == StepResult::zero_dh) return HandshakeDrop::zero_dh;
  if (r != StepResult::ok) return HandshakeDrop::bad_response;

  hs.noise = next;
  hs.remote_index = msg.sender_index;
  hs.state = HandshakeState::response_consumed;
  return HandshakeDrop::none;
}

HandshakeDrop begin_session(Handshake& hs, SessionKeys& out, Nanos now,
                            SecretKey* handshake_hash) noexcept {
  bool initiator = false;
  if (hs.state == HandshakeState::response_consumed) {
    initiator = true;
  } else if (hs.state != HandshakeState::response_created) {
    return HandshakeDrop::wrong_state;
  }
  // protocol.md 3.6: (T1, T2) = KDF2(C, empty); initiator sends with T1, responder with T2.
  SecretKey i2r;
  SecretKey r2i;
  ikpsk2_split(hs.noise, i2r, r2i, handshake_hash);  // also wipes C, H and ephemerals
  out.send = initiator ? i2r : r2i;
  out.recv = initiator ? r2i : i2r;
  out.local_index = hs.local_index;
  out.remote_index = hs.remote_index;
  out.initiator = initiator;
  out.birth = now;
  hs.reset();
  return HandshakeDrop::none;
}

}  // namespace meshgate::noise
