#include "meshgate/base/ip.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace meshgate {

IpAddr IpAddr::v4(std::uint32_t host_order) {
  IpAddr a;
  a.family = Family::v4;
  a.bytes[0] = static_cast<std::uint8_t>(host_order >> 24);
  a.bytes[1] = static_cast<std::uint8_t>(host_order >> 16);
  a.bytes[2] = static_cast<std::uint8_t>(host_order >> 8);
  a.bytes[3] = static_cast<std::uint8_t>(host_order);
  return a;
}

IpAddr IpAddr::v4_bytes(const std::uint8_t* b) {
  IpAddr a;
  a.family = Family::v4;
  std::memcpy(a.bytes.data(), b, 4);
  return a;
}

IpAddr IpAddr::v6_bytes(const std::uint8_t* b) {
  IpAddr a;
  a.family = Family::v6;
  std::memcpy(a.bytes.data(), b, 16);
  return a;
}

std::optional<IpAddr> IpAddr::parse(std::string_view s) {
  if (s.empty() || s.size() > 45) return std::nullopt;
  char buf[64];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  IpAddr a;
  if (s.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, a.bytes.data()) != 1) return std::nullopt;
    a.family = Family::v4;
  } else {
    if (inet_pton(AF_INET6, buf, a.bytes.data()) != 1) return std::nullopt;
    a.family = Family::v6;
  }
  return a;
}

std::uint32_t IpAddr::v4_host_order() const noexcept {
  return std::uint32_t{bytes[0]} << 24 | std::uint32_t{bytes[1]} << 16 |
         std::uint32_t{bytes[2]} << 8 | bytes[3];
}

std::string IpAddr::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (is_v4()) {
    inet_ntop(AF_INET, bytes.data(), buf, sizeof buf);
  } else if (is_v6()) {
    inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  } else {
    return "(none)";
  }
  return buf;
}

Prefix Prefix::masked() const {
  Prefix p = *this;
  for (int i = 0; i < 16; ++i) {
    int keep = static_cast<int>(len) - 8 * i;
    if (keep >= 8) continue;
    p.addr.bytes[i] &= keep <= 0 ? 0 : static_cast<std::uint8_t>(0xff << (8 - keep));
  }
  return p;
}

std::optional<Prefix> Prefix::parse(std::string_view s) {
  auto p = parse_unmasked(s);
  if (!p) return std::nullopt;
  return p->masked();
}

std::optional<Prefix> Prefix::parse_unmasked(std::string_view s) {
  std::size_t slash = s.find('/');
  auto addr = IpAddr::parse(s.substr(0, slash));
  if (!addr) return std::nullopt;
  Prefix p{*addr, static_cast<std::uint8_t>(addr->max_prefix())};
  if (slash != std::string_view::npos) {
    std::string_view n = s.substr(slash + 1);
    unsigned len = 0;
    auto [ptr, ec] = std::from_chars(n.data(), n.data() + n.size(), len);
    if (n.empty() || ec != std::errc() || ptr != n.data() + n.size() ||
        len > static_cast<unsigned>(addr->max_prefix())) {
      return std::nullopt;
    }
    p.len = static_cast<std::uint8_t>(len);
  }
  return p;
}

bool Prefix::contains(const IpAddr& a) const noexcept {
  // masked() of {a, len} == *this, without building the copies (workers ask this per packet
  // for the LAN next hop): the address as two big-endian words under the prefix's mask.
  if (a.family != addr.family) return false;
  const auto word = [](const std::uint8_t* p) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return __builtin_bswap64(v);
  };
  const unsigned l = len > 128 ? 128 : len;
  const std::uint64_t hi = l >= 64 ? ~0ull : l == 0 ? 0 : ~0ull << (64 - l);
  const std::uint64_t lo = l <= 64 ? 0 : l >= 128 ? ~0ull : ~0ull << (128 - l);
  return (word(a.bytes.data()) & hi) == word(addr.bytes.data()) &&
         (word(a.bytes.data() + 8) & lo) == word(addr.bytes.data() + 8);
}

std::string Prefix::str() const {
  std::string s = addr.str();
  s += '/';
  s += std::to_string(len);
  return s;
}

std::optional<Endpoint> Endpoint::parse(std::string_view s) {
  std::string_view host;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    std::size_t close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return std::nullopt;
    }
    host = s.substr(1, close - 1);
    if (std::size_t pct = host.find('%'); pct != std::string_view::npos) host = host.substr(0, pct);
    port = s.substr(close + 2);
  } else {
    std::size_t colon = s.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;  // v6 needs brackets
  }
  auto addr = IpAddr::parse(host);
  unsigned p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (!addr || port.empty() || ec != std::errc() || ptr != port.data() + port.size() || p > 65535) {
    return std::nullopt;
  }
  return Endpoint{*addr, static_cast<std::uint16_t>(p)};
}

std::string Endpoint::str() const {
  if (!known()) return "(none)";
  std::string s;
  if (addr.is_v6()) s += '[';
  s += addr.str();
  if (addr.is_v6()) s += ']';
  s += ':';
  s += std::to_string(port);
  return s;
}

}  // namespace meshgate
