#include "meshgate/dpdk/rcu.hpp"

#include <rte_malloc.h>

#include <cstdlib>

namespace meshgate::dpdk {

Rcu::Rcu(unsigned max_readers) {
  std::size_t sz = rte_rcu_qsbr_get_memsize(max_readers);
  qs_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("meshgate_rcu", sz, RTE_CACHE_LINE_SIZE));
  if (qs_ == nullptr || rte_rcu_qsbr_init(qs_, max_readers) != 0) std::abort();
}

Rcu::~Rcu() {
  reclaim_all();
  rte_free(qs_);
}

void Rcu::reader_register(unsigned id) {
  rte_rcu_qsbr_thread_register(qs_, id);
  rte_rcu_qsbr_thread_online(qs_, id);
}

void Rcu::defer(std::function<void()> reclaim) {
  deferred_.push_back({rte_rcu_qsbr_start(qs_), std::move(reclaim)});
}

std::size_t Rcu::poll() {
  std::size_t n = 0;
  while (!deferred_.empty() && rte_rcu_qsbr_check(qs_, deferred_.front().token, false) == 1) {
    auto fn = std::move(deferred_.front().reclaim);
    deferred_.pop_front();
    fn();
    ++n;
  }
  return n;
}

void Rcu::synchronize() {
  do {
    rte_rcu_qsbr_check(qs_, rte_rcu_qsbr_start(qs_), true);
    // This round's work only: what it defers was unpublished after the grace period began.
    std::deque<Deferred> round;
    round.swap(deferred_);
    for (Deferred& d : round) d.reclaim();
  } while (!deferred_.empty());
}

void Rcu::reclaim_all() {
  if (!deferred_.empty()) synchronize();
}

}  // namespace meshgate::dpdk
