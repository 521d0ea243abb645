// Printing of IP prefixes (control plane: `wg show`, error messages).
#include "meshgate/peer/ip.hpp"

#include <arpa/inet.h>

#include <string>

namespace meshgate::peer {

std::string IpPrefix::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  std::uint8_t raw[16];
  if (family == Family::kV4) {
    store_be32(raw, v4);
    inet_ntop(AF_INET, raw, buf, sizeof buf);
  } else {
    v6.store(raw);
    inet_ntop(AF_INET6, raw, buf, sizeof buf);
  }
  return std::string(buf) + "/" + std::to_string(cidr);
}

}  // namespace meshgate::peer
