#include "config_checks.hpp"

#include <algorithm>
#include <string>

#include "meshgate/config/ini.hpp"
#include "meshgate/crypto/x25519.hpp"

namespace meshgate::config::detail {
namespace {

Status check_required(const ConfigCtx& c) {
  const std::string at = where(c.cfg.source, 0);
  if (c.interface_line == 0) return Error{at + "missing [Interface] section"};
  if (!c.has_private_key) return Error{at + "[Interface] has no PrivateKey"};
  if (c.gateway_line == 0) return Error{at + "missing [Gateway] section"};
  // The data path has no kernel stack: it answers ARP/NDP for and sends from these addresses.
  if (c.cfg.gateway.inner_addresses.empty()) return Error{at + "[Gateway] has no InnerAddress"};
  if (c.cfg.gateway.outer_addresses.empty()) return Error{at + "[Gateway] has no OuterAddress"};
  return ok_status();
}

Status check_peer_keys(const ConfigCtx& c) {
  SecretKey own = c.cfg.interface.private_key;
  crypto::x25519_clamp(own);
  const Key32 own_public = crypto::x25519_public(own);
  std::map<Key32, std::size_t> first_line;
  for (std::size_t i = 0; i < c.cfg.peers.size(); ++i) {
    const PeerConfig& p = c.cfg.peers[i];
    const std::size_t line = c.peer_key_lines[i];
    if (line == 0) return Error{where(c.cfg.source, p.line) + "[Peer] has no PublicKey"};
    const std::string b64 = to_base64(as_bytes(p.public_key));
    if (p.public_key == own_public) {
      return Error{where(c.cfg.source, line) + "peer PublicKey '" + b64 +
                   "' is the interface's own public key"};
    }
    auto [it, fresh] = first_line.emplace(p.public_key, line);
    if (!fresh) {
      return Error{where(c.cfg.source, line) + "duplicate peer PublicKey '" + b64 +
                   "' (first at line " + std::to_string(it->second) + ")"};
    }
  }
  return ok_status();
}

Status check_mtu(const ConfigCtx& c) {
  const InterfaceConfig& in = c.cfg.interface;
  if (in.mtu >= kMinMtuIpv6) return ok_status();
  for (const InterfaceAddress& a : in.addresses) {
    if (a.addr.is_v6()) {
      return Error{where(c.cfg.source, c.mtu_line) + "invalid MTU '" + std::to_string(in.mtu) +
                   "': below " + std::to_string(kMinMtuIpv6) +
                   ", the IPv6 minimum (RFC 8200 section 5), and Address has IPv6 address " +
                   a.str()};
    }
  }
  return ok_status();
}

Status check_on_link(const ConfigCtx& c, std::string_view key, const std::optional<IpAddr>& hop,
                     std::string_view subnets_key, const std::vector<InterfaceAddress>& subnets,
                     std::size_t line) {
  if (!hop) return ok_status();
  for (const InterfaceAddress& a : subnets) {
    if (a.subnet().contains(*hop)) return ok_status();
  }
  return Error{where(c.cfg.source, line) + std::string(key) + " " + hop->str() +
               " is not inside any " + std::string(subnets_key) + " subnet"};
}

Status check_next_hops(const ConfigCtx& c) {
  const GatewaySection& g = c.cfg.gateway;
  for (const auto* hop : {&g.outer_gateway_v4, &g.outer_gateway_v6}) {
    Status st = check_on_link(c, "OuterGateway", *hop, "OuterAddress", g.outer_addresses,
                              c.outer_gateway_line);
    if (!st) return st;
  }
  for (const auto* hop : {&g.inner_gateway_v4, &g.inner_gateway_v6}) {
    Status st = check_on_link(c, "InnerGateway", *hop, "InnerAddress", g.inner_addresses,
                              c.inner_gateway_line);
    if (!st) return st;
  }
  return ok_status();
}

/// A STUN request leaves from an OuterAddress of the server's family; without one the server
/// could never answer, and that is a mistake to report now rather than a timeout later.
Status check_stun_servers(const ConfigCtx& c) {
  const GatewaySection& g = c.cfg.gateway;
  for (std::size_t i = 0; i < g.stun_servers.size(); ++i) {
    const Endpoint& s = g.stun_servers[i];
    const bool reachable =
        std::any_of(g.outer_addresses.begin(), g.outer_addresses.end(),
                    [&](const InterfaceAddress& a) { return a.addr.family == s.addr.family; });
    if (!reachable) {
      return Error{where(c.cfg.source, c.stun_server_lines[i]) + "StunServer " + s.str() +
                   " is IPv" + (s.addr.is_v4() ? "4" : "6") + " and no OuterAddress is"};
    }
  }
  return ok_status();
}

/// TURN needs all three keys: a server without credentials could never allocate (coturn and
/// every public service refuse unauthenticated Allocates), and credentials without a server
/// are most likely a commented-out TurnServer line.
Status check_turn(const ConfigCtx& c) {
  const GatewaySection& g = c.cfg.gateway;
  if (!g.turn_server) {
    const std::size_t line = std::max(c.turn_user_line, c.turn_password_line);
    if (line == 0) return ok_status();
    return Error{where(c.cfg.source, line) + (c.turn_user_line != 0 ? "TurnUser" : "TurnPassword") +
                 " without TurnServer"};
  }
  const std::string at =
      where(c.cfg.source, c.turn_server_line) + "TurnServer " + g.turn_server->str();
  if (c.turn_user_line == 0 || c.turn_password_line == 0) {
    return Error{at + " needs TurnUser and TurnPassword (long-term credentials)"};
  }
  const bool reachable = std::any_of(
      g.outer_addresses.begin(), g.outer_addresses.end(),
      [&](const InterfaceAddress& a) { return a.addr.family == g.turn_server->addr.family; });
  if (!reachable) {
    return Error{at + " is IPv" + (g.turn_server->addr.is_v4() ? "4" : "6") +
                 " and no OuterAddress is"};
  }
  return ok_status();
}

}  // namespace

Status claim_route(ConfigCtx& c, const Prefix& p, std::size_t line) {
  const std::size_t me = c.cfg.peers.size() - 1;
  ConfigCtx::RouteKey key{static_cast<std::uint8_t>(p.addr.family), p.addr.bytes, p.len};
  auto [it, fresh] = c.routes.emplace(key, std::make_pair(me, line));
  if (fresh) {
    c.peer().allowed_ips.push_back(p);
    return ok_status();
  }
  if (it->second.first == me) return ok_status();  // repeated in the same peer: wg keeps one
  return Error{"AllowedIPs " + p.str() + " is already routed to the peer at line " +
               std::to_string(c.cfg.peers[it->second.first].line) + " (line " +
               std::to_string(it->second.second) +
               "); WireGuard would silently move it to this peer, meshgate refuses the config"};
}

/// A lighthouse is how the other gateways find each other: one they cannot reach by a configured
/// address could never introduce anybody, so its Endpoint is required.
Status check_lighthouses(const ConfigCtx& c) {
  for (const PeerConfig& p : c.cfg.peers) {
    if (p.lighthouse && !p.endpoint) {
      return Error{where(c.cfg.source, p.line) + "[Peer] with Lighthouse = on needs an Endpoint"};
    }
  }
  return ok_status();
}

Status check_whole_config(const ConfigCtx& c) {
  for (Status (*check)(const ConfigCtx&) :
       {check_required, check_peer_keys, check_mtu, check_next_hops, check_stun_servers, check_turn,
        check_lighthouses}) {
    if (Status st = check(c); !st) return st;
  }
  return ok_status();
}

}  // namespace meshgate::config::detail
