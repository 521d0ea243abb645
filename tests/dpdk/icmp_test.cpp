// ICMP at the tunnel's edges: errors a gateway sends its LAN hosts for packets it cannot carry
// (no route, too big), and echo replies from a gateway's LAN address to a peer's hosts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "drop_tunnel.hpp"

namespace meshgate::test::drops {
namespace {

// --- the remote gateway's own LAN address through the tunnel -----------------------------------

Bytes icmp_echo(const IpAddr& src, const IpAddr& dst, std::uint16_t seq) {
  const bool v6 = src.is_v6();
  const Bytes data = pattern(56, static_cast<std::uint8_t>(seq));
  const std::size_t hl = v6 ? 40 : 20;
  Bytes p(hl + 8 + data.size(), 0);
  std::uint8_t* icmp = p.data() + hl;
  icmp[0] = v6 ? wire::spec::kIcmp6EchoRequest : wire::spec::kIcmpEchoRequest;
  store_be16(icmp + 4, 0x4d47);
  store_be16(icmp + 6, seq);
  std::copy(data.begin(), data.end(), icmp + 8);
  if (v6) {
    store_be32(p.data(), 0x60000000);
    store_be16(p.data() + 4, static_cast<std::uint16_t>(p.size() - 40));
    p[6] = wire::spec::kProtoIcmpv6;
    p[7] = 64;
    std::copy(src.bytes.begin(), src.bytes.end(), p.begin() + 8);
    std::copy(dst.bytes.begin(), dst.bytes.end(), p.begin() + 24);
    store_be16(icmp + 2, wire::icmp6_checksum(p.data() + 8, p.data() + 24, icmp, p.size() - 40));
  } else {
    p[0] = 0x45;
    store_be16(p.data() + 2, static_cast<std::uint16_t>(p.size()));
    p[8] = 64;
    p[9] = wire::spec::kProtoIcmp;
    std::copy(src.bytes.begin(), src.bytes.begin() + 4, p.begin() + 12);
    std::copy(dst.bytes.begin(), dst.bytes.begin() + 4, p.begin() + 16);
    store_be16(p.data() + 10, wire::ipv4_header_checksum(p.data()));
    store_be16(icmp + 2, wire::internet_checksum(icmp, p.size() - 20));
  }
  return p;
}

// A host at site A pings gateway B's LAN address (inside A's AllowedIPs for B): B answers
// through the tunnel, as a kernel WireGuard gateway does, instead of resolving its own address
// on its LAN and finally dropping the packet as neighbour_unresolved.
TEST(TunnelLocal, PeerPingsTheGatewaysLanAddress) {
  Tunnel t("dping", false);
  LanHost& a = t.host(0);
  const auto& addr_b = t.gw(1).dataplane().addr;
  for (const IpAddr& gw_b : {addr_b.inner_v4, addr_b.inner_v6}) {
    SCOPED_TRACE(gw_b.is_v6() ? "IPv6" : "IPv4");
    const IpAddr& from = gw_b.is_v6() ? a.ip6 : a.ip4;
    const Bytes req = icmp_echo(from, gw_b, 7);
    a.received.clear();
    const std::size_t b_got = t.host(1).received.size();
    const std::uint64_t replies = t.gw(1).control().stats().echo_replies;
    ASSERT_TRUE(a.send_ip(req));
    ASSERT_TRUE(t.net().poll_until([&] { return !a.received.empty(); }, 100))
        << "no echo reply from B's LAN address";
    const Bytes& rep = a.received.front();
    ASSERT_EQ(rep.size(), req.size());
    const bool v6 = gw_b.is_v6();
    const std::size_t hl = v6 ? 40 : 20, alen = v6 ? 16 : 4, src_off = v6 ? 8 : 12;
    EXPECT_TRUE(std::equal(gw_b.bytes.begin(),
                           gw_b.bytes.begin() + static_cast<std::ptrdiff_t>(alen),
                           rep.begin() + static_cast<std::ptrdiff_t>(src_off)));
    EXPECT_TRUE(std::equal(from.bytes.begin(),
                           from.bytes.begin() + static_cast<std::ptrdiff_t>(alen),
                           rep.begin() + static_cast<std::ptrdiff_t>(src_off + alen)));
    EXPECT_EQ(rep[hl], v6 ? wire::spec::kIcmp6EchoReply : wire::spec::kIcmpEchoReply);
    EXPECT_TRUE(std::equal(req.begin() + static_cast<std::ptrdiff_t>(hl + 4), req.end(),
                           rep.begin() + static_cast<std::ptrdiff_t>(hl + 4)))
        << "identifier, sequence and data echoed";
    if (v6) {
      Bytes msg(rep.begin() + 40, rep.end());
      const std::uint16_t stored = load_be16(msg.data() + 2);
      store_be16(msg.data() + 2, 0);
      EXPECT_EQ(stored,
                wire::icmp6_checksum(rep.data() + 8, rep.data() + 24, msg.data(), msg.size()));
    } else {
      EXPECT_TRUE(ipv4_header_ok(rep));
      EXPECT_EQ(wire::internet_checksum(rep.data() + 20, rep.size() - 20), 0);
    }
    EXPECT_EQ(t.gw(1).control().stats().echo_replies, replies + 1);
    EXPECT_EQ(t.host(1).received.size(), b_got) << "not forwarded to B's LAN";
  }
  EXPECT_EQ(t.worker_b().drops().total(), 0u);
  EXPECT_EQ(t.gw(1).control().drops()[Drop::neighbour_unresolved], 0u);
}

// --- the outbound side at A: ICMP errors back to the LAN host -----------------------------------

struct IcmpSeen {
  Bytes ip;  // the error, as host A received it
  std::size_t icmp = 0;
};

/// Host A sends `pkt`; A must drop it with `d` alone and send one ICMP error back.
IcmpSeen expect_refused_at_a(Tunnel& t, const Bytes& pkt, Drop d) {
  LanHost& a = t.host(0);
  a.received.clear();
  const auto before = t.gw(0).worker(0).drops();
  const std::size_t b_before = t.host(1).received.size();
  EXPECT_TRUE(a.send_ip(pkt));
  t.net().poll_until([&] { return !a.received.empty(); }, 20);
  for (int i = 0; i < 5; ++i) t.net().poll();
  const auto m = moved(before, t.gw(0).worker(0).drops());
  EXPECT_EQ(m.size(), 1u);
  if (!m.empty()) {
    EXPECT_STREQ(drop_name(m[0].first), drop_name(drop_index(d)));
    EXPECT_EQ(m[0].second, 1u);
  }
  EXPECT_EQ(t.host(1).received.size(), b_before) << "nothing may cross the tunnel";
  EXPECT_EQ(a.received.size(), 1u) << "one ICMP error back to the sender";
  if (a.received.empty()) return {};
  IcmpSeen s{a.received[0], 0};
  const Bytes& ip = s.ip;
  const bool v6 = (pkt[0] >> 4) == 6;
  s.icmp = v6 ? 40 : 20;
  EXPECT_EQ(ip[0] >> 4, v6 ? 6 : 4);
  const Bytes gw_addr =
      v6 ? Bytes{0xfd, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1} : Bytes{10, 1, 0, 1};
  const std::size_t alen = v6 ? 16 : 4;
  const std::size_t src_off = v6 ? 8 : 12;
  EXPECT_TRUE(
      std::equal(gw_addr.begin(), gw_addr.end(), ip.begin() + static_cast<std::ptrdiff_t>(src_off)))
      << "from A's LAN address";
  EXPECT_TRUE(std::equal(pkt.begin() + static_cast<std::ptrdiff_t>(src_off),
                         pkt.begin() + static_cast<std::ptrdiff_t>(src_off + alen),
                         ip.begin() + static_cast<std::ptrdiff_t>(src_off + alen)))
      << "to the sender";
  if (v6) {
    EXPECT_EQ(ip[6], wire::spec::kProtoIcmpv6);
    Bytes msg(ip.begin() + 40, ip.end());
    const std::uint16_t stored = load_be16(msg.data() + 2);
    store_be16(msg.data() + 2, 0);
    EXPECT_EQ(stored, wire::icmp6_checksum(ip.data() + 8, ip.data() + 24, msg.data(), msg.size()));
  } else {
    EXPECT_EQ(ip[9], wire::spec::kProtoIcmp);
    EXPECT_TRUE(ipv4_header_ok(ip));
    EXPECT_EQ(wire::internet_checksum(ip.data() + 20, ip.size() - 20), 0);
  }
  // The error quotes the start of the offending packet.
  const std::size_t quoted = ip.size() - s.icmp - 8;
  EXPECT_GE(quoted, 28u);
  EXPECT_TRUE(std::equal(pkt.begin(),
                         pkt.begin() + static_cast<std::ptrdiff_t>(std::min(quoted, pkt.size())),
                         ip.begin() + static_cast<std::ptrdiff_t>(s.icmp + 8)));
  return s;
}

Bytes with_df(Bytes p) {
  store_be16(p.data() + 6, wire::spec::kIpv4FlagDf);
  store_be16(p.data() + 10, 0);
  store_be16(p.data() + 10, wire::ipv4_header_checksum(p.data()));
  return p;
}

TEST(OutboundVerdicts, NoRouteAndTooBigAnswerWithIcmp) {
  Tunnel t("dout", false);
  LanHost& a = t.host(0);
  LanHost& b = t.host(1);
  const std::uint16_t mtu = t.gw(0).dataplane().mtu;
  ASSERT_EQ(mtu, 1420);

  {
    SCOPED_TRACE("IPv4 destination in no peer's allowed IPs");
    const IcmpSeen s = expect_refused_at_a(
        t, udp_packet(a.ip4, *IpAddr::parse("10.7.7.7"), 1, 2, pattern(64, 1)), Drop::no_route);
    if (!s.ip.empty()) {
      EXPECT_EQ(s.ip[s.icmp], wire::spec::kIcmpDestUnreach);
      EXPECT_EQ(s.ip[s.icmp + 1], wire::spec::kIcmpCodeHostUnreach);
    }
  }
  {
    SCOPED_TRACE("IPv6 destination in no peer's allowed IPs");
    const IcmpSeen s = expect_refused_at_a(
        t, udp_packet(a.ip6, *IpAddr::parse("fd07::7"), 1, 2, pattern(64, 1)), Drop::no_route);
    if (!s.ip.empty()) {
      EXPECT_EQ(s.ip[s.icmp], wire::spec::kIcmp6DestUnreach);
      EXPECT_EQ(s.ip[s.icmp + 1], wire::spec::kIcmp6CodeAddrUnreach);
    }
  }
  {
    SCOPED_TRACE("IPv4 packet of MTU + 1 with DF");
    const Bytes big = with_df(udp_packet(a.ip4, b.ip4, 1, 2, pattern(mtu + 1 - 28, 1)));
    ASSERT_EQ(big.size(), mtu + 1u);
    const IcmpSeen s = expect_refused_at_a(t, big, Drop::too_big);
    if (!s.ip.empty()) {
      EXPECT_EQ(s.ip[s.icmp], wire::spec::kIcmpDestUnreach);
      EXPECT_EQ(s.ip[s.icmp + 1], wire::spec::kIcmpCodeFragNeeded);
      EXPECT_EQ(load_be16(s.ip.data() + s.icmp + 6), mtu) << "RFC 1191 next-hop MTU";
      EXPECT_LE(s.ip.size(), 576u);
    }
  }
  {
    SCOPED_TRACE("IPv6 packet of MTU + 1");
    const Bytes big = udp_packet(a.ip6, b.ip6, 1, 2, pattern(mtu + 1 - 48, 1));
    ASSERT_EQ(big.size(), mtu + 1u);
    const IcmpSeen s = expect_refused_at_a(t, big, Drop::too_big);
    if (!s.ip.empty()) {
      EXPECT_EQ(s.ip[s.icmp], wire::spec::kIcmp6PacketTooBig);
      EXPECT_EQ(s.ip[s.icmp + 1], 0);
      EXPECT_EQ(load_be32(s.ip.data() + s.icmp + 4), mtu);
      EXPECT_LE(s.ip.size(), 1280u);
    }
  }
  // Exactly the MTU crosses, in both families.
  for (const Bytes& fits : {with_df(udp_packet(a.ip4, b.ip4, 1, 2, pattern(mtu - 28, 2))),
                            udp_packet(a.ip6, b.ip6, 1, 2, pattern(mtu - 48, 2))}) {
    SCOPED_TRACE(fits[0] >> 4 == 6 ? "IPv6 of exactly the MTU" : "IPv4 of exactly the MTU");
    ASSERT_EQ(fits.size(), mtu);
    b.received.clear();
    a.received.clear();
    ASSERT_TRUE(a.send_ip(fits));
    ASSERT_TRUE(t.net().poll_until([&] { return !b.received.empty(); }, 50));
    EXPECT_EQ(b.received.back(), forwarded(fits, 2));
    EXPECT_TRUE(a.received.empty()) << "no ICMP error for a packet that fits";
  }
  EXPECT_EQ(t.worker_b().drops().total(), 0u);
}

}  // namespace
}  // namespace meshgate::test::drops
