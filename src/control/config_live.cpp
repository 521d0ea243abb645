// Live configuration changes (the UAPI's `set=1`): each applies at once, publishing to the
// workers the way peer addition and removal do, and leaves the other peers' sessions alone.
#include <algorithm>

#include "meshgate/control/control.hpp"
#include "meshgate/crypto/random.hpp"
#include "peer_state.hpp"

namespace meshgate::control {

std::uint16_t Control::listen_port() const noexcept {
  return dp_.listen_port.load(std::memory_order_relaxed);
}

void Control::set_listen_port(std::uint16_t port, Nanos now) {
  if (port == 0) {
    // `wg setconf` sends 0 for a file without ListenPort: like a socket bound to port 0, take
    // one from the dynamic range (RFC 6335).
    port = static_cast<std::uint16_t>(49152 + crypto::random_u32() % 16384);
  }
  if (port == listen_port()) return;
  dp_.listen_port.store(port, std::memory_order_relaxed);
  // The UDP source port lives in every route template: rebuild them all. Peers learn the new
  // port from our next authenticated packet (roaming), as with any WireGuard port change.
  for (PeerId id = 0; id < peers_.size(); ++id) {
    if (peers_[id]) update_route(id, now, /*rebuild=*/true);
  }
  if (log_ != nullptr) {
    std::fprintf(log_, "meshgate: listen port is now %u\n", port);
    std::fflush(log_);
  }
}

void Control::remove_all_peers() {
  for (PeerId id = 0; id < peers_.size(); ++id) remove_peer(id);
}

void Control::reclaim_allowed_ips() {
  // Inserting may split a node and removing unlinks some: free them after a grace period.
  const auto mark = dp_.allowed.retire_mark();
  dp_.rcu.defer([this, mark] { dp_.allowed.reclaim(mark); });
}

Status Control::add_allowed_ip(PeerId id, const Prefix& prefix) {
  if (id >= peers_.size() || !peers_[id]) return Error{"no such peer"};
  Status st = dp_.allowed.insert(prefix, id);
  reclaim_allowed_ips();
  return st;
}

bool Control::remove_allowed_ip(PeerId id, const Prefix& prefix) {
  if (id >= peers_.size() || !peers_[id]) return false;
  const bool removed = dp_.allowed.remove(prefix, id);
  reclaim_allowed_ips();
  return removed;
}

Status Control::replace_allowed_ips(PeerId id, const std::vector<Prefix>& list) {
  if (id >= peers_.size() || !peers_[id]) return Error{"no such peer"};
  Status result = ok_status();
  std::vector<peer::IpPrefix> keep;
  for (const Prefix& p : list) {
    if (Status st = dp_.allowed.insert(p, id); !st) {
      result = st;
      continue;
    }
    keep.push_back(peer::IpPrefix::from(p));
  }
  for (const peer::IpPrefix& old : dp_.allowed.prefixes_of(id)) {
    const bool kept = std::any_of(keep.begin(), keep.end(), [&](const peer::IpPrefix& k) {
      return k.to_string() == old.to_string();
    });
    if (!kept) dp_.allowed.remove(old, id);
  }
  reclaim_allowed_ips();
  return result;
}

std::vector<std::string> Control::allowed_ips(PeerId id) const {
  std::vector<std::string> out;
  for (const peer::IpPrefix& p : dp_.allowed.prefixes_of(id)) out.push_back(p.to_string());
  return out;
}

void Control::set_endpoint(PeerId id, const Endpoint& ep, Nanos now) {
  if (id >= peers_.size() || !peers_[id] || peers_[id]->settings.endpoint == ep) return;
  peers_[id]->settings.endpoint = ep;
  update_route(id, now);
  log_peer(id, "endpoint set");
  // Packets that waited for an endpoint can now start a handshake.
  if (!peers_[id]->staged.empty()) send_initiation(id, now, wall_now(), false);
}

void Control::set_preshared_key(PeerId id, const SecretKey& psk) {
  if (id >= peers_.size() || !peers_[id]) return;
  PeerState& ps = *peers_[id];
  if (psk.is_zero()) {
    ps.settings.preshared_key.reset();
  } else {
    ps.settings.preshared_key = psk;
  }
  if (identity_.has_private_key) {
    const SecretKey* p = ps.settings.preshared_key ? &*ps.settings.preshared_key : nullptr;
    (void)noise::handshake_configure(ps.hs, identity_, ps.settings.public_key, p);
  }
}

void Control::set_persistent_keepalive(PeerId id, std::uint16_t seconds, Nanos now) {
  if (id >= peers_.size() || !peers_[id]) return;
  PeerState& ps = *peers_[id];
  ps.settings.persistent_keepalive = seconds;
  const peer::TimerActions a = ps.timers.set_persistent_keepalive(seconds, now, true);
  if (a.has(peer::TimerAction::kSendKeepalive)) send_keepalive(id, now);
}

std::vector<PeerId> Control::peer_ids() const {
  std::vector<PeerId> out;
  for (PeerId id = 0; id < peers_.size(); ++id) {
    if (peers_[id]) out.push_back(id);
  }
  return out;
}

const PeerSettings& Control::settings(PeerId id) const { return peers_.at(id)->settings; }
std::uint64_t Control::handshakes(PeerId id) const { return peers_.at(id)->handshakes; }

}  // namespace meshgate::control
