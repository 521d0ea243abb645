// The worker's poll loop, TX drain, idle back-off and the helpers its stages share.
#include "meshgate/dataplane/worker.hpp"

#include <rte_config.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_pause.h>

#include <cstring>
#include <ctime>

#include "meshgate/dataplane/vlan.hpp"
#include "meshgate/dpdk/handoff.hpp"

namespace meshgate::dataplane {

Worker::Worker(Dataplane& dp, unsigned id, crypto::AeadBackend backend)
    : dp_(dp),
      id_(id),
      queue_(static_cast<std::uint16_t>(id)),
      sealer_(dp, id, backend),
      tx_{TxQueue(dp, PortRole::inner, queue_), TxQueue(dp, PortRole::outer, queue_)},
      frags_(dp.reassembly, SOCKET_ID_ANY),
      lane_(dp.spread && dp.lanes != nullptr && id < dp.workers ? &dp.lanes[id] : nullptr) {}

unsigned Worker::poll(Nanos now) {
  rte_mbuf* pkts[impl::kBurst];
  ++stats_.polls;
  // A burst waits in its stage's pipeline only while the queue had more behind it (a full
  // burst); a short or empty one means the queue is drained, so the waiting burst is finished
  // now (see outbound()).
  unsigned got = 0;
  bool full = false;  // a queue gave a full burst: no time to open others' bursts
  standby_ = dp_.standby.load(std::memory_order_relaxed);
  const std::uint16_t step = static_cast<std::uint16_t>(dp_.workers);
  for (std::uint16_t q = queue_; q < dp_.inner_rx_queues; q += step) {
    const std::uint16_t n = rte_eth_rx_burst(dp_.inner_port, q, pkts, impl::kBurst);
    dpdk::take_over(pkts, n);
    const unsigned k = n != 0 ? admit_burst(pkts, n, PortRole::inner) : 0;
    if (k != 0) outbound(pkts, k, now);
    if (n < impl::kBurst) finish_outbound(now);
    full |= n == impl::kBurst;
    stats_.rx_inner += n;
    got += n;
  }
  for (std::uint16_t q = queue_; q < dp_.outer_rx_queues; q += step) {
    if (lane_ != nullptr && !spread_room(now)) {  // the queue waits, as for a slow consumer
      full = true;
      continue;
    }
    const std::uint16_t n = rte_eth_rx_burst(dp_.outer_port, q, pkts, impl::kBurst);
    dpdk::take_over(pkts, n);
    const unsigned k = n != 0 ? admit_burst(pkts, n, PortRole::outer) : 0;
    if (k != 0) lane_ != nullptr ? spread_inbound(pkts, k, now) : inbound(pkts, k, now);
    if (n < impl::kBurst) finish_inbound(now);
    full |= n == impl::kBurst;
    stats_.rx_outer += n;
    got += n;
  }
  if (lane_ != nullptr) {
    if (!full) got += help(now);
    retire(now);
    set_spare(!full);
  }
  if (id_ == 0) got += relay_control_tx();
  frags_.expire(now, drops_);
  flush();
  if (got == 0) ++stats_.idle_polls;
  return got;
}

unsigned Worker::admit_burst(rte_mbuf** pkts, unsigned n, PortRole port) noexcept {
  if (standby_) {
    // A standby answers nothing (not even ARP): its peer of the pair owns the addresses.
    for (unsigned i = 0; i < n; ++i) drop(pkts[i], Drop::standby);
    return 0;
  }
  const std::uint16_t vid = dp_.vlan[static_cast<int>(port)];
  return vid == 0 ? n : untag_burst(pkts, n, vid, drops_);
}

unsigned Worker::relay_control_tx() noexcept {
  unsigned n = 0;
  for (PortRole role : {PortRole::inner, PortRole::outer}) {
    rte_ring* r = dp_.control_tx[static_cast<int>(role)];
    if (r == nullptr) continue;
    rte_mbuf* pkts[impl::kBurst];
    const unsigned got =
        rte_ring_sc_dequeue_burst(r, reinterpret_cast<void**>(pkts), impl::kBurst, nullptr);
    for (unsigned i = 0; i < got; ++i) queue_tx(pkts[i], role);
    n += got;
  }
  return n;
}

void Worker::run() {
  dp_.rcu.reader_register(id_);
  unsigned idle = 0;
  gaps_.paused();  // launched again after a stop: the time between is not a stall
  while (!dp_.stop.load(std::memory_order_relaxed)) {
    const Nanos now = monotonic_now();
    stats_.stalls += gaps_.late(now);
    const unsigned got = poll(now);
    dp_.rcu.quiescent(id_);
    // A burst out with another worker is to be sent as soon as it is back: not idle.
    if (got != 0 || !dp_.idle_backoff || lane_waiting()) {
      idle = 0;
      continue;
    }
    // Idle back-off (impl::kIdle*): spin briefly, then sleep, offline for RCU so the control
    // thread never waits on a sleeping worker.
    if (++idle < impl::kIdleSpins) {
      rte_pause();
      continue;
    }
    const long us = idle < impl::kIdleLongAfter ? impl::kIdleShortSleepUs : impl::kIdleLongSleepUs;
    set_spare(false);  // no owner leaves a burst to a sleeper (the next poll says spare again)
    dp_.rcu.reader_offline(id_);
    timespec ts{0, us * 1000};
    nanosleep(&ts, nullptr);
    gaps_.paused();
    dp_.rcu.reader_online(id_);
  }
  const Nanos now = monotonic_now();
  finish_outbound(now);
  finish_inbound(now);
  if (lane_ != nullptr) drain_lane(now);
  flush();
  dp_.rcu.reader_offline(id_);
}

void Worker::flush() {
  stats_.tx_outer += tx_[static_cast<int>(PortRole::outer)].flush(drops_);
  stats_.tx_inner += tx_[static_cast<int>(PortRole::inner)].flush(drops_);
}

void Worker::queue_tx(rte_mbuf* m, PortRole port) noexcept {
  // Every frame a worker sends passes here: a standby's leftovers (a burst waiting in a stage
  // when the role changed, a relayed control frame) never reach the wire.
  if (standby_) return drop(m, Drop::standby);
  const unsigned sent = tx_[static_cast<int>(port)].push(m, drops_);
  (port == PortRole::inner ? stats_.tx_inner : stats_.tx_outer) += sent;
}

void Worker::drop(rte_mbuf* m, Drop d) noexcept {
  drops_.add(d);
  rte_pktmbuf_free(m);
}

void Worker::drop(rte_mbuf* m, wire::DropReason r) noexcept {
  drops_.add(r);
  rte_pktmbuf_free(m);
}

void Worker::to_control(rte_mbuf* m, ToControl kind, PortRole port, PeerId peer) noexcept {
  MbufMeta& mm = meta(m);
  mm.kind = kind;
  mm.port = port;
  mm.peer = peer;
  rte_ring* ring = kind == ToControl::outer_handshake && dp_.handshakes != nullptr ? dp_.handshakes
                                                                                   : dp_.to_control;
  if (rte_ring_mp_enqueue(ring, m) != 0) {
    drop(m, Drop::control_ring_full);
    return;
  }
  ++stats_.to_control;
}

bool Worker::add_ethernet(rte_mbuf* m, const IpAddr& next_hop, bool v6, PortRole role) noexcept {
  const std::optional<wire::MacAddr> dst =
      next_hop.family == IpAddr::Family::none ? std::nullopt : dp_.neighbours.lookup(next_hop);
  return add_ethernet(m, next_hop, dst, v6, role);
}

bool Worker::add_ethernet(rte_mbuf* m, const IpAddr& next_hop,
                          const std::optional<wire::MacAddr>& dst, bool v6,
                          PortRole role) noexcept {
  if (next_hop.family == IpAddr::Family::none) {
    drop(m, Drop::no_route);
    return false;
  }
  auto* eth = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_prepend(m, sizeof(wire::EthHdr)));
  if (eth == nullptr) {
    drop(m, Drop::no_headroom);
    return false;
  }
  const wire::MacAddr& src = role == PortRole::inner ? dp_.addr.inner_mac : dp_.addr.outer_mac;
  std::memcpy(eth, dst ? dst->b.data() : wire::MacAddr{}.b.data(), 6);
  std::memcpy(eth + 6, src.b.data(), 6);
  store_be16(eth + 12, v6 ? wire::spec::kEtherTypeIpv6 : wire::spec::kEtherTypeIpv4);
  if (dst) return true;
  meta(m).endpoint = {next_hop, 0};
  to_control(m, ToControl::resolve, role);
  return false;
}

void Worker::send_icmp_error(rte_mbuf* m, const wire::FrameInfo& f, wire::IcmpError kind) noexcept {
  const IpAddr& from = f.is_v6() ? dp_.addr.inner_v6 : dp_.addr.inner_v4;
  if (from.family == IpAddr::Family::none) return;
  rte_mbuf* r = rte_pktmbuf_alloc(dp_.pool);
  if (r == nullptr) return;
  // The error goes straight back to the frame's sender (the LAN host or the LAN router).
  const std::size_t len = wire::build_icmp_error_frame(
      rte_pktmbuf_mtod(r, std::uint8_t*), rte_pktmbuf_tailroom(r), kind,
      rte_pktmbuf_mtod(m, const std::uint8_t*), f, dp_.addr.inner_mac, from, dp_.mtu);
  if (len == 0) {
    rte_pktmbuf_free(r);
    return;
  }
  rte_pktmbuf_append(r, static_cast<std::uint16_t>(len));
  queue_tx(r, PortRole::inner);
}

}  // namespace meshgate::dataplane
