// The replay window's thread contract (replay.hpp) under ThreadSanitizer: one worker checks
// counters under the keypair's lock while another asks exhausted() and prefetches without it,
// as the receive path does. This binary is built with -fsanitize=thread; a race fails the test.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>

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

}  // namespace
}  // namespace meshgate::peer
