// IPv6 longest-prefix-match table for the data path: every prefix in one hash table keyed by
// (prefix, length), probed from the longest length present down to the shortest; the first
// live entry found is the longest match. Derived from the binary LpmTrie, which stays the
// writer's source of truth, as Ip4Table is for IPv4.
//
// Why: a gateway's IPv6 allowed IPs come in a handful of lengths (a /64 or /48 per site, /128
// hosts, perhaps ::/0), while the path-compressed trie over 10,000 scattered /64s is 14 or more
// nodes deep, one dependent cache miss each. Here a lookup costs one probe per length present
// (one line, usually), and a burst's probes of one length go out together. Past kMaxLengths
// distinct lengths a miss would probe more lines than the trie walks, so usable() turns false
// and readers walk the trie instead; the table is kept up to date either way.
//
// Slots are open-addressed, linear probing, at most half full counting removed entries. A slot
// is claimed once: its key and length are written before its tag is published (release), and
// never change while the table is reachable. Removing a prefix stores kNoPeer in its slot (a
// tombstone that later probes pass over); inserting it again revives the same slot. When live
// and dead slots reach half the table, the writer builds a new table from the live entries,
// publishes it with one release store and retires the old one.
//
// Thread contract (as Ip4Table's):
//  - lookup(), lookup_burst(), usable(): any thread, lock-free; RCU readers (a retired table
//    stays readable until reclaimed). A reader sees each entry's old or new owner; a change of
//    several entries is not atomic as a whole, as for the trie and Ip4Table.
//  - everything else: the control thread only, right after the same change to the trie.
//    reclaim(n) frees the first n retired tables once a grace period has passed since n =
//    retired_count() was taken.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "meshgate/base/huge_array.hpp"
#include "meshgate/base/prefetch.hpp"
#include "meshgate/peer/lpm_trie.hpp"

namespace meshgate::peer {

class Ip6Table {
 public:
  using Key = unsigned __int128;
  static constexpr unsigned kMaxBurst = Ip6Trie::kMaxBurst;
  /// Distinct prefix lengths up to which lookups use this table (see usable()). A miss probes
  /// every length present: 8 lines, where a trie of a few thousand prefixes walks about as
  /// many nodes.
  static constexpr unsigned kMaxLengths = 8;

  Ip6Table() = default;
  ~Ip6Table();
  Ip6Table(const Ip6Table&) = delete;
  Ip6Table& operator=(const Ip6Table&) = delete;

  /// Whether lookups here are the cheaper way: at most kMaxLengths distinct lengths present.
  bool usable() const noexcept { return distinct_.load(std::memory_order_relaxed) <= kMaxLengths; }

  /// Longest-prefix match of `addr`; kNoPeer if nothing covers it.
  PeerId lookup(Key addr) const noexcept {
    Lengths lens = lengths();
    const Table* t = table_.load(std::memory_order_acquire);
    for (int len = lens.next(); len >= 0; len = lens.next()) {
      const auto l = static_cast<unsigned>(len);
      const Key k = addr & Ip6Trie::mask_of(l);
      const PeerId p = t->find(k, l, t->home(k, l));
      if (p != kNoPeer) return p;
    }
    return kNoPeer;
  }

  /// lookup() for `n` <= kMaxBurst addresses: one round per length, longest first; a round
  /// prefetches the home line of every lane still unanswered, then probes them.
  void lookup_burst(const Key* addrs, PeerId* out, unsigned n) const noexcept {
    std::size_t at[kMaxBurst];
    std::uint8_t lane[kMaxBurst];
    for (unsigned i = 0; i < n; ++i) {
      out[i] = kNoPeer;
      lane[i] = static_cast<std::uint8_t>(i);
    }
    Lengths lens = lengths();
    const Table* t = table_.load(std::memory_order_acquire);
    unsigned live = n;
    for (int len = lens.next(); len >= 0 && live != 0; len = lens.next()) {
      const auto l = static_cast<unsigned>(len);
      const Key m = Ip6Trie::mask_of(l);
      for (unsigned j = 0; j < live; ++j) {
        const unsigned i = lane[j];
        at[i] = t->home(addrs[i] & m, l);
        prefetch_read(&t->slots[at[i]]);
      }
      unsigned kept = 0;
      for (unsigned j = 0; j < live; ++j) {
        const unsigned i = lane[j];
        out[i] = t->find(addrs[i] & m, l, at[i]);
        if (out[i] == kNoPeer) lane[kept++] = static_cast<std::uint8_t>(i);
      }
      live = kept;
    }
  }

  // ---- writer (control thread) only ----

  /// The trie has just given key/cidr (cidr <= 128, host bits ignored) to `peer` (new, or moved
  /// from another).
  void insert(Key key, unsigned cidr, PeerId peer);
  /// The trie has just lost key/cidr.
  void remove(Key key, unsigned cidr);
  /// Live prefixes.
  std::size_t size() const noexcept { return live_; }
  /// Slots of the current table (tests check that churn does not grow it without bound).
  std::size_t capacity() const noexcept;
  std::size_t retired_count() const noexcept { return retired_.size(); }
  /// Frees the first `n` retired tables (all by default).
  void reclaim(std::size_t n = ~std::size_t{0});

 private:
  struct alignas(32) Slot {
    Key key = 0;                        // the prefix, host bits zero; written before tag
    std::atomic<PeerId> peer{kNoPeer};  // kNoPeer: removed
    std::atomic<std::uint8_t> tag{0};   // 0: never used; else cidr + 1, published last
  };

  struct Table {
    explicit Table(std::size_t n) : slots(n), mask(n - 1) {}
    HugeArray<Slot> slots;
    std::size_t mask;

    std::size_t home(Key k, unsigned cidr) const noexcept {
      const auto hi = static_cast<std::uint64_t>(k >> 64);
      const auto lo = static_cast<std::uint64_t>(k);
      std::uint64_t h = hi * 0x9e3779b97f4a7c15ULL ^ lo * 0xc2b2ae3d27d4eb4fULL ^ cidr;
      h ^= h >> 32;
      h *= 0xd6e8feb86659fd93ULL;
      return static_cast<std::size_t>(h ^ (h >> 29)) & mask;
    }
    /// The slot of k/cidr, live or removed, probing from slot `i` (its home); nullptr if none.
    const Slot* slot_of(Key k, unsigned cidr, std::size_t i) const noexcept {
      const auto want = static_cast<std::uint8_t>(cidr + 1);
      for (;; i = (i + 1) & mask) {
        const std::uint8_t tag = slots[i].tag.load(std::memory_order_acquire);
        if (tag == 0) return nullptr;
        if (tag == want && slots[i].key == k) return &slots[i];
      }
    }
    /// The owner of k/cidr probing from slot `i`; kNoPeer if absent or removed.
    PeerId find(Key k, unsigned cidr, std::size_t i) const noexcept {
      const Slot* s = slot_of(k, cidr, i);
      return s == nullptr ? kNoPeer : s->peer.load(std::memory_order_relaxed);
    }
    /// Writer: claims the first never-used slot from k/cidr's home (there is one: the table is
    /// at most half full) and publishes it.
    void place(Key k, unsigned cidr, PeerId peer) noexcept;
  };

  /// The lengths present, longest first: a snapshot of the bitmap, one bit per length 0..128.
  struct Lengths {
    std::array<std::uint64_t, 3> w;
    int word = 2;
    int next() noexcept {
      for (; word >= 0; --word) {
        std::uint64_t& bits = w[static_cast<std::size_t>(word)];
        if (bits == 0) continue;
        const int b = 63 - __builtin_clzll(bits);
        bits &= ~(std::uint64_t{1} << b);
        return word * 64 + b;
      }
      return -1;
    }
  };
  Lengths lengths() const noexcept {
    return {{bits_[0].load(std::memory_order_acquire), bits_[1].load(std::memory_order_acquire),
             bits_[2].load(std::memory_order_acquire)}};
  }

  Slot* slot_of(Key k, unsigned cidr) noexcept;  // in table_, see Table::slot_of
  void count_length(unsigned cidr, bool added) noexcept;
  void rebuild(std::size_t capacity);

  // Written by the writer, read by lookups.
  std::atomic<Table*> table_{nullptr};
  std::array<std::atomic<std::uint64_t>, 3> bits_{};
  std::atomic<unsigned> distinct_{0};
  // Writer only.
  std::array<std::uint32_t, 129> per_length_{};
  std::size_t live_ = 0;
  std::size_t used_ = 0;  // slots claimed in table_, live or removed
  std::vector<std::unique_ptr<Table>> retired_;
};

}  // namespace meshgate::peer
