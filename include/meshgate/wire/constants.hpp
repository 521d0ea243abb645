// WireGuard protocol timers and limits (whitepaper section 6.1; protocol.md 1.2).
// These are protocol constants, not tunables: both ends of a tunnel assume them. Wire-level
// constants (message types and sizes) are in wire/messages.hpp. Our own tunables (queue sizes,
// thresholds, table limits) are not protocol and never go in `spec`: each layer keeps its own.
#pragma once

#include <cstdint>

#include "meshgate/base/time.hpp"

namespace meshgate::spec {

/// A new handshake is started once the send counter passes this.
constexpr std::uint64_t REKEY_AFTER_MESSAGES = std::uint64_t{1} << 60;
/// Hard message limit per keypair: 2^64 - 2^13 - 1 (whitepaper and wireguard-go; the kernel's
/// receive limit is slightly larger, we use the smaller one for both directions).
constexpr std::uint64_t REJECT_AFTER_MESSAGES = ~std::uint64_t{0} - (std::uint64_t{1} << 13);
static_assert(REJECT_AFTER_MESSAGES == 18446744073709543423ULL);

constexpr Nanos REKEY_AFTER_TIME = seconds(120);
constexpr Nanos REJECT_AFTER_TIME = seconds(180);
constexpr Nanos REKEY_ATTEMPT_TIME = seconds(90);
constexpr Nanos REKEY_TIMEOUT = seconds(5);
constexpr Nanos KEEPALIVE_TIMEOUT = seconds(10);
/// REKEY_ATTEMPT_TIME / REKEY_TIMEOUT: retries before a handshake series gives up.
constexpr unsigned MAX_TIMER_HANDSHAKES = 18;
static_assert(MAX_TIMER_HANDSHAKES == REKEY_ATTEMPT_TIME / REKEY_TIMEOUT);
/// Jitter added to REKEY_TIMEOUT-based timers is uniform in [0, REKEY_TIMEOUT_JITTER_MAX].
constexpr Nanos REKEY_TIMEOUT_JITTER_MAX = millis(333);
/// All key material is wiped when no new session was derived for this long.
constexpr Nanos ZERO_KEY_MATERIAL_TIMEOUT = REJECT_AFTER_TIME * 3;
/// Receiver-side keep-key-fresh threshold: REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT.
constexpr Nanos REKEY_ON_RECEIVE_AGE = REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT;
static_assert(REKEY_ON_RECEIVE_AGE == seconds(165));
/// Lifetime of the cookie secret and of a received cookie.
constexpr Nanos COOKIE_REFRESH_TIME = seconds(120);
/// The kernel uses a received cookie for 120 - 5 s only, so it never sends a mac2 the
/// responder's rotated secret no longer accepts (COOKIE_SECRET_LATENCY).
constexpr Nanos COOKIE_SECRET_LATENCY = seconds(5);
/// A responder drops a second initiation from one peer within this interval (flood guard,
/// kernel INITIATIONS_PER_SECOND = 50).
constexpr Nanos INITIATION_MIN_INTERVAL = kNsPerSec / 50;

/// Handshake rate limiter (kernel ratelimiter.c): per source address (IPv4, or IPv6 /64).
constexpr unsigned HANDSHAKE_PACKETS_PER_SECOND = 20;
constexpr unsigned HANDSHAKE_PACKETS_BURSTABLE = 5;

}  // namespace meshgate::spec
