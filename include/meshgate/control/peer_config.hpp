// Peer configuration: what the config file and the UAPI (`wg set`, `setconf`, `syncconf`) change
// at run time. Each change applies at once and publishes to the workers the way peer addition
// does; peers a change does not touch keep their sessions and their traffic.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "meshgate/base/result.hpp"
#include "meshgate/control/event_log.hpp"
#include "meshgate/control/peers.hpp"
#include "meshgate/control/routes.hpp"
#include "meshgate/control/sessions.hpp"
#include "meshgate/control/staging.hpp"

namespace meshgate::control {

class PeerConfig {
 public:
  PeerConfig(dataplane::Dataplane& dp, Peers& peers, Sessions& sessions, Routes& routes,
             Staging& staging, const EventLog& log)
      : dp_(dp),
        peers_(peers),
        sessions_(sessions),
        routes_(routes),
        staging_(staging),
        log_(log) {}

  /// Our private key; peers whose public key it is are removed (WireGuard's rule).
  void set_private_key(const SecretKey& key);
  Result<PeerId> add_peer(const PeerSettings& s, Nanos now);
  void remove_peer(PeerId id);
  void remove_all_peers();
  /// Called with each peer's id before its record goes, for the parts that keep per-peer state
  /// of their own and are built after this one (path selection, the lighthouse).
  void on_removed(std::function<void(PeerId)> hook) { removed_hook_ = std::move(hook); }

  std::uint16_t listen_port() const noexcept;
  /// Workers read the port per burst; every peer's route template is rebuilt with it. 0 takes
  /// one from the dynamic range, as a socket bound to port 0 does.
  void set_listen_port(std::uint16_t port, Nanos now);
  std::uint32_t fwmark() const noexcept { return fwmark_; }
  void set_fwmark(std::uint32_t mark) noexcept { fwmark_ = mark; }

  /// Takes the prefix from any other peer that holds it (WireGuard's rule).
  Status add_allowed_ip(PeerId id, const Prefix& prefix);
  /// Removes the prefix if this peer holds it; false if not.
  bool remove_allowed_ip(PeerId id, const Prefix& prefix);
  /// The peer's prefixes become exactly `list`: new ones are inserted before old ones go, so a
  /// prefix in both lists routes all along.
  Status replace_allowed_ips(PeerId id, const std::vector<Prefix>& list);
  /// "10.0.0.0/24" forms, IPv4 first.
  std::vector<std::string> allowed_ips(PeerId id) const;
  void set_endpoint(PeerId id, const Endpoint& ep, Nanos now);
  /// All zero: no PSK. Sessions stay; the next handshake uses the new key.
  void set_preshared_key(PeerId id, const SecretKey& psk);
  void set_persistent_keepalive(PeerId id, std::uint16_t seconds, Nanos now);

 private:
  dataplane::Dataplane& dp_;
  Peers& peers_;
  Sessions& sessions_;
  Routes& routes_;
  Staging& staging_;
  const EventLog& log_;
  std::uint32_t fwmark_ = 0;  // reported to `wg`; the data path has no sockets to mark
  std::function<void(PeerId)> removed_hook_;
};

}  // namespace meshgate::control
