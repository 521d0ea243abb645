// The pool a gateway gets by default covers every holder of mbufs at once (mbuf_budget.hpp).
#include "meshgate/control/mbuf_budget.hpp"

#include <gtest/gtest.h>

#include "meshgate/control/tunables.hpp"
#include "meshgate/dataplane/reassembly.hpp"
#include "meshgate/dataplane/tunables.hpp"

namespace meshgate::control {
namespace {

MbufShape shape(unsigned workers) {
  return {.workers = workers,
          .rx_queues = workers,
          .tx_queues = workers + 1,
          .reassembly_mbufs = dataplane::ReassemblyLimits{}.max_mbufs()};
}

TEST(MbufBudget, CoversRingsQueuesCachesAndReassemblyTables) {
  for (unsigned w : {1u, 2u, 4u, 16u}) {
    const MbufShape s = shape(w);
    // Everything that can hold an mbuf at the same time, written out independently of the
    // implementation's grouping.
    const unsigned rings = 2 * (w * 1024 + (w + 1) * 1024);
    const unsigned per_worker = 4 * dataplane::impl::kBurst + 2 * dataplane::impl::kTxBufferSize +
                                dataplane::ReassemblyLimits{}.max_mbufs();
    const unsigned control = impl::kControlRingSize + impl::kHandshakeRingSize +
                             2 * impl::kRelayRingSize + impl::kRingBurst;
    const unsigned caches = (w + 2) * kPoolCache * 3 / 2;
    const unsigned total = mbuf_budget(s).total();
    EXPECT_GE(total, rings + w * per_worker + control + caches) << w << " workers";
    EXPECT_LE(total, rings + w * per_worker + control + caches + 1024) << "and a slack of 1024";
  }
  // The old fixed pool (8191) did not even hold one worker's rings, control rings and tables.
  EXPECT_GT(mbuf_budget(shape(1)).total(), 8191u);
}

TEST(MbufBudget, GrowsWithDescriptorsAndReassembly) {
  MbufShape s = shape(2);
  const unsigned base = mbuf_budget(s).total();
  s.rx_desc = 4096;
  EXPECT_GT(mbuf_budget(s).total(), base);
  s = shape(2);
  s.reassembly_mbufs *= 8;
  EXPECT_GE(mbuf_budget(s).workers, 2 * s.reassembly_mbufs);
}

}  // namespace
}  // namespace meshgate::control
