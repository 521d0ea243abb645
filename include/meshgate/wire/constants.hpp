// WireGuard protocol timers and limits (whitepaper section 6.1; protocol.md 1.2).
// These are protocol constants, not tunables: both ends of a tunnel assume them. Wire-level
// constants (message types and sizes) are in wire/messages.hpp. Our own tunables (queue sizes,
// thresholds, table limits) are not protocol and never go in `spec`: each layer keeps its own.
// Names are the whitepaper's in the project's constant case: REKEY_TIMEOUT is kRekeyTimeout.
#pragma once

#include <cstdint>

#include "meshgate/base/time.hpp"

namespace meshgate::wire::spec {

/// A new handshake is started once the send counter passes this.
constexpr std::uint64_t kRekeyAfterMessages = std::uint64_t{1} << 60;
/// Hard message limit per keypair: 2^64 - 2^13 - 1 (whitepaper and wireguard-go; the kernel's
/// receive limit is slightly larger, we use the smaller one for both directions).
constexpr std::uint64_t kRejectAfterMessages = ~std::uint64_t{0} - (std::uint64_t{1} << 13);
static_assert(kRejectAfterMessages == 18446744073709543423ULL);

constexpr Nanos kRekeyAfterTime = seconds(120);
constexpr Nanos kRejectAfterTime = seconds(180);
constexpr Nanos kRekeyAttemptTime = seconds(90);
constexpr Nanos kRekeyTimeout = seconds(5);
constexpr Nanos kKeepaliveTimeout = seconds(10);
/// kRekeyAttemptTime / kRekeyTimeout: retries before a handshake series gives up.
constexpr unsigned kMaxTimerHandshakes = 18;
static_assert(kMaxTimerHandshakes == kRekeyAttemptTime / kRekeyTimeout);
/// Jitter added to kRekeyTimeout-based timers is uniform in [0, kRekeyTimeoutJitterMax].
constexpr Nanos kRekeyTimeoutJitterMax = millis(333);
/// All key material is wiped when no new session was derived for this long.
constexpr Nanos kZeroKeyMaterialTimeout = kRejectAfterTime * 3;
/// Receiver-side keep-key-fresh threshold: kRejectAfterTime - kKeepaliveTimeout - kRekeyTimeout.
constexpr Nanos kRekeyOnReceiveAge = kRejectAfterTime - kKeepaliveTimeout - kRekeyTimeout;
static_assert(kRekeyOnReceiveAge == seconds(165));
/// Lifetime of the cookie secret and of a received cookie.
constexpr Nanos kCookieRefreshTime = seconds(120);
/// The kernel uses a received cookie for 120 - 5 s only, so it never sends a mac2 the
/// responder's rotated secret no longer accepts (COOKIE_SECRET_LATENCY).
constexpr Nanos kCookieSecretLatency = seconds(5);
/// A responder drops a second initiation from one peer within this interval (flood guard,
/// kernel INITIATIONS_PER_SECOND = 50).
constexpr Nanos kInitiationMinInterval = kNsPerSec / 50;

/// Handshake rate limiter (kernel ratelimiter.c): per source address (IPv4, or IPv6 /64).
constexpr unsigned kHandshakePacketsPerSecond = 20;
constexpr unsigned kHandshakePacketsBurstable = 5;

}  // namespace meshgate::wire::spec
