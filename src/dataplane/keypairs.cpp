#include "meshgate/dataplane/keypairs.hpp"

#include <bit>
#include <cstring>

#include "meshgate/base/secret.hpp"
#include "meshgate/crypto/random.hpp"

namespace meshgate::dataplane {

KeypairTable::KeypairTable(std::uint32_t capacity)
    : mask_(std::bit_ceil(std::max<std::uint32_t>(capacity, 2)) - 1), slots_(mask_ + 1) {
  free_.reserve(mask_);
  for (std::uint32_t s = mask_; s >= 1; --s) free_.push_back(s);  // pop_back gives low slots
}

KeypairTable::~KeypairTable() {
  for (std::uint32_t s = 0; s <= mask_; ++s) {
    secure_wipe(slots_[s].send_key, sizeof slots_[s].send_key);
    secure_wipe(slots_[s].recv_key, sizeof slots_[s].recv_key);
  }
}

std::optional<std::uint32_t> KeypairTable::reserve() {
  if (free_.empty()) return std::nullopt;
  std::uint32_t slot = free_.back();
  free_.pop_back();
  ++in_use_;
  // Random high bits; the slot (never 0) guarantees a non-zero index.
  return (crypto::random_u32() & ~mask_) | slot;
}

void KeypairTable::publish(std::uint32_t index, const noise::SessionKeys& kp, PeerId peer) {
  Keypair& k = slot(index);
  std::memcpy(k.send_key, kp.send.data(), 32);
  std::memcpy(k.recv_key, kp.recv.data(), 32);
  k.remote_index = kp.remote_index;
  k.peer = peer;
  k.set_birth(kp.birth);
  k.initiator = kp.initiator;
  k.send_counter.store(0, std::memory_order_relaxed);
  k.used.store(false, std::memory_order_relaxed);
  k.replay.reset();
  k.recv_live_index.store(index, std::memory_order_release);
  k.live_index.store(index, std::memory_order_release);
}

void KeypairTable::unpublish(std::uint32_t index) noexcept {
  slot(index).live_index.store(0, std::memory_order_release);
  slot(index).recv_live_index.store(0, std::memory_order_release);
}

void KeypairTable::free(std::uint32_t index) noexcept {
  Keypair& k = slot(index);
  k.live_index.store(0, std::memory_order_relaxed);
  k.recv_live_index.store(0, std::memory_order_relaxed);
  secure_wipe(k.send_key, sizeof k.send_key);
  secure_wipe(k.recv_key, sizeof k.recv_key);
  k.peer = kNoPeer;
  free_.push_back(index & mask_);
  --in_use_;
}

}  // namespace meshgate::dataplane
