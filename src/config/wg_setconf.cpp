// to_wg_setconf(): the wg-only subset of a GatewayConfig, as `wg-quick strip` would print it and
// `wg setconf` / `wg syncconf` read it (protocol.md 10).
#include <cstdio>
#include <string>

#include "meshgate/config/gateway_config.hpp"

namespace meshgate::config {

namespace {

void put(std::string& out, std::string_view key, const std::string& value) {
  out += key;
  out += " = ";
  out += value;
  out += '\n';
}

std::string joined_allowed_ips(const PeerConfig& p) {
  std::string s;
  for (const Prefix& a : p.allowed_ips) {
    if (!s.empty()) s += ", ";
    s += a.str();
  }
  return s;
}

}  // namespace

std::string to_wg_setconf(const GatewayConfig& config) {
  std::string out = "[Interface]\n";
  const InterfaceConfig& in = config.interface;
  put(out, "PrivateKey", to_base64(ByteSpan(in.private_key.data(), in.private_key.size())));
  put(out, "ListenPort", std::to_string(in.listen_port));
  if (in.fwmark != 0) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%x", in.fwmark);
    put(out, "FwMark", hex);
  }
  for (const PeerConfig& p : config.peers) {
    out += "\n[Peer]\n";
    put(out, "PublicKey", to_base64(as_bytes(p.public_key)));
    if (p.preshared_key) {
      put(out, "PresharedKey",
          to_base64(ByteSpan(p.preshared_key->data(), p.preshared_key->size())));
    }
    if (!p.allowed_ips.empty()) put(out, "AllowedIPs", joined_allowed_ips(p));
    if (p.endpoint) put(out, "Endpoint", p.endpoint->str());
    if (p.persistent_keepalive != 0) {
      put(out, "PersistentKeepalive", std::to_string(p.persistent_keepalive));
    }
  }
  return out;
}

}  // namespace meshgate::config
