// Inner IP packets for tests: UDP over IPv4 or IPv6 with valid checksums.
#pragma once

#include <cstdint>
#include <vector>

#include "meshgate/base/bytes.hpp"
#include "meshgate/base/ip.hpp"
#include "meshgate/wire/checksum.hpp"

namespace meshgate::test {

inline std::vector<std::uint8_t> udp_packet(const IpAddr& src, const IpAddr& dst,
                                            std::uint16_t sport, std::uint16_t dport,
                                            const std::vector<std::uint8_t>& payload) {
  const bool v6 = src.is_v6();
  const std::size_t ip_len = v6 ? 40 : 20;
  const std::size_t udp_len = 8 + payload.size();
  std::vector<std::uint8_t> p(ip_len + udp_len, 0);
  std::uint8_t* ip = p.data();
  std::uint8_t* udp = ip + ip_len;
  store_be16(udp, sport);
  store_be16(udp + 2, dport);
  store_be16(udp + 4, static_cast<std::uint16_t>(udp_len));
  std::copy(payload.begin(), payload.end(), udp + 8);
  if (v6) {
    store_be32(ip, 0x60000000);
    store_be16(ip + 4, static_cast<std::uint16_t>(udp_len));
    ip[6] = 17;
    ip[7] = 64;
    std::copy(src.bytes.begin(), src.bytes.end(), ip + 8);
    std::copy(dst.bytes.begin(), dst.bytes.end(), ip + 24);
    std::uint16_t c = wire::udp_checksum_v6(ip + 8, ip + 24, udp, udp_len);
    store_be16(udp + 6, c == 0 ? 0xFFFF : c);
  } else {
    ip[0] = 0x45;
    store_be16(ip + 2, static_cast<std::uint16_t>(p.size()));
    ip[8] = 64;
    ip[9] = 17;
    std::copy(src.bytes.begin(), src.bytes.begin() + 4, ip + 12);
    std::copy(dst.bytes.begin(), dst.bytes.begin() + 4, ip + 16);
    store_be16(ip + 10, wire::ipv4_header_checksum(ip));
    store_be16(udp + 6, wire::udp_checksum_v4(ip + 12, ip + 16, udp, udp_len));
  }
  return p;
}

inline std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t seed) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(seed + i * 7);
  return v;
}

}  // namespace meshgate::test
