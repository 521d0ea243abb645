// Spreading inbound bursts over the workers: publishing, claiming, opening and the ordered send
// (dataplane/spread.hpp says how the pieces fit).
#include <rte_config.h>
#include <rte_pause.h>

#include <algorithm>

#include "meshgate/base/prefetch.hpp"
#include "meshgate/dataplane/worker.hpp"

namespace meshgate::dataplane {

namespace {

/// Others' bursts a worker with time to spare opens per poll: enough to keep several owners
/// going, few enough that its own queues are polled again soon.
constexpr unsigned kHelpJobs = 4;

/// Lines of each frame asked for before a job is classified: the first ones, which hold the
/// outer headers and where the LAN header goes; the AEAD's stream through the rest of a long
/// message is the hardware prefetcher's.
constexpr unsigned kJobLines = 3;

}  // namespace

void Worker::spread_inbound(rte_mbuf** pkts, unsigned n, Nanos now) {
  SpreadLane& lane = *lane_;
  std::uint64_t tail = lane.published.load(std::memory_order_relaxed);
  const unsigned others = others_with_time();
  // Nobody could help and nothing waits in the lane: the pipeline is faster (its prefetches
  // span two bursts) and keeps the order, as the lane is empty.
  if (others == 0 && retired_ == tail) {
    inbound(pkts, n, now);
    return;
  }
  finish_inbound(now);  // the pipeline's waiting burst leaves before any of the lane's
  // The burst goes out as received: whoever claims it classifies it, so the owner's share of
  // each packet is two pointer copies, and no classified burst crosses to another core.
  SpreadJob& j = lane.jobs[tail % SpreadLane::kWindow];
  std::copy_n(pkts, n, j.rx);
  j.n_rx = n;
  j.done.store(false, std::memory_order_relaxed);
  lane.published.store(++tail, std::memory_order_release);
  // Bursts stay for the others to claim when they have time, two for each (so that a helper
  // that finishes one finds the next; it measured a few points better than one each, 1420 B on
  // two CPUs, bench/RESULTS.md); this worker opens the rest. Whoever claims takes the oldest,
  // so the next burst to send is never the one left waiting for long.
  const std::uint64_t leave = std::min<std::uint64_t>(2ull * others, SpreadLane::kWindow / 2);
  while (lane.unclaimed() > leave) {
    SpreadJob* mine = lane.claim();
    if (mine == nullptr) break;
    run_job(*mine, now);
  }
  retire(now);
}

bool Worker::spread_room(Nanos now) {
  retire(now);
  auto used = [&] { return lane_->published.load(std::memory_order_relaxed) - retired_; };
  if (used() < SpreadLane::kWindow) return true;
  if (SpreadJob* mine = lane_->claim(); mine != nullptr) {
    run_job(*mine, now);
    retire(now);
  }
  return used() < SpreadLane::kWindow;
}

unsigned Worker::help(Nanos now) {
  unsigned opened = 0;
  // Its own first: a burst left for a worker that went to sleep does not wait for it.
  while (SpreadJob* mine = lane_->claim()) opened += run_job(*mine, now);
  unsigned jobs = 0;
  for (unsigned k = 1; k < dp_.workers && jobs < kHelpJobs; ++k) {
    SpreadLane& other = dp_.lanes[(id_ + k) % dp_.workers];
    while (jobs < kHelpJobs) {
      SpreadJob* j = other.claim();
      if (j == nullptr) break;
      const unsigned took = run_job(*j, now);
      stats_.opened_for_others += took;
      opened += took;
      ++jobs;
    }
  }
  return opened;
}

unsigned Worker::run_job(SpreadJob& j, Nanos now) {
  // Opening writes to every packet: the mbuf's first line (lengths, data offset), the message
  // in place and the LAN header in front of it. A burst received on another core sits in that
  // core's cache (or arrives there from the NIC), and each store would first wait to take its
  // line from there; asked for all at once, owned, the transfers overlap: one peer on two
  // workers carried 37% more 64 B packets a second on two CPUs (bench/RESULTS.md, "A burst from
  // another core"). The mbufs' lines first: they say where each frame's data is.
  for (unsigned i = 0; i < j.n_rx; ++i) prefetch_write(j.rx[i]);
  for (unsigned i = 0; i < j.n_rx; ++i) {
    const rte_mbuf* m = j.rx[i];
    const unsigned lines = std::min((m->data_len + 63u) / 64, kJobLines);
    auto* data = rte_pktmbuf_mtod(m, const std::uint8_t*);
    for (std::size_t l = 0; l < lines; ++l) prefetch_write(data + 64 * l);
  }
  j.left = classify_burst(j.rx, j.n_rx, job_burst_, now, false);
  const unsigned opened = job_burst_.n;
  j.n_out = 0;
  sink_ = &j;
  open_burst(job_burst_, now);
  sink_ = nullptr;
  j.done.store(true, std::memory_order_release);
  return opened;
}

void Worker::retire(Nanos now) {
  const std::uint64_t tail = lane_->published.load(std::memory_order_relaxed);
  while (retired_ != tail) {
    SpreadJob& j = lane_->jobs[retired_ % SpreadLane::kWindow];
    if (!j.done.load(std::memory_order_acquire)) break;
    for (unsigned i = 0; i < j.n_out; ++i) queue_tx(j.out[i], PortRole::inner);
    // From the first outer fragment on, the burst is this worker's: after the frames that came
    // before it, so the order holds; the datagram it completes (if any) goes the whole way here.
    if (j.left < j.n_rx) {
      classify_burst(j.rx + j.left, j.n_rx - j.left, job_burst_, now);
      open_burst(job_burst_, now);
    }
    ++retired_;
  }
}

void Worker::drain_lane(Nanos now) {
  // A burst another worker claimed is opened within that worker's poll, so this waits at most
  // for one burst's work.
  while (retired_ != lane_->published.load(std::memory_order_relaxed)) {
    if (SpreadJob* mine = lane_->claim(); mine != nullptr) run_job(*mine, now);
    retire(now);
    rte_pause();
  }
}

unsigned Worker::others_with_time() const noexcept {
  unsigned n = 0;
  for (unsigned w = 0; w < dp_.workers; ++w) {
    n += w != id_ && dp_.lanes[w].spare.load(std::memory_order_relaxed);
  }
  return n;
}

void Worker::set_spare(bool spare) noexcept {
  if (lane_ == nullptr || spare == spare_) return;
  spare_ = spare;
  lane_->spare.store(spare, std::memory_order_relaxed);
}

}  // namespace meshgate::dataplane
