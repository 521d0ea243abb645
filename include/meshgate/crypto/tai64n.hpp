// TAI64N timestamps for handshake initiations (protocol.md 3.7).
#pragma once

#include "meshgate/base/bytes.hpp"
#include "meshgate/base/time.hpp"

namespace meshgate::crypto {

using Tai64n = Bytes<12>;

/// BE64(2^62 + 10 + sec) || BE32(nsec), nanoseconds whitened to a multiple of 2^24 as the
/// reference implementations send them.
Tai64n tai64n(WallTime t) noexcept;

/// True when a is strictly later than b (bytewise big-endian compare).
bool tai64n_after(const Tai64n& a, const Tai64n& b) noexcept;

}  // namespace meshgate::crypto
