#include "inmem.hpp"

#include <rte_config.h>
#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdio>
#include <memory>

#include "gateway.hpp"
#include "lane.hpp"
#include "meshgate/config/gateway_config.hpp"
#include "meshgate/control/gateway.hpp"
#include "meshgate/control/tunables.hpp"
#include "meshgate/dpdk/eal.hpp"
#include "meshgate/wire/build.hpp"
#include "site.hpp"

namespace tunbench {

using namespace meshgate;

unsigned largest_packet(unsigned size) {
  return size == kImix ? *std::max_element(std::begin(kImixPattern), std::end(kImixPattern)) : size;
}

std::uint16_t case_mtu(unsigned size) {
  return static_cast<std::uint16_t>(std::max(config::kDefaultMtu, largest_packet(size)));
}

const char* direction_name(Direction d) {
  switch (d) {
    case Direction::outbound:
      return "outbound";
    case Direction::inbound:
      return "inbound";
    case Direction::both:
      return "both";
  }
  return "?";
}

unsigned gateway_frames(unsigned peers, unsigned workers, unsigned size, Direction dir) {
  const unsigned per_feeder = (peers + workers - 1) / workers;
  unsigned frames = std::max(65536u, std::bit_ceil(4 * per_feeder));
  if (dir == Direction::inbound) {
    const auto fit = static_cast<unsigned>(kInboundFrameBytes / feeder_stride(size));
    frames = std::max(frames, std::bit_floor(fit));
  }
  return std::min(1u << 22, frames);
}

namespace {

std::string size_label(unsigned size) {
  return size == kImix ? "imix" : std::to_string(size);
}

CaseResult summarize(const CaseSpec& spec, const std::vector<std::unique_ptr<Lane>>& lanes) {
  const double hz = static_cast<double>(rte_get_tsc_hz());
  CaseResult r = result_of(spec);
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
    r.flood_sent += t.flood_sent;
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

/// What every case shares: one lane per worker of the largest case (worker 0 on this lcore,
/// worker i on lcores[i - 1]), and the count of cases for the progress labels.
struct Bench {
  const InmemOptions& opt;
  const Ports* ports = nullptr;
  std::vector<unsigned> lcores;
  std::vector<std::unique_ptr<Lane>> lanes;
  std::size_t done = 0;
  std::size_t total = 0;
};

/// The next run's spec; its label numbers it among all runs.
CaseSpec make_spec(Bench& bench, Direction dir, unsigned size, unsigned peers, unsigned workers,
                   unsigned flood) {
  const InmemOptions& opt = bench.opt;
  CaseSpec spec;
  spec.direction = dir;
  spec.size = size;
  spec.mtu = case_mtu(size);
  spec.peers = peers;
  spec.workers = workers;
  spec.burst = opt.burst;
  spec.duration = opt.duration;
  spec.aead_time = opt.aead_time > 0 ? opt.aead_time : opt.duration / 2;
  spec.slice = opt.slice;
  spec.verify_every = opt.verify_every;
  spec.relayed = opt.relayed;
  spec.progress = opt.progress;
  spec.flood = flood;
  spec.chunk = opt.chunk;
  spec.frames = opt.frames != 0 ? opt.frames : gateway_frames(peers, workers, size, dir);
  spec.train = opt.train;
  spec.one_peer = opt.one_peer;
  spec.preload = opt.preload;
  spec.rekey_after = opt.rekey_after;
  spec.loads = opt.loads;
  char label[160];
  const std::string flood_text =
      opt.floods.empty() ? "" : ", flood " + std::to_string(flood) + "/s";
  std::snprintf(label, sizeof label, "[%zu/%zu] %s%s %s B (MTU %u), %u peers, %u workers%s%s",
                ++bench.done, bench.total, opt.gateway ? "gateway " : "", direction_name(dir),
                size_label(size).c_str(), unsigned{spec.mtu}, peers, workers,
                opt.relayed ? ", relayed" : "", flood_text.c_str());
  spec.label = label;
  return spec;
}

/// The receiver's control thread during a case, on an lcore of its own: the daemon's loop
/// (Control::run) with the wire beyond its TX queue, where cookie replies are counted.
struct ControlRun {
  control::Control* ctl = nullptr;
  rte_ring* to_wire[2] = {};  // the control thread's TX rings: outer, inner
  rte_ring* handshakes = nullptr;
  std::atomic<bool> stop{false};
  std::uint64_t cookie_frames = 0;
  // At the start of the case: the control thread's counters and the workers' ring-full drops.
  control::ControlStats before;
  std::uint64_t ring_full_before = 0;

  /// Takes what the control thread sent off its TX rings; returns how many frames.
  unsigned drain_wire() {
    unsigned n = 0;
    void* v = nullptr;
    for (int side = 0; side < 2; ++side) {
      while (rte_ring_sc_dequeue(to_wire[side], &v) == 0) {
        auto* m = static_cast<rte_mbuf*>(v);
        const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
        if (side == 0 && m->data_len > wire::kOuterV4Len &&
            p[wire::kOuterV4Len] == static_cast<std::uint8_t>(wire::MessageType::cookie_reply)) {
          ++cookie_frames;
        }
        rte_pktmbuf_free(m);
        ++n;
      }
    }
    return n;
  }

  /// Until stopped and every queued handshake message is handled.
  static int main(void* arg) {
    auto& c = *static_cast<ControlRun*>(arg);
    for (;;) {
      const bool stopping = c.stop.load();
      const unsigned n = c.ctl->poll(monotonic_now(), wall_now()) + c.drain_wire();
      if (stopping && n == 0 && rte_ring_count(c.handshakes) == 0) return 0;
      if (n == 0) {
        timespec ts{0, control::impl::kIdleSleep};
        nanosleep(&ts, nullptr);
      }
    }
  }
};

/// Starts the receiver's control thread on the lcore after the case's workers'.
Status launch_control(const Bench& bench, Site& receiver, unsigned workers, ControlRun& run) {
  const auto queue = static_cast<unsigned>(bench.lanes.size());  // the last TX queue
  run.ctl = receiver.control();
  run.to_wire[0] = bench.ports->outer_tx[queue];
  run.to_wire[1] = bench.ports->inner_tx[queue];
  run.handshakes = receiver.dp().handshakes;
  run.before = run.ctl->stats();
  for (unsigned i = 0; i < workers; ++i) {
    run.ring_full_before += receiver.worker(i).drops()[dataplane::Drop::control_ring_full];
  }
  if (rte_eal_remote_launch(ControlRun::main, &run, bench.lcores[workers - 1]) != 0) {
    return Error{"cannot launch the control thread"};
  }
  return ok_status();
}

/// The flood's figures of a case, and the check that every initiation is accounted for.
Status account_flood(const CaseSpec& spec, Site& receiver, const ControlRun& run, CaseResult& r) {
  const control::ControlStats after = receiver.control()->stats();
  std::uint64_t ring_full = 0;
  for (unsigned i = 0; i < spec.workers; ++i) {
    ring_full += receiver.worker(i).drops()[dataplane::Drop::control_ring_full];
  }
  r.control = true;
  r.flood = spec.flood;
  r.flood_ring_full = ring_full - run.ring_full_before;
  r.flood_handled = after.initiations_received - run.before.initiations_received;
  r.cookies_sent = after.cookies_sent - run.before.cookies_sent;
  r.flood_rate = static_cast<double>(r.flood_sent) / (r.seconds / spec.workers);
  if (r.flood_sent != r.flood_handled + r.flood_ring_full) {
    return Error{spec.label + ": " + std::to_string(r.flood_sent) + " initiations mixed in, " +
                 std::to_string(r.flood_handled) + " reached the control thread and " +
                 std::to_string(r.flood_ring_full) + " were dropped at its full ring"};
  }
  if (r.cookies_sent != run.cookie_frames) {
    return Error{spec.label + ": the control thread counted " + std::to_string(r.cookies_sent) +
                 " cookie replies, " + std::to_string(run.cookie_frames) + " left its TX queue"};
  }
  return ok_status();
}

/// One run: every lane at once behind a barrier, then the checks that nothing went astray.
Result<CaseResult> run_case(Bench& bench, const CaseSpec& spec, Site& sender, Site& receiver) {
  const unsigned workers = spec.workers;
  std::atomic<unsigned> barrier{0};
  for (unsigned i = 0; i < workers; ++i) {
    bench.lanes[i]->prepare_case(sender, receiver, spec, &barrier);
  }
  const bool ctl = receiver.control() != nullptr;
  ControlRun control_run;
  if (ctl) {
    if (auto st = launch_control(bench, receiver, workers, control_run); !st)
      return Error{st.error()};
  }
  for (unsigned i = 1; i < workers; ++i) {
    if (rte_eal_remote_launch(Lane::main, bench.lanes[i].get(), bench.lcores[i - 1]) != 0) {
      return Error{"cannot launch worker " + std::to_string(i)};
    }
  }
  Lane::main(bench.lanes[0].get());  // worker 0 runs on the main lcore
  for (unsigned i = 1; i < workers; ++i) rte_eal_wait_lcore(bench.lcores[i - 1]);
  if (ctl) {
    control_run.stop.store(true);
    rte_eal_wait_lcore(bench.lcores[workers - 1]);
  }
  for (unsigned i = 0; i < workers; ++i) {
    if (!bench.lanes[i]->error().empty()) return Error{spec.label + ": " + bench.lanes[i]->error()};
  }
  if (unsigned n = sender.drain_control() + receiver.drain_control(); n != 0) {
    return Error{spec.label + ": " + std::to_string(n) +
                 " packets or events went to the control thread"};
  }
  CaseResult r = summarize(spec, bench.lanes);
  if (ctl) {
    if (auto st = account_flood(spec, receiver, control_run, r); !st) return Error{st.error()};
  }
  if (spec.progress) {
    std::fprintf(stderr, "\r%s: %.3f Mpps, %.2f Gbit/s, %.0f%% of AEAD%20s\n", spec.label.c_str(),
                 r.mpps, r.gbps, 100 * r.ratio, "");
  }
  return r;
}

/// Every size, direction and repeat with `peers` peers on `workers` workers.
Status run_cases(Bench& bench, unsigned peers, unsigned workers, Site& sender, Site& receiver,
                 PeerSide* live, std::vector<CaseResult>& results) {
  const std::vector<unsigned> floods =
      bench.opt.floods.empty() ? std::vector<unsigned>{0} : bench.opt.floods;
  for (unsigned size : bench.opt.sizes) {
    for (Direction dir : bench.opt.directions) {
      for (unsigned rep = 0; rep < bench.opt.repeat; ++rep) {
        // The flood rates back to back in each repeat: drift of the machine hits them alike.
        for (unsigned flood : floods) {
          const CaseSpec spec = make_spec(bench, dir, size, peers, workers, flood);
          for (Site* site : {&sender, &receiver}) {
            site->renew(monotonic_now());
            site->dp().mtu = spec.mtu;  // the workers are idle between cases
          }
          auto r = bench.opt.gateway
                       ? run_gateway_case(spec, *bench.ports, bench.lcores, sender, receiver, live)
                       : run_case(bench, spec, sender, receiver);
          if (!r) return Error{r.error()};
          results.push_back(*r);
        }
      }
    }
  }
  return ok_status();
}

/// Every case with `peers` peers, on a receiver and a sender site made for them.
Status run_peer_count(Bench& bench, const Ports& ports, unsigned peers,
                      std::vector<CaseResult>& results) {
  const auto max_workers = static_cast<unsigned>(bench.lanes.size());
  const bool relayed = bench.opt.relayed;
  SiteSpec spec{.peers = peers,
                .workers = max_workers,
                .relayed = relayed,
                .with_control = !bench.opt.floods.empty(),
                .gateway_tables = bench.opt.gateway,
                .spread = bench.opt.spread};
  auto receiver = Site::create(ports, spec);
  if (!receiver) return Error{receiver.error()};
  spec.receiver = receiver->get();
  // --rekey-after: the sender, the gateway whose outbound is measured, is the daemon's control
  // thread's, and its peers' side answers its handshakes.
  spec.with_control = spec.live = bench.opt.rekey_after != 0;
  auto sender = Site::create(ports, spec);
  if (!sender) return Error{sender.error()};
  std::unique_ptr<PeerSide> live;
  if (spec.live) {
    auto side = PeerSide::create(peers, (*sender)->public_key());
    if (!side) return Error{side.error()};
    live = std::move(*side);
    std::vector<Key32> keys(peers);
    for (PeerId p = 0; p < peers; ++p) keys[p] = live->public_key(p);
    if (auto st = (*sender)->configure_peers(keys); !st) return st;
    (*sender)->dp().rekey_after_time =
        static_cast<Nanos>(bench.opt.rekey_after * static_cast<double>(kNsPerSec));
  }
  for (unsigned workers : bench.opt.workers) {
    if (peers < workers && !bench.opt.one_peer) {  // --one-peer: the workers share it
      std::fprintf(stderr, "skipping %u workers with %u peers: each worker needs a peer\n", workers,
                   peers);
      bench.done += bench.opt.sizes.size() * bench.opt.directions.size() * bench.opt.repeat *
                    std::max<std::size_t>(1, bench.opt.floods.size());
      continue;
    }
    if (auto st = run_cases(bench, peers, workers, **sender, **receiver, live.get(), results);
        !st) {
      return st;
    }
  }
  return ok_status();
}

}  // namespace

Result<std::vector<CaseResult>> run_inmem(const InmemOptions& opt) {
  const unsigned max_workers = *std::max_element(opt.workers.begin(), opt.workers.end());
  const bool flood = !opt.floods.empty();
  std::vector<unsigned> lcores = dpdk::worker_lcores();
  // The control thread's lcore, or gateway mode's feeders.
  const unsigned feeders = opt.feeder_lcores(max_workers);
  // --rekey-after: the control thread's lcore too.
  const unsigned needed = opt.gateway ? max_workers + feeders + (opt.rekey_after != 0 ? 1 : 0)
                                      : max_workers + (flood ? 1 : 0);
  if (lcores.size() + 1 < needed) {
    return Error{"the EAL gives " + std::to_string(lcores.size() + 1) + " lcores, " +
                 std::to_string(max_workers) + " workers need one each" +
                 (flood ? " and the control thread one more" : "") +
                 (opt.gateway ? " and a feeder each" : "") +
                 (opt.rekey_after != 0 ? " and the control thread one more" : "") + " (--lcores)"};
  }
  std::uint16_t mtu = 0;
  for (unsigned size : opt.sizes) mtu = std::max(mtu, case_mtu(size));
  // A flood's mbufs wait in the handshake ring and, as cookie replies, on the control thread's
  // TX rings; a lane allocates up to 4 a frame per trip.
  unsigned extra = flood ? control::impl::kHandshakeRingSize + control::impl::kControlRingSize +
                               4 * opt.chunk * max_workers
                         : 0;
  // Gateway mode: 256 MiB of mbufs, more than a last-level cache holds, cycled through the
  // pool's per-lcore caches as a NIC's refills are.
  if (opt.gateway)
    extra = (256u << 20) / (control::port_mtu(dataplane::PortRole::outer, mtu) + 256);
  // A preloaded round waits whole on the RX ring and again on the TX ring.
  auto ports = Ports::create(max_workers, std::max(opt.chunk, opt.preload), mtu, extra);
  if (!ports) return Error{ports.error()};
  Bench bench{.opt = opt,
              .ports = &*ports,
              .lcores = std::move(lcores),
              .total = opt.peers.size() * opt.workers.size() * opt.sizes.size() *
                       opt.directions.size() * opt.repeat *
                       std::max<std::size_t>(1, opt.floods.size())};
  for (unsigned i = 0; i < max_workers; ++i) {
    bench.lanes.push_back(std::make_unique<Lane>(i, *ports, opt.chunk));
  }

  std::vector<CaseResult> results;
  for (unsigned peers : opt.peers) {
    if (auto st = run_peer_count(bench, *ports, peers, results); !st) return Error{st.error()};
  }
  return results;
}

}  // namespace tunbench
