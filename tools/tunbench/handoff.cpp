#include "handoff.hpp"

#include <rte_config.h>
#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_pause.h>

#include <atomic>
#include <cstdint>

namespace tunbench {

namespace {

constexpr std::uint64_t kRoundTrips = 20000;

/// A counter that the two sides advance in turn, each waiting to see the other's step: the
/// asking side moves it from even to odd, the answering side from odd to even.
struct Bounce {
  alignas(64) std::atomic<std::uint64_t> turn{0};

  void wait_for(std::uint64_t i) const {
    while (turn.load(std::memory_order_acquire) != i) rte_pause();
  }
  static int answer(void* self) {
    auto& b = *static_cast<Bounce*>(self);
    for (std::uint64_t i = 1; i < 2 * kRoundTrips; i += 2) {
      b.wait_for(i);
      b.turn.store(i + 1, std::memory_order_release);
    }
    return 0;
  }
};

}  // namespace

bool share_cpu(unsigned a, unsigned b) {
  rte_cpuset_t sa = rte_lcore_cpuset(a), sb = rte_lcore_cpuset(b), both;
  CPU_AND(&both, &sa, &sb);
  return CPU_COUNT(&both) != 0;
}

double line_handoff_ns(unsigned other) {
  Bounce b;
  rte_eal_remote_launch(Bounce::answer, &b, other);
  std::uint64_t t0 = 0;
  for (std::uint64_t i = 0; i < 2 * kRoundTrips; i += 2) {
    b.wait_for(i);
    if (i == 2) t0 = rte_rdtsc();  // timed from the first answer: the launch is not a handoff
    b.turn.store(i + 1, std::memory_order_release);
  }
  b.wait_for(2 * kRoundTrips);
  const auto cycles = static_cast<double>(rte_rdtsc() - t0);
  rte_eal_wait_lcore(other);
  return cycles * 1e9 / static_cast<double>(rte_get_tsc_hz()) / (2.0 * (kRoundTrips - 1));
}

}  // namespace tunbench
