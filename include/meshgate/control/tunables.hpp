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
/// Every peer's timers are ticked at least this often: a gateway of many peers ticks a slice of
/// them each kTimerPeriod (Timers::run), since walking 100,000 peers' records every period
/// took two thirds of a core with nothing happening (bench/RESULTS.md, bench_control). WireGuard's
/// timers are seconds long with a third of a second of jitter; 100 ms late changes nothing.
inline constexpr Nanos kTimerSweep = millis(100);
/// Up to this many peers, every peer every period: that walk costs about 15 us.
inline constexpr std::uint32_t kTimerSliceMin = 1024;
/// How many peers ahead the timer walk prefetches: far enough to hide a memory access behind
/// the peers in between (each a few dozen nanoseconds of work), near enough to stay in L1.
inline constexpr unsigned kTimerPrefetch = 4;
/// Mbufs (and events) taken from a worker ring per poll: enough that a handshake flood drains
/// in a few polls, small enough that timers still run on time.
inline constexpr unsigned kRingBurst = 64;
/// The loop sleeps this long when a poll found nothing, and twice as long after each poll more
/// that found nothing, up to kIdleSleepMax: handshakes are not latency-critical, and where the
/// control thread shares a CPU (a 2-core machine) each wake takes it from whatever runs there.
/// Idle, 100 us sleeps were 10,000 wakes a second; 1 ms ones are 1,000, and a handshake after
/// a quiet spell waits at most 1 ms more.
inline constexpr Nanos kIdleSleep = 100'000;
inline constexpr Nanos kIdleSleepMax = 1'000'000;
/// Inner packets kept per peer while its handshake is pending (the kernel keeps 128).
inline constexpr std::size_t kMaxStaged = 128;
/// Frames kept per next hop while its MAC is being resolved (Linux keeps 3 by default; a burst
/// needs a few more).
inline constexpr std::size_t kMaxUnresolved = 16;
/// "Under load" (mac2 required, per-source rate limit): this many handshake messages waiting
/// in their ring (other work for the control thread does not count), and for this long after
/// the backlog was last seen.
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
/// Handshake messages the workers can queue (dataplane::Dataplane::handshakes): a flood beyond
/// it is dropped by the workers (control_ring_full), and long before it, at kUnderLoadBacklog,
/// the control thread asks for cookies. Each queued message holds an mbuf of the pool, as in
/// kControlRingSize, so the depth stays small.
inline constexpr unsigned kHandshakeRingSize = 1024;
/// Control-thread frames waiting for worker 0 to send them, on a port with no TX queue to spare
/// (AF_XDP on veth): control traffic is a few frames per timer tick, so this is ample; when it
/// is full the control thread drops the frame (tx_full) rather than wait for worker 0.
inline constexpr unsigned kRelayRingSize = 1024;

// --- NAT traversal: lighthouse and paths (docs/nat-traversal.md, "Coordination") ------------
/// When a probe round pings every direct candidate, after its start: dense at first, because
/// both sides start at about the same time and the first packets through a NAT open it for the
/// other side's next ones, then sparser (the spacing of the design notes' schedule).
inline constexpr Nanos kProbeSchedule[] = {
    0, millis(100), millis(300), millis(700), millis(1500), seconds(3), seconds(5)};
/// A ping on the direct path in use this often; no pong for kDeadAfter and the path is dead.
/// Together they bound the fall back to the relay at kDeadAfter + kHeartbeat (6 s).
inline constexpr Nanos kHeartbeat = seconds(1);
inline constexpr Nanos kDeadAfter = seconds(5);
/// A peer not on a direct path: its lighthouses are asked again and its candidates probed this
/// often, so a NAT that starts to allow a direct path is noticed within a minute.
inline constexpr Nanos kReprobe = seconds(30);
/// The first request about a peer with no working path is repeated after this, then at twice
/// the gap each time up to kReprobe: the peer's first report often comes before its TURN
/// allocation, and the candidates it adds next should not wait half a minute.
inline constexpr Nanos kFirstRequestGap = seconds(2);
/// A gateway reports its candidates to its lighthouses this often (and when they change);
/// a lighthouse forgets a report older than kReportStale.
inline constexpr Nanos kReportPeriod = seconds(20);
inline constexpr Nanos kReportStale = seconds(120);
/// How long after its introduction both sides start probing: enough for the introduction to
/// reach the farther side (one lighthouse round trip on the Internet is under 300 ms).
inline constexpr std::uint16_t kStartInMs = 300;

}  // namespace meshgate::control::impl
