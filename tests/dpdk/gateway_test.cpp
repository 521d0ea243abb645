// Two meshgate gateways joined by net_ring ports complete a handshake and carry IPv4 and IPv6
// both ways (over IPv4 and over IPv6 outer transport).
#include "meshgate/control/gateway.hpp"

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "meshgate/control/uapi_server.hpp"
#include "meshgate/wire/checksum.hpp"
#include "packets.hpp"
#include "ring_gateways.hpp"

namespace meshgate::test {
namespace {

void exchange_both_ways(RingGateways& net, bool inner_v6) {
  LanHost& a = net.host(0);
  LanHost& b = net.host(1);
  const IpAddr& a_ip = inner_v6 ? a.ip6 : a.ip4;
  const IpAddr& b_ip = inner_v6 ? b.ip6 : b.ip4;
  const auto there = udp_packet(a_ip, b_ip, 4000, 5000, pattern(300, 1));
  ASSERT_TRUE(a.send_ip(there));
  ASSERT_TRUE(net.poll_until([&] { return !b.received.empty(); }))
      << "nothing reached host B; A sent " << net.gw(0).control().stats().initiations_sent
      << " initiations, B got " << net.gw(1).control().stats().initiations_received;
  EXPECT_EQ(b.received.back(), forwarded(there, 2));  // byte for byte but the TTL, unpadded

  const auto back = udp_packet(b_ip, a_ip, 5000, 4000, pattern(1200, 9));
  ASSERT_TRUE(b.send_ip(back));
  ASSERT_TRUE(net.poll_until([&] { return !a.received.empty(); }));
  EXPECT_EQ(a.received.back(), forwarded(back, 2));

  // A burst in each direction arrives complete and in order.
  a.received.clear();
  b.received.clear();
  std::vector<std::vector<std::uint8_t>> sent;
  for (int i = 0; i < 40; ++i) {
    sent.push_back(
        udp_packet(a_ip, b_ip, 4000, 5000, pattern(64 + i * 31, static_cast<std::uint8_t>(i))));
    ASSERT_TRUE(a.send_ip(sent.back()));
  }
  ASSERT_TRUE(net.poll_until([&] { return b.received.size() == sent.size(); }));
  for (auto& p : sent) p = forwarded(p, 2);
  EXPECT_EQ(b.received, sent);
}

TEST(Gateways, HandshakeAndIpv4BothWaysOverIpv4) {
  RingGateways net("gw4");
  exchange_both_ways(net, false);
  auto& ca = net.gw(0).control();
  auto& cb = net.gw(1).control();
  EXPECT_GE(ca.stats().initiations_sent, 1u);
  EXPECT_GE(cb.stats().responses_sent, 1u);
  // B learnt A's endpoint from the authenticated initiation.
  auto peer_a =
      cb.peers().find(crypto::x25519_public(net.gw(0).control().sessions().identity().private_key));
  ASSERT_TRUE(peer_a);
  EXPECT_EQ(cb.peers().find(*peer_a)->settings.endpoint.str(), "198.51.100.2:51820");
  EXPECT_NE(cb.peers().find(*peer_a)->timers.last_handshake().sec, 0);
  EXPECT_EQ(net.gw(1).worker(0).drops().total(), 0u);
  EXPECT_EQ(net.gw(0).worker(0).drops().total(), 0u);
}

// A rekey the data path asks for while no initiation may go out yet (one went out less than
// REKEY_TIMEOUT ago) is asked for once, however many packets go to the peer meanwhile, and
// goes out as soon as it may, with no packet to prompt it.
TEST(Gateways, ARekeyThatMustWaitIsAskedForOnceAndSentWhenItMay) {
  RingGateways net("gwwait");
  exchange_both_ways(net, false);  // A initiated: the keypair is one A rekeys for its age
  auto& ca = net.gw(0).control();
  const control::ControlStats before = ca.stats();
  net.gw(0).dataplane().rekey_after_time = millis(1);  // every packet now wants a rekey
  LanHost& a = net.host(0);
  LanHost& b = net.host(1);
  b.received.clear();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(a.send_ip(udp_packet(a.ip4, b.ip4, 4000, 5000, pattern(100, 3))));
    net.poll(millis(10));
  }
  ASSERT_TRUE(net.poll_until([&] { return b.received.size() == 20; }));
  EXPECT_EQ(ca.stats().initiations_sent, before.initiations_sent);  // under REKEY_TIMEOUT
  EXPECT_EQ(ca.stats().handshake_requests, before.handshake_requests + 1);
  ASSERT_TRUE(net.poll_until([&] { return ca.stats().initiations_sent > before.initiations_sent; },
                             600, millis(10)));
  ASSERT_TRUE(
      net.poll_until([&] { return ca.stats().responses_received > before.responses_received; }));
  EXPECT_EQ(ca.stats().initiations_sent, before.initiations_sent + 1);
  EXPECT_EQ(net.gw(0).worker(0).drops().total(), 0u);
}

// MTU 9000 links under a tunnel MTU of 8920: the pool's buffers hold a whole sealed frame, the
// largest packet crosses both ways, one byte more is answered "fragmentation needed, 8920".
TEST(Gateways, JumboPacketsCrossAtTheTunnelMtu) {
  RingGateways::Extra extra;
  extra.interface[0] = extra.interface[1] = "MTU = 8920\n";
  RingGateways net("jumbo", false, {}, extra);
  EXPECT_GE(rte_pktmbuf_data_room_size(net.gw(0).dataplane().pool),
            RTE_PKTMBUF_HEADROOM + 14 + 4 + 8920 + 84);
  LanHost& a = net.host(0);
  LanHost& b = net.host(1);
  const auto there = udp_packet(a.ip4, b.ip4, 4000, 5000, pattern(8920 - 28, 3));
  ASSERT_TRUE(a.send_ip(there));
  ASSERT_TRUE(net.poll_until([&] { return !b.received.empty(); }));
  EXPECT_EQ(b.received.back(), forwarded(there, 2));
  const auto back = udp_packet(b.ip6, a.ip6, 5000, 4000, pattern(8920 - 48, 4));
  ASSERT_TRUE(b.send_ip(back));
  ASSERT_TRUE(net.poll_until([&] { return !a.received.empty(); }));
  EXPECT_EQ(a.received.back(), forwarded(back, 2));

  a.received.clear();
  auto too_big = udp_packet(a.ip4, b.ip4, 4000, 5000, pattern(8920 - 28 + 1, 5));
  too_big[6] = 0x40;  // DF
  too_big[10] = too_big[11] = 0;
  store_be16(too_big.data() + 10, wire::ipv4_header_checksum(too_big.data()));
  ASSERT_TRUE(a.send_ip(too_big));
  ASSERT_TRUE(net.poll_until([&] { return !a.received.empty(); }));
  const auto& icmp = a.received.back();
  ASSERT_GE(icmp.size(), 28u);
  EXPECT_EQ(icmp[9], wire::spec::kProtoIcmp);
  EXPECT_EQ(icmp[20], 3);  // destination unreachable
  EXPECT_EQ(icmp[21], 4);  // fragmentation needed
  EXPECT_EQ(load_be16(icmp.data() + 26), 8920);
}

/// What `write` prints to a FILE*.
template <class F>
std::string captured(F write) {
  char* buf = nullptr;
  std::size_t len = 0;
  FILE* f = open_memstream(&buf, &len);
  write(f);
  std::fclose(f);
  std::string out(buf, len);
  std::free(buf);  // NOLINT(cppcoreguidelines-no-malloc): open_memstream's buffer
  return out;
}

// An initiation that arrives while the keypair table is full cannot be answered: it is counted
// under its reason (metrics, the exit statistics) and logged, never dropped silently.
TEST(Gateways, HandshakeRefusedForAFullKeypairTableIsCountedAndLogged) {
  RingGateways net("kpfull");
  control::Gateway& gb = net.gw(1);
  char* log_buf = nullptr;
  std::size_t log_len = 0;
  FILE* log = open_memstream(&log_buf, &log_len);
  gb.control().set_log(log);
  while (gb.dataplane().keypairs.reserve()) {
  }
  const auto reason = static_cast<int>(noise::HandshakeDrop::no_free_index);
  ASSERT_TRUE(net.host(0).send_ip(
      udp_packet(net.host(0).ip4, net.host(1).ip4, 4000, 5000, pattern(100, 1))));
  EXPECT_TRUE(
      net.poll_until([&] { return gb.control().stats().handshake_drops[reason] != 0; }, 500));
  const auto events = gb.metrics().handshake_events;
  EXPECT_NE(std::find(events.begin(), events.end(),
                      std::pair<std::string, std::uint64_t>{
                          "rejected_no_free_index", gb.control().stats().handshake_drops[reason]}),
            events.end());
  EXPECT_NE(captured([&](FILE* f) { gb.print_stats(f); }).find("no_free_index"), std::string::npos);
  gb.control().set_log(nullptr);
  std::fclose(log);
  const std::string logged(log_buf, log_len);
  std::free(log_buf);  // NOLINT(cppcoreguidelines-no-malloc): open_memstream's buffer
  EXPECT_NE(logged.find("dropped (no_free_index)"), std::string::npos) << logged;
}

TEST(Gateways, Ipv6InnerOverIpv4) {
  RingGateways net("gw64");
  exchange_both_ways(net, true);
}

TEST(Gateways, Ipv4AndIpv6InnerOverIpv6) {
  RingGateways net("gw6", /*outer_v6=*/true);
  exchange_both_ways(net, false);
  LanHost& a = net.host(0);
  LanHost& b = net.host(1);
  b.received.clear();
  const auto p = udp_packet(a.ip6, b.ip6, 1, 2, pattern(700, 3));
  ASSERT_TRUE(a.send_ip(p));
  ASSERT_TRUE(net.poll_until([&] { return !b.received.empty(); }));
  EXPECT_EQ(b.received.back(), forwarded(p, 2));
  auto& cb = net.gw(1).control();
  auto peer_a =
      cb.peers().find(crypto::x25519_public(net.gw(0).control().sessions().identity().private_key));
  ASSERT_TRUE(peer_a);
  EXPECT_EQ(cb.peers().find(*peer_a)->settings.endpoint.str(), "[2001:db8::2]:51820");
}

/// The "rx_bytes" and "tx_bytes" of a UAPI get (the gateway has one peer), as `wg show
/// transfer` reads them.
std::pair<std::uint64_t, std::uint64_t> transfer(control::Control& c) {
  auto dev = control::make_uapi_device(c);
  control::uapi::Connection conn(*dev);
  std::string out;
  EXPECT_TRUE(conn.feed("get=1\n\n", out));
  auto field = [&](const std::string& key) -> std::uint64_t {
    const auto at = out.find("\n" + key + "=");
    return at == std::string::npos ? ~0ULL : std::stoull(out.substr(at + key.size() + 2));
  };
  return {field("rx_bytes"), field("tx_bytes")};
}

// The kernel counts the initiations and responses a peer sends and receives in its transfer
// counters (the UDP payload); cookie replies in neither. One 100-byte packet from A starts the
// handshake and goes once it completes: the initiator has sent an initiation and that message,
// and received a response; the responder the other way round.
TEST(Gateways, HandshakeMessagesCountInThePeersTransferAsWgShowDoes) {
  RingGateways net("hsb");
  LanHost& a = net.host(0);
  LanHost& b = net.host(1);
  ASSERT_TRUE(a.send_ip(udp_packet(a.ip4, b.ip4, 1, 2, pattern(72, 1))));  // 100 bytes of IP
  ASSERT_TRUE(net.poll_until([&] { return !b.received.empty(); }));
  constexpr std::uint64_t kInit = wire::spec::kInitiationSize, kResp = wire::spec::kResponseSize;
  constexpr std::uint64_t kData = wire::spec::kTransportMinSize + 112;  // padded to 16 bytes
  EXPECT_EQ(transfer(net.gw(0).control()), std::make_pair(kResp, kInit + kData));  // rx, tx
  EXPECT_EQ(transfer(net.gw(1).control()), std::make_pair(kInit + kData, kResp));
}

// [Gateway] Mbufs sizes the pool (over the limits a test passes), and the gateway runs on it.
TEST(Gateways, TheConfigsMbufsSizesThePool) {
  RingGateways net("mbp", false, {.max_peers = 16, .mbufs = 2047},
                   {.gateway = {"Mbufs = 3000\n", "Mbufs = 3001\n"}});
  EXPECT_EQ(net.gw(0).dataplane().pool->size, 3000u);
  EXPECT_EQ(net.gw(1).dataplane().pool->size, 3001u);
  exchange_both_ways(net, false);
}

}  // namespace
}  // namespace meshgate::test
