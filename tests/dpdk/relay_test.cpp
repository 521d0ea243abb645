// The control thread's side of the relayed data path (docs/nat-traversal.md, "Relayed data
// path"): an initiation that reaches a gateway as ChannelData from its TURN server is answered
// as ChannelData to the server on the same channel, and the peer's endpoint becomes the relayed
// one.
#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstring>
#include <vector>

#include "meshgate/wire/build.hpp"
#include "meshgate/wire/classify.hpp"
#include "meshgate/wire/messages.hpp"
#include "packets.hpp"
#include "ring_gateways.hpp"

namespace meshgate::test {
namespace {

using Bytes = std::vector<std::uint8_t>;

// Small pools: this binary makes several gateway pairs, and pools live as long as the EAL.
const control::GatewayLimits kSmall{.max_peers = 16, .mbufs = 2047};

TEST(Relay, SessionsAnswerARelayedInitiationThroughTheRelay) {
  RingGateways net("rl", false, kSmall);
  control::Gateway& a = net.gw(0);
  control::Gateway& b = net.gw(1);
  const IpAddr turn = *IpAddr::parse("198.51.100.77");
  const IpAddr b_addr = *IpAddr::parse("198.51.100.3");
  const wire::MacAddr turn_mac{{0x02, 0x77, 0, 0, 0, 1}};
  constexpr std::uint16_t kChannel = 0x4001;
  b.dataplane().turn_server = {turn, 3478};
  ASSERT_TRUE(b.dataplane().neighbours.confirm(turn, turn_mac, net.now()));
  ASSERT_TRUE(a.dataplane().neighbours.confirm(b_addr, b.dataplane().addr.outer_mac, net.now()));

  // A's initiation, captured on the wire before B sees it.
  ASSERT_TRUE(
      net.host(0).send_ip(udp_packet(net.host(0).ip4, net.host(1).ip4, 1, 2, pattern(100, 5))));
  Bytes init;
  for (int i = 0; i < 20 && init.empty(); ++i) {
    net.poll_only(0);
    for (const Bytes& f : drain(net.wire_to(1))) {
      const wire::FrameInfo fi = wire::classify_frame(f.data(), f.size());
      if (fi.ok() && fi.payload_len == wire::spec::kInitiationSize && f[fi.payload_off] == 1) {
        init.assign(f.begin() + fi.payload_off, f.end());
      }
    }
  }
  ASSERT_EQ(init.size(), wire::spec::kInitiationSize);

  // The same initiation relayed by the TURN server on channel 0x4001.
  const wire::OuterTemplate t = wire::OuterTemplate::make(turn_mac, b.dataplane().addr.outer_mac,
                                                          turn, b_addr, 3478, 51820, kChannel);
  rte_mbuf* m = rte_pktmbuf_alloc(b.dataplane().pool);
  ASSERT_NE(m, nullptr);
  auto* buf = reinterpret_cast<std::uint8_t*>(
      rte_pktmbuf_append(m, static_cast<std::uint16_t>(t.len + init.size())));
  std::memcpy(buf + t.len, init.data(), init.size());
  t.write(buf, init.size(), 1, 0);
  ASSERT_EQ(rte_ring_enqueue(net.wire_to(1), m), 0);
  for (int i = 0; i < 5; ++i) net.poll_only(1);

  EXPECT_EQ(b.control().stats().responses_sent, 1u);
  Bytes resp;
  for (const Bytes& f : drain(net.wire_to(0))) {
    const wire::FrameInfo fi =
        wire::classify_frame(f.data(), f.size(), {.verify_ipv4_checksum = true});
    ASSERT_TRUE(fi.ok());
    if (fi.l4_proto == wire::spec::kProtoUdp && fi.dst_addr() == turn) {
      EXPECT_EQ(fi.dst_port, 3478);
      EXPECT_EQ(fi.src_port, 51820);
      EXPECT_EQ(wire::MacAddr::from(f.data()), turn_mac);
      resp.assign(f.begin() + fi.payload_off, f.end());
    }
  }
  ASSERT_EQ(resp.size(), 4 + wire::spec::kResponseSize);
  EXPECT_EQ(load_be16(resp.data()), kChannel);
  EXPECT_EQ(load_be16(resp.data() + 2), wire::spec::kResponseSize);
  EXPECT_EQ(load_le32(resp.data() + 4), 2u);  // a handshake response inside
  const control::PeerState* ps = b.control().peers().find(b.control().peers().ids().at(0));
  ASSERT_NE(ps, nullptr);
  EXPECT_EQ(ps->settings.endpoint, (Endpoint{turn, 3478, kChannel}));
  EXPECT_EQ(ps->settings.endpoint.str(), "198.51.100.77:3478");
  EXPECT_EQ(b.worker(0).drops().total(), 0u);
}

}  // namespace
}  // namespace meshgate::test
