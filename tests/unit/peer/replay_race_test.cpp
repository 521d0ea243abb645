// The replay window's thread contract (replay.hpp) under ThreadSanitizer: one worker checks
// counters under the keypair's lock while another asks exhausted() and prefetches without it,
// as the receive path does. This binary is built with -fsanitize=thread; a race fails the test.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <random>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "meshgate/peer/replay.hpp"

namespace meshgate::peer {
namespace {

TEST(ReplayRace, ExhaustedBesideCheckUnderTheLock) {
  // A small limit, so the window does become exhausted while the reader watches.
  using Window = BasicReplayWindow<100000>;
  Window w;
  std::atomic_flag lock = ATOMIC_FLAG_INIT;
  auto checked = [&](std::uint64_t c) {
    while (lock.test_and_set(std::memory_order_acquire)) std::this_thread::yield();
    const bool fresh = w.check(c);
    lock.clear(std::memory_order_release);
    return fresh;
  };
  std::atomic<bool> done{false};
  std::thread reader([&] {
    std::uint64_t seen = 0;
    while (!done.load(std::memory_order_relaxed)) {
      seen += w.exhausted() ? 1 : 0;
      w.prefetch(seen);
    }
  });
  std::uint64_t accepted = 0;
  for (std::uint64_t c = 0; c < Window::kLimit; ++c) accepted += checked(c) ? 1 : 0;
  done.store(true, std::memory_order_relaxed);
  reader.join();
  EXPECT_EQ(accepted, Window::kLimit);
  EXPECT_TRUE(w.exhausted());
}

/// A window that is correct by construction: every counter seen, and the highest.
class ModelWindow {
 public:
  explicit ModelWindow(std::uint64_t window, std::uint64_t limit)
      : window_(window), limit_(limit) {}
  bool check(std::uint64_t c) {
    if (c >= limit_ || (c < highest_ && highest_ - c > window_) || seen_.count(c) != 0) {
      return false;
    }
    seen_.insert(c);
    highest_ = std::max(highest_, c);
    return true;
  }

 private:
  std::uint64_t window_, limit_, highest_ = 0;
  std::set<std::uint64_t> seen_;
};

TEST(ReplayRace, SeveralCheckersAcceptWhatASerialWindowWould) {
  // Four workers check the counters of one keypair at once, as when its packets reach several
  // queues: every counter arrives twice (on two of them), out of order, some far behind. Under
  // the keypair's lock the decisions must be exactly those of a correct serial window fed the
  // same counters in the order the lock let them in: each counter accepted at most once, none
  // accepted that a serial window refuses, none refused that it accepts.
  using Window = BasicReplayWindow<1'000'000>;
  Window w;
  std::atomic_flag lock = ATOMIC_FLAG_INIT;
  std::vector<std::pair<std::uint64_t, bool>> order;  // written under `lock`
  constexpr unsigned kThreads = 4;
  constexpr std::uint64_t kCounters = 60000;
  std::vector<std::vector<std::uint64_t>> work(kThreads);
  std::mt19937_64 rng(20261206);
  for (std::uint64_t c = 0; c < kCounters; ++c) {
    const auto a = static_cast<unsigned>(rng() % kThreads);
    work[a].push_back(c);
    work[(a + 1 + rng() % (kThreads - 1)) % kThreads].push_back(c);
  }
  for (auto& list : work) {
    // Locally out of order (runs of 256 shuffled), a few far behind the rest.
    for (std::size_t i = 0; i < list.size(); i += 256) {
      std::shuffle(list.begin() + static_cast<long>(i),
                   list.begin() + static_cast<long>(std::min(list.size(), i + 256)), rng);
    }
    for (std::size_t i = 0; i < list.size(); i += 997) list[i] = list[i] / 4;
  }
  std::atomic<unsigned> ready{0};
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      for (std::uint64_t c : work[t]) {
        while (lock.test_and_set(std::memory_order_acquire)) std::this_thread::yield();
        order.emplace_back(c, w.check(c));
        lock.clear(std::memory_order_release);
      }
    });
  }
  for (auto& th : threads) th.join();

  ModelWindow model(Window::kWindowSize, Window::kLimit);
  std::set<std::uint64_t> accepted;
  std::size_t differ = 0, twice = 0, replayed = 0;
  for (const auto& [c, fresh] : order) {
    differ += model.check(c) != fresh ? 1 : 0;
    if (fresh) {
      twice += accepted.insert(c).second ? 0 : 1;
    } else {
      replayed += accepted.count(c);  // the second copy of one accepted before
    }
  }
  EXPECT_EQ(order.size(), 2 * kCounters);
  EXPECT_EQ(differ, 0u) << "decisions unlike a serial window's";
  EXPECT_EQ(twice, 0u) << "counters accepted more than once";
  // Both answers were exercised: many first copies accepted, many second copies refused as
  // replays (a worker that fell behind sees the rest refused as too old, which is right too).
  EXPECT_GT(accepted.size(), kCounters / 10);
  EXPECT_GT(replayed, kCounters / 10);
}

}  // namespace
}  // namespace meshgate::peer
