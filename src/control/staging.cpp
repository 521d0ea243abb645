// Staged packets (staging.hpp).
#include "meshgate/control/staging.hpp"

#include "meshgate/control/tunables.hpp"

namespace meshgate::control {

Staging::~Staging() {
  for (auto& q : queues_) {
    for (rte_mbuf* m : q) rte_pktmbuf_free(m);
  }
}

void Staging::add(PeerId peer, rte_mbuf* m) {
  if (peer >= queues_.size()) queues_.resize(peer + 1);
  auto& q = queues_[peer];
  if (q.size() >= impl::kMaxStaged) {
    rte_pktmbuf_free(q.front());
    q.pop_front();
    drops_.add(dataplane::Drop::staged_overflow);
  }
  q.push_back(m);
}

void Staging::flush(PeerId peer, Nanos now) {
  if (peer >= queues_.size()) return;
  auto& q = queues_[peer];
  while (!q.empty()) {
    rte_mbuf* batch[dataplane::kBurst];
    unsigned n = 0;
    for (auto it = q.begin(); it != q.end() && n < dataplane::kBurst; ++it) batch[n++] = *it;
    const unsigned sent = tx_.send_to_peer(peer, batch, n, now);
    if (sent == 0) break;
    q.erase(q.begin(), q.begin() + sent);
    tx_.flush();
  }
}

void Staging::drop_all(PeerId peer, dataplane::Drop reason) {
  if (peer >= queues_.size()) return;
  auto& q = queues_[peer];
  drops_.add(reason, q.size());
  for (rte_mbuf* m : q) rte_pktmbuf_free(m);
  q.clear();
}

}  // namespace meshgate::control
