// One Dataplane on ring ports, with `peers` peers that each have a live keypair and a route, for
// tests of the data path's stages on in-memory mbufs (no control thread, no second gateway).
//
// Peer p owns 10.0.p.0/24; its keypair sends and receives with one key, and its route leads back
// to this gateway's own outer address, MAC and listen port, so a sealed frame can be fed to the
// inbound path of the same Dataplane. The LAN host 192.168.1.10 is a confirmed neighbour.
#pragma once

#include <gtest/gtest.h>
#include <rte_config.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <memory>
#include <string>
#include <vector>

#include "meshgate/base/bytes.hpp"
#include "meshgate/crypto/aead.hpp"
#include "meshgate/crypto/random.hpp"
#include "meshgate/dataplane/dataplane.hpp"
#include "meshgate/dataplane/sealer.hpp"
#include "meshgate/dpdk/port.hpp"
#include "meshgate/dpdk/ring_port.hpp"
#include "meshgate/wire/build.hpp"
#include "meshgate/wire/checksum.hpp"
#include "meshgate/wire/classify.hpp"
#include "meshgate/wire/messages.hpp"
#include "packets.hpp"

namespace meshgate::test {

inline const wire::MacAddr kInnerMac{{0x02, 0, 0, 0, 0x11, 0x01}};
inline const wire::MacAddr kOuterMac{{0x02, 0, 0, 0, 0x22, 0x01}};
inline const wire::MacAddr kHostMac{{0x02, 0, 0, 0, 0x11, 0x0a}};
inline constexpr std::uint16_t kListen = 51820;

template <class T>
T must(Result<T> r) {
  if (!r) ADD_FAILURE() << r.error();
  return r ? *r : T{};
}

struct TestPlane {
  std::unique_ptr<dataplane::Dataplane> dp;
  rte_ring *inner_rx, *inner_tx, *outer_rx, *outer_tx;
  std::vector<std::unique_ptr<dataplane::PeerRoute>> routes;
  std::vector<SecretKey> keys;
  std::vector<std::uint32_t> index;
  IpAddr host = *IpAddr::parse("192.168.1.10");

  explicit TestPlane(unsigned peers) {
    static int serial = 0;
    const std::string t = "tp" + std::to_string(serial++);
    EXPECT_TRUE(dataplane::register_mbuf_meta());
    dp = std::make_unique<dataplane::Dataplane>(peers + 1, 1);
    inner_rx = must(dpdk::make_ring(t + "ir", 1024));
    inner_tx = must(dpdk::make_ring(t + "it", 1024));
    outer_rx = must(dpdk::make_ring(t + "or", 1024));
    outer_tx = must(dpdk::make_ring(t + "ot", 1024));
    dp->inner_port = must(dpdk::make_ring_port(t + "in", inner_rx, 1, inner_tx, 2));
    dp->outer_port = must(dpdk::make_ring_port(t + "out", outer_rx, 1, outer_tx, 2));
    dp->pool = must(dpdk::make_pool(t + "pool", 2048, SOCKET_ID_ANY));
    for (std::uint16_t port : {dp->inner_port, dp->outer_port}) {
      must(dpdk::setup_port({.port_id = port, .rx_queues = 1, .tx_queues = 2, .pool = dp->pool}));
    }
    dp->mtu = 1420;
    dp->addr.inner_mac = kInnerMac;
    dp->addr.outer_mac = kOuterMac;
    dp->addr.inner = {*Prefix::parse("192.168.1.0/24")};
    dp->addr.inner_v4 = *IpAddr::parse("192.168.1.1");
    dp->addr.outer = {*Prefix::parse("198.51.100.0/24")};
    dp->addr.outer_v4 = *IpAddr::parse("198.51.100.2");
    dp->listen_port = kListen;
    dp->to_control = must(dpdk::make_ring(t + "c", 1024));
    dp->events = rte_ring_create_elem((t + "e").c_str(), dataplane::kEventSize, 1024, SOCKET_ID_ANY,
                                      RING_F_SC_DEQ);
    EXPECT_NE(dp->events, nullptr);
    const Nanos now = monotonic_now();
    EXPECT_TRUE(dp->neighbours.confirm(host, kHostMac, now));
    const Endpoint self{dp->addr.outer_v4, kListen};
    for (dataplane::PeerId p = 0; p < peers; ++p) {
      const std::uint32_t idx = *dp->keypairs.reserve();
      noise::SessionKeys kp;
      crypto::random_bytes(kp.send.data(), kp.send.size());
      kp.recv = kp.send;
      kp.local_index = kp.remote_index = idx;
      kp.birth = now;
      keys.push_back(kp.send);
      index.push_back(idx);
      dp->keypairs.slot(idx).endpoint_tag.store(dataplane::endpoint_tag(self));
      dp->keypairs.publish(idx, kp, p);
      dp->keypairs.slot(idx).used.store(true);  // confirmed: no keypair_used event
      routes.push_back(std::make_unique<dataplane::PeerRoute>(dataplane::PeerRoute{
          .outer = wire::OuterTemplate::make(kOuterMac, kOuterMac, dp->addr.outer_v4,
                                             dp->addr.outer_v4, kListen, kListen),
          .endpoint = self}));
      dp->peers[p].route.store(routes.back().get());
      dp->peers[p].current.store(idx);
      dp->peers[p].active.store(true);
      EXPECT_TRUE(dp->allowed.insert(Prefix{peer_host(p, 0), 24}, p));
    }
  }

  // The ports go back (a process has few: RTE_MAX_ETHPORTS), then their rings and the pool.
  ~TestPlane() {
    dpdk::close_port(dp->inner_port);
    dpdk::close_port(dp->outer_port);
    for (rte_ring* r : {inner_rx, inner_tx, outer_rx, outer_tx, dp->to_control, dp->events}) {
      rte_ring_free(r);
    }
    rte_mempool_free(dp->pool);
  }
  TestPlane(const TestPlane&) = delete;
  TestPlane& operator=(const TestPlane&) = delete;

  static IpAddr peer_host(dataplane::PeerId p, std::uint8_t host) {
    return IpAddr::v4((10u << 24) | (p << 8) | host);
  }

  /// A bare IPv4/UDP packet of `len` bytes (IP length) from `src` to `dst`, payload bytes i*7.
  static std::vector<std::uint8_t> ip_packet(const IpAddr& src, const IpAddr& dst,
                                             std::size_t len) {
    std::vector<std::uint8_t> f(14 + len);
    for (std::size_t i = 0; i < f.size(); ++i) f[i] = static_cast<std::uint8_t>(i * 7);
    wire::OuterTemplate::make(kHostMac, kInnerMac, src, dst, 1234, 80)
        .write(f.data(), len - 28, 1, 0);
    return {f.begin() + 14, f.end()};
  }
  /// The same inside an Ethernet frame from the LAN host to `to`.
  static std::vector<std::uint8_t> lan_frame(const IpAddr& dst, std::size_t len,
                                             const wire::MacAddr& to = kInnerMac) {
    std::vector<std::uint8_t> f(14 + len);
    for (std::size_t i = 0; i < f.size(); ++i) f[i] = static_cast<std::uint8_t>(i * 7);
    wire::OuterTemplate::make(kHostMac, to, *IpAddr::parse("192.168.1.10"), dst, 1234, 80)
        .write(f.data(), len - 28, 1, 0);
    return f;
  }

  /// A transport frame for this gateway from peer `p`, carrying `inner`.
  std::vector<std::uint8_t> sealed_frame(dataplane::PeerId p,
                                         const std::vector<std::uint8_t>& inner) const {
    dataplane::Sealer s(*dp, 0, crypto::AeadBackend::sodium);
    dataplane::DropCounters drops;
    rte_mbuf* m = mbuf(inner);
    EXPECT_EQ(s.seal_for_peer(p, &m, 1, monotonic_now(), drops), 1u);
    auto f = bytes(m);
    rte_pktmbuf_free(m);
    return f;
  }

  rte_mbuf* mbuf(const std::vector<std::uint8_t>& bytes) const {
    rte_mbuf* m = rte_pktmbuf_alloc(dp->pool);
    EXPECT_NE(m, nullptr);
    auto* p = reinterpret_cast<std::uint8_t*>(
        rte_pktmbuf_append(m, static_cast<std::uint16_t>(bytes.size())));
    std::memcpy(p, bytes.data(), bytes.size());
    return m;
  }
  static std::vector<std::uint8_t> bytes(const rte_mbuf* m) {
    const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
    return {p, p + m->data_len};
  }
  /// Everything sent on a ring so far, as byte strings (the mbufs are freed).
  static std::vector<std::vector<std::uint8_t>> drain(rte_ring* r) {
    std::vector<std::vector<std::uint8_t>> out;
    void* m;
    while (rte_ring_dequeue(r, &m) == 0) {
      out.push_back(bytes(static_cast<rte_mbuf*>(m)));
      rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    }
    return out;
  }
  unsigned events_waiting(dataplane::Event::Kind kind) const {
    unsigned n = 0;
    dataplane::Event e;
    while (rte_ring_dequeue_elem(dp->events, &e, dataplane::kEventSize) == 0) n += e.kind == kind;
    return n;
  }
};

/// A sealed frame's WireGuard header fields and its plaintext (padded).
struct Opened {
  std::uint32_t receiver = 0;
  std::uint64_t counter = 0;
  std::vector<std::uint8_t> plain;  // padded
};

/// Checks a sealed frame's outer headers and opens it with `key`.
inline Opened open_frame(const TestPlane& t, const std::vector<std::uint8_t>& frame,
                         const SecretKey& key) {
  const wire::FrameInfo f =
      wire::classify_frame(frame.data(), frame.size(), {.verify_ipv4_checksum = true});
  EXPECT_TRUE(f.ok()) << wire::drop_reason_name(f.drop);
  EXPECT_EQ(f.dst_addr(), t.dp->addr.outer_v4);
  EXPECT_EQ(f.dst_port, test::kListen);
  const std::uint8_t* wg = frame.data() + f.payload_off;
  EXPECT_EQ(wire::classify(wg, f.payload_len).type, wire::MessageType::transport);
  Opened o;
  o.receiver = load_le32(wg + 4);
  o.counter = load_le64(wg + 8);
  const std::size_t len = f.payload_len - wire::spec::kTransportMinSize;
  o.plain.resize(len);
  EXPECT_TRUE(crypto::aead_open(o.plain.data(), key, o.counter,
                                wg + wire::spec::kTransportHeaderSize, len, {}));
  return o;
}

}  // namespace meshgate::test
