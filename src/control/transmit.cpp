// The control thread's transmit path (transmit.hpp).
#include "meshgate/control/transmit.hpp"

#include <rte_config.h>

#include <cstring>

#include "meshgate/crypto/random.hpp"
#include "meshgate/nat/coord.hpp"
#include "meshgate/wire/build.hpp"

namespace meshgate::control {

Transmitter::Transmitter(dataplane::Dataplane& dp, std::uint16_t queue,
                         dataplane::DropCounters& drops)
    : dp_(dp),
      drops_(drops),
      sealer_(dp, /*writer=*/dp.workers, crypto::AeadBackend::ipsec_mb),
      inner_(dp, PortRole::inner, queue),
      outer_(dp, PortRole::outer, queue) {}

void Transmitter::queue(rte_mbuf* m, PortRole port) noexcept {
  // Every frame of the control thread passes here: an HA standby sends nothing at all.
  if (dp_.standby.load(std::memory_order_relaxed)) {
    drops_.add(dataplane::Drop::standby);
    rte_pktmbuf_free(m);
    return;
  }
  if (port == PortRole::inner) {
    stats_.tx_inner += inner_.push(m, drops_);
  } else {
    stats_.tx_outer += outer_.push(m, drops_);
  }
}

unsigned Transmitter::send_to_peer(PeerId peer, rte_mbuf** pkts, unsigned n, Nanos now) {
  const unsigned taken = sealer_.seal_for_peer(peer, pkts, n, now, drops_);
  for (unsigned i = 0; i < taken; ++i) {
    if (pkts[i] == nullptr) continue;  // dropped and counted by the seal
    ++stats_.sealed;
    queue(pkts[i], PortRole::outer);
  }
  return taken;
}

bool Transmitter::send_sealed_to(PeerId peer, const Endpoint& to, const wire::MacAddr& dst_mac,
                                 const std::uint8_t* plaintext, std::size_t len, Nanos now) {
  if (len > nat::coord::kMaxMessageSize) return false;
  // A route for this one seal: the Sealer's stages as for any packet, framed for `to`.
  const dataplane::PeerRoute route{.outer = dataplane::outer_template(dp_, to, dst_mac),
                                   .endpoint = to};
  if (!route.outer.valid()) return false;
  rte_mbuf* m = rte_pktmbuf_alloc(dp_.pool);
  if (m == nullptr) return false;
  auto* buf =
      reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, static_cast<std::uint16_t>(len)));
  if (buf == nullptr) {
    rte_pktmbuf_free(m);
    return false;
  }
  std::memcpy(buf, plaintext, len);
  if (sealer_.seal_for_route(peer, route, &m, 1, now, drops_) == 0) {
    rte_pktmbuf_free(m);
    return false;
  }
  if (m != nullptr) {  // else dropped and counted by the seal
    ++stats_.sealed;
    queue(m, PortRole::outer);
  }
  return true;
}

Transmitter::Frame Transmitter::udp_frame(const Endpoint& to, const std::uint8_t* payload,
                                          std::size_t len, std::uint8_t tos) {
  // The destination MAC is written when the frame leaves (Neighbours::send). A relayed `to`
  // gets the ChannelData header in front of the payload (the template's).
  const wire::OuterTemplate t = dataplane::outer_template(dp_, to, wire::MacAddr{});
  if (!t.valid()) return {};
  rte_mbuf* m = rte_pktmbuf_alloc(dp_.pool);
  if (m == nullptr) return {};
  auto* buf = reinterpret_cast<std::uint8_t*>(
      rte_pktmbuf_append(m, static_cast<std::uint16_t>(t.len + len)));
  if (buf == nullptr) {
    rte_pktmbuf_free(m);
    return {};
  }
  std::memcpy(buf + t.len, payload, len);
  t.write(buf, len, static_cast<std::uint16_t>(crypto::random_u32()), tos);
  return {m, dp_.outer_next_hop(to.addr)};
}

void Transmitter::flush() noexcept {
  stats_.tx_outer += outer_.flush(drops_);
  stats_.tx_inner += inner_.flush(drops_);
}

}  // namespace meshgate::control
