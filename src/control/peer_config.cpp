// Peer configuration and live changes (peer_config.hpp).
#include "meshgate/control/peer_config.hpp"

#include <algorithm>

#include "meshgate/crypto/random.hpp"

namespace meshgate::control {

void PeerConfig::set_private_key(const SecretKey& key) {
  for (PeerId id : sessions_.set_private_key(key)) remove_peer(id);
}

Result<PeerId> PeerConfig::add_peer(const PeerSettings& s, Nanos now) {
  auto id = peers_.add(s, [this](PeerId fresh) { return sessions_.configure(fresh); });
  if (!id) return id;
  (void)routes_.update(*id, now);  // nothing is staged for a new peer yet
  if (s.persistent_keepalive != 0) set_persistent_keepalive(*id, s.persistent_keepalive, now);
  return id;
}

void PeerConfig::remove_peer(PeerId id) {
  if (peers_.find(id) == nullptr) return;
  // Unpublished before the record goes: the workers stop routing to the peer first.
  dp_.peers[id].active.store(false, std::memory_order_release);
  sessions_.zero(id);
  routes_.withdraw(id);
  staging_.drop_all(id, dataplane::Drop::peer_removed);
  if (removed_hook_) removed_hook_(id);
  peers_.remove(id);
}

void PeerConfig::remove_all_peers() {
  for (PeerId id : peers_.ids()) remove_peer(id);
}

std::uint16_t PeerConfig::listen_port() const noexcept {
  return dp_.listen_port.load(std::memory_order_relaxed);
}

void PeerConfig::set_listen_port(std::uint16_t port, Nanos now) {
  if (port == 0) port = static_cast<std::uint16_t>(49152 + crypto::random_u32() % 16384);
  if (port == listen_port()) return;
  dp_.listen_port.store(port, std::memory_order_relaxed);
  // The UDP source port lives in every route template: rebuild them all. Peers learn the new
  // port from our next authenticated packet (roaming), as with any WireGuard port change.
  for (PeerId id : peers_.ids()) {
    if (routes_.update(id, now, /*rebuild=*/true)) staging_.flush(id, now);
  }
  log_.line("listen port is now %u", port);
}

Status PeerConfig::add_allowed_ip(PeerId id, const Prefix& prefix) {
  if (peers_.find(id) == nullptr) return Error{"no such peer"};
  Status st = dp_.allowed.insert(prefix, id);
  peers_.reclaim_allowed_ips();
  return st;
}

bool PeerConfig::remove_allowed_ip(PeerId id, const Prefix& prefix) {
  if (peers_.find(id) == nullptr) return false;
  const bool removed = dp_.allowed.remove(prefix, id);
  peers_.reclaim_allowed_ips();
  return removed;
}

Status PeerConfig::replace_allowed_ips(PeerId id, const std::vector<Prefix>& list) {
  if (peers_.find(id) == nullptr) return Error{"no such peer"};
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
  peers_.reclaim_allowed_ips();
  return result;
}

std::vector<std::string> PeerConfig::allowed_ips(PeerId id) const {
  std::vector<std::string> out;
  for (const peer::IpPrefix& p : dp_.allowed.prefixes_of(id)) out.push_back(p.to_string());
  return out;
}

void PeerConfig::set_endpoint(PeerId id, const Endpoint& ep, Nanos now) {
  PeerState* ps = peers_.find(id);
  if (ps == nullptr || ps->settings.endpoint == ep) return;
  ps->settings.endpoint = ep;
  if (routes_.update(id, now)) staging_.flush(id, now);
  log_.peer(*ps, "endpoint set");
  // Packets that waited for an endpoint can now start a handshake.
  if (staging_.count(id) != 0) sessions_.send_initiation(id, now, wall_now(), false);
}

void PeerConfig::set_preshared_key(PeerId id, const SecretKey& psk) {
  PeerState* ps = peers_.find(id);
  if (ps == nullptr) return;
  if (psk.is_zero()) {
    ps->settings.preshared_key.reset();
  } else {
    ps->settings.preshared_key = psk;
  }
  (void)sessions_.configure(id);
}

void PeerConfig::set_persistent_keepalive(PeerId id, std::uint16_t seconds, Nanos now) {
  PeerState* ps = peers_.find(id);
  if (ps == nullptr) return;
  ps->settings.persistent_keepalive = seconds;
  const peer::TimerActions a = ps->timers.set_persistent_keepalive(seconds, now, true);
  if (a.has(peer::TimerAction::kSendKeepalive)) sessions_.send_keepalive(id, now);
}

}  // namespace meshgate::control
