// Value parsers shared by the config and profile key handlers (private to src/config).
// Each returns the problem text without location; run_ini() adds "file:line: ".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meshgate/base/bytes.hpp"
#include "meshgate/base/ip.hpp"
#include "meshgate/base/result.hpp"
#include "meshgate/config/gateway_config.hpp"

namespace meshgate::config::detail {

/// "invalid <key> '<value>': <why>"
Error invalid(std::string_view key, std::string_view value, std::string_view why);

/// Decimal (or 0x hex when `hex_ok`) in [lo, hi].
Status parse_uint(std::string_view key, std::string_view v, std::uint64_t lo, std::uint64_t hi,
                  std::uint64_t& out, bool hex_ok = false);

template <class T>
Status parse_uint_to(std::string_view key, std::string_view v, std::uint64_t lo, std::uint64_t hi,
                     T& out, bool hex_ok = false) {
  std::uint64_t n = 0;
  Status st = parse_uint(key, v, lo, hi, n, hex_ok);
  if (st) out = static_cast<T>(n);
  return st;
}

/// on/off, true/false, yes/no (any case).
Status parse_flag(std::string_view key, std::string_view v, bool& out);

/// Splits a comma list and trims each item; an empty item is an error.
Result<std::vector<std::string_view>> split_list(std::string_view key, std::string_view v);

/// A base64 32-byte key. A secret value is never repeated in the message.
Status parse_key32(std::string_view key, std::string_view v, MutByteSpan out, bool secret);

/// Comma list of ip[/len], appended to `out`.
Status parse_addresses(std::string_view key, std::string_view v,
                       std::vector<InterfaceAddress>& out);

/// Comma list of next-hop addresses, at most one per family.
Status parse_next_hops(std::string_view key, std::string_view v, std::optional<IpAddr>& v4,
                       std::optional<IpAddr>& v6);

/// Comma list of STUN servers, appended to `out`: "ip", "ip:port", "[v6]" or "[v6]:port" (IP
/// literals only; the port defaults to kDefaultStunPort). The same server twice is an error.
Status parse_stun_servers(std::string_view key, std::string_view v, std::vector<Endpoint>& out);

/// One TURN server, written as a StunServer item (its port also defaults to 3478).
Status parse_turn_server(std::string_view key, std::string_view v, std::optional<Endpoint>& out);

/// A numeric "address:port" or "[v6]:port" with a port other than 0; `example` goes in the error.
Status parse_socket_address(std::string_view key, std::string_view v, std::optional<Endpoint>& out,
                            std::string_view example);

/// A DPDK port: a port id (0..65535) or a device name such as net_af_packet0 or 0000:03:00.0.
Status parse_port_ref(std::string_view key, std::string_view v, std::optional<std::string>& out);

/// A single word (no whitespace inside), e.g. a devargs string or a PCI address.
Status parse_word(std::string_view key, std::string_view v, std::string& out);

}  // namespace meshgate::config::detail
