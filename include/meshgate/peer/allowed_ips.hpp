// Cryptokey routing table: allowed IPs -> peer (whitepaper section 2; protocol.md 8).
//
// One table per interface, an IPv4 and an IPv6 longest-prefix-match trie. A prefix belongs to at
// most one peer: inserting a prefix that another peer holds moves it. Host bits past the CIDR
// are cleared on insert (`wg` warns about them but sends them anyway). IPv4 lookups read a
// DIR-16-8-8 table (ip4_table.hpp, at most three dependent loads), IPv6 lookups a hash table of
// the prefixes by length (ip6_table.hpp, one probe per length present) while there are few
// lengths; the writer derives both from the tries after every change, and the tries keep the
// bookkeeping (prefixes_of, remove_peer) and answer IPv6 lookups when there are many lengths.
//
// Thread contract (see lpm_trie.hpp and ip4_table.hpp for the details):
//  - lookup(), lookup_source_ok(): any thread, lock-free, no allocation; worker lcores call them
//    per packet as RCU readers.
//  - everything else: the control thread only (single writer). Unlinked trie nodes and table
//    chunks wait in retired lists. The control thread takes `m = retire_mark()` when it starts an
//    RCU grace period and calls reclaim(m) once every reader has been quiescent since; nodes
//    retired after the mark stay for the next round.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "meshgate/base/result.hpp"
#include "meshgate/peer/ip.hpp"
#include "meshgate/peer/ip4_table.hpp"
#include "meshgate/peer/ip6_table.hpp"
#include "meshgate/peer/lpm_trie.hpp"

namespace meshgate::peer {

class AllowedIps {
 public:
  // ---- readers (data plane) ----

  /// Outbound routing and inbound checks: the peer whose longest prefix covers `addr`
  /// (host order), or kNoPeer.
  PeerId lookup(std::uint32_t addr) const noexcept { return v4_table_.lookup(addr); }
  PeerId lookup(Ip6 addr) const noexcept {
    return v6_table_.usable() ? v6_table_.lookup(to_key(addr)) : v6_.lookup(to_key(addr));
  }

  /// Burst forms (n <= kMaxBurst): the same answers, with the walks interleaved so that the
  /// cache misses of a large table overlap. Prefer these in the per-burst data path.
  static constexpr unsigned kMaxBurst = Ip4Trie::kMaxBurst;
  void lookup_burst(const std::uint32_t* addrs, PeerId* out, unsigned n) const noexcept {
    v4_table_.lookup_burst(addrs, out, n);
  }
  void lookup_burst(const Ip6* addrs, PeerId* out, unsigned n) const noexcept {
    unsigned __int128 keys[Ip6Trie::kMaxBurst];
    for (unsigned i = 0; i < n; ++i) keys[i] = to_key(addrs[i]);
    if (v6_table_.usable()) {
      v6_table_.lookup_burst(keys, out, n);
    } else {
      v6_.lookup_burst(keys, out, n);
    }
  }

  /// Inbound anti-spoofing check (protocol.md 8.2): the decrypted packet's inner source address
  /// must route back to the peer that owns the decrypting keypair.
  bool lookup_source_ok(std::uint32_t src, PeerId peer) const noexcept {
    return lookup(src) == peer;
  }
  bool lookup_source_ok(Ip6 src, PeerId peer) const noexcept { return lookup(src) == peer; }

  // ---- writer (control thread) ----

  /// Gives `prefix` to `peer`, taking it from any other peer. Errors: cidr past the family's
  /// length, or peer == kNoPeer.
  Status insert(const IpPrefix& prefix, PeerId peer);
  /// What insert() checks: an insert that passed it cannot fail.
  static Status check(const IpPrefix& prefix, PeerId peer);
  Status insert(const Prefix& prefix, PeerId peer) { return insert(IpPrefix::from(prefix), peer); }
  /// Removes exactly `prefix` (host bits ignored) if `peer` owns it; false otherwise.
  bool remove(const IpPrefix& prefix, PeerId peer);
  bool remove(const Prefix& prefix, PeerId peer) { return remove(IpPrefix::from(prefix), peer); }
  /// Removes every prefix of `peer` (peer removal, `replace_allowed_ips`); returns how many.
  std::size_t remove_peer(PeerId peer);
  /// `peer`'s prefixes for `wg show`: IPv4 first, each family in insertion order.
  std::vector<IpPrefix> prefixes_of(PeerId peer) const;
  /// Prefixes in the table, both families.
  std::size_t size() const noexcept { return v4_.size() + v6_.size(); }

  /// Reclamation after an RCU grace period, see the thread contract above.
  struct RetireMark {
    std::size_t v4 = 0;
    std::size_t v6 = 0;
    std::size_t v4_chunks = 0;
    std::size_t v6_tables = 0;
  };
  RetireMark retire_mark() const noexcept {
    return {v4_.retired_count(), v6_.retired_count(), v4_table_.retired_count(),
            v6_table_.retired_count()};
  }
  std::size_t retired_count() const noexcept {
    return v4_.retired_count() + v6_.retired_count() + v4_table_.retired_count() +
           v6_table_.retired_count();
  }
  void reclaim(RetireMark upto) {
    v4_.reclaim(upto.v4);
    v6_.reclaim(upto.v6);
    v4_table_.reclaim(upto.v4_chunks);
    v6_table_.reclaim(upto.v6_tables);
  }
  /// Frees every retired node: only when no reader can hold one (tests, shutdown).
  void reclaim_all() { reclaim(retire_mark()); }
  /// Chunks linked in the IPv4 lookup table (tests check that memory follows the prefixes).
  std::size_t ip4_chunk_count() const noexcept { return v4_table_.chunk_count(); }

  static unsigned __int128 to_key(Ip6 a) noexcept {
    return (static_cast<unsigned __int128>(a.hi) << 64) | a.lo;
  }
  static Ip6 from_key(unsigned __int128 k) noexcept {
    return Ip6{static_cast<std::uint64_t>(k >> 64), static_cast<std::uint64_t>(k)};
  }

 private:
  Ip4Trie v4_;         // the writer's source of truth for IPv4
  Ip4Table v4_table_;  // derived from v4_ after every change; what IPv4 readers use
  Ip6Trie v6_;         // the writer's source of truth for IPv6
  Ip6Table v6_table_;  // derived from v6_ after every change; what IPv6 readers use, if usable()
};

}  // namespace meshgate::peer
