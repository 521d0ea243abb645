#include "cpu_gaps.hpp"

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include <algorithm>
#include <cstdint>

namespace tunbench {

namespace {

struct Probe {
  double seconds = 0;
  CpuGaps gaps;

  static int main(void* self) {
    auto& p = *static_cast<Probe*>(self);
    const auto hz = static_cast<double>(rte_get_tsc_hz());
    const auto over = static_cast<std::uint64_t>(CpuGaps::kOverUs * hz / 1e6);
    std::uint64_t n = 0, in_gaps = 0, longest = 0;
    const std::uint64_t t0 = rte_rdtsc();
    const std::uint64_t end = t0 + static_cast<std::uint64_t>(p.seconds * hz);
    for (std::uint64_t last = t0, now = t0; now < end; last = now) {
      now = rte_rdtsc();
      if (const std::uint64_t gap = now - last; gap > over) {
        ++n;
        in_gaps += gap;
        longest = std::max(longest, gap);
      }
    }
    const auto span = static_cast<double>(rte_rdtsc() - t0);
    p.gaps = {.per_second = static_cast<double>(n) * hz / span,
              .share = static_cast<double>(in_gaps) / span,
              .longest_us = static_cast<double>(longest) * 1e6 / hz};
    return 0;
  }
};

}  // namespace

CpuGaps cpu_gaps(unsigned lcore, double seconds) {
  Probe p{.seconds = seconds};
  if (lcore == rte_lcore_id()) {
    Probe::main(&p);
  } else {
    rte_eal_remote_launch(Probe::main, &p, lcore);
    rte_eal_wait_lcore(lcore);
  }
  return p.gaps;
}

}  // namespace tunbench
