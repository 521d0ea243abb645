// DIR-16-8-8 IPv4 table: randomized comparison against the binary trie it is derived from, and
// chunk accounting (chunks follow the prefixes, retired chunks are all reclaimed).
#include "meshgate/peer/ip4_table.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "meshgate/peer/allowed_ips.hpp"
#include "table_model.hpp"

namespace meshgate::peer {
namespace {

// The trie and the table side by side, updated the way AllowedIps updates them.
struct Pair {
  Ip4Trie trie;
  Ip4Table table;

  void insert(std::uint32_t key, unsigned cidr, PeerId peer) {
    trie.insert(key, cidr, peer);
    table.insert(key, cidr, peer);
  }
  bool remove(std::uint32_t key, unsigned cidr, PeerId peer) {
    if (!trie.remove(key, cidr, peer)) return false;
    table.remove(trie, key, cidr);
    return true;
  }
  std::size_t remove_peer(PeerId peer) {
    const auto gone = trie.prefixes_of(peer);
    const std::size_t n = trie.remove_peer(peer);
    for (const auto& [key, cidr] : gone) table.remove(trie, key, cidr);
    return n;
  }
};

constexpr unsigned kCidrs[] = {0, 1, 8, 15, 16, 17, 23, 24, 25, 31, 32};

// Chunks the table must hold for the prefixes in `live`: one per /16 with a longer prefix
// inside, one per /24 with a longer prefix inside.
std::size_t expected_chunks(const std::map<std::pair<std::uint32_t, unsigned>, PeerId>& live) {
  std::set<std::uint32_t> b16;
  std::set<std::uint32_t> b24;
  for (const auto& [pfx, peer] : live) {
    if (pfx.second > 16) b16.insert(pfx.first >> 16);
    if (pfx.second > 24) b24.insert(pfx.first >> 8);
  }
  return b16.size() + b24.size();
}

void run_model(std::uint64_t seed, int steps, unsigned peers) {
  std::mt19937_64 rng(seed);
  // Few bases, low bits flipped from a random position: prefixes nest, collide and share /16s
  // and /24s.
  std::vector<std::uint32_t> bases;
  bases.reserve(6);
  for (int i = 0; i < 4; ++i) bases.push_back(static_cast<std::uint32_t>(rng()));
  bases.push_back(0);
  bases.push_back(0xffffffffU);
  auto random_addr = [&] {
    const std::uint32_t b = bases[rng() % bases.size()];
    const unsigned from = static_cast<unsigned>(rng() % 33);  // bits kept from the base
    const std::uint32_t low = from == 0 ? ~0U : from == 32 ? 0U : (~0U >> from);
    return b ^ (static_cast<std::uint32_t>(rng()) & low);
  };

  Pair t;
  test::TableModel<std::uint32_t> model;
  const auto& live = model.live;
  std::vector<std::uint32_t> probes;
  std::size_t hits = 0;
  std::size_t checked = 0;

  auto check = [&](int step) {
    probes.clear();
    for (int i = 0; i < 300; ++i) probes.push_back(random_addr());
    for (int i = 0; i < 100; ++i) probes.push_back(static_cast<std::uint32_t>(rng()));
    for (const auto& [pfx, peer] : live) {
      const std::uint32_t first = pfx.first;
      const std::uint32_t last = first | ~Ip4Trie::mask_of(pfx.second);
      probes.push_back(first);
      probes.push_back(last);
      probes.push_back(first - 1);  // just outside (wraps at the ends of the space)
      probes.push_back(last + 1);
    }
    std::shuffle(probes.begin(), probes.end(), rng);
    for (std::size_t i = 0; i < probes.size();) {
      const unsigned n = std::min<unsigned>(1 + static_cast<unsigned>(rng() % Ip4Table::kMaxBurst),
                                            static_cast<unsigned>(probes.size() - i));
      PeerId got[Ip4Table::kMaxBurst];
      t.table.lookup_burst(&probes[i], got, n);
      for (unsigned j = 0; j < n; ++j) {
        const std::uint32_t a = probes[i + j];
        const PeerId want = t.trie.lookup(a);
        ASSERT_EQ(t.table.lookup(a), want) << "step " << step << " addr " << std::hex << a;
        ASSERT_EQ(got[j], want) << "step " << step << " burst lane " << j << " addr " << std::hex
                                << a;
        hits += want != kNoPeer;
        ++checked;
      }
      i += n;
    }
    ASSERT_EQ(t.table.chunk_count(), expected_chunks(live)) << "step " << step;
  };

  for (int step = 0; step < steps; ++step) {
    model.step(t, rng, peers, [&] {
      unsigned cidr = kCidrs[rng() % std::size(kCidrs)];
      // /0 and /1 cover most of the space: keep them rarer, or nearly every probe would hit.
      if (cidr <= 1 && rng() % 4 != 0) cidr = kCidrs[2 + rng() % (std::size(kCidrs) - 2)];
      return std::pair{random_addr(), cidr};
    });
    if (::testing::Test::HasFatalFailure()) return;
    check(step);
    if (::testing::Test::HasFatalFailure()) return;
    if (step % 64 == 0) t.table.reclaim();
  }
  // Both answers must be common, or the comparison proves little.
  EXPECT_GT(hits, checked / 10);
  EXPECT_LT(hits, checked * 9 / 10);

  // Emptying the table leaves the root alone.
  for (PeerId p = 0; p < peers; ++p) t.remove_peer(p);
  EXPECT_EQ(t.trie.size(), 0u);
  EXPECT_EQ(t.table.chunk_count(), 0u);
  EXPECT_EQ(t.table.lookup(0x0a000001U), kNoPeer);
  t.table.reclaim();
  EXPECT_EQ(t.table.retired_count(), 0u);
}

TEST(Ip4Table, RandomizedAgainstTrie) {
  run_model(11, 3000, 8);
  if (HasFatalFailure()) return;
  run_model(12, 3000, 2);
}

TEST(Ip4Table, LongestAtMost) {
  Ip4Trie t;
  bool longer = true;
  EXPECT_EQ(t.longest_at_most(0x0a000000U, 16, &longer), kNoPeer);
  EXPECT_FALSE(longer);
  t.insert(0x0a000000U, 8, 1);   // 10/8
  t.insert(0x0a010000U, 16, 2);  // 10.1/16
  t.insert(0x0a010280U, 25, 3);  // 10.1.2.128/25
  t.insert(0x0a020300U, 24, 4);  // 10.2.3/24
  EXPECT_EQ(t.longest_at_most(0x0a010000U, 16, &longer), 2u);
  EXPECT_TRUE(longer);
  EXPECT_EQ(t.longest_at_most(0x0a020000U, 16, &longer), 1u);
  EXPECT_TRUE(longer);
  EXPECT_EQ(t.longest_at_most(0x0a030000U, 16, &longer), 1u);
  EXPECT_FALSE(longer);
  EXPECT_EQ(t.longest_at_most(0x0a010200U, 24, &longer), 2u);
  EXPECT_TRUE(longer);
  unsigned depth = 99;
  EXPECT_EQ(t.longest_at_most(0x0a010280U, 25, &longer, &depth), 3u);  // the exact prefix
  EXPECT_FALSE(longer);
  EXPECT_EQ(depth, 25u);
  EXPECT_EQ(t.longest_at_most(0x0a010281U, 32, &longer, &depth), 3u);
  EXPECT_EQ(depth, 25u);
  EXPECT_EQ(t.longest_at_most(0x0a020000U, 16, &longer, &depth), 1u);
  EXPECT_EQ(depth, 8u);
  EXPECT_EQ(t.longest_at_most(0x0b000000U, 24, &longer, &depth), kNoPeer);
  EXPECT_EQ(depth, 0u);
  EXPECT_EQ(t.longest_at_most(0x0a010300U, 24, &longer), 2u);
  EXPECT_FALSE(longer);
  EXPECT_EQ(t.longest_at_most(0x0a020300U, 24, &longer), 4u);
  EXPECT_FALSE(longer);
  EXPECT_EQ(t.longest_at_most(0x0b000000U, 16, &longer), kNoPeer);
  EXPECT_FALSE(longer);
  // The block is a branch node's prefix: both of its children are inside.
  t.insert(0x0c000000U, 17, 5);
  t.insert(0x0c008000U, 17, 6);
  EXPECT_EQ(t.longest_at_most(0x0c000000U, 16, &longer), kNoPeer);
  EXPECT_TRUE(longer);
}

TEST(Ip4Table, ChunksFollowPrefixes) {
  AllowedIps t;
  std::mt19937_64 rng(5);
  std::vector<IpPrefix> added;
  ASSERT_TRUE(t.insert(IpPrefix::make_v4(0, 0), 5000));  // a default route under everything
  for (int i = 0; i < 100000; ++i) {
    const auto key = 0x0a000000U | (static_cast<std::uint32_t>(rng()) & 0x00ffff00U);
    const auto p = IpPrefix::make_v4(key, 24);
    ASSERT_TRUE(t.insert(p, static_cast<PeerId>(rng() % 1000)));
    added.push_back(p);
  }
  // One level-2 chunk per /16 of 10/8, nothing more.
  EXPECT_LE(t.ip4_chunk_count(), 256u);
  EXPECT_GT(t.ip4_chunk_count(), 200u);
  EXPECT_EQ(t.lookup(0x0b000001U), 5000u);
  // Host routes add level-3 chunks.
  for (std::uint32_t i = 0; i < 16; ++i) {
    ASSERT_TRUE(t.insert(IpPrefix::make_v4(0x0a800001U + (i << 8), 32), 1000 + i));
  }
  EXPECT_LE(t.ip4_chunk_count(), 256u + 16u);
  EXPECT_EQ(t.lookup(0x0a800301U), 1003u);

  // Remove everything: by prefix for most, by peer for the rest.
  std::shuffle(added.begin(), added.end(), rng);
  for (std::size_t i = 0; i < added.size() / 2; ++i) {
    const PeerId who = t.lookup(added[i].v4);  // the /24's owner (or 5000 once it is gone)
    if (who != 5000u) {
      EXPECT_TRUE(t.remove(added[i], who));
    }
  }
  for (PeerId p = 0; p < 1016; ++p) t.remove_peer(p);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.ip4_chunk_count(), 0u);
  EXPECT_EQ(t.lookup(0x0a800301U), 5000u);
  EXPECT_EQ(t.remove_peer(5000), 1u);
  EXPECT_EQ(t.lookup(0x0a800301U), kNoPeer);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.ip4_chunk_count(), 0u);
  EXPECT_GT(t.retired_count(), 0u);
  t.reclaim_all();
  EXPECT_EQ(t.retired_count(), 0u);
}

TEST(Ip4Table, ReclaimHonoursTheMark) {
  AllowedIps t;
  ASSERT_TRUE(t.insert(IpPrefix::make_v4(0x0a000100U, 24), 1));  // a level-2 chunk
  ASSERT_TRUE(t.insert(IpPrefix::make_v4(0x0a000101U, 32), 2));  // and a level-3 chunk
  EXPECT_EQ(t.ip4_chunk_count(), 2u);
  ASSERT_TRUE(t.remove(IpPrefix::make_v4(0x0a000101U, 32), 2));
  EXPECT_EQ(t.ip4_chunk_count(), 1u);
  const AllowedIps::RetireMark mark = t.retire_mark();
  EXPECT_EQ(mark.v4_chunks, 1u);
  ASSERT_TRUE(t.remove(IpPrefix::make_v4(0x0a000100U, 24), 1));
  EXPECT_EQ(t.ip4_chunk_count(), 0u);
  const std::size_t before = t.retired_count();
  t.reclaim(mark);  // frees what was retired before the mark only
  EXPECT_EQ(t.retire_mark().v4_chunks, 1u);
  EXPECT_LT(t.retired_count(), before);
  t.reclaim_all();
  EXPECT_EQ(t.retired_count(), 0u);
}

}  // namespace
}  // namespace meshgate::peer
