// Reassembly of outer IPv4/IPv6 fragments on a worker (design.md, "Outer fragments"): a
// WireGuard message that crossed a path with a smaller MTU arrives in pieces, and is put back
// together here before the inbound path classifies it.
//
// One table per worker (DPDK's rte_ip_frag), so no locks: RSS sends every fragment of a datagram
// to the same queue (they share addresses and the IP id, and carry no ports to hash on).
// Memory is bounded: at most `flows` incomplete datagrams, each holding at most
// RTE_LIBRTE_IP_FRAG_MAX_FRAG mbufs, and a datagram not complete after `timeout` is freed.
#pragma once

#include <rte_config.h>
#include <rte_ip_frag.h>
#include <rte_mbuf.h>

#include <cstdint>

#include "meshgate/base/time.hpp"
#include "meshgate/dataplane/drops.hpp"
#include "meshgate/wire/classify.hpp"

namespace meshgate::dataplane {

/// The reassembly table's size and timeout, the same for every worker.
struct ReassemblyLimits {
  unsigned flows = 128;  // incomplete datagrams per worker
  Nanos timeout = seconds(2);

  /// The most mbufs one worker's table can hold (every flow with its most fragments).
  unsigned max_mbufs() const noexcept { return flows * RTE_LIBRTE_IP_FRAG_MAX_FRAG; }
};

/// One worker's reassembly table. Not thread-safe: its worker is its only user.
class Reassembly {
 public:
  Reassembly(const ReassemblyLimits& limits, int socket);
  ~Reassembly();
  Reassembly(const Reassembly&) = delete;
  Reassembly& operator=(const Reassembly&) = delete;

  /// Takes the fragment `m` (classified as `f`, a fragment for our address). Returns the whole
  /// datagram as one single-segment frame (Ethernet header of the first fragment, IP header
  /// without fragmentation) once its last piece came, else nullptr: the fragment waits in the
  /// table, or was freed and counted in `drops` under its reason.
  rte_mbuf* add(rte_mbuf* m, const wire::FrameInfo& f, Nanos now, DropCounters& drops) noexcept;
  /// Frees the datagrams older than the timeout (counted as fragment_expired) and whatever the
  /// table put on its death row. Once per poll.
  void expire(Nanos now, DropCounters& drops) noexcept;

  /// Datagrams completed, for metrics (relaxed reads of a counter only the worker writes).
  const std::uint64_t& reassembled() const noexcept { return reassembled_; }

 private:
  /// Hands a checked fragment to the table; counts what the table dropped.
  rte_mbuf* insert(rte_mbuf* m, bool v6, Nanos now, DropCounters& drops) noexcept;
  /// A completed datagram as one segment with a valid IPv4 checksum; nullptr when dropped.
  static rte_mbuf* finish(rte_mbuf* m, bool v6, DropCounters& drops) noexcept;

  rte_ip_frag_tbl* table_ = nullptr;  // null when it could not be allocated: fragments dropped
  rte_ip_frag_death_row death_row_{};
  std::uint64_t reassembled_ = 0;  // written by the owning worker; read relaxed for metrics
};

}  // namespace meshgate::dataplane
