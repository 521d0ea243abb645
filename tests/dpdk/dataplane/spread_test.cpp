// Gateway B with several workers and all of peer A's packets on one RX queue, as a NIC's hash
// delivers one WireGuard session: the other workers open bursts of that queue, and B's LAN gets
// every packet once, byte for byte, in the order A's host sent them. Replays arriving on two
// queues at once are each rejected once.
#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "meshgate/crypto/x25519.hpp"
#include "meshgate/dataplane/worker.hpp"
#include "meshgate/dpdk/handoff.hpp"
#include "meshgate/wire/constants.hpp"
#include "outer_fragments.hpp"
#include "packets.hpp"
#include "ring_gateways.hpp"
#include "stream.hpp"

namespace meshgate::test {
namespace {

using Bytes = std::vector<std::uint8_t>;

RingGateways::Extra b_with_workers(unsigned n, bool one_queue) {
  RingGateways::Extra e;
  e.workers[1] = n;
  e.one_outer_queue[1] = one_queue;
  return e;
}

/// A handshake and one packet A -> B, so the rest meets a session on both sides.
void connect(RingGateways& net) {
  LanHost& a = net.host(0);
  ASSERT_TRUE(a.send_ip(udp_packet(a.ip4, net.host(1).ip4, 4000, 5000, pattern(100, 0))));
  ASSERT_TRUE(net.poll_until([&] { return !net.host(1).received.empty(); }));
  net.host(1).received.clear();
}

/// `n` packets from A's host in `flows` UDP flows (by source port), sizes from 60 to about
/// 1400 bytes, round robin over the flows.
std::vector<Bytes> packets_from_a(RingGateways& net, int n, int flows) {
  std::vector<Bytes> out;
  for (int i = 0; i < n; ++i) {
    const auto port = static_cast<std::uint16_t>(4000 + i % flows);
    const std::size_t size = 32 + static_cast<std::size_t>(i * 97) % 1350;
    out.push_back(udp_packet(net.host(0).ip4, net.host(1).ip4, port, 5000,
                             pattern(size, static_cast<std::uint8_t>(i))));
  }
  return out;
}

/// A seals `pkts` onto the wire towards B, where they wait for B's next poll.
void seal_onto_wire(RingGateways& net, const std::vector<Bytes>& pkts) {
  for (const Bytes& p : pkts) ASSERT_TRUE(net.host(0).send_ip(p));
  for (std::size_t i = 0; i < pkts.size() / 16 + 4; ++i) net.poll_only(0);
  ASSERT_EQ(rte_ring_count(net.wire_to(1)), pkts.size());
}

std::vector<Bytes> forwarded_all(std::vector<Bytes> pkts) {
  for (Bytes& p : pkts) p = forwarded(p, 2);
  return pkts;
}

TEST(Spread, OnePeersQueueIsOpenedByEveryWorkerAndLeavesInOrder) {
  RingGateways net("spr", false, {}, b_with_workers(3, true));
  connect(net);
  control::Gateway& b = net.gw(1);
  // Several rounds of 512 frames waiting on B's one busy queue: full bursts, so B's worker 0
  // publishes them and workers 1 and 2 (no traffic of their own) claim them.
  std::vector<Bytes> all;
  for (int round = 0; round < 4; ++round) {
    const std::vector<Bytes> pkts = packets_from_a(net, 512, 7);
    seal_onto_wire(net, pkts);
    const std::size_t want = all.size() + pkts.size();
    all.insert(all.end(), pkts.begin(), pkts.end());
    ASSERT_TRUE(net.poll_until([&] { return net.host(1).received.size() >= want; }))
        << net.host(1).received.size() << " of " << want << " arrived";
  }
  for (int i = 0; i < 20; ++i) net.poll();
  EXPECT_EQ(net.host(1).received, forwarded_all(all));  // each once, in order, byte for byte
  std::uint64_t opened = 0;
  for (unsigned w = 0; w < 3; ++w) {
    opened += b.worker(w).stats().decrypted;
    EXPECT_EQ(b.worker(w).drops().total(), 0u) << "worker " << w;
  }
  EXPECT_EQ(opened, all.size() + 1);
  EXPECT_GT(b.worker(1).stats().opened_for_others, 0u);
  EXPECT_EQ(b.worker(0).stats().opened_for_others, 0u);  // nobody else has a queue with traffic
  EXPECT_EQ(b.worker(1).stats().rx_outer + b.worker(2).stats().rx_outer, 0u);  // one queue
}

TEST(Spread, SpreadInboundOffLeavesAQueueToItsWorker) {
  RingGateways::Extra e = b_with_workers(3, true);
  e.gateway[1] = "SpreadInbound = off\n";
  RingGateways net("spro", false, {}, e);
  connect(net);
  const std::vector<Bytes> pkts = packets_from_a(net, 256, 3);
  seal_onto_wire(net, pkts);
  ASSERT_TRUE(net.poll_until([&] { return net.host(1).received.size() >= pkts.size(); }));
  EXPECT_EQ(net.host(1).received, forwarded_all(pkts));
  control::Gateway& b = net.gw(1);
  EXPECT_EQ(b.worker(0).stats().decrypted, pkts.size() + 1);
  EXPECT_EQ(b.worker(1).stats().decrypted + b.worker(2).stats().decrypted, 0u);
}

/// Puts frames back on the wire towards gateway i, all in one enqueue: a worker polling the
/// ring meanwhile finds all of them there at once, as after a line-rate burst.
void inject(RingGateways& net, int i, const std::vector<Bytes>& frames) {
  std::vector<rte_mbuf*> ms;
  for (const Bytes& f : frames) {
    rte_mbuf* m = rte_pktmbuf_alloc(net.gw(i).dataplane().pool);
    ASSERT_NE(m, nullptr);
    auto* p = rte_pktmbuf_append(m, static_cast<std::uint16_t>(f.size()));
    ASSERT_NE(p, nullptr);
    std::memcpy(p, f.data(), f.size());
    ms.push_back(m);
  }
  dpdk::hand_over(ms.data(), static_cast<unsigned>(ms.size()));  // for worker threads
  ASSERT_EQ(rte_ring_enqueue_bulk(net.wire_to(i), reinterpret_cast<void**>(ms.data()),
                                  static_cast<unsigned>(ms.size()), nullptr),
            ms.size());
}

/// Runs B's workers on threads of their own (the test EAL has one worker lcore, not two) while
/// the calling thread plays the wire and B's LAN host. The keys are B's already: its control
/// thread has nothing to do.
class ThreadedB {
 public:
  explicit ThreadedB(RingGateways& net) : net_(net) {
    for (unsigned w = 0; w < 2; ++w) {
      threads_.emplace_back([this, w] { net_.gw(1).worker(w).run(); });
    }
  }
  ~ThreadedB() { stop(); }
  ThreadedB(const ThreadedB&) = delete;
  ThreadedB& operator=(const ThreadedB&) = delete;
  /// Serves B's host until `done()` or 30 s; returns done().
  template <class F>
  bool run_until(F done) {
    const Nanos deadline = monotonic_now() + seconds(30);
    while (!done() && monotonic_now() < deadline) {
      net_.host(1).service();
      // This thread gives its CPU up between looks: B's two workers are to run at once.
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    return done();
  }
  void stop() {
    net_.gw(1).dataplane().stop.store(true);
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

 private:
  RingGateways& net_;
  std::vector<std::thread> threads_;
};

TEST(Spread, TwoWorkerThreadsOpenOneQueueAndKeepItsOrder) {
  RingGateways net("sprt", false, {}, b_with_workers(2, true));
  connect(net);
  // A seals rounds of 512 packets in 5 flows (stepped, B not running); then B's workers run on
  // their threads and each round lands on B's one queue at once, faster than one worker opens
  // it, as a line-rate burst does.
  std::vector<Bytes> all;
  std::vector<std::vector<Bytes>> rounds;
  for (int round = 0; round < 12; ++round) {
    const std::vector<Bytes> pkts = packets_from_a(net, 512, 5);
    seal_onto_wire(net, pkts);
    rounds.push_back(drain(net.wire_to(1)));
    all.insert(all.end(), pkts.begin(), pkts.end());
  }
  LanHost& b = net.host(1);
  ThreadedB workers(net);
  std::size_t want = 0;
  for (const std::vector<Bytes>& frames : rounds) {
    inject(net, 1, frames);
    want += frames.size();
    ASSERT_TRUE(workers.run_until([&] { return b.received.size() >= want; }))
        << b.received.size() << " of " << want << " arrived";
  }
  workers.stop();
  EXPECT_EQ(b.received, forwarded_all(all));  // each once, in order, byte for byte
  control::Gateway& gw = net.gw(1);
  EXPECT_GT(gw.worker(1).stats().opened_for_others, 0u) << "worker 1 never opened a burst";
  EXPECT_EQ(gw.worker(1).stats().rx_outer, 0u);
  EXPECT_EQ(gw.worker(0).drops().total() + gw.worker(1).drops().total(), 0u);
}

/// The UDP source port A's frames get from a NAT between the sites after it rebinds.
constexpr std::uint16_t kRebound = 40000;

/// One step through a NAT that rebinds A's mapping from its listen port to kRebound: A, the
/// NAT both ways, B.
void step_through_nat(RingGateways& net) {
  auto rewrite = [](Bytes& f, unsigned at, std::uint16_t from, std::uint16_t to) {
    const bool udp4 = f.size() >= 42 && load_be16(f.data() + 12) == 0x0800 && f[23] == 17;
    if (!udp4 || load_be16(f.data() + at) != from) return;
    store_be16(f.data() + at, to);
    store_be16(f.data() + 40, 0);  // no UDP checksum (allowed over IPv4), as many NATs leave it
  };
  net.poll_only(0);
  for (Bytes f : drain(net.wire_to(1))) {
    rewrite(f, 34, 51820, kRebound);
    inject(net, 1, {f});
  }
  net.poll_only(1);
  for (Bytes f : drain(net.wire_to(0))) {
    rewrite(f, 36, kRebound, 51820);
    inject(net, 0, {f});
  }
}

// Rekeys every few steps and a roam (a NAT rebinding A's port) halfway, while B's workers open
// the bursts of its one busy queue together: every packet arrives once, unaltered, in order; the
// pools are back at their start.
TEST(Spread, RekeysAndARoamWhileWorkersShareOneQueueLoseNothing) {
  RingGateways net("sprk", false, {}, b_with_workers(3, true));
  Stream ab(net.host(0), net.host(1), 4001);
  auto handshakes = [&] { return net.gw(0).metrics().peers.at(0).handshakes; };
  ASSERT_TRUE(ab.send());
  ASSERT_TRUE(net.poll_until([&] { return handshakes() == 1; }));
  rte_mempool* pool = net.gw(1).dataplane().pool;
  auto settle = [&](bool nat) {
    for (int i = 0; i < 50; ++i) nat ? step_through_nat(net) : (void)net.poll();
    ab.collect();
  };
  settle(false);
  const unsigned avail = rte_mempool_avail_count(pool);
  constexpr int kRekeys = 200;
  for (int r = 0; r < kRekeys; ++r) {
    const bool nat = r >= kRekeys / 2;
    // Old enough to rekey on the next packet; then full bursts, the handshake among them.
    net.poll(wire::spec::kRekeyAfterTime + seconds(1));
    for (int step = 0; step < 6; ++step) {
      for (int i = 0; i < 32; ++i) ASSERT_TRUE(ab.send());  // what A seals in a poll
      nat ? step_through_nat(net) : (void)net.poll();
      ab.collect();
    }
  }
  settle(true);
  EXPECT_EQ(ab.delivered(), ab.sent()) << "packets lost";
  EXPECT_EQ(ab.out_of_order(), 0u);
  EXPECT_GE(handshakes(), std::uint64_t{kRekeys});
  control::Gateway& b = net.gw(1);
  const auto a_key = crypto::x25519_public(net.gw(0).control().sessions().identity().private_key);
  const auto peer_a = b.control().peers().find(a_key);
  ASSERT_TRUE(peer_a);
  EXPECT_EQ(b.control().peers().find(*peer_a)->settings.endpoint.str(),
            "198.51.100.2:" + std::to_string(kRebound));
  EXPECT_GT(b.worker(1).stats().opened_for_others + b.worker(2).stats().opened_for_others, 0u);
  EXPECT_EQ(rte_mempool_avail_count(pool), avail) << "gateway B leaked mbufs";
}

// Outer fragments among the bursts of the shared queue: only the owner's table can put them
// together, so a claimer leaves a burst to the owner from its first fragment on; every packet
// still arrives once, in order, byte for byte, and the claimers opened bursts all the same.
TEST(Spread, OuterFragmentsOnASharedQueueArriveInOrder) {
  RingGateways net("sprf", false, {}, b_with_workers(3, true));
  connect(net);
  const std::vector<Bytes> pkts = packets_from_a(net, 512, 7);
  seal_onto_wire(net, pkts);
  std::vector<Bytes> frames;
  std::uint32_t long_ones = 0;
  std::uint64_t cut = 0;
  for (const Bytes& f : drain(net.wire_to(1))) {
    // Every fifth long frame crossed a path with a 576-byte MTU: three to six pieces.
    if (f.size() > 600 && ++long_ones % 5 == 0) {
      const std::vector<Bytes> pieces = fragments(f, 256, long_ones);
      frames.insert(frames.end(), pieces.begin(), pieces.end());
      ++cut;
    } else {
      frames.push_back(f);
    }
  }
  ASSERT_GT(cut, 20u);
  inject(net, 1, frames);
  ASSERT_TRUE(net.poll_until([&] { return net.host(1).received.size() >= pkts.size(); }))
      << net.host(1).received.size() << " of " << pkts.size() << " arrived";
  for (int i = 0; i < 20; ++i) net.poll();
  EXPECT_EQ(net.host(1).received, forwarded_all(pkts));  // each once, in order, byte for byte
  control::Gateway& b = net.gw(1);
  EXPECT_EQ(b.worker(0).reassembled(), cut);
  EXPECT_EQ(b.worker(1).reassembled() + b.worker(2).reassembled(), 0u);
  EXPECT_GT(b.worker(1).stats().opened_for_others + b.worker(2).stats().opened_for_others, 0u);
  for (unsigned w = 0; w < 3; ++w) EXPECT_EQ(b.worker(w).drops().total(), 0u) << "worker " << w;
}

TEST(Spread, ReplaysOnTwoQueuesAtOnceAreEachRejectedOnce) {
  RingGateways net("sprr", false, {}, b_with_workers(2, false));
  connect(net);
  const std::vector<Bytes> pkts = packets_from_a(net, 128, 3);
  seal_onto_wire(net, pkts);
  const std::vector<Bytes> frames = drain(net.wire_to(1));
  ASSERT_EQ(frames.size(), pkts.size());
  // Each run of 32 frames, then the same 32 again: B's two RX queues both read the wire, so a
  // frame and its copy are taken by different workers in the same step.
  std::vector<Bytes> twice;
  for (std::size_t at = 0; at < frames.size(); at += 32) {
    for (int copy = 0; copy < 2; ++copy) {
      twice.insert(twice.end(), frames.begin() + static_cast<long>(at),
                   frames.begin() + static_cast<long>(at + 32));
    }
  }
  inject(net, 1, twice);
  ASSERT_TRUE(net.poll_until([&] { return net.host(1).received.size() >= pkts.size(); }));
  for (int i = 0; i < 20; ++i) net.poll();
  // Every packet once: the two queues may interleave, so the order is not checked here.
  std::map<std::string, int> seen;  // keyed by the bytes
  for (const Bytes& p : net.host(1).received) ++seen[std::string(p.begin(), p.end())];
  EXPECT_EQ(net.host(1).received.size(), pkts.size());
  for (const Bytes& p : forwarded_all(pkts)) EXPECT_EQ((seen[std::string(p.begin(), p.end())]), 1);
  control::Gateway& b = net.gw(1);
  const auto replays = b.worker(0).drops()[dataplane::Drop::wg_replay] +
                       b.worker(1).drops()[dataplane::Drop::wg_replay];
  EXPECT_EQ(replays, pkts.size());
  EXPECT_GT(b.worker(0).stats().rx_outer, 0u);
  EXPECT_GT(b.worker(1).stats().rx_outer, 0u);
}

}  // namespace
}  // namespace meshgate::test
