// A host on a gateway's LAN, simulated on the rings of the gateway's inner ring port: it
// answers ARP and neighbour solicitations for its addresses and collects the IP packets the
// gateway delivers to it.
#pragma once

#include <rte_config.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstring>
#include <optional>
#include <vector>

#include "meshgate/base/ip.hpp"
#include "meshgate/dpdk/handoff.hpp"
#include "meshgate/wire/build.hpp"
#include "meshgate/wire/classify.hpp"

namespace meshgate::test {

struct LanHost {
  rte_ring* to_gw = nullptr;    // the gateway's inner RX ring
  rte_ring* from_gw = nullptr;  // the gateway's inner TX ring
  rte_mempool* pool = nullptr;
  wire::MacAddr mac;
  IpAddr ip4;
  IpAddr ip6;
  wire::MacAddr gw_mac;
  std::vector<std::vector<std::uint8_t>> received;  // IP packets (no Ethernet)
  unsigned arp_answered = 0;

  bool inject_frame(const std::uint8_t* frame, std::size_t len) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) return false;
    std::memcpy(rte_pktmbuf_append(m, static_cast<std::uint16_t>(len)), frame, len);
    dpdk::hand_over(&m, 1);
    if (rte_ring_enqueue(to_gw, m) != 0) {
      rte_pktmbuf_free(m);
      return false;
    }
    return true;
  }

  /// Sends an IP packet to the gateway (its default router).
  bool send_ip(const std::vector<std::uint8_t>& ip) {
    std::vector<std::uint8_t> f(14 + ip.size());
    std::memcpy(f.data(), gw_mac.b.data(), 6);
    std::memcpy(f.data() + 6, mac.b.data(), 6);
    store_be16(f.data() + 12, (ip[0] >> 4) == 6 ? 0x86DD : 0x0800);
    std::memcpy(f.data() + 14, ip.data(), ip.size());
    return inject_frame(f.data(), f.size());
  }

  /// Handles everything the gateway sent; returns the number of frames read.
  unsigned service() {
    rte_mbuf* pkts[64];
    const unsigned n = rte_ring_dequeue_burst(from_gw, reinterpret_cast<void**>(pkts), 64, nullptr);
    dpdk::take_over(pkts, n);
    for (unsigned i = 0; i < n; ++i) {
      handle(rte_pktmbuf_mtod(pkts[i], const std::uint8_t*), pkts[i]->data_len);
      rte_pktmbuf_free(pkts[i]);
    }
    return n;
  }

 private:
  void handle(const std::uint8_t* f, std::size_t len) {
    wire::FrameInfo info = wire::classify_frame(f, len);
    if (!info.ok()) return;
    std::uint8_t out[128];
    if (info.kind == wire::FrameKind::arp) {
      wire::ArpMessage a = wire::parse_arp(f, info);
      if (a.op == wire::spec::kArpOpRequest && a.tpa == ip4) {
        inject_frame(out, wire::build_arp_reply(out, mac, ip4, a.sha, a.spa));
        ++arp_answered;
      }
      return;
    }
    if (info.kind == wire::FrameKind::ndp) {
      auto nd = wire::parse_ndp(f, info);
      if (nd && nd->type == wire::spec::kNdpNeighbourSolicit && nd->target == ip6 && nd->lla) {
        inject_frame(out, wire::build_neighbour_advertisement(out, mac, ip6, *nd->lla, nd->src, ip6,
                                                              wire::NaFlags{}));
        ++arp_answered;
      }
      return;
    }
    if (std::memcmp(f, mac.b.data(), 6) != 0) return;  // not for us
    received.emplace_back(f + info.l3_off, f + info.l3_off + info.l3_len);
  }
};

}  // namespace meshgate::test
