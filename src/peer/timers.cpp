// Per-peer timer state machine (whitepaper section 6; protocol.md 5; kernel timers.c).
#include "meshgate/peer/timers.hpp"

#include <algorithm>

#include "meshgate/crypto/random.hpp"

namespace meshgate::peer {

Nanos default_jitter() noexcept {
  return millis(crypto::random_uniform(
      static_cast<std::uint32_t>(wire::spec::kRekeyTimeoutJitterMax / kNsPerMs + 1)));
}

void PeerTimers::on_handshake_initiated(Nanos now) noexcept {
  last_sent_handshake_ = now;
  retransmit_handshake_ = now + wire::spec::kRekeyTimeout + jitter_();
}

void PeerTimers::on_handshake_complete(Nanos /*now*/, WallTime wall) noexcept {
  retransmit_handshake_ = kNever;
  handshake_attempts_ = 0;
  sent_lastminute_handshake_ = false;
  last_handshake_ = wall;
}

void PeerTimers::on_data_sent(Nanos now) noexcept {
  if (new_handshake_ == kNever) {
    new_handshake_ = now + wire::spec::kKeepaliveTimeout + wire::spec::kRekeyTimeout + jitter_();
  }
}

void PeerTimers::on_data_received(Nanos now) noexcept {
  if (send_keepalive_ == kNever) {
    send_keepalive_ = now + wire::spec::kKeepaliveTimeout;
  } else {
    need_another_keepalive_ = true;
  }
}

void PeerTimers::on_any_authenticated_packet_traversal(Nanos now) noexcept {
  if (persistent_keepalive_s_ != 0) persistent_keepalive_ = now + seconds(persistent_keepalive_s_);
}

TimerActions PeerTimers::set_persistent_keepalive(std::uint16_t interval_s, Nanos now,
                                                  bool interface_up) noexcept {
  TimerActions actions;
  const bool turned_on = persistent_keepalive_s_ == 0 && interval_s != 0;
  persistent_keepalive_s_ = interval_s;
  if (interval_s == 0) {
    persistent_keepalive_ = kNever;
  } else if (turned_on && interface_up) {
    actions.add(TimerAction::kSendKeepalive);  // its traversal hook then arms the timer
  } else if (persistent_keepalive_ != kNever) {
    persistent_keepalive_ = std::min(persistent_keepalive_, now + seconds(interval_s));
  }
  return actions;
}

Nanos PeerTimers::next_deadline() const noexcept {
  return std::min({retransmit_handshake_, send_keepalive_, new_handshake_, zero_key_material_,
                   persistent_keepalive_});
}

// Retransmit: retry up to MAX_TIMER_HANDSHAKES times (20 initiations in all), then give up.
TimerActions PeerTimers::expire_retransmit_handshake(Nanos now) noexcept {
  TimerActions actions;
  if (handshake_attempts_ > wire::spec::kMaxTimerHandshakes) {
    send_keepalive_ = kNever;
    actions.add(TimerAction::kGiveUp);
    if (zero_key_material_ == kNever)
      zero_key_material_ = now + wire::spec::kZeroKeyMaterialTimeout;
  } else {
    ++handshake_attempts_;
    actions.add(TimerAction::kClearEndpointSource);
    actions.add(TimerAction::kSendInitiationRetry);
  }
  return actions;
}

// Passive keepalive. The re-arm for need_another_keepalive happens before the keepalive is
// sent; as in the kernel and Go, the sent-hook of that keepalive then cancels it again.
TimerActions PeerTimers::expire_send_keepalive(Nanos now) noexcept {
  TimerActions actions;
  actions.add(TimerAction::kSendKeepalive);
  if (need_another_keepalive_) {
    need_another_keepalive_ = false;
    send_keepalive_ = now + wire::spec::kKeepaliveTimeout;
  }
  return actions;
}

TimerActions PeerTimers::expire(Nanos now) noexcept {
  TimerActions actions;
  if (retransmit_handshake_ <= now) {
    retransmit_handshake_ = kNever;
    actions.add(expire_retransmit_handshake(now));
  }
  if (new_handshake_ <= now) {
    new_handshake_ = kNever;
    actions.add(TimerAction::kClearEndpointSource);
    actions.add(TimerAction::kSendInitiationNew);
  }
  if (send_keepalive_ <= now) {
    send_keepalive_ = kNever;
    actions.add(expire_send_keepalive(now));
  }
  if (persistent_keepalive_ <= now) {
    persistent_keepalive_ = kNever;
    if (persistent_keepalive_s_ != 0) actions.add(TimerAction::kSendKeepalive);
  }
  if (zero_key_material_ <= now) {
    zero_key_material_ = kNever;
    actions.add(TimerAction::kZeroKeyMaterial);
  }
  return actions;
}

bool PeerTimers::prepare_initiation(Nanos now, bool retry) noexcept {
  if (!retry) handshake_attempts_ = 0;
  return initiation_allowed(last_sent_handshake_, now);
}

bool PeerTimers::want_lastminute_handshake(bool we_initiated, Nanos keypair_birth,
                                           Nanos now) noexcept {
  if (!keep_key_fresh_on_receive(we_initiated, keypair_birth, now, sent_lastminute_handshake_)) {
    return false;
  }
  sent_lastminute_handshake_ = true;
  return true;
}

void PeerTimers::stop() noexcept {
  retransmit_handshake_ = send_keepalive_ = new_handshake_ = kNever;
  zero_key_material_ = persistent_keepalive_ = kNever;
  need_another_keepalive_ = false;
}

}  // namespace meshgate::peer
