// IP addresses, prefixes and UDP endpoints as the control plane and the config handle them.
// Addresses are kept in network byte order, IPv4 in the first 4 bytes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace meshgate {

struct IpAddr {
  enum class Family : std::uint8_t { none = 0, v4 = 4, v6 = 6 };
  Family family = Family::none;
  std::array<std::uint8_t, 16> bytes{};  // v4 uses bytes[0..4)

  static IpAddr v4(std::uint32_t host_order);
  static IpAddr v4_bytes(const std::uint8_t* b);
  static IpAddr v6_bytes(const std::uint8_t* b);
  /// "192.0.2.1" or "2001:db8::1" (no brackets, no scope).
  static std::optional<IpAddr> parse(std::string_view s);

  bool is_v4() const noexcept { return family == Family::v4; }
  bool is_v6() const noexcept { return family == Family::v6; }
  std::size_t size() const noexcept { return is_v4() ? 4 : is_v6() ? 16 : 0; }
  int max_prefix() const noexcept { return is_v4() ? 32 : 128; }
  std::uint32_t v4_host_order() const noexcept;
  std::string str() const;

  friend bool operator==(const IpAddr&, const IpAddr&) = default;
};

struct Prefix {
  IpAddr addr;  // host bits already cleared by parse() and masked()
  std::uint8_t len = 0;

  /// "10.0.0.0/24", "fd00::/64"; a bare address means /32 or /128. Host bits are cleared.
  static std::optional<Prefix> parse(std::string_view s);
  /// The same syntax with host bits kept: an interface address with its subnet length.
  static std::optional<Prefix> parse_unmasked(std::string_view s);
  Prefix masked() const;
  bool contains(const IpAddr& a) const noexcept;
  std::string str() const;

  friend bool operator==(const Prefix&, const Prefix&) = default;
};

/// A UDP endpoint (remote address and port). port == 0 with family none means "unknown".
/// A relayed endpoint (channel != 0) is a TURN server at addr:port and one of our allocation's
/// channels on it: packets to it are ChannelData with that channel (RFC 8656 12), and packets
/// from it arrive as ChannelData on that channel (docs/nat-traversal.md, "Relayed data path").
struct Endpoint {
  IpAddr addr;
  std::uint16_t port = 0;     // host order
  std::uint16_t channel = 0;  // 0: direct; else the TURN channel number (0x4000-0x4FFF)

  bool relayed() const noexcept { return channel != 0; }

  /// "192.0.2.1:51820" or "[2001:db8::1]:51820" (numeric only; `wg` resolves names itself).
  /// Parses a direct endpoint (channel 0).
  static std::optional<Endpoint> parse(std::string_view s);
  bool known() const noexcept { return addr.family != IpAddr::Family::none; }
  /// addr:port only, also for a relayed endpoint: where the packets go, as `wg show` shows.
  std::string str() const;

  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

}  // namespace meshgate
