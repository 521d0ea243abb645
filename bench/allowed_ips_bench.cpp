// Allowed-IPs longest-prefix match: lookups per second against tables of random prefixes.
// Half the probe addresses fall inside an inserted prefix, half are uniformly random. IPv6 comes
// twice: lengths spread like a routing table's (35 lengths: readers walk the trie) and as a
// gateway's peers have them (/48, /64, /128: readers probe the hash table, ip6_table.hpp).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "meshgate/peer/allowed_ips.hpp"

namespace meshgate::peer {
namespace {

constexpr std::size_t kProbes = 1 << 16;  // walked in order, batch after batch

struct Fixture4 {
  AllowedIps table;
  std::vector<std::uint32_t> probes;
};
struct Fixture6 {
  AllowedIps table;
  std::vector<Ip6> probes;
};

// IPv4 lengths skewed like a routing table: mostly /16../24, some host routes.
unsigned cidr4(std::mt19937_64& rng) {
  const unsigned r = static_cast<unsigned>(rng() % 100);
  if (r < 10) return 32;
  if (r < 15) return 8 + static_cast<unsigned>(rng() % 8);
  return 16 + static_cast<unsigned>(rng() % 9);
}
unsigned cidr6(std::mt19937_64& rng) {
  const unsigned r = static_cast<unsigned>(rng() % 100);
  if (r < 10) return 128;
  if (r < 20) return 32 + static_cast<unsigned>(rng() % 16);
  return 48 + static_cast<unsigned>(rng() % 17);
}

const Fixture4& fixture4(std::size_t n) {
  static std::map<std::size_t, std::unique_ptr<Fixture4>> cache;
  auto& f = cache[n];
  if (f) return *f;
  f = std::make_unique<Fixture4>();
  std::mt19937_64 rng(n);
  std::vector<std::pair<std::uint32_t, unsigned>> inserted;
  for (std::size_t i = 0; i < n; ++i) {
    const auto a = static_cast<std::uint32_t>(rng());
    const unsigned c = cidr4(rng);
    (void)f->table.insert(IpPrefix::make_v4(a, static_cast<std::uint8_t>(c)),
                          static_cast<PeerId>(rng() % 1000));
    inserted.emplace_back(a & Ip4Trie::mask_of(c), c);
  }
  for (std::size_t i = 0; i < kProbes; ++i) {
    auto a = static_cast<std::uint32_t>(rng());
    if (i % 2 == 0) {
      const auto& [k, c] = inserted[rng() % inserted.size()];
      a = k | (a & ~Ip4Trie::mask_of(c));
    }
    f->probes.push_back(a);
  }
  return *f;
}

// A site's prefixes: mostly a /64, some /48s and /128 hosts.
unsigned cidr6_sites(std::mt19937_64& rng) {
  const unsigned r = static_cast<unsigned>(rng() % 100);
  return r < 10 ? 128 : r < 20 ? 48 : 64;
}

const Fixture6& fixture6(std::size_t n, unsigned (*cidr)(std::mt19937_64&)) {
  static std::map<std::pair<std::size_t, bool>, std::unique_ptr<Fixture6>> cache;
  auto& f = cache[{n, cidr == cidr6}];
  if (f) return *f;
  f = std::make_unique<Fixture6>();
  std::mt19937_64 rng(n + 7);
  std::vector<IpPrefix> inserted;
  for (std::size_t i = 0; i < n; ++i) {
    // Global unicast space (2000::/3) so prefixes share their top bits, as in real tables.
    const Ip6 a{(rng() >> 3) | (std::uint64_t{1} << 61), rng()};
    const auto p = IpPrefix::make_v6(a, static_cast<std::uint8_t>(cidr(rng)));
    (void)f->table.insert(p, static_cast<PeerId>(rng() % 1000));
    inserted.push_back(p);
  }
  for (std::size_t i = 0; i < kProbes; ++i) {
    Ip6 a{(rng() >> 3) | (std::uint64_t{1} << 61), rng()};
    if (i % 2 == 0) {
      const IpPrefix& p = inserted[rng() % inserted.size()];
      const auto m = Ip6Trie::mask_of(p.cidr);
      a = AllowedIps::from_key((AllowedIps::to_key(p.v6) & m) | (AllowedIps::to_key(a) & ~m));
    }
    f->probes.push_back(a);
  }
  return *f;
}

void BM_LookupV4(benchmark::State& state) {
  const Fixture4& f = fixture4(static_cast<std::size_t>(state.range(0)));
  std::size_t i = 0;
  std::uint64_t hits = 0;
  for ([[maybe_unused]] auto _ : state) {
    // One burst of 32 lookups per iteration, as a worker would do.
    for (int k = 0; k < 32; ++k) {
      hits += f.table.lookup(f.probes[i]) != kNoPeer;
      i = (i + 1) & (kProbes - 1);
    }
  }
  benchmark::DoNotOptimize(hits);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 32);
}
BENCHMARK(BM_LookupV4)->Arg(1)->Arg(100)->Arg(10000)->Arg(100000)->Arg(1000000);

void BM_LookupV6(benchmark::State& state, unsigned (*cidr)(std::mt19937_64&)) {
  const Fixture6& f = fixture6(static_cast<std::size_t>(state.range(0)), cidr);
  std::size_t i = 0;
  std::uint64_t hits = 0;
  for ([[maybe_unused]] auto _ : state) {
    for (int k = 0; k < 32; ++k) {
      hits += f.table.lookup(f.probes[i]) != kNoPeer;
      i = (i + 1) & (kProbes - 1);
    }
  }
  benchmark::DoNotOptimize(hits);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 32);
}
BENCHMARK_CAPTURE(BM_LookupV6, spread, cidr6)->Arg(1)->Arg(10000)->Arg(100000)->Arg(1000000);
BENCHMARK_CAPTURE(BM_LookupV6, sites, cidr6_sites)->Arg(1)->Arg(10000)->Arg(100000)->Arg(1000000);

// The burst form: 32 walks interleaved with prefetching.
void BM_LookupBurstV4(benchmark::State& state) {
  const Fixture4& f = fixture4(static_cast<std::size_t>(state.range(0)));
  std::size_t i = 0;
  std::uint64_t hits = 0;
  PeerId out[32];
  for ([[maybe_unused]] auto _ : state) {
    f.table.lookup_burst(&f.probes[i], out, 32);
    for (PeerId p : out) hits += p != kNoPeer;
    i = (i + 32) & (kProbes - 1);
  }
  benchmark::DoNotOptimize(hits);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 32);
}
BENCHMARK(BM_LookupBurstV4)->Arg(1)->Arg(100)->Arg(10000)->Arg(100000)->Arg(1000000);

void BM_LookupBurstV6(benchmark::State& state, unsigned (*cidr)(std::mt19937_64&)) {
  const Fixture6& f = fixture6(static_cast<std::size_t>(state.range(0)), cidr);
  std::size_t i = 0;
  std::uint64_t hits = 0;
  PeerId out[32];
  for ([[maybe_unused]] auto _ : state) {
    f.table.lookup_burst(&f.probes[i], out, 32);
    for (PeerId p : out) hits += p != kNoPeer;
    i = (i + 32) & (kProbes - 1);
  }
  benchmark::DoNotOptimize(hits);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 32);
}
BENCHMARK_CAPTURE(BM_LookupBurstV6, spread, cidr6)->Arg(1)->Arg(10000)->Arg(100000)->Arg(1000000);
BENCHMARK_CAPTURE(BM_LookupBurstV6, sites, cidr6_sites)
    ->Arg(1)
    ->Arg(10000)
    ->Arg(100000)
    ->Arg(1000000);

// Control-plane cost, for scale: inserting a prefix into a 100k-entry table.
void BM_InsertRemoveV4(benchmark::State& state) {
  AllowedIps table;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 100000; ++i) {
    (void)table.insert(IpPrefix::make_v4(static_cast<std::uint32_t>(rng()), 24), 1);
  }
  for ([[maybe_unused]] auto _ : state) {
    const auto p = IpPrefix::make_v4(static_cast<std::uint32_t>(rng()), 28);
    (void)table.insert(p, 2);
    table.remove(p, 2);
    if (table.retired_count() > 4096) table.reclaim_all();  // no readers here
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_InsertRemoveV4);

// The same in IPv6, /64s beside a /80 coming and going: the trie, the hash table and, now and
// then, the table's rebuild.
void BM_InsertRemoveV6(benchmark::State& state) {
  AllowedIps table;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 100000; ++i) {
    (void)table.insert(IpPrefix::make_v6(Ip6{rng() | (std::uint64_t{1} << 61), 0}, 64), 1);
  }
  for ([[maybe_unused]] auto _ : state) {
    const auto p = IpPrefix::make_v6(Ip6{rng() | (std::uint64_t{1} << 61), rng()}, 80);
    (void)table.insert(p, 2);
    table.remove(p, 2);
    if (table.retired_count() > 4096) table.reclaim_all();  // no readers here
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_InsertRemoveV6);

}  // namespace
}  // namespace meshgate::peer

BENCHMARK_MAIN();
