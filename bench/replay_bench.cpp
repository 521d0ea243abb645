// Replay window: counters checked per second, in order and with reordering and duplicates.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "meshgate/peer/replay.hpp"

namespace meshgate::peer {
namespace {

constexpr std::size_t kCounters = 1 << 20;

// A stream of counters: blocks of `spread` consecutive counters shuffled within the block
// (spread 1 = in order), with a fraction of the packets sent twice.
std::vector<std::uint64_t> make_stream(std::size_t spread, unsigned dup_percent) {
  std::mt19937_64 rng(spread * 131 + dup_percent);
  std::vector<std::uint64_t> out;
  out.reserve(kCounters * 2);
  std::uint64_t next = 0;
  while (out.size() < kCounters) {
    std::vector<std::uint64_t> block(spread);
    for (auto& c : block) c = next++;
    std::shuffle(block.begin(), block.end(), rng);
    for (std::uint64_t c : block) {
      out.push_back(c);
      if (rng() % 100 < dup_percent) out.push_back(c);
    }
  }
  out.resize(kCounters);
  return out;
}

void run(benchmark::State& state, const std::vector<std::uint64_t>& stream) {
  ReplayWindow w;
  std::size_t i = 0;
  std::uint64_t accepted = 0;
  std::uint64_t base = 0;
  for (auto _ : state) {
    for (int k = 0; k < 32; ++k) {
      accepted += w.check(base + stream[i]);
      if (++i == stream.size()) {  // next lap: continue above the highest counter so far
        i = 0;
        base += kCounters + 2 * ReplayWindow::kRingBits;
      }
    }
  }
  benchmark::DoNotOptimize(accepted);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 32);
}

void BM_ReplayInOrder(benchmark::State& state) {
  static const auto stream = make_stream(1, 0);
  run(state, stream);
}
BENCHMARK(BM_ReplayInOrder);

void BM_ReplayReordered(benchmark::State& state) {
  static std::vector<std::uint64_t> streams[4];
  const auto spread = static_cast<std::size_t>(state.range(0));
  auto& s = streams[spread == 32 ? 0 : spread == 256 ? 1 : spread == 4096 ? 2 : 3];
  if (s.empty()) s = make_stream(spread, 0);
  run(state, s);
}
BENCHMARK(BM_ReplayReordered)->Arg(32)->Arg(256)->Arg(4096);

void BM_ReplayReorderedWithDuplicates(benchmark::State& state) {
  static const auto stream = make_stream(256, 10);
  run(state, stream);
}
BENCHMARK(BM_ReplayReorderedWithDuplicates);

}  // namespace
}  // namespace meshgate::peer

BENCHMARK_MAIN();
