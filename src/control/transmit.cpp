// The control thread's transmit path (transmit.hpp).
#include "meshgate/control/transmit.hpp"

#include <rte_config.h>

#include <cstring>

#include "meshgate/crypto/random.hpp"
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

Transmitter::Frame Transmitter::udp_frame(const Endpoint& to, const std::uint8_t* payload,
                                          std::size_t len, std::uint8_t tos) {
  const IpAddr& src = to.addr.is_v6() ? dp_.addr.outer_v6 : dp_.addr.outer_v4;
  if (src.family == IpAddr::Family::none) return {};
  // The destination MAC is written when the frame leaves (Neighbours::send).
  const wire::OuterTemplate t =
      wire::OuterTemplate::make(dp_.addr.outer_mac, wire::MacAddr{}, src, to.addr,
                                dp_.listen_port.load(std::memory_order_relaxed), to.port);
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

bool Transmitter::send_sealed_to(PeerId, const Endpoint&, const std::uint8_t*, std::size_t, Nanos) {
  return false;  // TEMP until the relay branch lands
}

}  // namespace meshgate::control
