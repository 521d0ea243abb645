// Mbufs and objects handed from one thread to another through DPDK code that ThreadSanitizer
// does not see.
//
// Debian's DPDK libraries are compiled without TSan. A frame one thread writes and sends on a port
// and another thread receives (the net_ring PMD's rx and tx run inside librte_net_ring) crosses
// no synchronization TSan knows of, so every read of it would be reported as a race. In a TSan
// build the sender releases each mbuf before it goes into DPDK and the receiver acquires it after
// it came out, which gives TSan the happens-before edge the PMD's ring provides; in every other
// build both are empty. Rings meshgate drives itself (rte_ring_* inline in its own objects) need
// none: the TSan build compiles their C11 variant, which TSan sees (meson.build). The same holds
// for a worker lcore's end: rte_eal_wait_lcore() waits for it with an acquire load inside
// librte_eal, so the worker releases itself when it returns and the joining thread acquires it.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define MESHGATE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MESHGATE_TSAN 1
#endif
#endif

#ifdef MESHGATE_TSAN
#include <sanitizer/tsan_interface.h>
#endif

struct rte_mbuf;

namespace meshgate::dpdk {

/// What this thread wrote before is visible to a thread that then calls acquired(obj).
inline void released(const void* obj) noexcept {
#ifdef MESHGATE_TSAN
  __tsan_release(const_cast<void*>(obj));
#else
  (void)obj;
#endif
}

/// Sees what a thread wrote before it called released(obj).
inline void acquired(const void* obj) noexcept {
#ifdef MESHGATE_TSAN
  __tsan_acquire(const_cast<void*>(obj));
#else
  (void)obj;
#endif
}

/// Before `pkts` go to a port's tx (or a ring another thread's port reads).
inline void hand_over(rte_mbuf* const* pkts, unsigned n) noexcept {
  for (unsigned i = 0; i < n; ++i) released(pkts[i]);
}

/// After `pkts` came from a port's rx (or a ring another thread's port wrote).
inline void take_over(rte_mbuf* const* pkts, unsigned n) noexcept {
  for (unsigned i = 0; i < n; ++i) acquired(pkts[i]);
}

}  // namespace meshgate::dpdk
