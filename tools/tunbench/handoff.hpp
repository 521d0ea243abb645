// How long a cache line takes to go from one core to another: the path every packet's lines
// take in gateway mode (a feeder writes them, a worker reads them; one worker classifies a
// burst, another opens it).
#pragma once

namespace tunbench {

/// True when the two lcores may run on one CPU.
bool share_cpu(unsigned a, unsigned b);

/// One-way nanoseconds for a line written on the calling lcore to be read on lcore `other`
/// (idle, on another CPU: see share_cpu), as the mean of a few thousand round trips.
///
/// On a virtual machine this moves while a benchmark runs: the host places the vCPUs on cores
/// that share a last-level cache or not, and a line crosses in about 30 or about 165 ns
/// (bench/RESULTS.md, "Gateway mode"). Each gateway record carries it, measured before and after
/// its maximum-rate phase, so that figures are compared only where it was the same.
double line_handoff_ns(unsigned other);

}  // namespace tunbench
