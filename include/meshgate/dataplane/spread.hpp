// One peer's inbound traffic opened by every worker (docs/design.md, "One peer over many
// workers").
//
// All of one WireGuard session's packets carry the same outer 5-tuple, so the NIC puts them on
// one RX queue, owned by one worker. That worker publishes each burst as received in its lane;
// any worker with time to spare claims the next published burst (one compare-and-swap per
// burst), classifies it, finds its keys, opens it, checks the replay window (exact under the
// keypair's lock, whoever checks) and frames the packets for the LAN; the owner then sends the
// bursts' frames strictly in the order it received them, so every inner flow keeps its order
// without any flow being parsed. Outer fragments are the exception: only the owner's table can
// put them together, so a claimer stops classifying at the first one and leaves it and the rest
// of the burst to the owner, who handles them when it sends the job. A claimer holds keypair
// pointers only within its own poll, so RCU's quiescent states need no change: the owner holds
// mbufs only.
#pragma once

#include <rte_config.h>
#include <rte_mbuf.h>

#include <atomic>
#include <cstdint>

#include "meshgate/base/ip.hpp"
#include "meshgate/dataplane/keypairs.hpp"
#include "meshgate/dataplane/tunables.hpp"

namespace meshgate::dataplane {

/// A type-4 message on its way in, classified (Worker::inbound).
struct InPacket {
  rte_mbuf* m;
  Keypair* kp;
  std::uint8_t* payload;  // WireGuard message
  std::uint16_t wg_len;
  std::uint64_t counter;
  std::uint32_t index;  // receiver index
  Endpoint source;
  std::uint8_t outer_ecn;  // the outer IP header's ECN field (RFC 6040 decapsulation)
};

/// Type-4 messages classified, waiting to be opened.
struct InBurst {
  unsigned n = 0;
  InPacket p[impl::kBurst];
};

/// One burst in its owner's window.
struct alignas(64) SpreadJob {
  /// Written by the owner before it publishes the job: the burst as received.
  unsigned n_rx = 0;
  rte_mbuf* rx[impl::kBurst];
  /// Written by the claimer: the frames ready for the LAN port, in the burst's order, from
  /// rx[0..left); rx[left..n_rx), from the first outer fragment on, are the owner's again.
  unsigned n_out = 0;
  unsigned left = 0;
  rte_mbuf* out[impl::kBurst];
  /// Owner: false before it publishes the job. Claimer: true (release) once out[] is final.
  std::atomic<bool> done{false};
};

/// A worker's window of received bursts. Job number s sits in jobs[s % kWindow]; the owner
/// reuses a slot only after it sent that slot's frames, and a job is claimed before it can be
/// sent, so a claim never lands on a slot that moved on.
struct SpreadLane {
  static constexpr unsigned kWindow = 16;
  /// Owner only (release): jobs [0, published) are complete and may be claimed.
  alignas(64) std::atomic<std::uint64_t> published{0};
  /// Every worker, by compare-and-swap: jobs [0, claimed) are someone's.
  alignas(64) std::atomic<std::uint64_t> claimed{0};
  /// Owner only: its own RX queues gave less than a full burst at its last poll, so it has time
  /// to open others' bursts (false until it polls: a worker that never runs helps nobody). Written
  /// when it changes; read by owners choosing to publish.
  alignas(64) std::atomic<bool> spare{false};
  SpreadJob jobs[kWindow];

  /// The oldest published job nobody claimed yet, now the caller's; nullptr if none.
  SpreadJob* claim() noexcept {
    std::uint64_t c = claimed.load(std::memory_order_relaxed);
    while (c < published.load(std::memory_order_acquire)) {
      if (claimed.compare_exchange_weak(c, c + 1, std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
        return &jobs[c % kWindow];
      }
    }
    return nullptr;
  }
  /// Published jobs nobody claimed yet (the owner's view).
  std::uint64_t unclaimed() const noexcept {
    return published.load(std::memory_order_relaxed) - claimed.load(std::memory_order_relaxed);
  }
};

}  // namespace meshgate::dataplane
