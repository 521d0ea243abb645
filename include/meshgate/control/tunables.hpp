// The control thread's own tunables: our choices, not WireGuard's (protocol constants live in
// `meshgate::spec` and `wire::spec`). Each says what it trades.
#pragma once

#include <cstddef>
#include <cstdint>

#include "meshgate/base/time.hpp"

namespace meshgate::control::impl {

/// Timers, neighbour ageing and the operator services run this often. WireGuard's timers have
/// a resolution of tens of milliseconds in the kernel too; finer costs CPU for nothing.
inline constexpr Nanos kTimerPeriod = millis(10);
/// Mbufs (and events) taken from a worker ring per poll: enough that a handshake flood drains
/// in a few polls, small enough that timers still run on time.
inline constexpr unsigned kRingBurst = 64;
/// The loop sleeps this long when a poll found nothing: handshakes are not latency-critical,
/// and a 2-core machine must leave the workers their cores.
inline constexpr Nanos kIdleSleep = 100'000;
/// Inner packets kept per peer while its handshake is pending (the kernel keeps 128).
inline constexpr std::size_t kMaxStaged = 128;
/// Frames kept per next hop while its MAC is being resolved (Linux keeps 3 by default; a burst
/// needs a few more).
inline constexpr std::size_t kMaxUnresolved = 16;
/// "Under load" (mac2 required, per-source rate limit): this many handshake messages waiting
/// in the ring, and for this long after the backlog was last seen.
inline constexpr unsigned kUnderLoadBacklog = 128;
inline constexpr Nanos kUnderLoadLinger = seconds(1);
/// DSCP AF41 on handshake packets, as the kernel sends them.
inline constexpr std::uint8_t kHandshakeTos = 0x88;

/// Mbufs the workers can queue for the control thread (handshakes, ARP/ND, packets for the
/// gateway itself) before they drop with control_ring_full: deeper absorbs a longer handshake
/// burst, but each queued packet holds an mbuf of the pool (GatewayLimits::mbufs, 8191 by
/// default) that the data path then lacks.
inline constexpr unsigned kControlRingSize = 4096;
/// Events (keypair used, endpoint changed, want handshake) the workers can queue before they
/// drop them with control_ring_full: 32 bytes each, so this depth costs 128 KiB and no mbufs.
inline constexpr unsigned kEventRingSize = 4096;
/// Control-thread frames waiting for worker 0 to send them, on a port with no TX queue to spare
/// (AF_XDP on veth): control traffic is a few frames per timer tick, so this is ample; when it
/// is full the control thread drops the frame (tx_full) rather than wait for worker 0.
inline constexpr unsigned kRelayRingSize = 1024;

}  // namespace meshgate::control::impl
