// Per-peer WireGuard timers (whitepaper section 6; protocol.md 5; kernel timers.c).
//
// Five timers and three flags, driven by event hooks and an injected clock. Nothing here sends a
// packet or touches a key: expire() returns the actions due and the control thread carries them
// out, then reports what it sent through the hooks, exactly as the kernel's send path calls its
// timer hooks. A typical control loop:
//
//   deadline = timers.next_deadline();            // sleep/poll until then
//   TimerActions a = timers.expire(now);
//   if (a.has(TimerAction::kSendInitiationRetry) || a.has(TimerAction::kSendInitiationNew))
//     if (timers.prepare_initiation(now, a.has(TimerAction::kSendInitiationRetry))) {
//       send initiation; timers.on_handshake_initiated(now);
//       timers.on_any_authenticated_packet_sent(now);
//       timers.on_any_authenticated_packet_traversal(now);
//     }
//   ...
//
// The data path does not call the hooks per packet: workers record "last data sent/received"
// timestamps per burst and the control thread replays them as hook calls (architecture.md 3).
//
// Thread contract: a PeerTimers belongs to its peer's control-thread state; not thread-safe.
#pragma once

#include <cstdint>
#include <limits>

#include "meshgate/base/time.hpp"
#include "meshgate/wire/constants.hpp"

namespace meshgate::peer {

enum class TimerAction : std::uint32_t {
  kSendInitiationRetry = 1U << 0,  // retransmit: the series goes on, attempts kept
  kSendInitiationNew = 1U << 1,    // new handshake: a new series, attempts reset
  kSendKeepalive = 1U << 2,
  kZeroKeyMaterial = 1U << 3,      // wipe the handshake state and all three keypairs
  kGiveUp = 1U << 4,               // the series failed: drop the packets staged for this peer
  kClearEndpointSource = 1U << 5,  // forget the cached local source address of the endpoint
};

/// A set of TimerAction bits.
class TimerActions {
 public:
  constexpr TimerActions() = default;
  constexpr bool has(TimerAction a) const noexcept {
    return (bits_ & static_cast<std::uint32_t>(a)) != 0;
  }
  constexpr bool empty() const noexcept { return bits_ == 0; }
  constexpr void add(TimerAction a) noexcept { bits_ |= static_cast<std::uint32_t>(a); }
  constexpr void add(TimerActions o) noexcept { bits_ |= o.bits_; }

 private:
  std::uint32_t bits_ = 0;
};

/// Deadline of a timer that is not armed.
constexpr Nanos kNever = std::numeric_limits<Nanos>::max();

/// Jitter for REKEY_TIMEOUT-based timers: uniform in [0, 333] ms from the CSPRNG, like Go's
/// fastrandn(334) ms. Tests inject their own.
Nanos default_jitter() noexcept;
using JitterSource = Nanos (*)() noexcept;

// ---- pure checks (protocol.md 4) ----

/// Handshake initiations (and responses) go out at most once per REKEY_TIMEOUT.
constexpr bool initiation_allowed(Nanos last_sent_handshake, Nanos now) noexcept {
  return last_sent_handshake == kNever || now - last_sent_handshake >= wire::spec::kRekeyTimeout;
}

/// Keep-key-fresh, sender side: after sending with counter `send_counter` on the current
/// keypair, start a handshake if the counter passed REKEY_AFTER_MESSAGES, or if we initiated
/// this keypair and it is older than REKEY_AFTER_TIME (`rekey_after_time`: the benchmark's
/// shorter one, Dataplane::rekey_after_time).
constexpr bool keep_key_fresh_on_send(
    std::uint64_t send_counter, bool we_initiated, Nanos keypair_birth, Nanos now,
    Nanos rekey_after_time = wire::spec::kRekeyAfterTime) noexcept {
  return send_counter > wire::spec::kRekeyAfterMessages ||
         (we_initiated && now - keypair_birth > rekey_after_time);
}

/// Keep-key-fresh, receiver side: if we initiated the current keypair and it is at least
/// REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT (165 s) old, initiate once: the
/// "last-minute" handshake, so the keys are fresh before the peer's stop working.
constexpr bool keep_key_fresh_on_receive(bool we_initiated, Nanos keypair_birth, Nanos now,
                                         bool sent_lastminute_handshake) noexcept {
  return we_initiated && !sent_lastminute_handshake &&
         now - keypair_birth >= wire::spec::kRekeyOnReceiveAge;
}

class PeerTimers {
 public:
  explicit PeerTimers(JitterSource jitter = &default_jitter) noexcept : jitter_(jitter) {}

  // ---- event hooks (protocol.md 5, "call sites") ----

  /// An initiation went out: arm retransmit_handshake (REKEY_TIMEOUT + jitter).
  void on_handshake_initiated(Nanos now) noexcept;
  /// A response went out (responder): only the REKEY_TIMEOUT gate remembers it.
  void on_handshake_response_sent(Nanos now) noexcept { last_sent_handshake_ = now; }
  /// Response consumed (initiator) or first data on `next` (responder): the series ends.
  void on_handshake_complete(Nanos now, WallTime wall) noexcept;
  /// A keypair was derived (response sent or consumed): zero keys REJECT_AFTER_TIME * 3 later.
  void on_session_derived(Nanos now) noexcept {
    zero_key_material_ = now + wire::spec::kZeroKeyMaterialTimeout;
  }
  /// A data (non-keepalive) packet was sent: expect an answer within 15 s + jitter.
  void on_data_sent(Nanos now) noexcept;
  /// A data (non-keepalive) packet was received: answer within KEEPALIVE_TIMEOUT.
  void on_data_received(Nanos now) noexcept;
  /// Any authenticated packet sent (data, keepalive, handshake): no passive keepalive needed.
  void on_any_authenticated_packet_sent(Nanos /*now*/) noexcept { send_keepalive_ = kNever; }
  /// Any authenticated packet received (data, keepalive, initiation, response).
  void on_any_authenticated_packet_received(Nanos /*now*/) noexcept { new_handshake_ = kNever; }
  /// Any authenticated packet in either direction: restart persistent keepalive.
  void on_any_authenticated_packet_traversal(Nanos now) noexcept;

  /// Configuration: persistent keepalive interval in seconds (0 = off). Turning it on while the
  /// interface is up asks for one keepalive at once (kernel and Go both do).
  TimerActions set_persistent_keepalive(std::uint16_t interval_s, Nanos now,
                                        bool interface_up) noexcept;
  std::uint16_t persistent_keepalive() const noexcept { return persistent_keepalive_s_; }

  // ---- driving the timers ----

  /// Earliest armed deadline, kNever if none.
  Nanos next_deadline() const noexcept;
  /// Fires every timer due at `now` and returns what to do.
  TimerActions expire(Nanos now) noexcept;

  /// Before sending an initiation: a new (non-retry) one starts a new series (attempts = 0).
  /// False when the REKEY_TIMEOUT gate is closed; then nothing may be sent.
  bool prepare_initiation(Nanos now, bool retry) noexcept;
  /// Whether the REKEY_TIMEOUT gate is open (what prepare_initiation checks), changing nothing.
  bool may_initiate(Nanos now) const noexcept {
    return initiation_allowed(last_sent_handshake_, now);
  }

  /// Receiver-side keep-key-fresh with the peer's last-minute flag: true once per session when
  /// a handshake should start (the caller then runs prepare_initiation(now, false)).
  bool want_lastminute_handshake(bool we_initiated, Nanos keypair_birth, Nanos now) noexcept;

  /// Peer removed or interface down: nothing stays armed.
  void stop() noexcept;

  unsigned handshake_attempts() const noexcept { return handshake_attempts_; }
  /// Wall-clock time of the last completed handshake, for `wg show` (zero: never).
  WallTime last_handshake() const noexcept { return last_handshake_; }

  // Deadlines, for tests and diagnostics.
  Nanos retransmit_handshake_deadline() const noexcept { return retransmit_handshake_; }
  Nanos send_keepalive_deadline() const noexcept { return send_keepalive_; }
  Nanos new_handshake_deadline() const noexcept { return new_handshake_; }
  Nanos zero_key_material_deadline() const noexcept { return zero_key_material_; }
  Nanos persistent_keepalive_deadline() const noexcept { return persistent_keepalive_; }

 private:
  TimerActions expire_retransmit_handshake(Nanos now) noexcept;
  TimerActions expire_send_keepalive(Nanos now) noexcept;

  JitterSource jitter_;
  Nanos retransmit_handshake_ = kNever;
  Nanos send_keepalive_ = kNever;
  Nanos new_handshake_ = kNever;
  Nanos zero_key_material_ = kNever;
  Nanos persistent_keepalive_ = kNever;
  Nanos last_sent_handshake_ = kNever;
  WallTime last_handshake_{};
  unsigned handshake_attempts_ = 0;
  std::uint16_t persistent_keepalive_s_ = 0;
  bool need_another_keepalive_ = false;
  bool sent_lastminute_handshake_ = false;
};

}  // namespace meshgate::peer
