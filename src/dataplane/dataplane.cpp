#include "meshgate/dataplane/dataplane.hpp"

#include <rte_mbuf_dyn.h>

#include <cstring>

namespace meshgate::dataplane {

int g_meta_offset = -1;

bool register_mbuf_meta() {
  if (g_meta_offset >= 0) return true;
  rte_mbuf_dynfield desc{};
  std::strncpy(desc.name, "meshgate_meta", sizeof desc.name - 1);
  desc.size = sizeof(MbufMeta);
  desc.align = alignof(MbufMeta);
  g_meta_offset = rte_mbuf_dynfield_register(&desc);
  return g_meta_offset >= 0;
}

Dataplane::Dataplane(std::uint32_t max_peers, unsigned n_workers)
    : workers(n_workers),
      peers(max_peers),
      keypairs(max_peers * 4 + 64),
      neighbours(NeighbourConfig{}),
      rcu(n_workers == 0 ? 1 : n_workers) {}

namespace {

bool on_link(const std::vector<Prefix>& prefixes, const IpAddr& a) noexcept {
  for (const Prefix& p : prefixes) {
    if (p.contains(a)) return true;
  }
  return false;
}

}  // namespace

IpAddr Dataplane::inner_next_hop(const IpAddr& dst) const noexcept {
  if (on_link(addr.inner, dst)) return dst;
  return dst.is_v6() ? addr.inner_gateway_v6 : addr.inner_gateway_v4;
}

IpAddr Dataplane::outer_next_hop(const IpAddr& dst) const noexcept {
  const IpAddr& gw = dst.is_v6() ? addr.outer_gateway_v6 : addr.outer_gateway_v4;
  if (on_link(addr.outer, dst) || gw.family == IpAddr::Family::none) return dst;
  return gw;
}

bool Dataplane::is_inner_address(const std::uint8_t* ip, bool v6) const noexcept {
  const IpAddr& own = v6 ? addr.inner_v6 : addr.inner_v4;
  return own.family != IpAddr::Family::none && std::memcmp(own.bytes.data(), ip, v6 ? 16 : 4) == 0;
}

bool Dataplane::is_outer_address(const std::uint8_t* ip, bool v6) const noexcept {
  const IpAddr& own = v6 ? addr.outer_v6 : addr.outer_v4;
  return own.family != IpAddr::Family::none && std::memcmp(own.bytes.data(), ip, v6 ? 16 : 4) == 0;
}

}  // namespace meshgate::dataplane
