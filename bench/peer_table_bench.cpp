// Peer-table lookups as a worker makes them (peer row -> its current keypair index ->
// KeypairTable::lookup), alone and while a writer thread rotates keypairs the way rekeying
// does: publish a fresh keypair, point the peer's `current` at it, unpublish the old one.
// The reader is lock-free; this measures what the writer's stores cost it (cache lines moving
// between cores) and how often a lookup lands between "current moved" and "old unpublished"
// (counter `missed`: the data path would stage such a packet for the control thread).
//
//   bench_peer_table --benchmark_min_time=0.5
// The writer needs a core of its own: on a 2-core machine run nothing else.
#include <benchmark/benchmark.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "meshgate/dataplane/keypairs.hpp"
#include "meshgate/dataplane/peers.hpp"
#include "meshgate/noise/session_keys.hpp"

namespace meshgate::dataplane {
namespace {

constexpr unsigned kBurst = 32;

std::uint64_t next_random(std::uint64_t& s) {  // xorshift64*
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  return s * 0x2545F4914F6CDD1Dull;
}

struct Tables {
  PeerTable peers;
  KeypairTable keypairs;
  std::vector<std::array<std::uint32_t, 2>> slots;  // [live, spare] index per peer

  explicit Tables(std::uint32_t n) : peers(n), keypairs(n * 4 + 64), slots(n) {
    noise::SessionKeys kp;
    for (PeerId p = 0; p < n; ++p) {
      const std::uint32_t a = *keypairs.reserve(), b = *keypairs.reserve();
      kp.local_index = a;
      keypairs.publish(a, kp, p);
      peers[p].current.store(a, std::memory_order_release);
      slots[p] = {a, b};
    }
  }
};

// The control thread's side of a rekey, for random peers, as fast as it can go.
void rotate_until(Tables& t, const std::atomic<bool>& stop, std::atomic<std::uint64_t>& done) {
  std::uint64_t rng = 0x9E3779B97F4A7C15ull;
  noise::SessionKeys kp;
  std::uint64_t n = 0;
  const auto peers = static_cast<std::uint64_t>(t.slots.size());
  while (!stop.load(std::memory_order_relaxed)) {
    const auto p = static_cast<PeerId>(next_random(rng) % peers);
    auto& [live, spare] = t.slots[p];
    kp.local_index = spare;
    t.keypairs.publish(spare, kp, p);
    t.peers[p].current.store(spare, std::memory_order_release);
    t.keypairs.unpublish(live);
    std::swap(live, spare);
    ++n;
  }
  done.store(n);
}

void BM_PeerKeypairLookup(benchmark::State& st) {
  const auto n = static_cast<std::uint32_t>(st.range(0));
  const bool writer = st.range(1) != 0;
  static std::unique_ptr<Tables> tables;  // built once per size: 100,000 peers take a while
  if (!tables || tables->slots.size() != n) tables = std::make_unique<Tables>(n);
  Tables& t = *tables;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> rotations{0};
  std::thread w;
  if (writer) w = std::thread(rotate_until, std::ref(t), std::cref(stop), std::ref(rotations));

  std::uint64_t rng = 12345, hits = 0, misses = 0;
  PeerId ids[kBurst];
  for (auto _ : st) {
    for (PeerId& id : ids) id = static_cast<PeerId>(next_random(rng) % n);
    for (PeerId id : ids) {  // as the data path: rows first, then their keypairs
      t.keypairs.prefetch_send(t.peers[id].current.load(std::memory_order_relaxed));
    }
    for (PeerId id : ids) {
      const Keypair* kp = t.keypairs.lookup(t.peers[id].current.load(std::memory_order_acquire));
      if (kp != nullptr) {
        ++hits;
      } else {
        ++misses;
      }
    }
  }
  stop.store(true);
  if (w.joinable()) w.join();
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * kBurst));
  st.counters["missed"] = static_cast<double>(misses) / static_cast<double>(hits + misses);
  st.counters["rekeys/s"] =
      benchmark::Counter(static_cast<double>(rotations.load()), benchmark::Counter::kIsRate);
  benchmark::DoNotOptimize(hits);
}
BENCHMARK(BM_PeerKeypairLookup)
    ->ArgNames({"peers", "writer"})
    ->Args({1000, 0})
    ->Args({1000, 1})
    ->Args({100000, 0})
    ->Args({100000, 1})
    ->UseRealTime();

}  // namespace
}  // namespace meshgate::dataplane

BENCHMARK_MAIN();
