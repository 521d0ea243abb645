// Lock-free-read longest-prefix-match trie: one writer, any number of readers (protocol.md 8.1).
//
// A path-compressed binary trie in the manner of Linux allowedips.c. Every node holds a prefix
// (key, cidr) and optionally a peer id; a node without a peer is a branch node and always has
// two children. A node's key, mask, cidr and shift never change once it is published; only its
// child pointers and its peer id do, through atomics.
//
// Thread contract:
//  - Readers (data-plane worker lcores) call lookup() with no lock: acquire loads of the root
//    and child pointers, a relaxed load of the peer id. They must be RCU readers (DPDK: a
//    registered rte_rcu_qsbr thread that reports quiescent states between bursts), because
//    unlinked nodes stay readable until the owner reclaims them.
//  - Exactly one writer (the control thread) calls every other member. It builds a node or a
//    subtree completely, then links it with one release store, so a reader sees either the old
//    or the new tree, both consistent. Unlinked nodes go to a retired list, never freed at once.
//  - The writer frees retired nodes with reclaim(n) once a grace period has passed since the
//    first n of them were retired: take n = retired_count() when the grace period starts
//    (rte_rcu_qsbr_start), call reclaim(n) once rte_rcu_qsbr_check says every reader has
//    passed a quiescent state. The destructor frees everything and needs no readers left.
//
// Keys are host-order unsigned integers of Bits bits: std::uint32_t for IPv4 and
// unsigned __int128 for IPv6, so matching is an xor and a mask and branching a shift.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "meshgate/base/prefetch.hpp"
#include "meshgate/peer/peer_id.hpp"

namespace meshgate::peer {

template <class Key>
class LpmTrie {
 public:
  static constexpr unsigned kBits = sizeof(Key) * 8;

  /// One cache line per node: lookups touch the first 30-54 bytes only.
  struct alignas(64) Node {
    // Read by lookups.
    std::atomic<Node*> child[2];
    Key key;   // the prefix, host bits zero
    Key mask;  // cidr leading ones
    std::atomic<PeerId> peer;
    std::uint8_t cidr = 0;
    std::uint8_t shift =
        0;  // kBits - 1 - cidr: where the next branching bit sits (0 at full length)
    // Writer only.
    Node* parent;
    Node* peer_prev;  // this peer's nodes, in insertion order
    Node* peer_next;
  };

  LpmTrie() = default;
  ~LpmTrie();
  LpmTrie(const LpmTrie&) = delete;
  LpmTrie& operator=(const LpmTrie&) = delete;

  /// Longest-prefix match; kNoPeer if nothing covers `addr`. Any thread (RCU reader).
  PeerId lookup(Key addr) const noexcept {
    PeerId found = kNoPeer;
    const Node* n = root_.load(std::memory_order_acquire);
    while (n != nullptr && ((addr ^ n->key) & n->mask) == 0) {
      const PeerId p = n->peer.load(std::memory_order_relaxed);
      found = p != kNoPeer ? p : found;
      n = n->child[static_cast<unsigned>(addr >> n->shift) & 1U].load(std::memory_order_acquire);
    }
    return found;
  }

  /// Largest burst for lookup_burst().
  static constexpr unsigned kMaxBurst = 64;

  /// lookup() for a burst of `n` <= kMaxBurst addresses. The walks advance in lock-step, one
  /// level per round, prefetching every lane's next node, so a big table costs about one
  /// memory latency per level for the whole burst instead of one per lookup.
  void lookup_burst(const Key* addrs, PeerId* out, unsigned n) const noexcept {
    const Node* cur[kMaxBurst];
    std::uint8_t lane[kMaxBurst];
    const Node* root = root_.load(std::memory_order_acquire);
    unsigned live = root != nullptr ? n : 0;
    for (unsigned i = 0; i < n; ++i) {
      out[i] = kNoPeer;
      cur[i] = root;
      lane[i] = static_cast<std::uint8_t>(i);
    }
    while (live != 0) {
      unsigned kept = 0;
      for (unsigned j = 0; j < live; ++j) {
        const unsigned i = lane[j];
        const Node* nd = cur[i];
        const Key a = addrs[i];
        if (((a ^ nd->key) & nd->mask) != 0) continue;
        const PeerId p = nd->peer.load(std::memory_order_relaxed);
        out[i] = p != kNoPeer ? p : out[i];
        const Node* next =
            nd->child[static_cast<unsigned>(a >> nd->shift) & 1U].load(std::memory_order_acquire);
        if (next == nullptr) continue;
        prefetch_read(next);
        cur[i] = next;
        lane[kept++] = static_cast<std::uint8_t>(i);
      }
      live = kept;
    }
  }

  // ---- writer (control thread) only ----

  /// Maps key/cidr (host bits cleared here) to `peer`; an existing owner loses it (a move).
  /// `cidr` <= kBits and `peer` != kNoPeer are the caller's to check.
  void insert(Key key, unsigned cidr, PeerId peer);
  /// Removes exactly key/cidr if `peer` owns it; false otherwise.
  bool remove(Key key, unsigned cidr, PeerId peer);
  /// Removes every prefix of `peer`; returns how many.
  std::size_t remove_peer(PeerId peer);
  /// `peer`'s prefixes in insertion order, as (key, cidr).
  std::vector<std::pair<Key, unsigned>> prefixes_of(PeerId peer) const;
  /// Prefixes owned by some peer.
  std::size_t size() const noexcept { return size_; }
  /// For the block key/len (host bits cleared here): the owner of the longest prefix of length
  /// <= len that covers the whole block (kNoPeer if none), its length in `*depth` if given (0
  /// if none), and in `*has_longer_inside` whether some prefix longer than len lies inside the
  /// block. One walk.
  PeerId longest_at_most(Key block, unsigned len, bool* has_longer_inside,
                         unsigned* depth = nullptr) const noexcept;
  /// Linked nodes, branch nodes included (tests check that removals leave no debris).
  std::size_t node_count() const;

  std::size_t retired_count() const noexcept { return retired_.size(); }
  /// Frees the first `n` retired nodes (all by default).
  void reclaim(std::size_t n = ~std::size_t{0});

  static Key mask_of(unsigned cidr) noexcept {
    return cidr == 0 ? Key{0} : static_cast<Key>(~Key{0} << (kBits - cidr));
  }

 private:
  struct PeerList {
    Node* head = nullptr;
    Node* tail = nullptr;
  };

  Node* make_node(Key key, unsigned cidr, PeerId peer);
  std::atomic<Node*>* slot_of(Node* n) noexcept;
  void set_peer(Node* n, PeerId peer);
  void clear_peer(Node* n);
  void prune(Node* n);
  void retire(Node* n) { retired_.push_back(n); }

  std::atomic<Node*> root_{nullptr};
  std::unordered_map<PeerId, PeerList> peers_;
  std::vector<Node*> retired_;
  std::size_t size_ = 0;
};

using Ip4Trie = LpmTrie<std::uint32_t>;
using Ip6Trie = LpmTrie<unsigned __int128>;

extern template class LpmTrie<std::uint32_t>;
extern template class LpmTrie<unsigned __int128>;

}  // namespace meshgate::peer
