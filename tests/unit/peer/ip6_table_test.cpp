// IPv6 prefix hash table: randomized comparison against the binary trie it is derived from (few
// lengths and many), the switch to the trie past kMaxLengths, and the table's size under churn.
#include "meshgate/peer/ip6_table.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "meshgate/peer/allowed_ips.hpp"
#include "table_model.hpp"

namespace meshgate::peer {
namespace {

using Key = Ip6Table::Key;

// The trie and the table side by side, updated the way AllowedIps updates them.
struct Pair {
  Ip6Trie trie;
  Ip6Table table;

  void insert(Key key, unsigned cidr, PeerId peer) {
    trie.insert(key, cidr, peer);
    table.insert(key, cidr, peer);
  }
  bool remove(Key key, unsigned cidr, PeerId peer) {
    if (!trie.remove(key, cidr, peer)) return false;
    table.remove(key, cidr);
    return true;
  }
  std::size_t remove_peer(PeerId peer) {
    const auto gone = trie.prefixes_of(peer);
    const std::size_t n = trie.remove_peer(peer);
    for (const auto& [key, cidr] : gone) table.remove(key, cidr);
    return n;
  }
};

Key make_key(std::uint64_t hi, std::uint64_t lo) {
  return (Key{hi} << 64) | lo;
}

// Compares the table's single and burst answers with the trie's for `probes`.
void compare(const Pair& t, const std::vector<Key>& probes, std::mt19937_64& rng, int step,
             std::size_t& hits) {
  for (std::size_t i = 0; i < probes.size();) {
    const unsigned n = std::min<unsigned>(1 + static_cast<unsigned>(rng() % Ip6Table::kMaxBurst),
                                          static_cast<unsigned>(probes.size() - i));
    PeerId got[Ip6Table::kMaxBurst];
    t.table.lookup_burst(&probes[i], got, n);
    for (unsigned j = 0; j < n; ++j) {
      const Key a = probes[i + j];
      const PeerId want = t.trie.lookup(a);
      ASSERT_EQ(t.table.lookup(a), want) << "step " << step;
      ASSERT_EQ(got[j], want) << "step " << step << " burst lane " << j;
      hits += want != kNoPeer;
    }
    i += n;
  }
}

// Random inserts, moves, removals and peer removals over prefixes of the lengths in `cidrs`,
// which nest and share their top bits; after each step every answer must be the trie's.
void run_model(std::uint64_t seed, int steps, unsigned peers, const std::vector<unsigned>& cidrs) {
  std::mt19937_64 rng(seed);
  std::vector<Key> bases;
  bases.reserve(4);
  for (int i = 0; i < 4; ++i)
    bases.push_back(make_key(0x20010db800000000ULL | (rng() >> 40), rng()));
  auto random_addr = [&] {
    const Key b = bases[rng() % bases.size()];
    const unsigned from = static_cast<unsigned>(rng() % 129);  // bits kept from the base
    const Key low = from == 128 ? Key{0} : ~Ip6Trie::mask_of(from);
    return b ^ (make_key(rng(), rng()) & low);
  };

  Pair t;
  test::TableModel<Key> model;
  const auto& live = model.live;
  std::size_t hits = 0;
  std::size_t checked = 0;
  std::vector<Key> probes;
  for (int step = 0; step < steps; ++step) {
    model.step(t, rng, peers, [&] {
      unsigned cidr = cidrs[rng() % cidrs.size()];
      // Short prefixes cover most probes: keep them rare, or nearly every probe would hit.
      if (cidr < 40 && rng() % 16 != 0) cidr = cidrs.back();
      return std::pair{random_addr(), cidr};
    });
    if (::testing::Test::HasFatalFailure()) return;
    ASSERT_EQ(t.table.size(), live.size());
    // Random addresses (whose answers are counted), then both ends of every live prefix and
    // the addresses just outside them (which nearly always hit).
    probes.clear();
    for (int i = 0; i < 200; ++i) probes.push_back(random_addr());
    compare(t, probes, rng, step, hits);
    checked += probes.size();
    probes.clear();
    for (const auto& [pfx, owner] : live) {
      const Key last = pfx.first | ~Ip6Trie::mask_of(pfx.second);
      probes.insert(probes.end(), {pfx.first, last, pfx.first - 1, last + 1});
    }
    std::shuffle(probes.begin(), probes.end(), rng);
    std::size_t edge_hits = 0;
    compare(t, probes, rng, step, edge_hits);
    if (::testing::Test::HasFatalFailure()) return;
    if (step % 64 == 0) t.table.reclaim();
  }
  // Both answers must be common, or the comparison proves little.
  EXPECT_GT(hits, checked / 10);
  EXPECT_LT(hits, checked * 9 / 10);
  for (PeerId p = 0; p < peers; ++p) t.remove_peer(p);
  EXPECT_EQ(t.table.size(), 0u);
  EXPECT_TRUE(t.table.usable());
  EXPECT_EQ(t.table.lookup(bases[0]), kNoPeer);
}

TEST(Ip6Table, RandomizedAgainstTrieWithFewLengths) {
  run_model(21, 3000, 8, {0, 32, 48, 56, 64, 127, 128});
  if (HasFatalFailure()) return;
  run_model(22, 3000, 2, {48, 64, 128});
}

// Past kMaxLengths readers walk the trie, but the table must stay exact all the same: it is
// used again as soon as lengths go away.
TEST(Ip6Table, RandomizedAgainstTrieWithManyLengths) {
  std::vector<unsigned> all;
  for (unsigned c = 0; c <= 128; c += 5) all.push_back(c);
  all.push_back(128);
  run_model(23, 2000, 8, all);
}

TEST(Ip6Table, UsableUpToMaxLengths) {
  AllowedIps allowed;
  const Ip6 base{0x20010db800000000ULL, 0};
  for (unsigned i = 0; i <= Ip6Table::kMaxLengths; ++i) {
    const auto cidr = static_cast<std::uint8_t>(64 + i);
    ASSERT_TRUE(allowed.insert(IpPrefix::make_v6(base, cidr), i + 1));
  }
  // 9 lengths, nested: the answer is the longest, from the trie now.
  EXPECT_EQ(allowed.lookup(base), Ip6Table::kMaxLengths + 1);
  const Ip6 outside{0x20010db800000000ULL, 0x8000000000000000ULL};  // only in the /64
  EXPECT_EQ(allowed.lookup(outside), 1u);

  Ip6Table table;
  const Key k = AllowedIps::to_key(base);
  for (unsigned i = 0; i < Ip6Table::kMaxLengths; ++i) table.insert(k, 64 + i, 1);
  EXPECT_TRUE(table.usable());
  table.insert(k, 64 + Ip6Table::kMaxLengths, 2);
  EXPECT_FALSE(table.usable());
  table.insert(k, 64, 3);  // a move adds no length
  EXPECT_FALSE(table.usable());
  table.remove(k, 65);
  EXPECT_TRUE(table.usable());
  EXPECT_EQ(table.lookup(k), 2u);
  EXPECT_EQ(table.lookup(AllowedIps::to_key(outside)), 3u);
}

// Churn of distinct prefixes leaves removed slots behind; the table is rebuilt from the live
// ones, so its size follows the live prefixes, and every old table is retired for reclaim.
TEST(Ip6Table, ChurnKeepsTheTableSmall) {
  Ip6Table table;
  for (std::uint64_t i = 0; i < 100; ++i) table.insert(make_key(0x20010db8ULL << 32 | i, 0), 64, 1);
  for (std::uint64_t i = 100; i < 100000; ++i) {
    const Key k = make_key(0x20010db8ULL << 32 | i, 0);
    table.insert(k, 64, 2);
    ASSERT_EQ(table.lookup(k), 2u);
    table.remove(k, 64);
    ASSERT_EQ(table.lookup(k), kNoPeer);
  }
  EXPECT_EQ(table.size(), 100u);
  EXPECT_LE(table.capacity(), 1024u);
  for (std::uint64_t i = 0; i < 100; ++i) {
    ASSERT_EQ(table.lookup(make_key(0x20010db8ULL << 32 | i, 0x1234)), 1u);
  }
  EXPECT_GT(table.retired_count(), 0u);
  table.reclaim();
  EXPECT_EQ(table.retired_count(), 0u);
}

}  // namespace
}  // namespace meshgate::peer
