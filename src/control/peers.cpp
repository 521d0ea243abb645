// Peer records and their publication to the workers.
#include "meshgate/control/peers.hpp"

namespace meshgate::control {

Result<PeerId> Peers::add(const PeerSettings& s) {
  if (by_key_.count(s.public_key) != 0) return Error{"peer already configured"};
  PeerId id = 0;
  while (id < records_.size() && (records_[id] || cooling_ids_.count(id) != 0)) ++id;
  if (id >= dp_.peers.capacity()) {
    return Error{"too many peers (the gateway was started for " +
                 std::to_string(dp_.peers.capacity()) + ")"};
  }
  dp_.reset_activity(id);
  for (std::size_t i = 0; i < s.allowed_ips.size(); ++i) {
    if (Status st = dp_.allowed.insert(s.allowed_ips[i], id); !st) {
      // Nothing routes to the id yet (the peer is not active): take back what went in.
      for (std::size_t j = 0; j < i; ++j) dp_.allowed.remove(s.allowed_ips[j], id);
      reclaim_allowed_ips();
      return Error{st.error()};
    }
  }
  reclaim_allowed_ips();
  if (id == records_.size()) records_.emplace_back();
  records_[id] = std::make_unique<PeerState>();
  records_[id]->settings = s;
  records_[id]->cookie.init(s.public_key);
  by_key_[s.public_key] = id;
  dp_.peers[id].active.store(true, std::memory_order_release);
  return id;
}

void Peers::remove(PeerId id) {
  PeerState* ps = find(id);
  if (ps == nullptr) return;
  dp_.peers[id].active.store(false, std::memory_order_release);
  dp_.allowed.remove_peer(id);
  reclaim_allowed_ips();
  by_key_.erase(ps->settings.public_key);
  records_[id].reset();
  cooling_ids_.insert(id);
  dp_.rcu.defer([this, id] { dp_.rcu.defer([this, id] { cooling_ids_.erase(id); }); });
}

void Peers::reclaim_allowed_ips() {
  const auto mark = dp_.allowed.retire_mark();
  dp_.rcu.defer([this, mark] { dp_.allowed.reclaim(mark); });
}

std::optional<PeerId> Peers::find(const Key32& public_key) const {
  auto it = by_key_.find(public_key);
  if (it == by_key_.end()) return std::nullopt;
  return it->second;
}

std::vector<PeerId> Peers::ids() const {
  std::vector<PeerId> out;
  for (PeerId id = 0; id < records_.size(); ++id) {
    if (records_[id]) out.push_back(id);
  }
  return out;
}

}  // namespace meshgate::control
