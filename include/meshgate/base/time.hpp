// Time as the protocol core sees it: plain integers handed in by the caller (injectable clock).
#pragma once

#include <cstdint>

namespace meshgate {

/// Monotonic nanoseconds (CLOCK_MONOTONIC in the daemon, any counter in tests).
using Nanos = std::int64_t;

constexpr Nanos kNsPerMs = 1'000'000;
constexpr Nanos kNsPerSec = 1'000'000'000;

constexpr Nanos seconds(std::int64_t s) {
  return s * kNsPerSec;
}
constexpr Nanos millis(std::int64_t ms) {
  return ms * kNsPerMs;
}

/// Wall-clock time (CLOCK_REALTIME): for TAI64N and the last-handshake time `wg show` prints.
struct WallTime {
  std::int64_t sec = 0;
  std::int64_t nsec = 0;
};

/// Readers of the real clocks; tests pass their own values to the protocol core instead.
Nanos monotonic_now() noexcept;
WallTime wall_now() noexcept;

}  // namespace meshgate
