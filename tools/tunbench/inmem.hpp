// tunbench inmem: the daemon's own worker code on in-memory packets, next to the raw AEAD
// ceiling of the same core measured in the same run.
//
// How a case runs (one EAL lcore per worker, each with its own TX rings and AeadBatch):
//
//   prepare    [untimed] write the next peer's addresses and a sequence number into each of
//              the worker's C inner frames (IPv4/UDP, fixed payload pattern)
//   outbound   [timed: outbound, both] Worker::outbound() + Worker::flush() per burst: route,
//              key, nonces, seal, outer headers, rte_eth_tx_burst() onto a net_ring TX ring
//   collect    [untimed] dequeue the encrypted frames; a sample is decrypted with libsodium
//              (an independent implementation) and compared with what went in
//   inbound    [timed: inbound, both] Worker::inbound() + Worker::flush() per burst on exactly
//              those frames: classify, keypair, open, replay, source check, decapsulate, TX
//   verify     [untimed] dequeue the LAN frames and compare them byte for byte (all, or a
//              sample) with the frames of the prepare step
//
// --flood RATES mixes handshake initiations into what the receiver's worker takes in (issue 13's
// flood benchmark), at each rate in turn (0: the same case without), and runs the receiver's
// control thread, the daemon's Control, on an lcore of its own, as the daemon runs it beside its
// workers. The rate is initiations per second of the worker's data-path time, so a saturated
// worker sees that many a second: kFloodPoolSize prepared messages (flood.hpp), half with a valid
// mac1 for the control thread's identity, from many Internet sources behind the outer router,
// placed among each trip's frames [the copy into mbufs untimed, as a NIC writes them]. The
// worker hands them to the control thread, which checks mac1 and, under load, answers with cookie
// replies; those leave on its TX ring and are counted. Every initiation is accounted for: taken
// by the control thread or dropped at its full ring (control_ring_full), nothing else.
//
// --relayed routes every peer through a relayed endpoint (docs/nat-traversal.md, "Relayed data
// path"): outbound seals into ChannelData for the TURN server, and the receiver takes the same
// frames as ChannelData from its TURN server (the common outer address and listen port).
//
// Two gateways' tables (site.hpp): a sender whose outbound path is measured and a receiver
// whose inbound path is, with matching keypairs for every peer. What the receiver puts on the
// LAN is the frame the sender took, so the loop closes without copying a byte. Counters only
// grow (one nonce counter per keypair, frames decrypted in the order they were sealed), so the
// replay window never sees a counter twice. Each direction touches only its own site's rows,
// so with many peers neither finds a peer's state in cache because the other just used it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cpu_gaps.hpp"
#include "meshgate/base/result.hpp"

namespace tunbench {

enum class Direction { outbound, inbound, both };
const char* direction_name(Direction d);

inline constexpr unsigned kImix = 0;  // the size value that stands for IMIX
/// The simple IMIX, 7:4:1 of 40, 576 and 1500-byte inner IP packets (average 4084 / 12 =
/// 340.33 B), interleaved; a case's frames hold it whole (Lane::prepare_case).
inline constexpr unsigned kImixPattern[12] = {40, 576, 40, 40, 576, 40, 1500, 40, 576, 40, 40, 576};
/// Inner packet sizes: the smallest frame tunbench builds (IPv4 20, UDP 8 and the 8-byte
/// sequence number it checks), the largest the tunnel MTU can be (config::kMaxMtu).
inline constexpr unsigned kMinSize = 20 + 8 + 8;
/// The largest inner packet of a size choice (a fixed size, or kImix).
unsigned largest_packet(unsigned size);
/// The tunnel MTU a case of that size choice runs at: the gateway's default (1420), or its
/// largest packet where that is larger, so cases up to 1420 B run as they always have.
std::uint16_t case_mtu(unsigned size);

struct InmemOptions {
  std::vector<unsigned> sizes{64, 128, 256, 512, 1024, 1420, kImix};
  std::vector<unsigned> peers{1};
  std::vector<unsigned> workers{1};
  std::vector<Direction> directions{Direction::outbound, Direction::inbound, Direction::both};
  unsigned burst = 32;        // packets per Worker::outbound/inbound call (1..32)
  double duration = 1.0;      // seconds of data-path time per case
  double aead_time = 0.0;     // seconds of raw AEAD time per case; 0: duration / 2
  double slice = 0.1;         // the two alternate in slices of about this length
  unsigned chunk = 256;       // frames per worker in flight around the loop
  unsigned verify_every = 1;  // compare every n-th frame after inbound (0: none)
  unsigned repeat = 1;        // runs per case; the table shows the median
  bool progress = true;
  bool relayed = false;  // every peer through a TURN relay: ChannelData both ways
  /// Handshake initiations a second mixed into inbound, one case per rate (empty: no flood and
  /// no control thread, the stage mode as it always ran).
  std::vector<unsigned> floods;
  /// Gateway mode (gateway.hpp) instead of the stage mode.
  bool gateway = false;
  std::vector<double> loads{0.1, 0.5, 0.9};  // gateway mode: latency at these shares of the max
  unsigned frames = 0;  // gateway mode: distinct frames per feeder (0: gateway_frames())
  unsigned train = 1;   // gateway mode: frames in a row to one peer and prefix (1: uniform)
  /// Gateway mode: one peer's traffic over every worker, as a NIC's hash delivers it. Inbound,
  /// every frame enters on worker 0's RX queue (one feeder: the peer's one outer 5-tuple) and
  /// the workers open each other's bursts (dataplane/spread.hpp); outbound, the peer's inner
  /// flows are spread over every worker's queue (a feeder each, flows of its own).
  bool one_peer = false;
  bool spread = true;  // workers open each other's inbound bursts (Dataplane::spread)
  /// Gateway mode: instead of feeder lcores beside the workers, rounds of this many frames a
  /// fed queue put on the RX rings at once and timed until the workers transmitted them all
  /// (0: feeders). Takes no latency.
  unsigned preload = 0;
  /// Gateway mode, outbound: REKEY_AFTER_TIME in seconds for live handshakes (0: none). The
  /// sending site is then the daemon's Control with the peers configured as `wg set` adds
  /// them; it makes every keypair with a handshake answered by the peers' side (PeerSide, on
  /// the control thread's lcore, one more) and renews them on its own timers, this much
  /// sooner than WireGuard's 120 s so that a run sees it.
  double rekey_after = 0;

  /// Gateway mode's feeder lcores (the main lcore is the first) for `n` workers: one a worker,
  /// but one when only worker 0's queue is fed (--one-peer inbound) or nothing runs beside the
  /// workers (--preload).
  unsigned feeder_lcores(unsigned n) const noexcept {
    return preload != 0 || (one_peer && directions == std::vector{Direction::inbound}) ? 1 : n;
  }
};

/// Gateway mode: the time one packet spent in the gateway at one offered load.
struct LatencyPoint {
  double load = 0;  // the share of the case's maximum rate offered
  double mpps = 0;  // what came out
  double p50_us = 0, p99_us = 0, p999_us = 0;
  std::uint64_t samples = 0;
  std::uint64_t feeder_stalls = 0;  // the feeders' loops held up over 100 us by the machine
  std::uint64_t worker_stalls = 0;  // the workers' polls over 1 ms apart (WorkerStats::stalls)
  std::uint64_t skipped = 0;        // frames due while a feeder was held up, not offered
  std::uint64_t unstamped = 0;      // samples without the worker's transmit time (0 expected)
};

/// One run of one case, all workers together.
struct CaseResult {
  Direction direction{};
  unsigned size = 0;  // kImix for IMIX
  double avg_size = 0;
  std::uint16_t mtu = 0;  // both sites' tunnel MTU (case_mtu)
  unsigned peers = 0, workers = 0, burst = 0;
  std::uint64_t packets = 0;
  double mpps = 0, gbps = 0, cycles_per_packet = 0;
  double aead_mpps = 0, aead_gbps = 0;  // the raw AEAD limit for this direction and size mix
  double ratio = 0;                     // gbps / aead_gbps
  // Gateway mode: the same AEAD on packets out of every cache (lane.hpp's AeadPoolRig), and
  // gbps over it; the ratio above is against packets in cache.
  double aead_uncached_gbps = 0, ratio_uncached = 0;
  // Gateway mode: line_handoff_ns (handoff.hpp) before and after the phases; 0 where not measured.
  double handoff_ns_before = 0, handoff_ns_after = 0;
  CpuGaps worker_cpu;  // gateway mode with latency: what the machine took from worker 0's CPU
  std::uint64_t verified = 0;       // frames compared byte for byte after inbound
  std::uint64_t checked_outer = 0;  // encrypted frames opened with libsodium
  std::uint64_t in_order = 0;       // gateway mode: frames found in order (one out fails the case)
  double seconds = 0;               // timed data-path seconds (per worker, summed)
  // --flood: the rate asked (initiations per second of data-path time; 0 in the baseline case),
  // and what happened to them.
  unsigned flood = 0;
  bool control = false;               // the control thread ran beside the workers
  std::uint64_t flood_sent = 0;       // initiations mixed in
  std::uint64_t flood_ring_full = 0;  // of which the worker dropped: the control ring was full
  std::uint64_t flood_handled = 0;    // of which the control thread took
  std::uint64_t cookies_sent = 0;     // cookie replies it sent
  double flood_rate = 0;              // flood_sent per second of data-path time, all workers
  // Gateway mode.
  bool gateway = false;
  std::vector<LatencyPoint> latency;
  std::uint64_t rekeys = 0;        // receive keypairs rotated during the case (inbound)
  unsigned pool_mbufs = 0;         // the mbuf pool's size
  std::uint64_t frames_bytes = 0;  // distinct frames the feeders cycle through, bytes
  double starved = 0;     // at the maximum rate, the feeders' looks that found the RX ring empty
  double ipv6_share = 0;  // of the frames fed, IPv6 ones (the tables are dual-stack)
  unsigned train = 1;     // frames in a row to one peer and prefix
  unsigned frames = 0;    // distinct frames per feeder
  bool one_peer = false;  // one peer's traffic over every worker (InmemOptions::one_peer)
  unsigned preload = 0;   // frames a fed queue per round (InmemOptions::preload), or 0
  bool spread = true;     // the workers opened each other's inbound bursts
  std::uint64_t opened_for_others = 0;   // packets a worker opened off another's queue
  double rekey_after = 0;                // InmemOptions::rekey_after, or 0
  std::uint64_t handshakes = 0;          // live: handshakes the control thread made during the case
  std::uint64_t keypairs_seen = 0;       // live: the feeders saw a peer's frames change keypair
  double handshake_rate = 0;             // live: handshakes a second of the phases' wall time
  std::uint64_t handshake_requests = 0;  // live: the workers asked for one (one a rekey)
};

/// Gateway mode's distinct frames per feeder unless --frames says: 65536, or 4 a peer of the
/// feeder's where that is more (a power of 2). Inbound, every pass over them rekeys each peer
/// in it (its counters start again), so with fewer frames than peers nearly every frame
/// would come after a rekey: hundreds of times the rate of a real gateway's. So inbound takes
/// as many more as kInboundFrameBytes holds (1,048,576 of 64 B, 131,072 of 1420 B): each
/// rekey then comes that many frames later.
inline constexpr std::size_t kInboundFrameBytes = std::size_t{256} << 20;
unsigned gateway_frames(unsigned peers, unsigned workers, unsigned size, Direction dir);

/// Runs every case of `opt` (sizes x peers x workers x directions, `repeat` times each) on a
/// started EAL; returns the runs in order. Errors: too few lcores, a lost or wrong packet.
meshgate::Result<std::vector<CaseResult>> run_inmem(const InmemOptions& opt);

}  // namespace tunbench
