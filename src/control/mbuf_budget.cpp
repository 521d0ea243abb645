// The mbuf pool's size from the gateway's shape (mbuf_budget.hpp).
#include "meshgate/control/mbuf_budget.hpp"

#include "meshgate/control/tunables.hpp"
#include "meshgate/dataplane/tunables.hpp"

namespace meshgate::control {

namespace {

/// Mbufs one worker can hold besides its reassembly table: each direction's one-burst pipeline
/// (a burst waiting, a burst in hand) and a TX buffer per port.
constexpr unsigned kPerWorker =
    2 * 2 * dataplane::impl::kBurst + 2 * dataplane::impl::kTxBufferSize;
/// Staged packets (128 per peer) and frames waiting for a neighbour are not reserved in full
/// (a thousand peers would need a hundred thousand mbufs); this much is kept for them.
constexpr unsigned kSlack = 1024;

}  // namespace

MbufBudget mbuf_budget(const MbufShape& s) noexcept {
  MbufBudget b;
  b.port_rings = 2 * (s.rx_queues * s.rx_desc + s.tx_queues * s.tx_desc);
  b.workers = s.workers * (kPerWorker + s.reassembly_mbufs);
  b.control = impl::kControlRingSize + impl::kHandshakeRingSize + 2 * impl::kRelayRingSize +
              impl::kRingBurst;
  // A cache holds up to 1.5 times its size before it flushes; the workers, the control thread
  // and the main lcore each have one.
  b.caches = (s.workers + 2) * kPoolCache * 3 / 2;
  b.slack = kSlack;
  return b;
}

}  // namespace meshgate::control
