#include "values.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "meshgate/config/ini.hpp"

namespace meshgate::config {

std::optional<InterfaceAddress> InterfaceAddress::parse(std::string_view s) {
  auto p = Prefix::parse_unmasked(s);
  if (!p) return std::nullopt;
  return InterfaceAddress{p->addr, p->len};
}

std::string InterfaceAddress::str() const {
  return addr.str() + "/" + std::to_string(prefix_len);
}

std::optional<Role> parse_role(std::string_view s) {
  if (s == "active") return Role::active;
  if (s == "standby") return Role::standby;
  return std::nullopt;
}

const char* role_name(Role r) noexcept {
  return r == Role::standby ? "standby" : "active";
}

namespace detail {

Error invalid(std::string_view key, std::string_view value, std::string_view why) {
  std::string m = "invalid ";
  m += key;
  m += " '";
  m += value;
  m += "': ";
  m += why;
  return Error{std::move(m)};
}

Status parse_uint(std::string_view key, std::string_view v, std::uint64_t lo, std::uint64_t hi,
                  std::uint64_t& out, bool hex_ok) {
  std::string_view digits = v;
  int base = 10;
  if (hex_ok && digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    digits.remove_prefix(2);
    base = 16;
  }
  std::uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n, base);
  if (digits.empty() || ptr != digits.data() + digits.size() || ec == std::errc::invalid_argument) {
    return invalid(key, v, "not a number");
  }
  if (ec == std::errc::result_out_of_range || n < lo || n > hi) {
    return invalid(key, v, "out of range " + std::to_string(lo) + ".." + std::to_string(hi));
  }
  out = n;
  return ok_status();
}

Status parse_flag(std::string_view key, std::string_view v, bool& out) {
  for (std::string_view t : {"on", "true", "yes"}) {
    if (iequals(v, t)) {
      out = true;
      return ok_status();
    }
  }
  for (std::string_view f : {"off", "false", "no"}) {
    if (iequals(v, f)) {
      out = false;
      return ok_status();
    }
  }
  return invalid(key, v, "expected on/off, true/false or yes/no");
}

Result<std::vector<std::string_view>> split_list(std::string_view key, std::string_view v) {
  std::vector<std::string_view> items;
  std::string_view rest = v;
  for (;;) {
    std::size_t comma = rest.find(',');
    std::string_view item = trim(rest.substr(0, comma));
    if (item.empty()) return invalid(key, v, "empty list element");
    items.push_back(item);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return items;
}

Status parse_key32(std::string_view key, std::string_view v, MutByteSpan out, bool secret) {
  if (from_base64(v, out)) return ok_status();
  constexpr std::string_view why = "not a base64-encoded 32-byte key";
  if (secret) {
    return Error{"invalid " + std::string(key) + ": " + std::string(why) +
                 " (the value is secret and not shown)"};
  }
  return invalid(key, v, why);
}

Status parse_addresses(std::string_view key, std::string_view v,
                       std::vector<InterfaceAddress>& out) {
  auto items = split_list(key, v);
  if (!items) return Error{items.error()};
  for (std::string_view item : *items) {
    auto a = InterfaceAddress::parse(item);
    if (!a) return invalid(key, item, "not an address with optional /prefix-length");
    out.push_back(*a);
  }
  return ok_status();
}

Status parse_next_hops(std::string_view key, std::string_view v, std::optional<IpAddr>& v4,
                       std::optional<IpAddr>& v6) {
  auto items = split_list(key, v);
  if (!items) return Error{items.error()};
  for (std::string_view item : *items) {
    auto a = IpAddr::parse(item);
    if (!a) return invalid(key, item, "not an IP address");
    std::optional<IpAddr>& slot = a->is_v4() ? v4 : v6;
    if (slot) {
      return invalid(key, v,
                     std::string("two ") + (a->is_v4() ? "IPv4" : "IPv6") +
                         " next hops; at most one per family");
    }
    slot = *a;
  }
  return ok_status();
}

namespace {

/// One StunServer item; nullopt unless it is an IP literal with an optional non-zero port.
std::optional<Endpoint> stun_server(std::string_view item) {
  if (auto a = IpAddr::parse(item)) return Endpoint{*a, kDefaultStunPort};  // bare v4 or v6
  if (item.size() > 2 && item.front() == '[' && item.back() == ']') {
    if (auto a = IpAddr::parse(item.substr(1, item.size() - 2))) {
      return Endpoint{*a, kDefaultStunPort};
    }
  }
  auto e = Endpoint::parse(item);
  if (!e || e->port == 0) return std::nullopt;
  return e;
}

}  // namespace

Status parse_stun_servers(std::string_view key, std::string_view v, std::vector<Endpoint>& out) {
  auto items = split_list(key, v);
  if (!items) return Error{items.error()};
  for (std::string_view item : *items) {
    const auto e = stun_server(item);
    if (!e) {
      return invalid(key, item,
                     "expected an IP address with an optional port, e.g. 192.0.2.1, "
                     "192.0.2.1:3478 or [2001:db8::1]:3478 (no host names)");
    }
    if (std::find(out.begin(), out.end(), *e) != out.end()) {
      return invalid(key, item, "this STUN server is already listed");
    }
    out.push_back(*e);
  }
  return ok_status();
}

Status parse_turn_server(std::string_view key, std::string_view v, std::optional<Endpoint>& out) {
  out = stun_server(v);
  if (out) return ok_status();
  return invalid(key, v,
                 "expected an IP address with an optional port, e.g. 192.0.2.1, 192.0.2.1:3478 or "
                 "[2001:db8::1]:3478 (no host names)");
}

Status parse_socket_address(std::string_view key, std::string_view v, std::optional<Endpoint>& out,
                            std::string_view example) {
  auto e = Endpoint::parse(v);
  if (!e || e->port == 0) {
    return invalid(key, v,
                   "expected a numeric address:port or [v6]:port, e.g. " + std::string(example));
  }
  out = *e;
  return ok_status();
}

Status parse_port_ref(std::string_view key, std::string_view v, std::optional<std::string>& out) {
  if (std::isdigit(static_cast<unsigned char>(v.front())) != 0 &&
      v.find_first_not_of("0123456789") == std::string_view::npos) {
    std::uint16_t id = 0;
    if (Status st = parse_uint_to(key, v, 0, 65535, id); !st) return st;
    out = std::to_string(id);
    return ok_status();
  }
  for (char c : v) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_' && c != '-' && c != '.' &&
        c != ':') {
      return invalid(key, v, "not a DPDK port id or device name");
    }
  }
  out = std::string(v);
  return ok_status();
}

Status parse_word(std::string_view key, std::string_view v, std::string& out) {
  for (char c : v) {
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      return invalid(key, v, "whitespace inside the value");
    }
  }
  out = std::string(v);
  return ok_status();
}

}  // namespace detail
}  // namespace meshgate::config
