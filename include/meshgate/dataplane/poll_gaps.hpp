// Polls that came late. One poll's own work takes microseconds (a full burst on each queue),
// well under a millisecond even for bursts of jumbo frames; a longer time between the starts of
// two polls means the CPU ran something else meanwhile: an interrupt storm, a kernel thread,
// another process on a core that is not isolated. Every packet in the gateway then waits for
// it, so an operator sees the count (meshgate_worker_stalls_total) beside the latency it costs.
#pragma once

#include "meshgate/base/time.hpp"

namespace meshgate::dataplane {

/// Owned by one worker (Worker::run), not shared.
class PollGaps {
 public:
  static constexpr Nanos kStall = kNsPerMs;  // over any poll's own work

  /// A poll starting at `now`; true when it came over kStall after the one before.
  bool late(Nanos now) noexcept {
    const bool stalled = started_ && now - last_ > kStall;
    last_ = now;
    started_ = true;
    return stalled;
  }
  /// The worker slept on purpose (idle back-off) or stopped: the next gap is not a stall.
  void paused() noexcept { started_ = false; }

 private:
  Nanos last_ = 0;
  bool started_ = false;
};

}  // namespace meshgate::dataplane
