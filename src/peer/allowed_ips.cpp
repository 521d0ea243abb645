// Cryptokey routing table (whitepaper section 2; protocol.md 8.1): the control-plane half.
#include "meshgate/peer/allowed_ips.hpp"

#include <string>

namespace meshgate::peer {

Status AllowedIps::check(const IpPrefix& prefix, PeerId peer) {
  if (peer == kNoPeer) return Error{"allowed IP: invalid peer id"};
  if (prefix.cidr > prefix.max_cidr()) {
    return Error{"allowed IP " + prefix.to_string() + ": prefix length out of range"};
  }
  return ok_status();
}

Status AllowedIps::insert(const IpPrefix& prefix, PeerId peer) {
  if (Status st = check(prefix, peer); !st) return st;
  if (prefix.family == IpPrefix::Family::kV4) {
    v4_.insert(prefix.v4, prefix.cidr, peer);
    v4_table_.insert(prefix.v4, prefix.cidr, peer);
  } else {
    v6_.insert(to_key(prefix.v6), prefix.cidr, peer);
    v6_table_.insert(to_key(prefix.v6), prefix.cidr, peer);
  }
  return ok_status();
}

bool AllowedIps::remove(const IpPrefix& prefix, PeerId peer) {
  if (peer == kNoPeer || prefix.cidr > prefix.max_cidr()) return false;
  if (prefix.family == IpPrefix::Family::kV4) {
    if (!v4_.remove(prefix.v4, prefix.cidr, peer)) return false;
    v4_table_.remove(v4_, prefix.v4, prefix.cidr);
    return true;
  }
  if (!v6_.remove(to_key(prefix.v6), prefix.cidr, peer)) return false;
  v6_table_.remove(to_key(prefix.v6), prefix.cidr);
  return true;
}

std::size_t AllowedIps::remove_peer(PeerId peer) {
  const auto gone = v4_.prefixes_of(peer);
  const std::size_t n4 = v4_.remove_peer(peer);
  for (const auto& [key, cidr] : gone) v4_table_.remove(v4_, key, cidr);
  const auto gone6 = v6_.prefixes_of(peer);
  const std::size_t n6 = v6_.remove_peer(peer);
  for (const auto& [key, cidr] : gone6) v6_table_.remove(key, cidr);
  return n4 + n6;
}

std::vector<IpPrefix> AllowedIps::prefixes_of(PeerId peer) const {
  std::vector<IpPrefix> out;
  for (const auto& [key, cidr] : v4_.prefixes_of(peer)) {
    out.push_back(IpPrefix::make_v4(key, static_cast<std::uint8_t>(cidr)));
  }
  for (const auto& [key, cidr] : v6_.prefixes_of(peer)) {
    out.push_back(IpPrefix::make_v6(from_key(key), static_cast<std::uint8_t>(cidr)));
  }
  return out;
}

}  // namespace meshgate::peer
