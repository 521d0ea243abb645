// The worker's poll loop, TX drain, idle back-off and the helpers its stages share.
#include "meshgate/dataplane/worker.hpp"

#include <rte_config.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_pause.h>

#include <cstring>
#include <ctime>

namespace meshgate::dataplane {

Worker::Worker(Dataplane& dp, unsigned id, crypto::AeadBackend backend)
    : dp_(dp), id_(id), queue_(static_cast<std::uint16_t>(id)), aead_(backend) {}

unsigned Worker::poll(Nanos now) {
  rte_mbuf* pkts[kBurst];
  ++stats_.polls;
  // A burst waits in its stage's pipeline only while the queue had more behind it (a full
  // burst); a short or empty one means the queue is drained, so the waiting burst is finished
  // now (see outbound()).
  unsigned got = 0;
  const std::uint16_t step = static_cast<std::uint16_t>(dp_.workers);
  for (std::uint16_t q = queue_; q < dp_.inner_rx_queues; q += step) {
    const std::uint16_t n = rte_eth_rx_burst(dp_.inner_port, q, pkts, kBurst);
    if (n != 0) outbound(pkts, n, now);
    if (n < kBurst) finish_outbound(now);
    stats_.rx_inner += n;
    got += n;
  }
  for (std::uint16_t q = queue_; q < dp_.outer_rx_queues; q += step) {
    const std::uint16_t n = rte_eth_rx_burst(dp_.outer_port, q, pkts, kBurst);
    if (n != 0) inbound(pkts, n, now);
    if (n < kBurst) finish_inbound(now);
    stats_.rx_outer += n;
    got += n;
  }
  if (id_ == 0) got += relay_control_tx();
  flush();
  if (got == 0) ++stats_.idle_polls;
  return got;
}

unsigned Worker::relay_control_tx() noexcept {
  unsigned n = 0;
  for (PortRole role : {PortRole::inner, PortRole::outer}) {
    rte_ring* r = dp_.control_tx[static_cast<int>(role)];
    if (r == nullptr) continue;
    rte_mbuf* pkts[kBurst];
    const unsigned got =
        rte_ring_sc_dequeue_burst(r, reinterpret_cast<void**>(pkts), kBurst, nullptr);
    for (unsigned i = 0; i < got; ++i) queue_tx(pkts[i], role);
    n += got;
  }
  return n;
}

void Worker::run() {
  dp_.rcu.reader_register(id_);
  unsigned idle = 0;
  while (!dp_.stop.load(std::memory_order_relaxed)) {
    const unsigned got = poll(monotonic_now());
    dp_.rcu.quiescent(id_);
    if (got != 0 || !dp_.idle_backoff) {
      idle = 0;
      continue;
    }
    // Idle back-off: spin briefly, then sleep a little longer each empty poll (up to 200 us),
    // offline for RCU so the control thread never waits on a sleeping worker.
    if (++idle < 100) {
      rte_pause();
      continue;
    }
    const long us = idle < 1000 ? 5 : 200;
    dp_.rcu.reader_offline(id_);
    timespec ts{0, us * 1000};
    nanosleep(&ts, nullptr);
    dp_.rcu.reader_online(id_);
  }
  const Nanos now = monotonic_now();
  finish_outbound(now);
  finish_inbound(now);
  flush();
  dp_.rcu.reader_offline(id_);
}

void Worker::flush() {
  flush_tx(tx_outer_, dp_.outer_port);
  flush_tx(tx_inner_, dp_.inner_port);
}

void Worker::flush_tx(TxBuffer& b, std::uint16_t port) noexcept {
  if (b.n == 0) return;
  rte_ring* relay = queue_ == dp_.workers
                        ? dp_.control_tx[static_cast<int>(port == dp_.inner_port ? PortRole::inner
                                                                                 : PortRole::outer)]
                        : nullptr;
  // The control thread's frames go through worker 0 on a port without a TX queue to spare.
  const std::uint16_t sent =
      relay != nullptr ? static_cast<std::uint16_t>(rte_ring_sp_enqueue_burst(
                             relay, reinterpret_cast<void**>(b.pkts), b.n, nullptr))
                       : rte_eth_tx_burst(port, queue_, b.pkts, static_cast<std::uint16_t>(b.n));
  if (port == dp_.outer_port) {
    stats_.tx_outer += sent;
  } else {
    stats_.tx_inner += sent;
  }
  if (sent < b.n) {
    drops_.add(Drop::tx_full, b.n - sent);
    rte_pktmbuf_free_bulk(b.pkts + sent, b.n - sent);
  }
  b.n = 0;
}

void Worker::queue_tx(rte_mbuf* m, PortRole port) noexcept {
  TxBuffer& b = port == PortRole::inner ? tx_inner_ : tx_outer_;
  if (b.n == std::size(b.pkts))
    flush_tx(b, port == PortRole::inner ? dp_.inner_port : dp_.outer_port);
  b.pkts[b.n++] = m;
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
  if (rte_ring_mp_enqueue(dp_.to_control, m) != 0) {
    drop(m, Drop::control_ring_full);
    return;
  }
  ++stats_.to_control;
}

bool Worker::post(const Event& e) noexcept {
  // A full event ring loses the event, not a packet; callers clear their "posted" flag so the
  // next packet posts it again.
  if (rte_ring_mp_enqueue_elem(dp_.events, const_cast<Event*>(&e), kEventSize) != 0) {
    drops_.add(Drop::control_ring_full);
    return false;
  }
  return true;
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
  meta(m).next_hop = next_hop;
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
