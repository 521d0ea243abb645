// Quiescent-state RCU around rte_rcu_qsbr.
//
// Thread contract: workers are readers; each registers once, reports a quiescent state after
// every poll-loop iteration and goes offline before it sleeps. The control thread is the only
// writer: it unpublishes an object, then hands its reclamation to defer(); poll() runs the
// callbacks whose grace period has passed, without blocking.
#pragma once

#include <rte_config.h>
#include <rte_rcu_qsbr.h>

#include <cstdint>
#include <deque>
#include <functional>

namespace meshgate::dpdk {

class Rcu {
 public:
  explicit Rcu(unsigned max_readers);
  ~Rcu();
  Rcu(const Rcu&) = delete;
  Rcu& operator=(const Rcu&) = delete;

  // Reader side (worker lcores).
  void reader_register(unsigned id);
  void reader_online(unsigned id) { rte_rcu_qsbr_thread_online(qs_, id); }
  void reader_offline(unsigned id) { rte_rcu_qsbr_thread_offline(qs_, id); }
  void quiescent(unsigned id) { rte_rcu_qsbr_quiescent(qs_, id); }

  // Writer side (control thread only).
  void defer(std::function<void()> reclaim);
  /// Runs every deferred reclamation whose grace period is over; returns how many ran.
  std::size_t poll();
  /// Blocks until every reader has passed a quiescent state (a grace period that began after
  /// the call, even with nothing deferred: a writer may free what it unpublished right after),
  /// then runs all deferred work. What that work defers in turn waits for a grace period of its
  /// own, in another round: nothing is pending when it returns.
  void synchronize();
  /// synchronize() if anything is pending, else nothing (shutdown: the callbacks capture the
  /// control thread's parts, which go next; with nothing to run, no reader is waited for).
  void reclaim_all();
  std::size_t pending() const { return deferred_.size(); }

 private:
  struct Deferred {
    std::uint64_t token;
    std::function<void()> reclaim;
  };
  rte_rcu_qsbr* qs_ = nullptr;
  std::deque<Deferred> deferred_;
};

}  // namespace meshgate::dpdk
