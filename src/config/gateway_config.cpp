// Parser of the gateway config file (gateway_config.hpp): key tables for [Interface], [Peer] and
// [Gateway], then the checks that need the whole file (config_checks.cpp).
#include "meshgate/config/gateway_config.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <filesystem>

#include "config_checks.hpp"
#include "ini_rules.hpp"
#include "meshgate/base/secret.hpp"
#include "values.hpp"

namespace meshgate::config {
namespace detail {
namespace {

using Rule = KeyRule<ConfigCtx>;

Status warn_wg_quick_only(ConfigCtx& c, std::string_view key, std::string_view, std::size_t line) {
  c.cfg.warnings.push_back(where(c.cfg.source, line) + std::string(key) +
                           " is a wg-quick setting and is ignored by meshgate");
  return ok_status();
}

// --- [Interface] ---------------------------------------------------------------------------

Status open_interface(ConfigCtx& c, std::size_t line) {
  if (c.interface_line != 0) {
    return Error{"duplicate [Interface] section (first at line " +
                 std::to_string(c.interface_line) + ")"};
  }
  c.interface_line = line;
  return ok_status();
}

constexpr Rule kInterfaceKeys[] = {
    {"PrivateKey", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t) {
       c.has_private_key = true;
       return parse_key32(k, v, c.cfg.interface.private_key.span(), /*secret=*/true);
     }},
    {"ListenPort", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t) {
       return parse_uint_to(k, v, 0, 65535, c.cfg.interface.listen_port);
     }},
    {"Address", kRepeatable,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t) {
       return parse_addresses(k, v, c.cfg.interface.addresses);
     }},
    {"MTU", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t line) {
       c.mtu_line = line;
       return parse_uint_to(k, v, kMinMtu, kMaxMtu, c.cfg.interface.mtu);
     }},
    {"FwMark", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t) {
       if (iequals(v, "off")) {
         c.cfg.interface.fwmark = 0;
         return ok_status();
       }
       return parse_uint_to(k, v, 0, 0xffffffffu, c.cfg.interface.fwmark, /*hex_ok=*/true);
     }},
    {"DNS", kRepeatable | kAllowEmpty, warn_wg_quick_only},
    {"Table", kRepeatable | kAllowEmpty, warn_wg_quick_only},
    {"PreUp", kRepeatable | kAllowEmpty, warn_wg_quick_only},
    {"PostUp", kRepeatable | kAllowEmpty, warn_wg_quick_only},
    {"PreDown", kRepeatable | kAllowEmpty, warn_wg_quick_only},
    {"PostDown", kRepeatable | kAllowEmpty, warn_wg_quick_only},
    {"SaveConfig", kRepeatable | kAllowEmpty, warn_wg_quick_only},
};

// --- [Peer] --------------------------------------------------------------------------------

Status open_peer(ConfigCtx& c, std::size_t line) {
  c.cfg.peers.emplace_back();
  c.cfg.peers.back().line = line;
  c.peer_key_lines.push_back(0);
  return ok_status();
}

// Splits "host:port" or "[host]:port"; a bare IPv6 address needs the brackets.
bool split_host_port(std::string_view v, std::string_view& host, std::string_view& port) {
  std::size_t colon = v.rfind(':');
  if (colon == std::string_view::npos) return false;
  if (v.front() == '[') {
    if (colon == 0 || v[colon - 1] != ']') return false;
    host = v.substr(1, colon - 2);
    host = host.substr(0, host.find('%'));  // a scope id is meaningless off this host
  } else {
    if (v.find(':') != colon) return false;
    host = v.substr(0, colon);
  }
  port = v.substr(colon + 1);
  return !host.empty() && !port.empty();
}

Result<Endpoint> first_address(addrinfo* res) {
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
      return Endpoint{IpAddr::v4_bytes(reinterpret_cast<const std::uint8_t*>(&sin->sin_addr)),
                      ntohs(sin->sin_port)};
    }
    if (ai->ai_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      return Endpoint{IpAddr::v6_bytes(sin6->sin6_addr.s6_addr), ntohs(sin6->sin6_port)};
    }
  }
  return Error{"the host has no IPv4 or IPv6 address"};
}

// Numeric endpoints never touch the resolver; a host name (or a service name for the port) is
// resolved once, here, and the first address is used, as `wg` does.
Result<Endpoint> resolve_endpoint(std::string_view key, std::string_view v) {
  std::string_view host;
  std::string_view port;
  if (!split_host_port(v, host, port)) return invalid(key, v, "expected host:port or [v6]:port");
  if (port.find_first_not_of("0123456789") == std::string_view::npos) {
    std::uint16_t n = 0;
    if (!parse_uint_to(key, port, 1, 65535, n)) return invalid(key, v, "port must be 1..65535");
    if (auto a = IpAddr::parse(host)) return Endpoint{*a, n};
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_protocol = IPPROTO_UDP;
  addrinfo* res = nullptr;
  const std::string h(host);
  if (int rc = getaddrinfo(h.c_str(), std::string(port).c_str(), &hints, &res); rc != 0) {
    return Error{"cannot resolve " + std::string(key) + " '" + std::string(v) + "': host '" + h +
                 "': " + gai_strerror(rc)};
  }
  auto e = first_address(res);
  freeaddrinfo(res);
  if (!e) return invalid(key, v, e.error());
  return e;
}

Status add_allowed_ips(ConfigCtx& c, std::string_view key, std::string_view v, std::size_t line) {
  if (v.empty()) return ok_status();  // `AllowedIPs =` is valid wg syntax: nothing to add
  auto items = split_list(key, v);
  if (!items) return Error{items.error()};
  for (std::string_view item : *items) {
    auto raw = InterfaceAddress::parse(item);
    if (!raw) return invalid(key, item, "not an IP prefix");
    Prefix p = raw->subnet();
    if (p.addr != raw->addr) {
      // The kernel masks silently; tell the operator what is actually routed.
      c.cfg.warnings.push_back(where(c.cfg.source, line) + std::string(key) + " " +
                               std::string(item) + " has host bits set; using " + p.str());
    }
    if (Status st = claim_route(c, p, line); !st) return st;
  }
  return ok_status();
}

constexpr Rule kPeerKeys[] = {
    {"PublicKey", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t line) {
       c.peer_key_lines.back() = line;
       return parse_key32(k, v, c.peer().public_key, /*secret=*/false);
     }},
    {"PresharedKey", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t) {
       c.peer().preshared_key.emplace();
       return parse_key32(k, v, c.peer().preshared_key->span(), /*secret=*/true);
     }},
    {"AllowedIPs", kRepeatable | kAllowEmpty, add_allowed_ips},
    {"Endpoint", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t) {
       auto e = resolve_endpoint(k, v);
       if (!e) return Status(Error{e.error()});
       c.peer().endpoint = *e;
       c.peer().endpoint_spec = std::string(v);
       return ok_status();
     }},
    {"PersistentKeepalive", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t) {
       if (iequals(v, "off")) {
         c.peer().persistent_keepalive = 0;
         return ok_status();
       }
       return parse_uint_to(k, v, 0, 65535, c.peer().persistent_keepalive);
     }},
    {"Lighthouse", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t) {
       return parse_flag(k, v, c.peer().lighthouse);
     }},
};

// --- [Gateway] -----------------------------------------------------------------------------

Status open_gateway(ConfigCtx& c, std::size_t line) {
  if (c.gateway_line != 0) {
    return Error{"[Gateway] may appear only once (first at line " + std::to_string(c.gateway_line) +
                 ")"};
  }
  c.gateway_line = line;
  return ok_status();
}

constexpr Rule kGatewayKeys[] = {
    {"InnerPort", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t) {
       return parse_port_ref(k, v, c.cfg.gateway.inner_port);
     }},
    {"OuterPort", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t) {
       return parse_port_ref(k, v, c.cfg.gateway.outer_port);
     }},
    {"InnerAddress", kRepeatable,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t) {
       return parse_addresses(k, v, c.cfg.gateway.inner_addresses);
     }},
    {"OuterAddress", kRepeatable,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t) {
       return parse_addresses(k, v, c.cfg.gateway.outer_addresses);
     }},
    {"OuterGateway", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t line) {
       c.outer_gateway_line = line;
       return parse_next_hops(k, v, c.cfg.gateway.outer_gateway_v4, c.cfg.gateway.outer_gateway_v6);
     }},
    {"InnerGateway", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t line) {
       c.inner_gateway_line = line;
       return parse_next_hops(k, v, c.cfg.gateway.inner_gateway_v4, c.cfg.gateway.inner_gateway_v6);
     }},
    {"InnerVlan", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t) {
       return parse_uint_to(k, v, 1, kMaxVlan, c.cfg.gateway.inner_vlan);
     }},
    {"OuterVlan", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t) {
       return parse_uint_to(k, v, 1, kMaxVlan, c.cfg.gateway.outer_vlan);
     }},
    {"Workers", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t) {
       unsigned n = 0;
       Status st = parse_uint_to(k, v, 1, kMaxWorkers, n);
       if (st) c.cfg.gateway.workers = n;
       return st;
     }},
    {"Mbufs", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t) {
       unsigned n = 0;
       Status st = parse_uint_to(k, v, kMinMbufs, kMaxMbufs, n);
       if (st) c.cfg.gateway.mbufs = n;
       return st;
     }},
    {"IdleBackoff", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t) {
       bool on = false;
       Status st = parse_flag(k, v, on);
       if (st) c.cfg.gateway.idle_backoff = on;
       return st;
     }},
    {"SpreadInbound", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t) {
       return parse_flag(k, v, c.cfg.gateway.spread_inbound);
     }},
    {"MetricsListen", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t) {
       std::optional<Endpoint> e;
       Status st = parse_socket_address(k, v, e, "127.0.0.1:9586");
       if (st) c.cfg.gateway.metrics_listen = std::string(v);
       return st;
     }},
    {"StunServer", kRepeatable,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t line) {
       Status st = parse_stun_servers(k, v, c.cfg.gateway.stun_servers);
       c.stun_server_lines.resize(c.cfg.gateway.stun_servers.size(), line);
       return st;
     }},
    {"TurnServer", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t line) {
       c.turn_server_line = line;
       return parse_turn_server(k, v, c.cfg.gateway.turn_server);
     }},
    {"TurnUser", kSingle,
     [](ConfigCtx& c, std::string_view, std::string_view v, std::size_t line) {
       c.turn_user_line = line;
       c.cfg.gateway.turn_user = std::string(v);
       return ok_status();
     }},
    {"TurnPassword", kSingle,
     [](ConfigCtx& c, std::string_view, std::string_view v, std::size_t line) {
       c.turn_password_line = line;
       c.cfg.gateway.turn_password = std::string(v);
       return ok_status();
     }},
    {"Lighthouse", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t) {
       return parse_flag(k, v, c.cfg.gateway.lighthouse);
     }},
    {"MssClamp", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t) {
       return parse_flag(k, v, c.cfg.gateway.mss_clamp);
     }},
    {"Role", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t) {
       const std::optional<Role> r = parse_role(v);
       if (!r) return Status(invalid(k, v, "expected active or standby"));
       c.cfg.gateway.role = *r;
       return ok_status();
     }},
    {"SyncListen", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t) {
       return parse_socket_address(k, v, c.cfg.gateway.sync_listen, "192.0.2.11:51821");
     }},
    {"SyncPeer", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t) {
       return parse_socket_address(k, v, c.cfg.gateway.sync_peer, "192.0.2.12:51821");
     }},
    {"PublicEndpoint", kSingle,
     [](ConfigCtx& c, std::string_view k, std::string_view v, std::size_t) {
       return parse_socket_address(k, v, c.cfg.gateway.public_endpoint, "198.51.100.7:51820");
     }},
    {"Profile", kSingle,
     [](ConfigCtx& c, std::string_view, std::string_view v, std::size_t) {
       std::filesystem::path p(v);
       if (p.is_relative() && !c.base_dir.empty()) p = (c.base_dir / p).lexically_normal();
       c.cfg.gateway.profile = p.string();
       return ok_status();
     }},
};

constexpr SectionRule<ConfigCtx> kSections[] = {
    {"Interface", kInterfaceKeys, open_interface},
    {"Peer", kPeerKeys, open_peer},
    {"Gateway", kGatewayKeys, open_gateway},
};

}  // namespace
}  // namespace detail

Result<GatewayConfig> parse_config(std::string_view text, const std::string& name_for_errors) {
  detail::ConfigCtx ctx;
  ctx.cfg.source = name_for_errors;
  ctx.base_dir = std::filesystem::path(name_for_errors).parent_path();
  if (Status st = detail::run_ini<detail::ConfigCtx>(text, name_for_errors, detail::kSections, ctx);
      !st) {
    return Error{st.error()};
  }
  if (Status st = detail::check_whole_config(ctx); !st) return Error{st.error()};
  return std::move(ctx.cfg);
}

Result<GatewayConfig> load_config(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return Error{text.error()};
  auto config = parse_config(*text, path);
  secure_wipe(text->data(), text->size());  // the text holds the private key
  return config;
}

}  // namespace meshgate::config
