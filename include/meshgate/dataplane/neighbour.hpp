// LAN neighbour table: IPv4/IPv6 address -> MAC, resolved with ARP and NDP by the control thread
// and read lock-free by the workers.
//
// Thread contract: the control thread is the only writer (confirm, learn, want, tick, erase).
// Workers call lookup() only; it is wait-free (at most `capacity` slot probes, no retry loops)
// and its one write is a relaxed "used" mark per entry, the same kind of worker-written
// timestamp the architecture allows (architecture.md 3), which lets tick() re-validate entries in
// use and expire the rest.
//
// States and timers, modelled on Linux's neighbour defaults (net.ipv4.neigh.default.*):
//   incomplete  resolution in progress: a probe every retrans_time (1 s), max_probes (3) in all;
//               lookups miss. No answer -> failed.
//   reachable   confirmed by a reply / solicited NA less than reachable_time (30 s) ago.
//   stale       older than that: still used for forwarding; if a worker used it since the last
//               tick, re-probing starts (unicast, like Linux's PROBE state; there are no upper-
//               layer confirmations here, so Linux's 5 s DELAY state is skipped).
//   probe       stale and being re-probed (unicast, retrans_time apart, max_probes in all);
//               still usable. No answer -> failed.
//   failed      lookups miss; removed after failed_hold (3 s), so the next want() starts over.
//   An entry not used for gc_unused (5 min; Linux's gc_stale_time is 60 s) is removed.
//
// What goes in (against poisoning from a LAN host): entries are created by want() (the gateway
// needs the address) and by learn() for the sender of a request addressed to the gateway itself
// (Linux creates a stale entry for exactly those). Entries learn() created and nobody wanted are
// "unasked": at most a quarter of max_entries() per segment (inner, outer), so a flood of
// requests on one segment can neither fill the table nor take the room of the other segment, and
// want() always finds room. The hash seed is random per table, so nobody outside can aim
// addresses at one probe chain.
//
// Layout: a fixed-capacity open-addressing table (power of two) with linear probing. Slots never
// move while readers may look at them: removal leaves a tombstone (turned back into an empty slot
// when it ends a probe chain), and a reused slot is published with a per-slot sequence word:
// the key words are written after a release fence, then the state word is release-stored; a
// reader re-checks the state word after reading the key and treats any change as a miss. The MAC
// and its valid bit share one std::atomic<uint64_t>, so a reader never sees a torn MAC.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "meshgate/base/ip.hpp"
#include "meshgate/base/result.hpp"
#include "meshgate/base/time.hpp"
#include "meshgate/wire/headers.hpp"

namespace meshgate::dataplane {

struct NeighbourConfig {
  /// Slots; rounded up to a power of two (at least 16). At most 3/4 of them hold entries, so
  /// probe chains stay short.
  std::size_t capacity = 4096;
  Nanos reachable_time = seconds(30);  // Linux base_reachable_time_ms (without its 0.5..1.5 jitter)
  Nanos retrans_time = seconds(1);     // Linux retrans_time_ms
  unsigned max_probes = 3;             // Linux mcast_solicit / ucast_solicit
  Nanos failed_hold = seconds(3);      // how long a failed entry suppresses new probes
  Nanos gc_unused = seconds(300);      // an entry nobody used for this long is removed
  std::uint64_t hash_seed = 0;         // 0: a random one (crafted collisions); tests may fix one
};

/// The LAN segment an entry is on (PortRole's values): each has its own bound on unasked entries.
inline constexpr unsigned kNeighbourSegments = 2;

enum class NeighState : std::uint8_t { incomplete, reachable, stale, probe, failed };

/// One address to (re)probe, from tick(): broadcast / multicast when `unicast_to` is empty,
/// unicast to the known MAC when re-validating a stale entry.
struct NeighbourProbe {
  IpAddr ip;
  std::optional<wire::MacAddr> unicast_to;
};

class NeighbourTable {
 public:
  explicit NeighbourTable(const NeighbourConfig& cfg = {});
  ~NeighbourTable();
  NeighbourTable(const NeighbourTable&) = delete;
  NeighbourTable& operator=(const NeighbourTable&) = delete;

  // --- workers ---------------------------------------------------------------------------------

  /// The MAC of a reachable, stale or probed entry; nullopt otherwise. Wait-free.
  std::optional<wire::MacAddr> lookup(const IpAddr& ip) const noexcept;

  // --- control thread --------------------------------------------------------------------------

  /// A reply (ARP reply, solicited NA) proves `ip` is at `mac` now: the entry becomes reachable,
  /// created if absent. Error only when the table is full.
  Status confirm(const IpAddr& ip, const wire::MacAddr& mac, Nanos now);
  /// Unconfirmed news of a mapping (a request addressed to the gateway, a gratuitous ARP):
  /// creates or updates the entry as stale, as Linux does. A reachable entry with the same MAC
  /// stays reachable. A new entry is "unasked" on `segment` (< kNeighbourSegments); error when
  /// that segment already holds its share of them, or the table is full.
  Status learn(const IpAddr& ip, const wire::MacAddr& mac, Nanos now, unsigned segment = 0);
  /// A worker needed `ip` and missed. True when a broadcast / multicast probe should be sent now
  /// (a new incomplete entry); false while resolution is in progress, failed recently, or the
  /// entry is usable. Error when the table is full.
  Result<bool> want(const IpAddr& ip, Nanos now);
  /// Advances timers: returns the addresses to (re)probe now and expires entries. Call every
  /// 100 ms .. 1 s; cost is O(capacity).
  std::vector<NeighbourProbe> tick(Nanos now);
  /// Removes an entry (an interface address change, an operator flush). False if absent.
  bool erase(const IpAddr& ip);

  std::optional<NeighState> state(const IpAddr& ip) const;
  std::size_t size() const noexcept { return live_; }
  std::size_t capacity() const noexcept { return mask_ + 1; }
  std::size_t max_entries() const noexcept { return max_live_; }
  /// Entries learn() created that nobody wanted since, on `segment`.
  std::size_t unasked(unsigned segment) const noexcept { return unasked_[segment]; }
  std::uint64_t hash_seed() const noexcept { return cfg_.hash_seed; }

 private:
  struct Slot;
  struct Meta;

  std::size_t home(const IpAddr& ip) const noexcept;
  /// Control-side search: the slot holding ip, or npos.
  std::size_t find(const IpAddr& ip) const noexcept;
  /// The slot for a new entry (first tombstone or the empty slot ending the chain), or npos.
  Result<std::size_t> insert(const IpAddr& ip, Nanos now);
  void set_mac(std::size_t i, const wire::MacAddr& mac, bool valid) noexcept;
  void remove(std::size_t i) noexcept;
  void tick_slot(std::size_t i, Nanos now, std::vector<NeighbourProbe>& out);

  NeighbourConfig cfg_;
  std::size_t mask_ = 0;
  std::size_t max_live_ = 0;
  std::size_t live_ = 0;
  std::size_t unasked_[kNeighbourSegments] = {};
  std::unique_ptr<Slot[]> slots_;  // shared with workers
  std::unique_ptr<Meta[]> meta_;   // control thread only
};

}  // namespace meshgate::dataplane
