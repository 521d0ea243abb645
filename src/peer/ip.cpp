#include "meshgate/peer/ip.hpp"

namespace meshgate::peer {

IpPrefix IpPrefix::from(const Prefix& p) noexcept {
  return p.addr.is_v6() ? make_v6(Ip6::load(p.addr.bytes.data()), p.len)
                        : make_v4(load_be32(p.addr.bytes.data()), p.len);
}

Prefix IpPrefix::to_prefix() const noexcept {
  std::uint8_t raw[16];
  if (family == Family::kV4) {
    store_be32(raw, v4);
    return Prefix{IpAddr::v4_bytes(raw), cidr};
  }
  v6.store(raw);
  return Prefix{IpAddr::v6_bytes(raw), cidr};
}

std::string IpPrefix::to_string() const {
  // A prefix length past the family's width (rejected by insert) still prints as written.
  std::string s = to_prefix().addr.str();
  s += '/';
  s += std::to_string(cidr);
  return s;
}

}  // namespace meshgate::peer
