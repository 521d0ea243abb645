// The random changes that the IPv4 and IPv6 table tests make, as AllowedIps makes them: a
// trie-and-table pair and a model (`live`: masked prefix -> owner) change together.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <iterator>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include "meshgate/peer/peer_id.hpp"

namespace meshgate::peer::test {

template <class Key>
struct TableModel {
  std::map<std::pair<Key, unsigned>, PeerId> live;  // masked prefix -> owner
  std::vector<std::pair<Key, unsigned>> history;    // every prefix ever inserted

  /// One change to `t` (a pair with insert, remove, remove_peer and a `trie`): half inserts of
  /// a new prefix key/cidr (from `make`, host bits cleared here), then moves, removals with the
  /// right owner about half the time, and removals of a whole peer.
  template <class Pair, class Make>
  void step(Pair& t, std::mt19937_64& rng, unsigned peers, Make make) {
    const unsigned r = static_cast<unsigned>(rng() % 100);
    const PeerId peer = static_cast<PeerId>(rng() % peers);
    if (r < 50 || history.empty()) {  // insert a new (or, by chance, existing) prefix
      auto [key, cidr] = make();
      key &= decltype(t.trie)::mask_of(cidr);
      t.insert(key, cidr, peer);
      live[{key, cidr}] = peer;
      history.emplace_back(key, cidr);
    } else if (r < 65) {  // move an earlier prefix to another peer (or re-add it)
      const auto [key, cidr] = history[rng() % history.size()];
      t.insert(key, cidr, peer);
      live[{key, cidr}] = peer;
    } else if (r < 97) {  // remove, with the right owner about half the time
      const auto [key, cidr] = history[rng() % history.size()];
      auto it = live.find({key, cidr});
      const PeerId who = it != live.end() && rng() % 2 == 0 ? it->second : peer;
      const bool want = it != live.end() && it->second == who;
      ASSERT_EQ(t.remove(key, cidr, who), want);
      if (want) live.erase(it);
    } else {
      const std::size_t want =
          std::erase_if(live, [peer](const auto& kv) { return kv.second == peer; });
      ASSERT_EQ(t.remove_peer(peer), want);
    }
    ASSERT_EQ(t.trie.size(), live.size());
  }
};

}  // namespace meshgate::peer::test
