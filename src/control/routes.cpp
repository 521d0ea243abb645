// Peer routes (routes.hpp).
#include "meshgate/control/routes.hpp"

#include <cstring>

#include "meshgate/wire/build.hpp"

namespace meshgate::control {

Routes::~Routes() {
  for (PeerId id = 0; id < peers_.end(); ++id) {
    delete dp_.peers[id].route.exchange(nullptr, std::memory_order_acq_rel);
  }
}

bool Routes::update(PeerId peer, Nanos now, bool rebuild) {
  const Endpoint& ep = peers_.find(peer)->settings.endpoint;
  if (!ep.known()) return false;
  const IpAddr& src = ep.addr.is_v6() ? dp_.addr.outer_v6 : dp_.addr.outer_v4;
  if (src.family == IpAddr::Family::none) return false;  // no outer address of that family
  const auto mac = neighbours_.lookup_or_probe(dp_.outer_next_hop(ep.addr), now);
  if (!mac) return false;
  dataplane::Peer& pr = dp_.peers[peer];
  const dataplane::PeerRoute* cur = pr.route.load(std::memory_order_relaxed);
  if (!rebuild && cur != nullptr && cur->endpoint == ep &&
      std::memcmp(cur->outer.bytes.data(), mac->b.data(), 6) == 0) {
    return false;
  }
  auto* r =
      new dataplane::PeerRoute{.outer = dataplane::outer_template(dp_, ep, *mac), .endpoint = ep};
  if (!r->outer.valid()) {
    delete r;
    return false;
  }
  if (const dataplane::PeerRoute* old = pr.route.exchange(r, std::memory_order_acq_rel)) {
    dp_.rcu.defer([old] { delete old; });
  }
  keys_.tag_all(peer, dataplane::endpoint_tag(ep));
  return true;
}

void Routes::withdraw(PeerId peer) {
  if (const dataplane::PeerRoute* r =
          dp_.peers[peer].route.exchange(nullptr, std::memory_order_acq_rel)) {
    dp_.rcu.defer([r] { delete r; });
  }
}

std::vector<PeerId> Routes::next_hop_learnt(const IpAddr& hop, Nanos now) {
  std::vector<PeerId> live;
  for (PeerId id : peers_.ids()) {
    const Endpoint& ep = peers_.find(id)->settings.endpoint;
    if (ep.known() && dp_.outer_next_hop(ep.addr) == hop && update(id, now)) live.push_back(id);
  }
  return live;
}

std::uint32_t Routes::tag(PeerId peer) const noexcept {
  const dataplane::PeerRoute* r = dp_.peers[peer].route.load(std::memory_order_relaxed);
  return r != nullptr ? dataplane::endpoint_tag(r->endpoint) : 0;
}

}  // namespace meshgate::control
