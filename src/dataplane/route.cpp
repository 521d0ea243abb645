#include "meshgate/dataplane/route.hpp"

#include <cstring>

#include "meshgate/wire/checksum.hpp"

namespace meshgate::dataplane {

namespace {
constexpr std::size_t kEth = 14;
constexpr std::size_t kIp4 = 20;
constexpr std::size_t kIp6 = 40;
constexpr std::size_t kUdp = 8;
}  // namespace

PeerRoute make_route(const Endpoint& endpoint, const IpAddr& src, std::uint16_t sport,
                     const wire::MacAddr& src_mac, const wire::MacAddr& dst_mac) {
  PeerRoute r;
  r.endpoint = endpoint;
  std::uint8_t* h = r.header;
  std::memcpy(h, dst_mac.b.data(), 6);
  std::memcpy(h + 6, src_mac.b.data(), 6);
  const bool v6 = endpoint.addr.is_v6();
  store_be16(h + 12, v6 ? wire::spec::kEtherTypeIpv6 : wire::spec::kEtherTypeIpv4);
  std::uint8_t* ip = h + kEth;
  std::uint8_t* udp;
  if (v6) {
    store_be32(ip, 0x60000000);  // version 6, traffic class 0, flow label 0
    ip[6] = wire::spec::kProtoUdp;
    ip[7] = wire::spec::kDefaultTtl;
    std::memcpy(ip + 8, src.bytes.data(), 16);
    std::memcpy(ip + 24, endpoint.addr.bytes.data(), 16);
    udp = ip + kIp6;
    r.header_len = kEth + kIp6 + kUdp;
  } else {
    ip[0] = 0x45;
    store_be16(ip + 6, wire::spec::kIpv4FlagDf);  // id 0 with DF (RFC 6864 4.1)
    ip[8] = wire::spec::kDefaultTtl;
    ip[9] = wire::spec::kProtoUdp;
    std::memcpy(ip + 12, src.bytes.data(), 4);
    std::memcpy(ip + 16, endpoint.addr.bytes.data(), 4);
    // Checksum with total length 0; each packet adds its length incrementally.
    r.ipv4_cksum_base = wire::ipv4_header_checksum(ip);
    udp = ip + kIp4;
    r.header_len = kEth + kIp4 + kUdp;
  }
  store_be16(udp, sport);
  store_be16(udp + 2, endpoint.port);
  return r;
}

void write_outer_header(std::uint8_t* frame, const PeerRoute& r, std::uint16_t wg_len) noexcept {
  std::memcpy(frame, r.header, r.header_len);
  std::uint8_t* ip = frame + kEth;
  const auto udp_len = static_cast<std::uint16_t>(kUdp + wg_len);
  if (r.header_len == kEth + kIp4 + kUdp) {
    const auto total = static_cast<std::uint16_t>(kIp4 + udp_len);
    store_be16(ip + 2, total);
    store_be16(ip + 10, wire::checksum_update16(r.ipv4_cksum_base, 0, total));
    std::uint8_t* udp = ip + kIp4;
    store_be16(udp + 4, udp_len);  // checksum stays 0: optional over IPv4 (RFC 768)
    return;
  }
  store_be16(ip + 4, udp_len);
  std::uint8_t* udp = ip + kIp6;
  store_be16(udp + 4, udp_len);
  // Mandatory over IPv6 (RFC 8200 8.1).
  std::uint16_t c = wire::udp_checksum_v6(ip + 8, ip + 24, udp, udp_len);
  store_be16(udp + 6, c == 0 ? 0xFFFF : c);
}

}  // namespace meshgate::dataplane
