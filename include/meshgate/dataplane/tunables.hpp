// The data path's own tunables, in one place: sizes and thresholds we chose, not the protocol's
// (WireGuard's constants are in `spec`, wire/messages.hpp and peer/timers.hpp). Each says what it
// trades, so a change is a decision rather than a search.
#pragma once

#include <cstdint>

namespace meshgate::dataplane::impl {

/// Packets per RX burst, per pipeline stage and per AEAD batch. 32 is DPDK's usual burst: big
/// enough to amortise a poll and an AEAD call, small enough that a burst's packet data and
/// table lines stay in L1/L2 while the one-burst pipeline holds two of them.
inline constexpr unsigned kBurst = 32;

/// Frames one TX buffer holds before it is flushed early: one full burst from each stage that
/// feeds the queue in one poll (outbound plus the ICMP errors and relayed control frames).
inline constexpr unsigned kTxBufferSize = 2 * kBurst;

/// Slots of the per-burst hash table that groups a burst's packets by keypair for the nonce
/// reservation (one fetch_add per keypair): a power of two, at most half full with kBurst keys.
inline constexpr unsigned kNonceSlots = 2 * kBurst;
static_assert((kNonceSlots & (kNonceSlots - 1)) == 0 && kNonceSlots >= 2 * kBurst);

/// Keypair slots per peer (previous, current, next, and one handshake in flight), plus a spare
/// pool for handshakes with peers that have none yet. KeypairTable rounds up to a power of two.
inline constexpr std::uint32_t kKeypairsPerPeer = 4;
inline constexpr std::uint32_t kSpareKeypairs = 64;

/// Idle back-off (Dataplane::idle_backoff): spin this many empty polls with a pause, then sleep
/// kIdleShortSleepUs per empty poll until kIdleLongAfter empty polls, then kIdleLongSleepUs. A
/// sleeping worker adds up to that much latency to the first packet after a quiet spell.
inline constexpr unsigned kIdleSpins = 100;
inline constexpr unsigned kIdleLongAfter = 1000;
inline constexpr long kIdleShortSleepUs = 5;
inline constexpr long kIdleLongSleepUs = 200;

}  // namespace meshgate::dataplane::impl
