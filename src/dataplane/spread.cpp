// Spreading inbound bursts over the workers: publishing, claiming, opening and the ordered send
// (dataplane/spread.hpp says how the pieces fit).
#include <rte_config.h>
#include <rte_pause.h>

#include "meshgate/base/prefetch.hpp"
#include "meshgate/dataplane/worker.hpp"

namespace meshgate::dataplane {

namespace {

/// Others' bursts a worker with time to spare opens per poll: enough to keep several owners
/// going, few enough that its own queues are polled again soon.
constexpr unsigned kHelpJobs = 4;

/// Lines of each message asked for before a job is opened: the first ones, which hold the
/// outer headers the owner read and where the LAN header goes; the AEAD's stream through the
/// rest of a long message is the hardware prefetcher's.
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
  SpreadJob& j = lane.jobs[tail % SpreadLane::kWindow];
  classify_burst(pkts, n, j.burst, now);
  if (j.burst.n == 0) return;  // nothing to open (handshakes, STUN, drops): no job
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
  retire();
}

bool Worker::spread_room(Nanos now) {
  retire();
  auto used = [&] { return lane_->published.load(std::memory_order_relaxed) - retired_; };
  if (used() < SpreadLane::kWindow) return true;
  if (SpreadJob* mine = lane_->claim(); mine != nullptr) {
    run_job(*mine, now);
    retire();
  }
  return used() < SpreadLane::kWindow;
}

unsigned Worker::help(Nanos now) {
  unsigned opened = 0;
  // Its own first: a burst left for a worker that went to sleep does not wait for it.
  while (SpreadJob* mine = lane_->claim()) {
    opened += mine->burst.n;
    run_job(*mine, now);
  }
  unsigned jobs = 0;
  for (unsigned k = 1; k < dp_.workers && jobs < kHelpJobs; ++k) {
    SpreadLane& other = dp_.lanes[(id_ + k) % dp_.workers];
    while (jobs < kHelpJobs) {
      SpreadJob* j = other.claim();
      if (j == nullptr) break;
      stats_.opened_for_others += j->burst.n;
      opened += j->burst.n;
      run_job(*j, now);
      ++jobs;
    }
  }
  return opened;
}

void Worker::run_job(SpreadJob& j, Nanos now) {
  // Opening writes to every packet: the mbuf's first line (lengths, data offset), the message
  // in place and the LAN header in front of it. A burst received on another worker sits in that
  // worker's cache, and each store would first wait to take its line from there; asked for
  // all at once, owned, the transfers overlap: one peer on two workers carried 37% more 64 B
  // packets a second on two CPUs (bench/RESULTS.md, "A burst from another core").
  for (unsigned i = 0; i < j.burst.n; ++i) {
    const InPacket& p = j.burst.p[i];
    prefetch_write(p.m);
    const unsigned lines = std::min((p.wg_len + 63u) / 64, kJobLines);
    for (std::size_t l = 0; l < lines; ++l) prefetch_write(p.payload + 64 * l);
  }
  j.n_out = 0;
  sink_ = &j;
  open_burst(j.burst, now);
  sink_ = nullptr;
  j.done.store(true, std::memory_order_release);
}

void Worker::retire() noexcept {
  const std::uint64_t tail = lane_->published.load(std::memory_order_relaxed);
  while (retired_ != tail) {
    SpreadJob& j = lane_->jobs[retired_ % SpreadLane::kWindow];
    if (!j.done.load(std::memory_order_acquire)) break;
    for (unsigned i = 0; i < j.n_out; ++i) queue_tx(j.out[i], PortRole::inner);
    ++retired_;
  }
}

void Worker::drain_lane(Nanos now) {
  // A burst another worker claimed is opened within that worker's poll, so this waits at most
  // for one burst's work.
  while (retired_ != lane_->published.load(std::memory_order_relaxed)) {
    if (SpreadJob* mine = lane_->claim(); mine != nullptr) run_job(*mine, now);
    retire();
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
