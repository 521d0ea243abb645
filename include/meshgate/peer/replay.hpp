// Anti-replay window for transport data counters: RFC 6479 bitmap without shifting, in the
// form of wireguard-go's replay filter (protocol.md 6; whitepaper section 5.4.6).
//
// The ring holds 128 words of 64 bits (8192 bits). One word is always being refilled, so the
// usable window is (128 - 1) * 64 = 8128 counters behind the highest one accepted; the
// kernel's counter_validate gives the same answers for every input.
//
// Thread contract: check() is not thread-safe and the window has no lock of its own. Its
// caller serialises check() per keypair: the data path holds Keypair::replay_lock around it
// (dataplane/keypairs.hpp), because a keypair's packets may reach two workers when its peer
// roams between RSS queues; uncontended, that is one atomic exchange per run of packets on one
// keypair. The receive path calls exhausted() and prefetch() without the lock.
//  - highest_: written by check() under the caller's lock, read by exhausted() from any worker
//    without it. Racy by design, so it is a std::atomic with relaxed loads and stores (on x86-64
//    a plain mov, as before): a stale "no" from exhausted() costs only one AEAD open, since
//    check() under the lock rejects every counter at or past the limit.
//  - ring_: read and written by check() under the lock only; prefetch() is a hint, no access.
// The control thread only resets the window before it publishes the keypair (the release store
// that makes it live orders the reset) and destroys it after an RCU grace period.
//
// check() must run only after the packet authenticated (AEAD tag verified): a forged counter
// would otherwise move the window forward and make honest packets look old.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "meshgate/base/prefetch.hpp"
#include "meshgate/wire/constants.hpp"

namespace meshgate::peer {

template <std::uint64_t Limit>
class BasicReplayWindow {
 public:
  static constexpr unsigned kWordBits = 64;
  static constexpr unsigned kRingWords = 128;
  static constexpr unsigned kRingBits = kWordBits * kRingWords;
  /// Largest accepted distance `highest - counter`.
  static constexpr std::uint64_t kWindowSize = kRingBits - kWordBits;
  /// Counters >= kLimit are always rejected (REJECT_AFTER_MESSAGES for real keypairs).
  static constexpr std::uint64_t kLimit = Limit;
  static_assert((kRingWords & (kRingWords - 1)) == 0, "ring index is a mask");
  static_assert(kLimit > 0);

  BasicReplayWindow() noexcept { reset(); }

  /// Back to "nothing received yet" (counter 0 is acceptable).
  void reset() noexcept {
    highest_.store(0, std::memory_order_relaxed);
    std::memset(ring_, 0, sizeof ring_);
  }

  /// Accepts `counter` once: false if it is at or past the limit, older than the window, or
  /// already seen. A true answer records it.
  [[nodiscard]] bool check(std::uint64_t counter) noexcept {
    if (__builtin_expect(counter >= kLimit, 0)) return false;
    const std::uint64_t block = counter / kWordBits;
    const std::uint64_t highest = highest_.load(std::memory_order_relaxed);
    if (counter > highest) {
      advance(highest / kWordBits, block);
      highest_.store(counter, std::memory_order_relaxed);
    } else if (__builtin_expect(highest - counter > kWindowSize, 0)) {
      return false;
    }
    std::uint64_t& word = ring_[block & (kRingWords - 1)];
    const std::uint64_t bit = std::uint64_t{1} << (counter % kWordBits);
    const std::uint64_t old = word;
    word = old | bit;
    return (old & bit) == 0;
  }

  /// Starts loading the ring word that check(counter) will update (a worker calls it before the
  /// AEAD, whose work hides the miss).
  void prefetch(std::uint64_t counter) const noexcept {
    prefetch_write(&ring_[(counter / kWordBits) & (kRingWords - 1)]);
  }

  /// Highest counter accepted so far (0 when nothing was).
  std::uint64_t highest() const noexcept { return highest_.load(std::memory_order_relaxed); }

  /// The keypair can receive nothing more: the last usable counter (kLimit - 1) was accepted.
  /// The receive path rejects the keypair itself before decrypting (protocol.md 4, step 2).
  bool exhausted() const noexcept { return highest() >= kLimit - 1; }

 private:
  /// Clears ring words current+1 .. block, where current is the highest counter's block;
  /// a jump of a whole ring or more clears every word once.
  void advance(std::uint64_t current, std::uint64_t block) noexcept {
    std::uint64_t n = block - current;
    if (n > kRingWords) n = kRingWords;
    for (std::uint64_t i = 1; i <= n; ++i) ring_[(current + i) & (kRingWords - 1)] = 0;
  }

  // No alignment of its own: a keypair keeps highest_ in the line of its receive key, which the
  // receive path loads anyway (dataplane/keypairs.hpp).
  std::atomic<std::uint64_t> highest_ = 0;
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
  std::uint64_t ring_[kRingWords] = {};
};

using ReplayWindow = BasicReplayWindow<wire::spec::kRejectAfterMessages>;

extern template class BasicReplayWindow<wire::spec::kRejectAfterMessages>;

}  // namespace meshgate::peer
