// Parse state of the gateway config and the checks that need more than one line
// (private to src/config).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <tuple>
#include <vector>

#include "meshgate/config/gateway_config.hpp"

namespace meshgate::config::detail {

struct ConfigCtx {
  GatewayConfig cfg;
  std::filesystem::path base_dir;  // for a relative Profile
  bool has_private_key = false;
  std::size_t interface_line = 0;
  std::size_t gateway_line = 0;
  std::size_t mtu_line = 0;
  std::size_t outer_gateway_line = 0;
  std::size_t inner_gateway_line = 0;
  std::vector<std::size_t> stun_server_lines;  // per STUN server: its StunServer line
  std::size_t turn_server_line = 0;            // 0: no such key
  std::size_t turn_user_line = 0;
  std::size_t turn_password_line = 0;
  std::vector<std::size_t> peer_key_lines;  // per peer: line of its PublicKey, 0 = none
  // Every AllowedIPs prefix -> (peer index, line), to refuse a prefix in two peers.
  using RouteKey = std::tuple<std::uint8_t, std::array<std::uint8_t, 16>, std::uint8_t>;
  std::map<RouteKey, std::pair<std::size_t, std::size_t>> routes;

  /// The peer whose keys are being read: keys of [Peer] only occur after its header.
  PeerConfig& peer() { return cfg.peers.back(); }
};

/// Adds `p` to the current peer's AllowedIPs unless it already has it; a prefix that another
/// peer already routes is an error.
Status claim_route(ConfigCtx& c, const Prefix& p, std::size_t line);

/// Required sections and keys, unique and foreign peer keys, MTU against IPv6, next hops on-link,
/// STUN servers reachable from an OuterAddress.
/// Messages carry their location.
Status check_whole_config(const ConfigCtx& c);

}  // namespace meshgate::config::detail
