// A UDP endpoint as plain bytes: IPv4 or IPv6 address plus port. Used as the cookie input
// (digest section 3.9) and, later, as a peer's endpoint. No sockaddr, no rte_*.h.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

#include "meshgate/base/bytes.hpp"

namespace meshgate::wire {

enum class IpFamily : std::uint8_t { none = 0, v4 = 4, v6 = 6 };

struct Endpoint {
  IpFamily family = IpFamily::none;
  std::array<std::uint8_t, 16> addr{};  // first 4 bytes used for IPv4, network byte order
  std::uint16_t port = 0;               // host byte order

  static Endpoint v4(const std::uint8_t (&a)[4], std::uint16_t port) noexcept {
    Endpoint e;
    e.family = IpFamily::v4;
    std::memcpy(e.addr.data(), a, 4);
    e.port = port;
    return e;
  }
  static Endpoint v6(const std::uint8_t (&a)[16], std::uint16_t port) noexcept {
    Endpoint e;
    e.family = IpFamily::v6;
    std::memcpy(e.addr.data(), a, 16);
    e.port = port;
    return e;
  }

  /// The raw address bytes: 4 for IPv4, 16 for IPv6, none when unset.
  ByteSpan addr_bytes() const noexcept {
    const std::size_t n = family == IpFamily::v4 ? 4 : family == IpFamily::v6 ? 16 : 0;
    return ByteSpan(addr.data(), n);
  }

  friend bool operator==(const Endpoint& a, const Endpoint& b) noexcept {
    return a.family == b.family && a.port == b.port && a.addr == b.addr;
  }
};

}  // namespace meshgate::wire
