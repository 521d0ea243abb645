// Writer side of the lock-free-read LPM trie (see lpm_trie.hpp for the thread contract).
// Invariants kept by every writer operation:
//  - a child's prefix extends its parent's, and sits in child[bit at the parent's cidr];
//  - a node without a peer has exactly two children (otherwise it is spliced out);
//  - a published node's key, mask, cidr and shift never change.
#include "meshgate/peer/lpm_trie.hpp"

#include <algorithm>
#include <vector>

namespace meshgate::peer {
namespace {

unsigned leading_zeros(std::uint32_t x) {
  return x == 0 ? 32 : __builtin_clz(x);
}
unsigned leading_zeros(unsigned __int128 x) {
  const auto hi = static_cast<std::uint64_t>(x >> 64);
  const auto lo = static_cast<std::uint64_t>(x);
  if (hi != 0) return __builtin_clzll(hi);
  return lo == 0 ? 128 : 64 + __builtin_clzll(lo);
}

template <class Key>
unsigned bit_at(Key key, unsigned index) {  // index counts from the most significant bit
  return static_cast<unsigned>(key >> (sizeof(Key) * 8 - 1 - index)) & 1U;
}

}  // namespace

template <class Key>
LpmTrie<Key>::~LpmTrie() {
  std::vector<Node*> stack;
  if (Node* r = root_.load(std::memory_order_relaxed)) stack.push_back(r);
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (auto& c : n->child) {
      if (Node* k = c.load(std::memory_order_relaxed)) stack.push_back(k);
    }
    delete n;
  }
  reclaim();
}

template <class Key>
typename LpmTrie<Key>::Node* LpmTrie<Key>::make_node(Key key, unsigned cidr, PeerId peer) {
  Node* n = new Node;
  n->child[0].store(nullptr, std::memory_order_relaxed);
  n->child[1].store(nullptr, std::memory_order_relaxed);
  n->mask = mask_of(cidr);
  n->key = key & n->mask;
  n->peer.store(kNoPeer, std::memory_order_relaxed);
  n->cidr = static_cast<std::uint8_t>(cidr);
  n->shift = static_cast<std::uint8_t>(cidr < kBits ? kBits - 1 - cidr : 0);
  n->parent = nullptr;
  n->peer_prev = nullptr;
  n->peer_next = nullptr;
  if (peer != kNoPeer) set_peer(n, peer);
  return n;
}

template <class Key>
std::atomic<typename LpmTrie<Key>::Node*>* LpmTrie<Key>::slot_of(Node* n) noexcept {
  Node* p = n->parent;
  if (p == nullptr) return &root_;
  return p->child[0].load(std::memory_order_relaxed) == n ? &p->child[0] : &p->child[1];
}

// Appends `n` to `peer`'s list and publishes the owner (a move if it had another).
template <class Key>
void LpmTrie<Key>::set_peer(Node* n, PeerId peer) {
  if (n->peer.load(std::memory_order_relaxed) == peer) return;
  clear_peer(n);
  PeerList& l = peers_[peer];
  n->peer_prev = l.tail;
  n->peer_next = nullptr;
  (l.tail ? l.tail->peer_next : l.head) = n;
  l.tail = n;
  n->peer.store(peer, std::memory_order_release);
  ++size_;
}

template <class Key>
void LpmTrie<Key>::clear_peer(Node* n) {
  const PeerId old = n->peer.load(std::memory_order_relaxed);
  if (old == kNoPeer) return;
  auto it = peers_.find(old);
  PeerList& l = it->second;
  (n->peer_prev ? n->peer_prev->peer_next : l.head) = n->peer_next;
  (n->peer_next ? n->peer_next->peer_prev : l.tail) = n->peer_prev;
  n->peer_prev = n->peer_next = nullptr;
  if (l.head == nullptr) peers_.erase(it);
  n->peer.store(kNoPeer, std::memory_order_release);
  --size_;
}

template <class Key>
void LpmTrie<Key>::insert(Key key, unsigned cidr, PeerId peer) {
  key &= mask_of(cidr);
  std::atomic<Node*>* slot = &root_;
  Node* parent = nullptr;
  for (;;) {
    Node* n = slot->load(std::memory_order_relaxed);
    if (n == nullptr) {
      Node* fresh = make_node(key, cidr, peer);
      fresh->parent = parent;
      slot->store(fresh, std::memory_order_release);
      return;
    }
    const unsigned common = std::min(
        {leading_zeros(static_cast<Key>(n->key ^ key)), static_cast<unsigned>(n->cidr), cidr});
    if (common == n->cidr) {
      if (n->cidr == cidr) {  // the exact prefix exists (possibly as a branch node)
        set_peer(n, peer);
        return;
      }
      parent = n;  // n covers the new prefix: descend
      slot = &n->child[bit_at(key, n->cidr)];
      continue;
    }
    // The new prefix and n part ways at bit `common`, before n's end: build the replacement
    // subtree aside, then publish it with one store.
    Node* fresh = make_node(key, cidr, peer);
    Node* top = fresh;
    if (common == cidr) {  // the new prefix covers n
      fresh->child[bit_at(n->key, cidr)].store(n, std::memory_order_relaxed);
      n->parent = fresh;
    } else {
      top = make_node(key, common, kNoPeer);
      top->child[bit_at(key, common)].store(fresh, std::memory_order_relaxed);
      top->child[bit_at(n->key, common)].store(n, std::memory_order_relaxed);
      fresh->parent = top;
      n->parent = top;
    }
    top->parent = parent;
    slot->store(top, std::memory_order_release);
    return;
  }
}

template <class Key>
bool LpmTrie<Key>::remove(Key key, unsigned cidr, PeerId peer) {
  key &= mask_of(cidr);
  Node* n = root_.load(std::memory_order_relaxed);
  while (n != nullptr && n->cidr <= cidr && ((key ^ n->key) & n->mask) == 0) {
    if (n->cidr == cidr) {
      if (n->peer.load(std::memory_order_relaxed) != peer) return false;
      clear_peer(n);
      prune(n);
      return true;
    }
    n = n->child[bit_at(key, n->cidr)].load(std::memory_order_relaxed);
  }
  return false;
}

template <class Key>
std::size_t LpmTrie<Key>::remove_peer(PeerId peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return 0;
  std::size_t count = 0;
  Node* n = it->second.head;
  while (n != nullptr) {
    Node* next = n->peer_next;  // prune() only retires nodes without a peer, never `next`
    clear_peer(n);              // erases the list entry when it empties
    prune(n);
    ++count;
    n = next;
  }
  return count;
}

// `n` just lost its peer (or a child): splice it out unless it still branches two ways.
template <class Key>
void LpmTrie<Key>::prune(Node* n) {
  if (n->peer.load(std::memory_order_relaxed) != kNoPeer) return;
  Node* c0 = n->child[0].load(std::memory_order_relaxed);
  Node* c1 = n->child[1].load(std::memory_order_relaxed);
  if (c0 != nullptr && c1 != nullptr) return;
  Node* only = c0 != nullptr ? c0 : c1;
  Node* parent = n->parent;
  if (only != nullptr) only->parent = parent;
  slot_of(n)->store(only, std::memory_order_release);
  retire(n);  // readers standing on n still see its children: they are not freed before n
  if (only == nullptr && parent != nullptr) prune(parent);  // parent lost a child
}

// Walks down while the node's prefix covers the block. The first node past that is either
// inside the block (then so is its whole subtree, which holds at least one prefix: a branch
// node has two children) or off it (then so is everything below it).
template <class Key>
PeerId LpmTrie<Key>::longest_at_most(Key block, unsigned len, bool* has_longer_inside,
                                     unsigned* depth) const noexcept {
  const Key bmask = mask_of(len);
  block &= bmask;
  PeerId found = kNoPeer;
  unsigned found_cidr = 0;
  const Node* n = root_.load(std::memory_order_relaxed);
  while (n != nullptr && n->cidr <= len && ((block ^ n->key) & n->mask) == 0) {
    const PeerId p = n->peer.load(std::memory_order_relaxed);
    if (p != kNoPeer) {
      found = p;
      found_cidr = n->cidr;
    }
    if (n->cidr == len) {  // exactly the block: anything below is longer and inside
      *has_longer_inside = n->child[0].load(std::memory_order_relaxed) != nullptr ||
                           n->child[1].load(std::memory_order_relaxed) != nullptr;
      if (depth != nullptr) *depth = found_cidr;
      return found;
    }
    n = n->child[bit_at(block, n->cidr)].load(std::memory_order_relaxed);
  }
  *has_longer_inside = n != nullptr && n->cidr > len && ((n->key ^ block) & bmask) == 0;
  if (depth != nullptr) *depth = found_cidr;
  return found;
}

template <class Key>
std::vector<std::pair<Key, unsigned>> LpmTrie<Key>::prefixes_of(PeerId peer) const {
  std::vector<std::pair<Key, unsigned>> out;
  auto it = peers_.find(peer);
  if (it == peers_.end()) return out;
  for (const Node* n = it->second.head; n != nullptr; n = n->peer_next) {
    out.emplace_back(n->key, n->cidr);
  }
  return out;
}

template <class Key>
std::size_t LpmTrie<Key>::node_count() const {
  std::size_t count = 0;
  std::vector<const Node*> stack;
  if (const Node* r = root_.load(std::memory_order_relaxed)) stack.push_back(r);
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    ++count;
    for (const auto& c : n->child) {
      if (const Node* k = c.load(std::memory_order_relaxed)) stack.push_back(k);
    }
  }
  return count;
}

template <class Key>
void LpmTrie<Key>::reclaim(std::size_t n) {
  n = std::min(n, retired_.size());
  for (std::size_t i = 0; i < n; ++i) delete retired_[i];
  retired_.erase(retired_.begin(), retired_.begin() + static_cast<std::ptrdiff_t>(n));
}

template class LpmTrie<std::uint32_t>;
template class LpmTrie<unsigned __int128>;

}  // namespace meshgate::peer
