// tunbench's output: the table at the end of a run, --json records and --plot charts.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "inmem.hpp"
#include "meshgate/base/result.hpp"

namespace tunbench {

/// Where the figures came from, for the JSON file and the table's heading.
struct Machine {
  std::string cpu;    // /proc/cpuinfo model name
  unsigned cpus = 0;  // online CPUs
  double tsc_ghz = 0;
  std::string aead_arch;  // ipsec-mb code path (avx512, avx2, ...)
  std::string ipsec_mb_version;
  std::string command;  // the command line
  std::string date;     // UTC, ISO 8601
  static Machine probe(int argc, char** argv);
};

/// The runs of one case: the median of each figure over the runs, with min and max.
struct CaseSummary {
  CaseResult median;
  double gbps_min = 0, gbps_max = 0, ratio_min = 0, ratio_max = 0;
  unsigned runs = 0;
};

/// Groups consecutive runs of one case (run_inmem() returns them that way).
std::vector<CaseSummary> summarize_runs(const std::vector<CaseResult>& runs);

void print_table(FILE* out, const std::vector<CaseSummary>& cases, const Machine& m);
meshgate::Status write_json(const std::string& path, const std::vector<CaseSummary>& cases,
                            const Machine& m);
/// Gbit/s against size (fewest workers and peers) and against workers (largest fixed size, most
/// peers), with the AEAD limit beside each line; PNG or SVG by the file's extension. Leaves the
/// gnuplot script beside it as FILE.gp.
meshgate::Status write_plot(const std::string& path, const std::vector<CaseSummary>& cases);

}  // namespace tunbench
