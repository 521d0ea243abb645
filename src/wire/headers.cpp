// MAC address helpers and IPv6 multicast mappings (RFC 4291 2.7.1, RFC 2464 7).
#include "meshgate/wire/headers.hpp"

#include <cstdio>

namespace meshgate::wire {

std::string MacAddr::str() const {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4],
                b[5]);
  return std::string(buf, 17);
}

IpAddr solicited_node_address(const IpAddr& ip6) {
  std::uint8_t a[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0, 0, 0};
  a[13] = ip6.bytes[13];
  a[14] = ip6.bytes[14];
  a[15] = ip6.bytes[15];
  return IpAddr::v6_bytes(a);
}

MacAddr solicited_node_mac(const IpAddr& ip6) {
  return {{0x33, 0x33, 0xff, ip6.bytes[13], ip6.bytes[14], ip6.bytes[15]}};
}

}  // namespace meshgate::wire
