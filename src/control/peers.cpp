// Peer records and their publication to the workers.
#include "meshgate/control/peers.hpp"

namespace meshgate::control {

Result<PeerId> Peers::add(const PeerSettings& s, const Prepare& prepare) {
  if (by_key_.count(s.public_key) != 0) return Error{"peer already configured"};
  // The lowest free id: ids stay dense, so the tables indexed by id stay small.
  const PeerId id = free_ids_.empty() ? end() : *free_ids_.begin();
  if (id >= dp_.peers.capacity()) {
    return Error{"too many peers (the gateway was started for " +
                 std::to_string(dp_.peers.capacity()) + ")"};
  }
  // Every check before the first change: an insert takes a prefix from the peer holding it, so a
  // failure half way could not be undone by removing what went in.
  for (const Prefix& p : s.allowed_ips) {
    if (Status st = peer::AllowedIps::check(peer::IpPrefix::from(p), id); !st)
      return Error{st.error()};
  }
  if (id == end()) {
    records_.emplace_back();
  } else {
    free_ids_.erase(free_ids_.begin());
  }
  records_[id] = std::make_unique<PeerState>();
  records_[id]->settings = s;
  records_[id]->cookie.init(s.public_key);
  if (prepare) {
    // Nothing is published yet: no worker has seen the id, so it is free again at once.
    if (Status st = prepare(id); !st) {
      records_[id].reset();
      if (id + 1 == end()) {
        records_.pop_back();  // end() as before
      } else {
        free_ids_.insert(id);
      }
      return Error{st.error()};
    }
  }
  by_key_[s.public_key] = id;
  if (s.lighthouse) lighthouses_.push_back(id);
  dp_.reset_activity(id);
  for (const Prefix& p : s.allowed_ips) (void)dp_.allowed.insert(p, id);  // checked above
  reclaim_allowed_ips();
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
  std::erase(lighthouses_, id);
  records_[id].reset();
  dp_.rcu.defer([this, id] { dp_.rcu.defer([this, id] { free_ids_.insert(id); }); });
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
