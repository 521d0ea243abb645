// Transport keypairs as the workers use them, in one fixed pool that is also the receiver-index
// table (protocol.md 7).
//
// Our receiver indices encode their pool slot in the low bits and carry random high bits, so
// a worker finds the keypair for an incoming type-4 message with one array access and one
// compare, lock-free: slot = index & mask, valid iff slot.live_index == index. Peers treat
// indices as opaque tokens, so the encoding is ours to choose; the random bits keep them
// unpredictable.
//
// Thread contract: the control thread is the only writer. It reserves a slot when a handshake
// starts (the handshake's index becomes the keypair's), fills the keys, then publishes with a
// release store of live_index. To retire a keypair it stores live_index = 0 and, after an RCU
// grace period (no worker still holds the pointer), wipes and frees the slot. Workers write only
// send_counter (atomic nonce reservation, one fetch_add per burst), the replay window (under
// replay_lock) and `used`.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "meshgate/base/huge_array.hpp"
#include "meshgate/base/prefetch.hpp"
#include "meshgate/base/time.hpp"
#include "meshgate/noise/session_keys.hpp"
#include "meshgate/peer/peer_id.hpp"
#include "meshgate/peer/replay.hpp"

namespace meshgate::dataplane {

using peer::kNoPeer;  // defined once, in peer/peer_id.hpp
using peer::PeerId;

struct alignas(64) Keypair {
  // Line 0, everything sending reads; line 1, the nonce counter; line 2, everything receiving
  // touches: few cache lines per packet, which matters when every packet of a burst goes to
  // another peer (lines 0 and 1 are one 128-byte pair, which the CPU's adjacent-line prefetch
  // fetches together). Written by the control thread before publication and read-only while
  // live, except send_counter, the replay window and `used`. The index and birth time are in
  // both sides' lines.

  // Line 0: the send side.
  std::atomic<std::uint32_t> live_index{0};  // our index while usable, 0 when not
  std::uint32_t remote_index = 0;            // the peer's index: goes into our type-4 headers
  bool initiator = false;
  Nanos birth = 0;
  std::uint8_t send_key[32] = {};

  // Line 1: the nonce counter, reserved per burst by the sending workers. A line of its own:
  // with one peer's traffic over several workers each one's reservation would otherwise take
  // line 0 from all the others, and their next packet's key and header fields would miss.
  alignas(64) std::atomic<std::uint64_t> send_counter{0};

  // Line 2: the receive side. A keypair's packets normally arrive on one RX queue (RSS on the
  // endpoint), so the replay lock is uncontended; it keeps the window correct when a peer roams
  // between queues.
  alignas(64) std::atomic<std::uint32_t> recv_live_index{0};  // live_index, for lookup_recv()
  PeerId peer = kNoPeer;
  Nanos recv_birth = 0;  // birth
  std::uint8_t recv_key[32] = {};
  std::atomic_flag replay_lock = ATOMIC_FLAG_INIT;
  std::atomic<bool> used{false};  // a packet authenticated on it (key confirmation)
  /// endpoint_tag() of the peer's routed endpoint (0: none), kept by the control thread: a
  /// packet from a source with another tag means roaming, noticed without the peer's lines.
  std::atomic<std::uint32_t> endpoint_tag{0};
  peer::ReplayWindow replay;

  void set_birth(Nanos t) noexcept { birth = recv_birth = t; }
  void lock_replay() noexcept {
    while (replay_lock.test_and_set(std::memory_order_acquire)) __builtin_ia32_pause();
  }
  void unlock_replay() noexcept { replay_lock.clear(std::memory_order_release); }
};
static_assert(offsetof(Keypair, send_key) + sizeof(Keypair::send_key) <= 64,
              "the send side of a keypair is one cache line");
static_assert(offsetof(Keypair, send_counter) == 64, "the nonce counter is line 1, alone");
static_assert(offsetof(Keypair, recv_live_index) == 128, "the receive side starts line 2");
static_assert(offsetof(Keypair, replay) + sizeof(std::uint64_t) <= 192,
              "the receive side (key, replay lock, endpoint tag, highest counter) is one line");

class KeypairTable {
 public:
  /// `capacity` is rounded up to a power of two; slot 0 is never used (index 0 means none).
  explicit KeypairTable(std::uint32_t capacity);
  /// Wipes every key still in the pool.
  ~KeypairTable();
  KeypairTable(const KeypairTable&) = delete;
  KeypairTable& operator=(const KeypairTable&) = delete;

  // --- workers ---
  /// The live keypair an index names, or nullptr: sending and the control thread (line 0).
  Keypair* lookup(std::uint32_t receiver_index) noexcept {
    Keypair& k = slots_[receiver_index & mask_];
    return receiver_index != 0 && k.live_index.load(std::memory_order_acquire) == receiver_index
               ? &k
               : nullptr;
  }
  /// The same from the receive side's copy of the index (line 1), for the receive path.
  Keypair* lookup_recv(std::uint32_t receiver_index) noexcept {
    Keypair& k = slots_[receiver_index & mask_];
    return receiver_index != 0 &&
                   k.recv_live_index.load(std::memory_order_acquire) == receiver_index
               ? &k
               : nullptr;
  }

  /// Prefetches the lines of the slot an index names (live or not, so a worker may call it
  /// before lookup()) that sending reads and writes: keys, header fields, the nonce counter.
  void prefetch_send(std::uint32_t receiver_index) const noexcept {
    prefetch_write(&slots_[receiver_index & mask_].live_index);  // one line, see Keypair
  }
  /// The same for receiving: the receive line.
  void prefetch_recv(std::uint32_t receiver_index) const noexcept {
    prefetch_write(&slots_[receiver_index & mask_].recv_live_index);
  }

  // --- control thread ---
  /// Reserves a slot and returns a fresh index naming it, or nullopt when the pool is full.
  std::optional<std::uint32_t> reserve();
  /// Installs keys into a reserved slot and makes it visible to workers.
  void publish(std::uint32_t index, const noise::SessionKeys& kp, PeerId peer);
  /// Hides a live keypair from workers; free() it once an RCU grace period has passed.
  void unpublish(std::uint32_t index) noexcept;
  /// Wipes the keys and returns the slot (reserved or unpublished) to the free list.
  void free(std::uint32_t index) noexcept;
  /// The slot behind an index, live or not (control-thread bookkeeping).
  Keypair& slot(std::uint32_t index) noexcept { return slots_[index & mask_]; }
  std::uint32_t capacity() const noexcept { return mask_ + 1; }
  std::uint32_t in_use() const noexcept { return in_use_; }

 private:
  std::uint32_t mask_;
  HugeArray<Keypair> slots_;         // indexed at random per packet: huge pages where available
  std::vector<std::uint32_t> free_;  // slot numbers
  std::uint32_t in_use_ = 0;
};

}  // namespace meshgate::dataplane
