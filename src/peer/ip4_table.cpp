// Writer side of the DIR-16-8-8 IPv4 table (see ip4_table.hpp for the thread contract).
// Invariants kept by insert() and remove():
//  - root entry i is a chunk iff the trie holds a prefix longer than /16 inside block i, and a
//    level-2 entry is a chunk iff the trie holds a prefix longer than /24 inside its /24;
//  - every leaf holds the trie's longest match (owner and length) for every address it stands
//    for.
#include "meshgate/peer/ip4_table.hpp"

#include <algorithm>

namespace meshgate::peer {

Ip4Table::Ip4Table() {
  for (std::size_t i = 0; i < root_.size(); ++i) {
    root_[i].store(leaf(kNoPeer, 0), std::memory_order_relaxed);
  }
}

Ip4Table::~Ip4Table() {
  for (std::size_t i = 0; i < root_.size(); ++i) {
    const std::uint64_t e = root_[i].load(std::memory_order_relaxed);
    if ((e & 1) == 0) destroy(e, true);
  }
  reclaim();
}

void Ip4Table::destroy(std::uint64_t e, bool with_children) {
  Chunk* c = mut_chunk_of(e);
  if (with_children) {
    for (const auto& x : c->e) {
      const std::uint64_t v = x.load(std::memory_order_relaxed);
      if ((v & 1) == 0) destroy(v, false);
    }
  }
  delete c;
}

// The chunk `e` was just unlinked; readers may still stand on it or on its children, so all of
// them wait for a grace period.
void Ip4Table::retire(std::uint64_t e, bool with_children) {
  Chunk* c = mut_chunk_of(e);
  if (with_children) {
    for (const auto& x : c->e) {
      const std::uint64_t v = x.load(std::memory_order_relaxed);
      if ((v & 1) == 0) retire(v, false);
    }
  }
  retired_.push_back(c);
  --chunks_;
}

void Ip4Table::reclaim(std::size_t n) {
  n = std::min(n, retired_.size());
  for (std::size_t i = 0; i < n; ++i) delete retired_[i];
  retired_.erase(retired_.begin(), retired_.begin() + static_cast<std::ptrdiff_t>(n));
}

Ip4Table::Chunk* Ip4Table::new_chunk(std::uint64_t fill) {
  Chunk* c = new Chunk;
  for (auto& x : c->e) x.store(fill, std::memory_order_relaxed);
  ++chunks_;
  return c;
}

// Gives `v` (a leaf of depth `cidr`) to every leaf at or below `slot` that a prefix no longer
// than `cidr` decides.
void Ip4Table::paint(std::atomic<std::uint64_t>& slot, std::uint64_t v, unsigned cidr) noexcept {
  const std::uint64_t e = slot.load(std::memory_order_relaxed);
  if ((e & 1) == 0) {
    for (auto& x : mut_chunk_of(e)->e) paint(x, v, cidr);
  } else if (depth_of(e) <= cidr && e != v) {
    slot.store(v, std::memory_order_release);
  }
}

// Gives `v` to every leaf at or below `slot` that the removed prefix of length `cidr` decided.
// The no-route leaf has depth 0 too; a /0's replacement is no route, so that is harmless.
void Ip4Table::unpaint(std::atomic<std::uint64_t>& slot, std::uint64_t v, unsigned cidr) noexcept {
  const std::uint64_t e = slot.load(std::memory_order_relaxed);
  if ((e & 1) == 0) {
    for (auto& x : mut_chunk_of(e)->e) unpaint(x, v, cidr);
  } else if (depth_of(e) == cidr && e != v) {
    slot.store(v, std::memory_order_release);
  }
}

void Ip4Table::insert(std::uint32_t key, unsigned cidr, PeerId peer) {
  const std::uint32_t mask = Ip4Trie::mask_of(cidr);
  const std::uint32_t first = key & mask;
  const std::uint32_t last = first | ~mask;
  const std::uint64_t v = leaf(peer, cidr);
  if (cidr <= 16) {
    for (std::uint32_t i = first >> 16; i <= last >> 16; ++i) paint(root_[i], v, cidr);
    return;
  }
  // Longer than /16: one root entry, which needs a level-2 chunk. A new chunk starts as the
  // leaf it replaces (the whole block had one answer) and is published once complete.
  std::atomic<std::uint64_t>& s1 = root_[first >> 16];
  const std::uint64_t e1 = s1.load(std::memory_order_relaxed);
  Chunk* mid = (e1 & 1) != 0 ? new_chunk(e1) : mut_chunk_of(e1);
  if (cidr <= 24) {
    for (std::uint32_t j = (first >> 8) & 0xff; j <= ((last >> 8) & 0xff); ++j) {
      paint(mid->e[j], v, cidr);
    }
  } else {
    std::atomic<std::uint64_t>& s2 = mid->e[(first >> 8) & 0xff];
    const std::uint64_t e2 = s2.load(std::memory_order_relaxed);
    Chunk* low = (e2 & 1) != 0 ? new_chunk(e2) : mut_chunk_of(e2);
    for (std::uint32_t k = first & 0xff; k <= (last & 0xff); ++k) paint(low->e[k], v, cidr);
    if ((e2 & 1) != 0) s2.store(link(low), std::memory_order_release);
  }
  if ((e1 & 1) != 0) s1.store(link(mid), std::memory_order_release);
}

void Ip4Table::remove(const Ip4Trie& trie, std::uint32_t key, unsigned cidr) {
  const std::uint32_t mask = Ip4Trie::mask_of(cidr);
  const std::uint32_t first = key & mask;
  const std::uint32_t last = first | ~mask;
  // What the removed prefix's addresses fall back to: the longest shorter prefix covering it.
  bool longer = false;
  unsigned depth = 0;
  const PeerId p = trie.longest_at_most(first, cidr, &longer, &depth);
  const std::uint64_t v = leaf(p, depth);
  if (cidr <= 16) {
    for (std::uint32_t i = first >> 16; i <= last >> 16; ++i) unpaint(root_[i], v, cidr);
    return;
  }
  std::atomic<std::uint64_t>& s1 = root_[first >> 16];
  const std::uint64_t e1 = s1.load(std::memory_order_relaxed);
  if ((e1 & 1) != 0) {  // cannot happen while the invariants hold; stay correct anyway
    unpaint(s1, v, cidr);
    return;
  }
  Chunk* mid = mut_chunk_of(e1);
  if (cidr <= 24) {
    for (std::uint32_t j = (first >> 8) & 0xff; j <= ((last >> 8) & 0xff); ++j) {
      unpaint(mid->e[j], v, cidr);
    }
  } else {
    std::atomic<std::uint64_t>& s2 = mid->e[(first >> 8) & 0xff];
    const std::uint64_t e2 = s2.load(std::memory_order_relaxed);
    if ((e2 & 1) != 0) {
      unpaint(s2, v, cidr);
    } else {
      for (std::uint32_t k = first & 0xff; k <= (last & 0xff); ++k) {
        unpaint(mut_chunk_of(e2)->e[k], v, cidr);
      }
      collapse(trie, s2, first & 0xffffff00U, 24);
    }
  }
  collapse(trie, s1, first & 0xffff0000U, 16);
}

// Folds the chunk at `slot` (for block/len) back into a leaf once no prefix inside the block
// is longer than len: every entry below holds the same answer then.
void Ip4Table::collapse(const Ip4Trie& trie, std::atomic<std::uint64_t>& slot, std::uint32_t block,
                        unsigned len) {
  const std::uint64_t e = slot.load(std::memory_order_relaxed);
  if ((e & 1) != 0) return;
  bool longer = false;
  unsigned depth = 0;
  const PeerId p = trie.longest_at_most(block, len, &longer, &depth);
  if (longer) return;
  slot.store(leaf(p, depth), std::memory_order_release);
  retire(e, len == 16);
}

}  // namespace meshgate::peer
