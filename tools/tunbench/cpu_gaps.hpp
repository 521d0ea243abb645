// What the machine takes from a CPU that a worker polls on: every gap in a loop that does
// nothing but read the TSC is time the CPU ran something else (an interrupt, the host's timer
// tick, another thread). A packet that arrives in such a gap waits for it, so the gaps set a
// floor under the tail of the time in the gateway that no change of the gateway's moves; each
// gateway record carries them beside its latency (bench/RESULTS.md, "Latency").
#pragma once

namespace tunbench {

struct CpuGaps {
  static constexpr double kOverUs = 5;  // a gap: two reads further apart than this
  double per_second = 0;                // gaps a second
  double share = 0;                     // of the time, in gaps
  double longest_us = 0;
};

/// Gaps over `seconds` of such a loop on lcore `lcore` (idle, on another CPU than the caller's,
/// or the caller's own).
CpuGaps cpu_gaps(unsigned lcore, double seconds);

}  // namespace tunbench
