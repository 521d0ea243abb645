#include "inmem.hpp"

#include <rte_config.h>
#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "lane.hpp"
#include "meshgate/dpdk/eal.hpp"
#include "site.hpp"

namespace tunbench {

using namespace meshgate;

const char* direction_name(Direction d) {
  switch (d) {
    case Direction::outbound: return "outbound";
    case Direction::inbound: return "inbound";
    case Direction::both: return "both";
  }
  return "?";
}

namespace {

std::string size_label(unsigned size) { return size == kImix ? "imix" : std::to_string(size); }

CaseResult summarize(const CaseSpec& spec, const std::vector<std::unique_ptr<Lane>>& lanes) {
  const double hz = static_cast<double>(rte_get_tsc_hz());
  CaseResult r;
  r.direction = spec.direction;
  r.size = spec.size;
  r.peers = spec.peers;
  r.workers = spec.workers;
  r.burst = spec.burst;
  std::uint64_t cycles = 0;
  for (unsigned i = 0; i < spec.workers; ++i) {
    // Workers run side by side, so the aggregate rate is the sum of their rates.
    const LaneTotals& t = lanes[i]->totals();
    const double secs = static_cast<double>(t.cycles) / hz;
    r.packets += t.packets;
    r.mpps += static_cast<double>(t.packets) / secs / 1e6;
    r.gbps += static_cast<double>(t.bytes) * 8 / secs / 1e9;
    r.seconds += secs;
    r.verified += t.verified;
    r.checked_outer += t.checked_outer;
    cycles += t.cycles;
    const double aead_pps = hz / lanes[i]->aead_cycles_per_packet(spec.direction);
    r.aead_mpps += aead_pps / 1e6;
    r.aead_gbps += aead_pps * lanes[i]->average_size() * 8 / 1e9;
    r.avg_size = lanes[i]->average_size();
  }
  r.cycles_per_packet = static_cast<double>(cycles) / static_cast<double>(r.packets);
  r.ratio = r.gbps / r.aead_gbps;
  return r;
}

}  // namespace

Result<std::vector<CaseResult>> run_inmem(const InmemOptions& opt) {
  const unsigned max_workers = *std::max_element(opt.workers.begin(), opt.workers.end());
  const std::vector<unsigned> lcores = dpdk::worker_lcores();
  if (lcores.size() + 1 < max_workers) {
    return Error{"the EAL gives " + std::to_string(lcores.size() + 1) + " lcores, " +
                 std::to_string(max_workers) + " workers need one each (--lcores)"};
  }
  auto ports = Ports::create(max_workers, opt.chunk);
  if (!ports) return Error{ports.error()};
  std::vector<std::unique_ptr<Lane>> lanes;
  for (unsigned i = 0; i < max_workers; ++i) {
    lanes.push_back(std::make_unique<Lane>(i, *ports, opt.chunk));
  }

  std::vector<CaseResult> results;
  const std::size_t total = opt.peers.size() * opt.workers.size() * opt.sizes.size() *
                            opt.directions.size() * opt.repeat;
  std::size_t done = 0;
  for (unsigned peers : opt.peers) {
    auto receiver = Site::create(*ports, peers, max_workers);
    if (!receiver) return Error{receiver.error()};
    auto sender = Site::create(*ports, peers, max_workers, receiver->get());
    if (!sender) return Error{sender.error()};
    for (unsigned workers : opt.workers) {
      if (peers < workers) {
        std::fprintf(stderr, "skipping %u workers with %u peers: each worker needs a peer\n",
                     workers, peers);
        done += opt.sizes.size() * opt.directions.size() * opt.repeat;
        continue;
      }
      for (unsigned size : opt.sizes) {
        for (Direction dir : opt.directions) {
          for (unsigned rep = 0; rep < opt.repeat; ++rep) {
            CaseSpec spec;
            spec.direction = dir;
            spec.size = size;
            spec.peers = peers;
            spec.workers = workers;
            spec.burst = opt.burst;
            spec.duration = opt.duration;
            spec.aead_time = opt.aead_time > 0 ? opt.aead_time : opt.duration / 2;
            spec.slice = opt.slice;
            spec.verify_every = opt.verify_every;
            spec.progress = opt.progress;
            char label[128];
            std::snprintf(label, sizeof label, "[%zu/%zu] %s %s B, %u peers, %u workers",
                          ++done, total, direction_name(dir), size_label(size).c_str(), peers,
                          workers);
            spec.label = label;
            (*sender)->renew(monotonic_now());
            (*receiver)->renew(monotonic_now());
            std::atomic<unsigned> barrier{0};
            for (unsigned i = 0; i < workers; ++i) lanes[i]->prepare_case(**sender, **receiver, spec, &barrier);
            for (unsigned i = 1; i < workers; ++i) {
              if (rte_eal_remote_launch(Lane::main, lanes[i].get(), lcores[i - 1]) != 0) {
                return Error{"cannot launch worker " + std::to_string(i)};
              }
            }
            Lane::main(lanes[0].get());  // worker 0 runs on the main lcore
            for (unsigned i = 1; i < workers; ++i) rte_eal_wait_lcore(lcores[i - 1]);
            for (unsigned i = 0; i < workers; ++i) {
              if (!lanes[i]->error().empty()) return Error{spec.label + ": " + lanes[i]->error()};
            }
            if (unsigned n = (*sender)->drain_control() + (*receiver)->drain_control(); n != 0) {
              return Error{spec.label + ": " + std::to_string(n) +
                           " packets or events went to the control thread"};
            }
            CaseResult r = summarize(spec, lanes);
            if (opt.progress) {
              std::fprintf(stderr, "\r%s: %.3f Mpps, %.2f Gbit/s, %.0f%% of AEAD%20s\n", label,
                           r.mpps, r.gbps, 100 * r.ratio, "");
            }
            results.push_back(r);
          }
        }
      }
    }
  }
  return results;
}

}  // namespace tunbench
