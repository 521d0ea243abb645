// Handshake rate limiter (protocol.md 1.2; kernel ratelimiter.c semantics).
//
// Under load, each handshake message (types 1 and 3 carrying a valid mac2) is let through only
// if its source still has a token: a bucket per source refills at 20 packets per second and
// holds at most 5. A source is an IPv4 address or an IPv6 /64, since one host owns a whole /64.
// A new source starts with a full bucket less the packet it sends.
//
// The table is bounded: a source not seen for 1 s has a full bucket again, so gc() drops it
// (allow() runs gc by itself at most once per second). When the table is full, packets from
// sources not yet in it are refused until gc makes room, as in the kernel: under a flood of
// spoofed sources we refuse new work rather than grow.
//
// Buckets are found through SipHash-2-4 with a random per-limiter key, so a remote sender
// cannot choose addresses that collide.
//
// Thread contract: owned and used by the control thread (handshake processing) only. Time is
// passed in (monotonic Nanos), never read here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "meshgate/base/bytes.hpp"
#include "meshgate/base/time.hpp"
#include "meshgate/peer/ip.hpp"
#include "meshgate/wire/constants.hpp"

namespace meshgate::peer {

class RateLimiter {
 public:
  /// One token's worth of time, and the bucket size.
  static constexpr Nanos kPacketCost = kNsPerSec / wire::spec::kHandshakePacketsPerSecond;
  static constexpr Nanos kTokenMax = kPacketCost * wire::spec::kHandshakePacketsBurstable;
  /// Idle time after which an entry is dropped.
  static constexpr Nanos kEntryMaxAge = kNsPerSec;
  /// Kernel default on a machine with more than 1 GiB of memory (8192 buckets x 8).
  static constexpr std::size_t kDefaultMaxEntries = 65536;

  explicit RateLimiter(std::size_t max_entries = kDefaultMaxEntries);

  /// True if a handshake packet from this source may be processed now.
  bool allow(std::uint32_t src_v4, Nanos now);
  bool allow(const Ip6& src_v6, Nanos now);
  /// Either family, as a handshake's source address arrives.
  bool allow(const Endpoint& src, Nanos now) {
    return src.addr.is_v6() ? allow(to_ip6(src.addr), now) : allow(src.addr.v4_host_order(), now);
  }

  /// Drops entries idle for kEntryMaxAge or more.
  void gc(Nanos now);
  /// Drops every entry (interface down).
  void clear() { table_.clear(); }

  std::size_t size() const noexcept { return table_.size(); }
  std::size_t max_entries() const noexcept { return max_entries_; }

 private:
  struct Source {
    std::uint64_t addr;  // IPv4 address, or the top 64 bits of an IPv6 address
    bool v6;
    friend bool operator==(const Source&, const Source&) = default;
  };
  struct Hasher {
    Bytes<16> key;
    std::size_t operator()(const Source& s) const noexcept;
  };
  struct Bucket {
    Nanos last;
    Nanos tokens;  // in nanoseconds of refill time, at most kTokenMax
  };

  bool allow(const Source& src, Nanos now);

  std::unordered_map<Source, Bucket, Hasher> table_;
  std::size_t max_entries_;
  Nanos last_gc_ = 0;
};

}  // namespace meshgate::peer
