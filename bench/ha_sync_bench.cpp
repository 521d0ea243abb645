// HA state sync: what the active's comparison costs the control thread each period
// (ha_sync::Snapshot::changes over every peer), with nothing changed and with one peer roamed,
// and the first full state of a connection; and what one poll's slice of a pass (kPassSlice
// peers) costs, the longest the sync holds up the control thread at a time.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "meshgate/control/ha_sync.hpp"

namespace meshgate::control::ha_sync {
namespace {

/// `n` peers as records_of() gives them: a key, a direct endpoint, one /24 and one /64 each.
std::vector<PeerRecord> make_peers(std::size_t n) {
  std::vector<PeerRecord> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    PeerRecord& p = out[i];
    for (std::size_t b = 0; b < 4; ++b) p.public_key[b] = static_cast<std::uint8_t>(i >> (8 * b));
    p.public_key[31] = 1;
    p.endpoint = *Endpoint::parse("198.51." + std::to_string(i / 256 % 256) + "." +
                                  std::to_string(i % 256) + ":51820");
    p.allowed_ips = {"10." + std::to_string(i / 65536 % 256) + "." + std::to_string(i / 256 % 256) +
                         "." + std::to_string(i % 256) + "/32",
                     "fd00::" + std::to_string(i % 65536) + "/128"};
  }
  return out;
}

/// One period of the active's loop: the records (copied, as records_of() builds them anew) and
/// the comparison. `roam`: one peer's endpoint moved since the last period.
void BM_SnapshotPeriod(benchmark::State& state, bool roam) {
  const std::vector<PeerRecord> peers = make_peers(static_cast<std::size_t>(state.range(0)));
  Snapshot snap;
  snap.changes({51820, 0}, peers, true);
  std::uint16_t port = 1;
  std::size_t bytes = 0;
  for ([[maybe_unused]] auto _ : state) {
    std::vector<PeerRecord> now = peers;
    if (roam) now[now.size() / 2].endpoint.port = ++port;
    for (const std::string& b : snap.changes({51820, 0}, std::move(now), false)) bytes += b.size();
  }
  benchmark::DoNotOptimize(bytes);
  state.counters["peers"] = static_cast<double>(state.range(0));
}
BENCHMARK_CAPTURE(BM_SnapshotPeriod, unchanged, false)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_SnapshotPeriod, one_roamed, true)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->Unit(benchmark::kMillisecond);

/// The first frames of a connection: every peer's section.
void BM_SnapshotFull(benchmark::State& state) {
  const std::vector<PeerRecord> peers = make_peers(static_cast<std::size_t>(state.range(0)));
  std::size_t bytes = 0;
  for ([[maybe_unused]] auto _ : state) {
    Snapshot snap;
    for (const std::string& b : snap.changes({51820, 0}, peers, true)) bytes += b.size();
  }
  state.counters["bytes"] = static_cast<double>(bytes) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_SnapshotFull)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);

/// One slice of a pass over 100,000 peers, as StateSync takes it per poll: the records copied
/// (records_of() builds them anew), compared, and the slice's bodies taken. `full`: a new
/// connection's pass, every peer formatted.
void BM_SnapshotSlice(benchmark::State& state, bool full) {
  const std::vector<PeerRecord> peers = make_peers(100000);
  const Snapshot::Interface iface{51820, 0};
  Snapshot snap;
  snap.changes(iface, peers, true);
  snap.begin(iface, full);
  std::size_t at = 0, bytes = 0;
  for ([[maybe_unused]] auto _ : state) {
    if (at + kPassSlice > peers.size()) {  // the pass ends; the next one starts
      state.PauseTiming();
      snap.take(true);
      snap.begin(iface, full);
      at = 0;
      state.ResumeTiming();
    }
    for (std::size_t k = 0; k < kPassSlice; ++k) snap.add(peers[at + k]);
    at += kPassSlice;
    for (const std::string& b : snap.take(false)) bytes += b.size();
  }
  benchmark::DoNotOptimize(bytes);
}
BENCHMARK_CAPTURE(BM_SnapshotSlice, unchanged, false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_SnapshotSlice, full, true)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace meshgate::control::ha_sync

BENCHMARK_MAIN();
