// Allowed-IPs table: hand-written cases in the spirit of the kernel allowedips selftest, a
// randomized comparison against a naive longest-prefix model, and concurrent readers.
#include "meshgate/peer/allowed_ips.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace meshgate::peer {
namespace {

std::uint32_t v4(const char* s) {
  std::uint8_t b[4];
  EXPECT_EQ(inet_pton(AF_INET, s, b), 1) << s;
  return ip4_load(b);
}
Ip6 v6(const char* s) {
  std::uint8_t b[16];
  EXPECT_EQ(inet_pton(AF_INET6, s, b), 1) << s;
  return Ip6::load(b);
}
IpPrefix p4(const char* s, unsigned cidr) {
  return IpPrefix::make_v4(v4(s), static_cast<std::uint8_t>(cidr));
}
IpPrefix p6(const char* s, unsigned cidr) {
  return IpPrefix::make_v6(v6(s), static_cast<std::uint8_t>(cidr));
}

constexpr PeerId A = 1, B = 2, C = 3, D = 4, E = 5, F = 6, G = 7, H = 8;

TEST(AllowedIps, OverlappingPrefixesV4) {
  AllowedIps t;
  ASSERT_TRUE(t.insert(p4("192.168.4.0", 24), A));
  ASSERT_TRUE(t.insert(p4("192.168.4.4", 32), B));
  ASSERT_TRUE(t.insert(p4("192.168.0.0", 16), C));
  ASSERT_TRUE(t.insert(p4("192.95.5.64", 27), D));
  ASSERT_TRUE(t.insert(p4("192.95.5.65", 27), C));  // same /27 after masking: moves to C
  ASSERT_TRUE(t.insert(p4("10.0.0.0", 8), E));
  ASSERT_TRUE(t.insert(p4("10.1.0.0", 16), F));
  ASSERT_TRUE(t.insert(p4("10.1.1.0", 24), G));
  ASSERT_TRUE(t.insert(p4("10.1.1.128", 25), H));

  EXPECT_EQ(t.lookup(v4("192.168.4.20")), A);
  EXPECT_EQ(t.lookup(v4("192.168.4.0")), A);
  EXPECT_EQ(t.lookup(v4("192.168.4.4")), B);
  EXPECT_EQ(t.lookup(v4("192.168.200.182")), C);
  EXPECT_EQ(t.lookup(v4("192.95.5.68")), C);
  EXPECT_EQ(t.lookup(v4("192.95.5.96")), kNoPeer);
  EXPECT_EQ(t.lookup(v4("10.200.0.1")), E);
  EXPECT_EQ(t.lookup(v4("10.1.2.3")), F);
  EXPECT_EQ(t.lookup(v4("10.1.1.3")), G);
  EXPECT_EQ(t.lookup(v4("10.1.1.200")), H);
  EXPECT_EQ(t.lookup(v4("11.0.0.0")), kNoPeer);
  EXPECT_EQ(t.lookup(v4("9.255.255.255")), kNoPeer);
  EXPECT_EQ(t.size(), 8u);
  EXPECT_TRUE(t.prefixes_of(D).empty());
  EXPECT_TRUE(t.lookup_source_ok(v4("10.1.1.200"), H));
  EXPECT_FALSE(t.lookup_source_ok(v4("10.1.1.200"), G));
}

TEST(AllowedIps, OverlappingPrefixesV6) {
  AllowedIps t;
  ASSERT_TRUE(t.insert(p6("2607:5300:4000::", 64), D));
  ASSERT_TRUE(t.insert(p6("2607:5300:4000::", 48), C));
  ASSERT_TRUE(t.insert(p6("2607:5300:4000::7", 128), B));
  ASSERT_TRUE(t.insert(p6("2001:db8::", 32), A));
  ASSERT_TRUE(t.insert(p6("2001:db8:0:1::", 64), E));
  ASSERT_TRUE(t.insert(p6("2001:db8:0:1:8000::", 65), F));

  EXPECT_EQ(t.lookup(v6("2607:5300:4000::1")), D);
  EXPECT_EQ(t.lookup(v6("2607:5300:4000::7")), B);
  EXPECT_EQ(t.lookup(v6("2607:5300:4000:1::1")), C);
  EXPECT_EQ(t.lookup(v6("2607:5300:4001::1")), kNoPeer);
  EXPECT_EQ(t.lookup(v6("2001:db8:ffff::1")), A);
  EXPECT_EQ(t.lookup(v6("2001:db8:0:1::1")), E);
  EXPECT_EQ(t.lookup(v6("2001:db8:0:1:8000::1")), F);
  EXPECT_EQ(t.lookup(v6("2001:db8:0:1:7fff::1")), E);
  EXPECT_EQ(t.lookup(v6("::1")), kNoPeer);
  const Ip6 burst[] = {v6("2607:5300:4000::1"), v6("::1"), v6("2001:db8:0:1:8000::1")};
  PeerId got[3];
  t.lookup_burst(burst, got, 3);
  EXPECT_EQ(got[0], D);
  EXPECT_EQ(got[1], kNoPeer);
  EXPECT_EQ(got[2], F);
  // The IPv4 trie is separate: ::ffff:a.b.c.d style overlap does not leak across families.
  EXPECT_EQ(t.lookup(v4("0.0.0.1")), kNoPeer);
}

TEST(AllowedIps, DefaultRoutesAndFullLength) {
  AllowedIps t;
  ASSERT_TRUE(t.insert(p4("0.0.0.0", 0), A));
  ASSERT_TRUE(t.insert(p6("::", 0), B));
  EXPECT_EQ(t.lookup(v4("1.2.3.4")), A);
  EXPECT_EQ(t.lookup(v4("255.255.255.255")), A);
  EXPECT_EQ(t.lookup(v6("fe80::1")), B);
  ASSERT_TRUE(t.insert(p4("1.2.3.4", 32), C));
  ASSERT_TRUE(t.insert(p6("fe80::1", 128), D));
  ASSERT_TRUE(t.insert(p4("255.255.255.255", 32), E));
  ASSERT_TRUE(t.insert(p6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 128), F));
  EXPECT_EQ(t.lookup(v4("1.2.3.4")), C);
  EXPECT_EQ(t.lookup(v4("1.2.3.5")), A);
  EXPECT_EQ(t.lookup(v4("255.255.255.255")), E);
  EXPECT_EQ(t.lookup(v6("fe80::1")), D);
  EXPECT_EQ(t.lookup(v6("fe80::2")), B);
  EXPECT_EQ(t.lookup(v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")), F);
  // A /0 set with host bits is still the default route.
  ASSERT_TRUE(t.insert(p4("8.8.8.8", 0), G));
  EXPECT_EQ(t.lookup(v4("9.9.9.9")), G);
  EXPECT_EQ(t.prefixes_of(G), std::vector<IpPrefix>{p4("0.0.0.0", 0)});
  EXPECT_TRUE(t.remove(p4("0.0.0.0", 0), G));
  EXPECT_EQ(t.lookup(v4("9.9.9.9")), kNoPeer);
  EXPECT_EQ(t.lookup(v4("1.2.3.4")), C);
}

TEST(AllowedIps, HostBitsAreMasked) {
  AllowedIps t;
  ASSERT_TRUE(t.insert(p4("192.168.4.77", 24), A));
  ASSERT_TRUE(t.insert(p6("2001:db8::dead:beef", 64), A));
  const std::vector<IpPrefix> want = {p4("192.168.4.0", 24), p6("2001:db8::", 64)};
  EXPECT_EQ(t.prefixes_of(A), want);
  EXPECT_EQ(t.prefixes_of(A)[0].to_string(), "192.168.4.0/24");
  EXPECT_EQ(t.prefixes_of(A)[1].to_string(), "2001:db8::/64");
  EXPECT_EQ(t.lookup(v4("192.168.4.1")), A);
  // Removal masks too.
  EXPECT_TRUE(t.remove(p4("192.168.4.200", 24), A));
  EXPECT_EQ(t.lookup(v4("192.168.4.1")), kNoPeer);
}

TEST(AllowedIps, MovesBetweenPeersAndExactRemove) {
  AllowedIps t;
  ASSERT_TRUE(t.insert(p4("10.0.0.0", 8), A));
  ASSERT_TRUE(t.insert(p4("10.0.0.0", 16), A));
  ASSERT_TRUE(t.insert(p4("10.0.0.0", 8), B));  // moves
  EXPECT_EQ(t.lookup(v4("10.9.9.9")), B);
  EXPECT_EQ(t.lookup(v4("10.0.9.9")), A);
  EXPECT_EQ(t.prefixes_of(A), std::vector<IpPrefix>{p4("10.0.0.0", 16)});
  EXPECT_EQ(t.prefixes_of(B), std::vector<IpPrefix>{p4("10.0.0.0", 8)});
  EXPECT_EQ(t.size(), 2u);

  EXPECT_FALSE(t.remove(p4("10.0.0.0", 8), A));   // owned by B now
  EXPECT_FALSE(t.remove(p4("10.0.0.0", 9), B));   // not an exact prefix
  EXPECT_FALSE(t.remove(p4("10.0.0.0", 24), A));  // covered by A's /16, but not in the table
  EXPECT_FALSE(t.remove(p4("10.0.0.0", 33), A));  // bad length
  EXPECT_EQ(t.lookup(v4("10.9.9.9")), B);
  EXPECT_TRUE(t.remove(p4("10.0.0.0", 8), B));
  EXPECT_EQ(t.lookup(v4("10.9.9.9")), kNoPeer);
  EXPECT_EQ(t.lookup(v4("10.0.9.9")), A);
  EXPECT_FALSE(t.remove(p4("10.0.0.0", 8), B));  // gone
}

TEST(AllowedIps, RemovePeerLeavesOthers) {
  AllowedIps t;
  ASSERT_TRUE(t.insert(p4("10.0.0.0", 8), A));
  ASSERT_TRUE(t.insert(p4("10.1.0.0", 16), B));
  ASSERT_TRUE(t.insert(p4("10.1.1.0", 24), A));
  ASSERT_TRUE(t.insert(p6("fd00::", 8), A));
  ASSERT_TRUE(t.insert(p6("fd00:1::", 32), B));
  EXPECT_EQ(t.remove_peer(A), 3u);
  EXPECT_EQ(t.remove_peer(A), 0u);
  EXPECT_EQ(t.lookup(v4("10.1.1.1")), B);
  EXPECT_EQ(t.lookup(v4("10.2.0.0")), kNoPeer);
  EXPECT_EQ(t.lookup(v6("fd00:1::1")), B);
  EXPECT_EQ(t.lookup(v6("fd00:2::1")), kNoPeer);
  EXPECT_TRUE(t.prefixes_of(A).empty());
  EXPECT_EQ(t.prefixes_of(B).size(), 2u);
  EXPECT_EQ(t.remove_peer(B), 2u);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_GT(t.retired_count(), 0u);
  t.reclaim_all();
  EXPECT_EQ(t.retired_count(), 0u);
}

TEST(AllowedIps, RejectsBadInput) {
  AllowedIps t;
  EXPECT_FALSE(t.insert(p4("10.0.0.0", 33), A).ok());
  EXPECT_FALSE(t.insert(p6("::", 129), A).ok());
  EXPECT_FALSE(t.insert(p4("10.0.0.0", 8), kNoPeer).ok());
  EXPECT_EQ(t.size(), 0u);
}

TEST(AllowedIps, PrefixesListedInInsertionOrder) {
  AllowedIps t;
  const char* addrs[] = {"10.3.0.0", "10.1.0.0", "10.2.0.0", "10.0.0.0"};
  for (const char* a : addrs) ASSERT_TRUE(t.insert(p4(a, 16), A));
  std::vector<IpPrefix> want;
  for (const char* a : addrs) want.push_back(p4(a, 16));
  EXPECT_EQ(t.prefixes_of(A), want);
  ASSERT_TRUE(t.insert(p4("10.1.0.0", 16), A));  // re-insert by the owner keeps its place
  EXPECT_EQ(t.prefixes_of(A), want);
}

TEST(LpmTrie, RemovalsLeaveNoBranchNodes) {
  Ip4Trie t;
  std::mt19937 rng(7);
  std::vector<std::pair<std::uint32_t, unsigned>> added;
  for (int i = 0; i < 2000; ++i) {
    const std::uint32_t key = static_cast<std::uint32_t>(rng()) & 0xff0fff00U;
    const unsigned cidr = 8 + rng() % 25;
    t.insert(key, cidr, 1 + rng() % 5);
    added.emplace_back(key, cidr);
  }
  EXPECT_LE(t.node_count(), 2 * t.size());
  std::shuffle(added.begin(), added.end(), rng);
  for (auto [key, cidr] : added) {
    for (PeerId p = 1; p <= 5; ++p) t.remove(key, cidr, p);
  }
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.node_count(), 0u);
  EXPECT_EQ(t.lookup(0x0a000001U), kNoPeer);
  t.reclaim();
  EXPECT_EQ(t.retired_count(), 0u);
}

// ---- randomized comparison against a naive model ----

template <class Key>
class NaiveLpm {
 public:
  static constexpr unsigned kBits = sizeof(Key) * 8;
  void insert(Key k, unsigned cidr, PeerId p) { map_[{k & LpmTrie<Key>::mask_of(cidr), cidr}] = p; }
  bool remove(Key k, unsigned cidr, PeerId p) {
    auto it = map_.find({k & LpmTrie<Key>::mask_of(cidr), cidr});
    if (it == map_.end() || it->second != p) return false;
    map_.erase(it);
    return true;
  }
  std::size_t remove_peer(PeerId p) {
    return std::erase_if(map_, [p](const auto& kv) { return kv.second == p; });
  }
  PeerId lookup(Key a) const {
    for (int c = kBits; c >= 0; --c) {
      const unsigned cidr = static_cast<unsigned>(c);
      auto it = map_.find({a & LpmTrie<Key>::mask_of(cidr), cidr});
      if (it != map_.end()) return it->second;
    }
    return kNoPeer;
  }
  std::set<std::pair<Key, unsigned>> prefixes_of(PeerId p) const {
    std::set<std::pair<Key, unsigned>> out;
    for (const auto& [k, v] : map_) {
      if (v == p) out.insert(k);
    }
    return out;
  }
  const std::map<std::pair<Key, unsigned>, PeerId>& entries() const { return map_; }

 private:
  std::map<std::pair<Key, unsigned>, PeerId> map_;
};

// Clustered random keys, so prefixes overlap and share long paths.
template <class Key>
Key random_key(std::mt19937_64& rng, const std::vector<Key>& bases) {
  Key k = bases[rng() % bases.size()];
  const unsigned flip_from = static_cast<unsigned>(rng() % (sizeof(Key) * 8));
  Key noise = static_cast<Key>(rng());
  if constexpr (sizeof(Key) > 8) noise = (noise << 64) | rng();
  const Key low =
      flip_from == 0 ? ~Key{0} : static_cast<Key>((Key{1} << (sizeof(Key) * 8 - flip_from)) - 1);
  return k ^ (noise & low);
}

template <class Key>
void run_randomized(std::uint64_t seed, int ops, unsigned peers) {
  constexpr unsigned kBits = sizeof(Key) * 8;
  std::mt19937_64 rng(seed);
  std::vector<Key> bases;
  for (int i = 0; i < 16; ++i) {
    Key b = static_cast<Key>(rng());
    if constexpr (sizeof(Key) > 8) b = (b << 64) | rng();
    bases.push_back(b);
  }
  LpmTrie<Key> trie;
  NaiveLpm<Key> model;
  auto random_cidr = [&] {
    const unsigned r = static_cast<unsigned>(rng() % 100);
    if (r == 0) return static_cast<unsigned>(rng() % (kBits + 1));  // anything, /0 included
    if (r < 30) return kBits;                                       // host routes
    return kBits / 4 + static_cast<unsigned>(rng() % (kBits * 3 / 4));
  };
  std::size_t hits = 0;
  std::size_t probes = 0;
  Key burst[LpmTrie<Key>::kMaxBurst];
  PeerId burst_want[LpmTrie<Key>::kMaxBurst];
  unsigned burst_n = 0;
  unsigned burst_size = LpmTrie<Key>::kMaxBurst;
  auto compare_lookups = [&](int n) {
    for (int i = 0; i < n; ++i) {
      Key a;
      if (!model.entries().empty() && rng() % 2 == 0) {
        auto it = model.entries().begin();
        std::advance(it,
                     static_cast<long>(rng() % std::min<std::size_t>(model.entries().size(), 64)));
        a = it->first.first | (random_key(rng, bases) & ~LpmTrie<Key>::mask_of(it->first.second));
      } else {
        a = random_key(rng, bases);
      }
      const PeerId want = model.lookup(a);
      ASSERT_EQ(trie.lookup(a), want);
      hits += want != kNoPeer;
      ++probes;
      burst[burst_n] = a;
      burst_want[burst_n] = want;
      if (++burst_n == burst_size || i + 1 == n) {  // the burst form must agree lane by lane
        PeerId got[LpmTrie<Key>::kMaxBurst];
        trie.lookup_burst(burst, got, burst_n);
        for (unsigned j = 0; j < burst_n; ++j) ASSERT_EQ(got[j], burst_want[j]) << j;
        burst_n = 0;
        burst_size = 1 + static_cast<unsigned>(rng() % LpmTrie<Key>::kMaxBurst);
      }
    }
  };
  std::vector<std::pair<Key, unsigned>> history;
  for (int op = 0; op < ops; ++op) {
    const unsigned r = static_cast<unsigned>(rng() % 100);
    const PeerId peer = static_cast<PeerId>(rng() % peers);
    if (r < 65 || history.empty()) {
      const Key k = random_key(rng, bases);
      const unsigned cidr = random_cidr();
      trie.insert(k, cidr, peer);
      model.insert(k, cidr, peer);
      history.emplace_back(k, cidr);
    } else if (r < 98) {
      auto [k, cidr] = history[rng() % history.size()];
      // Right owner about half the time; a wrong peer id must change nothing.
      PeerId who = peer;
      auto it = model.entries().find({k & LpmTrie<Key>::mask_of(cidr), cidr});
      if (it != model.entries().end() && rng() % 2 == 0) who = it->second;
      ASSERT_EQ(trie.remove(k, cidr, who), model.remove(k, cidr, who));
    } else {
      ASSERT_EQ(trie.remove_peer(peer), model.remove_peer(peer));
    }
    ASSERT_EQ(trie.size(), model.entries().size());
    if (op % 50 == 0) compare_lookups(200);
    if (op % 500 == 0) trie.reclaim();
  }
  compare_lookups(5000);
  for (PeerId p = 0; p < peers; ++p) {
    auto got = trie.prefixes_of(p);
    std::set<std::pair<Key, unsigned>> got_set(got.begin(), got.end());
    EXPECT_EQ(got.size(), got_set.size());
    EXPECT_EQ(got_set, model.prefixes_of(p)) << "peer " << p;
  }
  EXPECT_LE(trie.node_count(), 2 * trie.size() + 1);
  // Both answers must be common, or the comparison proves little.
  EXPECT_GT(hits, probes / 5);
  EXPECT_LT(hits, probes * 95 / 100);
}

TEST(LpmTrie, RandomizedV4AgainstNaiveModel) {
  run_randomized<std::uint32_t>(1, 6000, 24);
  run_randomized<std::uint32_t>(2, 6000, 3);
}

TEST(LpmTrie, RandomizedV6AgainstNaiveModel) {
  run_randomized<unsigned __int128>(3, 4000, 24);
  run_randomized<unsigned __int128>(4, 4000, 3);
}

// ---- concurrent readers ----

// The writer runs a schedule fixed in advance; for each probe address we know every peer that
// the schedule ever gives a covering prefix. A reader must only ever see one of those, or none.
struct Schedule {
  struct Op {
    bool insert;
    std::uint32_t key;
    unsigned cidr;
    PeerId peer;
  };
  std::vector<Op> ops;
  std::vector<std::uint32_t> probes;
  std::vector<std::uint64_t> allowed;  // per probe, bit p: peer p may answer; bit 63: none may

  // Prefix lengths from /16 to /32 in steps of `len_step`.
  explicit Schedule(std::uint64_t seed, unsigned len_step = 1) {
    constexpr unsigned kPeers = 32;
    std::mt19937_64 rng(seed);
    std::vector<std::pair<std::uint32_t, unsigned>> prefixes;
    for (int i = 0; i < 400; ++i) {
      const std::uint32_t key = 0x0a000000U | (static_cast<std::uint32_t>(rng()) & 0x00ffffffU);
      const unsigned cidr = 16 + static_cast<unsigned>(rng() % 17) / len_step * len_step;
      prefixes.emplace_back(key, cidr);  // few overlaps
    }
    for (int i = 0; i < 20000; ++i) {
      auto [key, cidr] = prefixes[rng() % prefixes.size()];
      // Each prefix has two possible owners, so "impossible" answers exist.
      const PeerId peer = static_cast<PeerId>((key >> 8 ^ cidr ^ (rng() % 2)) % kPeers);
      ops.push_back({rng() % 3 != 0, key, cidr, peer});
    }
    for (int i = 0; i < 4096; ++i) {
      auto [key, cidr] = prefixes[rng() % prefixes.size()];
      const std::uint32_t a = key | (static_cast<std::uint32_t>(rng()) & ~Ip4Trie::mask_of(cidr));
      std::uint64_t bits = std::uint64_t{1} << 63;
      for (const Op& op : ops) {
        if (op.insert && ((a ^ op.key) & Ip4Trie::mask_of(op.cidr)) == 0) {
          bits |= std::uint64_t{1} << op.peer;
        }
      }
      probes.push_back(a);
      allowed.push_back(bits);
    }
  }
  bool ok(std::size_t probe, PeerId p) const {
    return (allowed[probe] >> (p == kNoPeer ? 63 : p) & 1) != 0;
  }
};

// The same schedule in IPv6: each IPv4 prefix k/c becomes 2001:db8::k/(96 + c).
Ip6 as_v6(std::uint32_t a) {
  return Ip6{0x20010db800000000ULL, a};
}
IpPrefix prefix_of(const Schedule::Op& op, bool v6) {
  return v6 ? IpPrefix::make_v6(as_v6(op.key), static_cast<std::uint8_t>(op.cidr + 96))
            : IpPrefix::make_v4(op.key, static_cast<std::uint8_t>(op.cidr));
}

// One reader thread looks up every probe, singly and in bursts, while the writer runs the
// schedule and reclaims after grace periods; every answer must be one the schedule allows.
void lookups_during_updates(const Schedule& sched, bool v6) {
  std::vector<Ip6> probes6;
  for (const std::uint32_t a : sched.probes) probes6.push_back(as_v6(a));
  const auto& probes = sched.probes;
  const auto& schedule = sched.ops;
  AllowedIps table;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> quiescent{0};  // the reader's QSBR counter
  std::atomic<std::uint64_t> bad{0};
  std::atomic<std::uint64_t> lookups{0};
  std::thread reader([&] {
    std::uint64_t n = 0;
    std::uint64_t local_bad = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      for (std::size_t i = 0; i < probes.size(); ++i) {
        local_bad += !sched.ok(i, v6 ? table.lookup(probes6[i]) : table.lookup(probes[i]));
      }
      for (std::size_t i = 0; i < probes.size(); i += AllowedIps::kMaxBurst) {
        PeerId got[AllowedIps::kMaxBurst];
        if (v6) {
          table.lookup_burst(&probes6[i], got, AllowedIps::kMaxBurst);
        } else {
          table.lookup_burst(&probes[i], got, AllowedIps::kMaxBurst);
        }
        for (unsigned j = 0; j < AllowedIps::kMaxBurst; ++j) local_bad += !sched.ok(i + j, got[j]);
      }
      n += 2 * probes.size();
      quiescent.fetch_add(1, std::memory_order_release);  // holds no node between rounds
    }
    bad.store(local_bad);
    lookups.store(n);
  });

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1000);
  std::size_t step = 0;
  int rounds = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    for (int k = 0; k < 200; ++k, ++step) {
      const Schedule::Op& op = schedule[step % schedule.size()];
      if (op.insert) {
        ASSERT_TRUE(table.insert(prefix_of(op, v6), op.peer));
      } else {
        table.remove(prefix_of(op, v6), op.peer);
      }
    }
    // A grace period: wait until the reader has passed a quiescent point, then free.
    const AllowedIps::RetireMark mark = table.retire_mark();
    const std::uint64_t seen = quiescent.load(std::memory_order_acquire);
    while (quiescent.load(std::memory_order_acquire) < seen + 2 &&
           std::chrono::steady_clock::now() < deadline + std::chrono::seconds(5)) {
      std::this_thread::yield();
    }
    table.reclaim(mark);
    ++rounds;
  }
  stop.store(true);
  reader.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GT(lookups.load(), 0u);
  EXPECT_GT(rounds, 1);
}

TEST(AllowedIps, ConcurrentLookupsDuringUpdates) {
  lookups_during_updates(Schedule(99), false);
}

// Five lengths: the readers use the IPv6 hash table (ip6_table.hpp), which the writer rebuilds
// now and then as removals leave dead slots.
TEST(AllowedIps, ConcurrentLookupsDuringUpdatesV6) {
  lookups_during_updates(Schedule(98, 4), true);
}

}  // namespace
}  // namespace meshgate::peer
