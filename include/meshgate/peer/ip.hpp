// IP addresses and prefixes as the peer module sees them: host-order integers, so longest-prefix
// match and /64 grouping are shifts and masks. Convert from packet bytes once, at the edge.
#pragma once

#include <cstdint>
#include <string>

#include "meshgate/base/bytes.hpp"
#include "meshgate/base/ip.hpp"

namespace meshgate::peer {

/// An IPv4 address is a host-order std::uint32_t (`load_be32` of the 4 wire bytes).
inline std::uint32_t ip4_load(const void* p) noexcept {
  return load_be32(p);
}

/// An IPv6 address as two host-order halves: `hi` holds wire bytes 0..7, `lo` bytes 8..15.
struct Ip6 {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;

  static Ip6 load(const void* p) noexcept {
    const auto* b = static_cast<const std::uint8_t*>(p);
    return Ip6{load_be64(b), load_be64(b + 8)};
  }
  void store(void* p) const noexcept {
    auto* b = static_cast<std::uint8_t*>(p);
    store_be64(b, hi);
    store_be64(b + 8, lo);
  }
  friend bool operator==(const Ip6&, const Ip6&) = default;
};

/// A CIDR prefix of either family (control plane: configuration, UAPI, `wg show`).
struct IpPrefix {
  enum class Family : std::uint8_t { kV4 = 4, kV6 = 6 };

  Family family = Family::kV4;
  std::uint8_t cidr = 0;
  std::uint32_t v4 = 0;  // when family == kV4
  Ip6 v6{};              // when family == kV6

  static IpPrefix make_v4(std::uint32_t addr, std::uint8_t cidr) noexcept {
    IpPrefix p;
    p.family = Family::kV4;
    p.cidr = cidr;
    p.v4 = addr;
    return p;
  }
  static IpPrefix make_v6(Ip6 addr, std::uint8_t cidr) noexcept {
    IpPrefix p;
    p.family = Family::kV6;
    p.cidr = cidr;
    p.v6 = addr;
    return p;
  }
  unsigned max_cidr() const noexcept { return family == Family::kV4 ? 32 : 128; }

  /// "10.0.0.0/8", "fd00::/64" (inet_ntop forms).
  std::string to_string() const;

  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;

  /// Conversions to and from the configuration's byte-order Prefix.
  static IpPrefix from(const Prefix& p) noexcept;
  Prefix to_prefix() const noexcept;
};

/// The same conversion for single addresses.
inline Ip6 to_ip6(const IpAddr& a) noexcept {
  return Ip6::load(a.bytes.data());
}

}  // namespace meshgate::peer
