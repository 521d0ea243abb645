// Writer side of the IPv6 prefix hash table (see ip6_table.hpp for the thread contract).
// Invariants kept by insert() and remove():
//  - every live prefix of the trie has exactly one slot in table_, with its owner; a removed one
//    has at most one, holding kNoPeer;
//  - bit L of bits_ is set iff some live prefix has length L, and it is set only after that
//    prefix's slot is published, so a reader that sees the bit finds the slot;
//  - used_ <= capacity / 2, so every probe ends at a never-used slot.
#include "meshgate/peer/ip6_table.hpp"

#include <algorithm>
#include <bit>

namespace meshgate::peer {

namespace {

constexpr std::size_t kMinCapacity = 64;

}  // namespace

Ip6Table::~Ip6Table() {
  delete table_.load(std::memory_order_relaxed);
}

std::size_t Ip6Table::capacity() const noexcept {
  const Table* t = table_.load(std::memory_order_relaxed);
  return t == nullptr ? 0 : t->slots.size();
}

void Ip6Table::reclaim(std::size_t n) {
  n = std::min(n, retired_.size());
  retired_.erase(retired_.begin(), retired_.begin() + static_cast<std::ptrdiff_t>(n));
}

Ip6Table::Slot* Ip6Table::slot_of(Key k, unsigned cidr) noexcept {
  const Table* t = table_.load(std::memory_order_relaxed);
  // The writer's own table: it may change what the readers' const view finds.
  return t == nullptr ? nullptr : const_cast<Slot*>(t->slot_of(k, cidr, t->home(k, cidr)));
}

void Ip6Table::Table::place(Key k, unsigned cidr, PeerId peer) noexcept {
  std::size_t i = home(k, cidr);
  while (slots[i].tag.load(std::memory_order_relaxed) != 0) i = (i + 1) & mask;
  Slot& s = slots[i];
  s.key = k;
  s.peer.store(peer, std::memory_order_relaxed);
  s.tag.store(static_cast<std::uint8_t>(cidr + 1), std::memory_order_release);
}

void Ip6Table::count_length(unsigned cidr, bool added) noexcept {
  std::atomic<std::uint64_t>& word = bits_[cidr / 64];
  const std::uint64_t bit = std::uint64_t{1} << (cidr % 64);
  if (added && per_length_[cidr]++ == 0) {
    word.store(word.load(std::memory_order_relaxed) | bit, std::memory_order_release);
    distinct_.store(distinct_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  } else if (!added && --per_length_[cidr] == 0) {
    word.store(word.load(std::memory_order_relaxed) & ~bit, std::memory_order_release);
    distinct_.store(distinct_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  }
}

void Ip6Table::insert(Key key, unsigned cidr, PeerId peer) {
  key &= Ip6Trie::mask_of(cidr);
  if (Slot* s = slot_of(key, cidr)) {
    // A move between peers, or a removed prefix coming back in its old slot.
    if (s->peer.load(std::memory_order_relaxed) == kNoPeer) {
      ++live_;
      s->peer.store(peer, std::memory_order_release);
      count_length(cidr, true);
    } else {
      s->peer.store(peer, std::memory_order_release);
    }
    return;
  }
  if ((used_ + 1) * 2 > capacity()) {
    rebuild(std::max(kMinCapacity, std::bit_ceil((live_ + 1) * 4)));
  }
  table_.load(std::memory_order_relaxed)->place(key, cidr, peer);
  ++used_;
  ++live_;
  count_length(cidr, true);
}

void Ip6Table::remove(Key key, unsigned cidr) {
  key &= Ip6Trie::mask_of(cidr);
  Slot* s = slot_of(key, cidr);
  if (s == nullptr || s->peer.load(std::memory_order_relaxed) == kNoPeer) return;
  s->peer.store(kNoPeer, std::memory_order_release);
  --live_;
  count_length(cidr, false);
}

// A new table of `capacity` slots with the live entries only (removed ones are left behind),
// complete before readers can reach it.
void Ip6Table::rebuild(std::size_t capacity) {
  auto fresh = std::make_unique<Table>(capacity);
  Table* old = table_.load(std::memory_order_relaxed);
  std::size_t used = 0;
  if (old != nullptr) {
    for (std::size_t j = 0; j < old->slots.size(); ++j) {
      const Slot& s = old->slots[j];
      const PeerId p = s.peer.load(std::memory_order_relaxed);
      if (s.tag.load(std::memory_order_relaxed) == 0 || p == kNoPeer) continue;
      fresh->place(s.key, s.tag.load(std::memory_order_relaxed) - 1U, p);
      ++used;
    }
  }
  table_.store(fresh.release(), std::memory_order_release);
  if (old != nullptr) retired_.emplace_back(old);
  used_ = used;
}

}  // namespace meshgate::peer
