// Builders: every built packet classifies back with valid checksums and the fields it was built
// with; ICMP errors quote within 576 / 1280 bytes and follow
// the "never about" rules.
#include "meshgate/wire/build.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "hex_frame.hpp"
#include "packet_samples.hpp"

namespace meshgate::wire {
namespace {

const MacAddr kMacA{{0x02, 0, 0, 0, 0, 0x0a}};
const MacAddr kMacB{{0x02, 0, 0, 0, 0, 0x0b}};
IpAddr ip(const char* s) {
  return *IpAddr::parse(s);
}
const ClassifyOptions kVerifyAll{.verify_ipv4_checksum = true, .verify_udp_checksum = true};

TEST(Outer, TemplateClassifiesBack) {
  std::mt19937 rng(42);
  for (const bool v6 : {false, true}) {
    const IpAddr s = v6 ? ip("2001:db8::10") : ip("10.1.2.3");
    const IpAddr d = v6 ? ip("2001:db8:ffff::20") : ip("203.0.113.99");
    const OuterTemplate t = OuterTemplate::make(kMacA, kMacB, s, d, 51820, 12345);
    ASSERT_TRUE(t.valid());
    ASSERT_EQ(t.v6, v6);
    ASSERT_EQ(t.len, v6 ? kOuterV6Len : kOuterV4Len);
    for (int i = 0; i < 500; ++i) {
      const std::size_t plen = 32 + rng() % 1440;
      const auto id = static_cast<std::uint16_t>(rng());
      const auto tos = static_cast<std::uint8_t>(rng());
      std::vector<std::uint8_t> a(t.len + plen);
      for (std::size_t k = t.len; k < a.size(); ++k) a[k] = static_cast<std::uint8_t>(rng());
      ASSERT_EQ(t.write(a.data(), plen, id, tos), t.len);
      // Both checksums verified: the IPv4 header's, the UDP one over IPv6.
      const FrameInfo fi = classify_frame(a.data(), a.size(), kVerifyAll);
      ASSERT_TRUE(fi.ok()) << drop_reason_name(fi.drop) << " v6 " << v6 << " plen " << plen;
      EXPECT_EQ(fi.kind, v6 ? FrameKind::ipv6 : FrameKind::ipv4);
      EXPECT_EQ(fi.src_addr(), s);
      EXPECT_EQ(fi.dst_addr(), d);
      EXPECT_EQ(fi.src_port, 51820);
      EXPECT_EQ(fi.dst_port, 12345);
      EXPECT_EQ(fi.payload_off, t.len);
      EXPECT_EQ(fi.payload_len, plen);
      EXPECT_EQ(fi.tos, tos);
      EXPECT_EQ(MacAddr::from(a.data()), kMacB);
      EXPECT_EQ(MacAddr::from(a.data() + 6), kMacA);
      if (!v6) {
        EXPECT_EQ(load_be16(a.data() + 18), id);  // IPv4 id
        EXPECT_EQ(load_be16(a.data() + 40), 0);   // UDP checksum omitted over IPv4
      }
    }
  }
  EXPECT_FALSE(OuterTemplate::make(kMacA, kMacB, ip("10.0.0.1"), ip("::1"), 1, 2).valid());
}

TEST(Outer, TemplateWithAChannelWritesChannelDataAfterUdp) {
  std::mt19937 rng(7);
  constexpr std::uint16_t kChannel = 0x4A21;
  for (const bool v6 : {false, true}) {
    const IpAddr s = v6 ? ip("2001:db8::10") : ip("10.1.2.3");
    const IpAddr d = v6 ? ip("2001:db8:ffff::20") : ip("203.0.113.99");
    const OuterTemplate t = OuterTemplate::make(kMacA, kMacB, s, d, 51820, 3478, kChannel);
    ASSERT_TRUE(t.valid());
    ASSERT_EQ(t.len, (v6 ? kOuterV6Len : kOuterV4Len) + 4);
    for (int i = 0; i < 200; ++i) {
      const std::size_t plen = 32 + rng() % 1440;  // the WireGuard message
      std::vector<std::uint8_t> a(t.len + plen);
      for (std::size_t k = t.len; k < a.size(); ++k) a[k] = static_cast<std::uint8_t>(rng());
      ASSERT_EQ(t.write(a.data(), plen, static_cast<std::uint16_t>(rng()), 0), t.len);
      // IPv4 header checksum and (IPv6) the UDP checksum over ChannelData and message verified.
      const FrameInfo fi = classify_frame(a.data(), a.size(), kVerifyAll);
      ASSERT_TRUE(fi.ok()) << drop_reason_name(fi.drop) << " v6 " << v6 << " plen " << plen;
      EXPECT_EQ(fi.dst_addr(), d);
      EXPECT_EQ(fi.dst_port, 3478);
      EXPECT_EQ(fi.payload_len, plen + 4);  // UDP and IP lengths count the ChannelData header
      EXPECT_EQ(load_be16(a.data() + fi.payload_off), kChannel);
      EXPECT_EQ(load_be16(a.data() + fi.payload_off + 2), plen);
      EXPECT_EQ(fi.payload_off + 4, t.len);
    }
  }
}

TEST(Arp, RequestAndReplyClassifyBack) {
  std::uint8_t buf[64];
  ASSERT_EQ(build_arp_request(buf, kMacA, ip("10.0.0.1"), ip("10.0.0.9")), 60u);
  FrameInfo fi = classify_frame(buf, 60);
  ASSERT_TRUE(fi.ok());
  ASSERT_EQ(fi.kind, FrameKind::arp);
  ArpMessage m = parse_arp(buf, fi);
  EXPECT_EQ(m.op, spec::kArpOpRequest);
  EXPECT_EQ(m.sha, kMacA);
  EXPECT_EQ(m.spa, ip("10.0.0.1"));
  EXPECT_EQ(m.tpa, ip("10.0.0.9"));
  EXPECT_TRUE(MacAddr::from(buf).is_broadcast());

  build_arp_request(buf, kMacA, ip("10.0.0.1"), ip("10.0.0.9"), kMacB);
  EXPECT_EQ(MacAddr::from(buf), kMacB);  // unicast re-probe

  ASSERT_EQ(build_arp_reply(buf, kMacB, ip("10.0.0.9"), kMacA, ip("10.0.0.1")), 60u);
  fi = classify_frame(buf, 60);
  ASSERT_TRUE(fi.ok());
  m = parse_arp(buf, fi);
  EXPECT_EQ(m.op, spec::kArpOpReply);
  EXPECT_EQ(m.sha, kMacB);
  EXPECT_EQ(m.spa, ip("10.0.0.9"));
  EXPECT_EQ(m.tha, kMacA);
  EXPECT_EQ(MacAddr::from(buf), kMacA);
}

TEST(Ndp, SolicitationToSolicitedNodeGroup) {
  std::uint8_t buf[kNdpFrameLen];
  const IpAddr target = ip("2001:db8::abcd:1234");
  ASSERT_EQ(build_neighbour_solicitation(buf, kMacA, ip("2001:db8::1"), target), kNdpFrameLen);
  const FrameInfo fi = classify_frame(buf, sizeof buf);
  ASSERT_TRUE(fi.ok()) << drop_reason_name(fi.drop);
  ASSERT_EQ(fi.kind, FrameKind::ndp);
  EXPECT_EQ(fi.dst_addr(), ip("ff02::1:ffcd:1234"));
  EXPECT_EQ(MacAddr::from(buf).str(), "33:33:ff:cd:12:34");
  const auto m = parse_ndp(buf, fi);  // also verifies the ICMPv6 checksum
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, spec::kNdpNeighbourSolicit);
  EXPECT_EQ(m->target, target);
  EXPECT_EQ(m->lla, kMacA);

  build_neighbour_solicitation(buf, kMacA, ip("2001:db8::1"), target, kMacB);
  const FrameInfo uni = classify_frame(buf, sizeof buf);
  EXPECT_EQ(uni.dst_addr(), target);
  EXPECT_EQ(MacAddr::from(buf), kMacB);
  EXPECT_TRUE(parse_ndp(buf, uni));
}

TEST(Ndp, AdvertisementFlagsAndTargetOption) {
  std::uint8_t buf[kNdpFrameLen];
  const IpAddr target = ip("fe80::2");
  build_neighbour_advertisement(buf, kMacB, target, kMacA, ip("fe80::1"), target,
                                {.router = false, .solicited = true, .override_entry = true});
  const FrameInfo fi = classify_frame(buf, sizeof buf);
  ASSERT_TRUE(fi.ok());
  const auto m = parse_ndp(buf, fi);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, spec::kNdpNeighbourAdvert);
  EXPECT_EQ(m->flags, spec::kNaFlagSolicited | spec::kNaFlagOverride);
  EXPECT_EQ(m->target, target);
  EXPECT_EQ(m->lla, kMacB);
  EXPECT_EQ(buf[14 + 7], 255);  // hop limit
}

TEST(MacAddr, Helpers) {
  EXPECT_TRUE(MacAddr::broadcast().is_broadcast());
  EXPECT_TRUE(MacAddr::broadcast().is_multicast());
  EXPECT_FALSE(kMacA.is_multicast());
  EXPECT_EQ(MacAddr::from_u64(kMacA.to_u64()), kMacA);
  const IpAddr a = ip("ff02::1:ff00:2");
  EXPECT_EQ(MacAddr::ipv6_multicast(a.bytes.data()).str(), "33:33:ff:00:00:02");
  EXPECT_EQ(solicited_node_address(ip("fe80::1:2:3")), ip("ff02::1:ff02:3"));
}

// An IPv4 UDP packet of `len` bytes (IP length) from 192.0.2.5 to 10.9.9.9, inside a frame.
std::vector<std::uint8_t> big_v4_frame(std::size_t len) {
  std::vector<std::uint8_t> f(14 + len);
  for (std::size_t i = 0; i < f.size(); ++i) f[i] = static_cast<std::uint8_t>(i * 7);
  OuterTemplate::make(kMacB, kMacA, ip("192.0.2.5"), ip("10.9.9.9"), 5000, 53)
      .write(f.data(), len - 28, 1, 0);
  return f;
}
std::vector<std::uint8_t> big_v6_frame(std::size_t len, const char* dst = "2001:db8:9::9") {
  std::vector<std::uint8_t> f(14 + len);
  for (std::size_t i = 0; i < f.size(); ++i) f[i] = static_cast<std::uint8_t>(i * 7);
  OuterTemplate::make(kMacB, kMacA, ip("2001:db8::5"), ip(dst), 5000, 53)
      .write(f.data(), len - 48, 0, 0);
  return f;
}

TEST(IcmpError, FragNeededQuotesUpTo576) {
  const IpAddr gw = ip("192.0.2.1");
  for (std::size_t len : {40u, 100u, 548u, 549u, 1500u}) {
    const auto f = big_v4_frame(len);
    const FrameInfo in = classify_frame(f.data(), f.size());
    ASSERT_TRUE(in.ok());
    std::vector<std::uint8_t> out(2000);
    const std::size_t n = build_icmp_error_frame(out.data(), out.size(), IcmpError::too_big,
                                                 f.data(), in, kMacA, gw, 1420);
    const std::size_t quote = std::min<std::size_t>(len, 548);
    ASSERT_EQ(n, 14 + 28 + quote) << len;
    EXPECT_LE(n - 14, spec::kIpv4MinMtu);
    const FrameInfo fi = classify_frame(out.data(), n, kVerifyAll);
    ASSERT_TRUE(fi.ok()) << drop_reason_name(fi.drop);
    EXPECT_EQ(fi.l4_proto, spec::kProtoIcmp);
    EXPECT_EQ(fi.icmp_type, spec::kIcmpDestUnreach);
    EXPECT_EQ(out[fi.l4_off + 1], spec::kIcmpCodeFragNeeded);
    EXPECT_EQ(load_be16(out.data() + fi.l4_off + 6), 1420);          // next-hop MTU
    EXPECT_EQ(ones_sum(out.data() + fi.l4_off, fi.l4_len), 0xFFFF);  // ICMP checksum
    EXPECT_EQ(fi.src_addr(), gw);
    EXPECT_EQ(fi.dst_addr(), ip("192.0.2.5"));
    EXPECT_EQ(MacAddr::from(out.data()), kMacB);  // back to the sender's MAC
    EXPECT_EQ(std::memcmp(out.data() + fi.l4_off + 8, f.data() + 14, quote), 0);
  }
}

TEST(IcmpError, PacketTooBigQuotesUpTo1280) {
  const IpAddr gw = ip("2001:db8::1");
  for (std::size_t len : {48u, 600u, 1232u, 1233u, 1500u, 9000u}) {
    const auto f = big_v6_frame(len);
    const FrameInfo in = classify_frame(f.data(), f.size());
    ASSERT_TRUE(in.ok());
    std::vector<std::uint8_t> out(2000);
    const std::size_t n = build_icmp_error_frame(out.data(), out.size(), IcmpError::too_big,
                                                 f.data(), in, kMacA, gw, 1420);
    const std::size_t quote = std::min<std::size_t>(len, 1232);
    ASSERT_EQ(n, 14 + 48 + quote) << len;
    EXPECT_LE(n - 14, spec::kIpv6MinMtu);
    const FrameInfo fi = classify_frame(out.data(), n);
    ASSERT_TRUE(fi.ok());
    EXPECT_EQ(fi.l4_proto, spec::kProtoIcmpv6);
    EXPECT_EQ(fi.icmp_type, spec::kIcmp6PacketTooBig);
    EXPECT_EQ(load_be32(out.data() + fi.l4_off + 4), 1420u);
    EXPECT_TRUE(l4_checksum_ok(pseudo_header_sum_v6(fi.src, fi.dst, 58, fi.l4_len),
                               out.data() + fi.l4_off, fi.l4_len));
    EXPECT_EQ(fi.dst_addr(), ip("2001:db8::5"));
    EXPECT_EQ(std::memcmp(out.data() + fi.l4_off + 8, f.data() + 14, quote), 0);
  }
}

TEST(IcmpError, UnreachableCodes) {
  std::vector<std::uint8_t> out(2000);
  const auto f4 = big_v4_frame(100);
  std::size_t n =
      build_icmp_error_frame(out.data(), out.size(), IcmpError::unreachable, f4.data(),
                             classify_frame(f4.data(), f4.size()), kMacA, ip("192.0.2.1"), 0);
  ASSERT_GT(n, 0u);
  EXPECT_EQ(out[34], spec::kIcmpDestUnreach);
  EXPECT_EQ(out[35], spec::kIcmpCodeHostUnreach);
  const auto f6 = big_v6_frame(100);
  n = build_icmp_error_frame(out.data(), out.size(), IcmpError::unreachable, f6.data(),
                             classify_frame(f6.data(), f6.size()), kMacA, ip("2001:db8::1"), 0);
  ASSERT_GT(n, 0u);
  EXPECT_EQ(out[54], spec::kIcmp6DestUnreach);
  EXPECT_EQ(out[55], spec::kIcmp6CodeAddrUnreach);
}

TEST(IcmpError, InPlaceEqualsSeparateBuffer) {
  for (const bool v6 : {false, true}) {
    auto f = v6 ? big_v6_frame(1500) : big_v4_frame(1500);
    const IpAddr gw = v6 ? ip("2001:db8::1") : ip("192.0.2.1");
    const FrameInfo in = classify_frame(f.data(), f.size());
    std::vector<std::uint8_t> out(2000);
    const std::size_t n = build_icmp_error_frame(out.data(), out.size(), IcmpError::too_big,
                                                 f.data(), in, kMacA, gw, 1280);
    f.resize(2000);
    const std::size_t m = build_icmp_error_frame(f.data(), f.size(), IcmpError::too_big, f.data(),
                                                 in, kMacA, gw, 1280);
    ASSERT_EQ(n, m);
    EXPECT_EQ(std::memcmp(out.data(), f.data(), n), 0) << "v6 " << v6;
  }
}

TEST(IcmpError, NeverAbout) {
  std::vector<std::uint8_t> out(2000);
  auto try_build = [&](const std::vector<std::uint8_t>& f, IcmpError k, const IpAddr& gw) {
    const FrameInfo fi = classify_frame(f.data(), f.size());
    return build_icmp_error_frame(out.data(), out.size(), k, f.data(), fi, kMacA, gw, 1280);
  };
  const IpAddr gw4 = ip("192.0.2.1"), gw6 = ip("2001:db8::1");
  // An ICMP error about an ICMP error.
  const auto f4 = big_v4_frame(1000);
  std::vector<std::uint8_t> err(f4.size());
  const FrameInfo in4 = classify_frame(f4.data(), f4.size());
  const std::size_t n = build_icmp_error_frame(err.data(), err.size(), IcmpError::too_big,
                                               f4.data(), in4, kMacA, gw4, 1280);
  err.resize(n);
  EXPECT_EQ(try_build(err, IcmpError::unreachable, gw4), 0u);
  // ... but an echo request gets one.
  EXPECT_GT(try_build(test::hex_frame(test::frames::kIpv4Icmp), IcmpError::unreachable, gw4), 0u);
  // Multicast / broadcast destination, unspecified source, non-first fragment, wrong family.
  auto mc = big_v4_frame(200);
  store_be32(mc.data() + 30, 0xE0000001);
  store_be16(mc.data() + 24, ipv4_header_checksum(mc.data() + 14));
  EXPECT_EQ(try_build(mc, IcmpError::too_big, gw4), 0u);
  auto zero_src = big_v4_frame(200);
  store_be32(zero_src.data() + 26, 0);
  store_be16(zero_src.data() + 24, ipv4_header_checksum(zero_src.data() + 14));
  EXPECT_EQ(try_build(zero_src, IcmpError::too_big, gw4), 0u);
  auto frag = big_v4_frame(200);
  store_be16(frag.data() + 20, 0x0010);
  store_be16(frag.data() + 24, ipv4_header_checksum(frag.data() + 14));
  EXPECT_EQ(try_build(frag, IcmpError::too_big, gw4), 0u);
  EXPECT_EQ(try_build(big_v4_frame(200), IcmpError::too_big, gw6), 0u);
  auto bcast_src = big_v4_frame(200);
  bcast_src[6] = 0x01;  // a multicast source MAC
  EXPECT_EQ(try_build(bcast_src, IcmpError::too_big, gw4), 0u);
  // IPv6: multicast destination gets packet-too-big only (RFC 4443 2.4(e.3)).
  const auto mc6 = big_v6_frame(1400, "ff0e::1");
  EXPECT_GT(try_build(mc6, IcmpError::too_big, gw6), 0u);
  EXPECT_EQ(try_build(mc6, IcmpError::unreachable, gw6), 0u);
  // Too small an output buffer.
  const auto f = big_v4_frame(100);
  EXPECT_EQ(build_icmp_error_frame(out.data(), 100, IcmpError::too_big, f.data(),
                                   classify_frame(f.data(), f.size()), kMacA, gw4, 1280),
            0u);
}

}  // namespace
}  // namespace meshgate::wire
