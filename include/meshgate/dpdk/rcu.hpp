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
  /// Blocks until every reader has passed a quiescent state, then runs all deferred work,
  /// including what that work defers in turn: nothing is pending when it returns (shutdown: the
  /// callbacks capture the control thread's parts, which go next).
  void synchronize();
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
