// Frame classification: valid ARP / IPv4 / IPv6 / UDP / NDP reference frames, each malformed
// case with its drop reason, and every truncation length of every valid frame.
#include "meshgate/wire/classify.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "hex_frame.hpp"
#include "packet_samples.hpp"

namespace meshgate::wire {
namespace {

using Frame = std::vector<std::uint8_t>;
Frame frame(const char* hex) {
  return test::hex_frame(hex);
}
FrameInfo classify(const Frame& f, const ClassifyOptions& o = {}) {
  return classify_frame(f.data(), f.size(), o);
}
// Recomputes the IPv4 header checksum after a test edited the header.
void fix_ipv4(Frame& f) {
  store_be16(f.data() + 24, ipv4_header_checksum(f.data() + 14));
}

TEST(Classify, Ipv4Udp) {
  const Frame f = frame(test::frames::kIpv4Udp);
  const FrameInfo fi = classify(f, {.verify_ipv4_checksum = true, .verify_udp_checksum = true});
  ASSERT_TRUE(fi.ok()) << drop_reason_name(fi.drop);
  EXPECT_EQ(fi.kind, FrameKind::ipv4);
  EXPECT_EQ(fi.l3_off, 14);
  EXPECT_EQ(fi.l3_len, 60);
  EXPECT_EQ(fi.l4_off, 34);
  EXPECT_EQ(fi.l4_proto, spec::kProtoUdp);
  EXPECT_FALSE(fi.fragment);
  EXPECT_EQ(fi.src_port, 51820);
  EXPECT_EQ(fi.dst_port, 51821);
  EXPECT_EQ(fi.payload_off, 42);
  EXPECT_EQ(fi.payload_len, 32);
  EXPECT_EQ(f[fi.payload_off], 4);  // WireGuard type 4
  EXPECT_EQ(fi.src_addr(), *IpAddr::parse("192.0.2.1"));
  EXPECT_EQ(fi.dst_addr(), *IpAddr::parse("198.51.100.2"));
}

TEST(Classify, Ipv4WithEthernetPaddingUsesTotalLength) {
  Frame f = frame(test::frames::kIpv4Icmp);
  f.resize(60, 0);  // a short frame padded to the Ethernet minimum
  const FrameInfo fi = classify(f);
  ASSERT_TRUE(fi.ok());
  EXPECT_EQ(fi.l3_len, 44);
  EXPECT_EQ(fi.l4_len, 24);
  EXPECT_EQ(fi.l4_proto, spec::kProtoIcmp);
  EXPECT_EQ(fi.icmp_type, spec::kIcmpEchoRequest);
}

TEST(Classify, Ipv6Udp) {
  for (const char* hex : {test::frames::kIpv6Udp, test::frames::kIpv6HbhUdp}) {
    const Frame f = frame(hex);
    const FrameInfo fi = classify(f, {.verify_udp_checksum = true});
    ASSERT_TRUE(fi.ok()) << drop_reason_name(fi.drop);
    EXPECT_EQ(fi.kind, FrameKind::ipv6);
    EXPECT_EQ(fi.l4_proto, spec::kProtoUdp);
    EXPECT_EQ(fi.src_port, 1234);
    EXPECT_EQ(fi.dst_port, 51820);
    EXPECT_EQ(fi.payload_len, 5);
    EXPECT_EQ(std::memcmp(f.data() + fi.payload_off, "hello", 5), 0);
    EXPECT_EQ(fi.payload_off + fi.payload_len, f.size());
    EXPECT_EQ(fi.src_addr(), *IpAddr::parse("2001:db8::1"));
  }
}

TEST(Classify, Ipv6FragmentIsFlagged) {
  const FrameInfo fi = classify(frame(test::frames::kIpv6Frag));
  ASSERT_TRUE(fi.ok());
  EXPECT_TRUE(fi.fragment);
  EXPECT_EQ(fi.l4_proto, spec::kProtoUdp);
  EXPECT_EQ(fi.payload_len, 0);  // L4 is not parsed in a fragment
}

TEST(Classify, Ipv4FragmentsAreFlagged) {
  for (std::uint16_t frag : {std::uint16_t{spec::kIpv4FlagMf}, std::uint16_t{0x00B9}}) {
    Frame f = frame(test::frames::kIpv4Udp);
    store_be16(f.data() + 20, frag);
    fix_ipv4(f);
    const FrameInfo fi = classify(f);
    ASSERT_TRUE(fi.ok());
    EXPECT_TRUE(fi.fragment);
    EXPECT_EQ(fi.src_port, 0);
  }
  Frame df = frame(test::frames::kIpv4Udp);
  store_be16(df.data() + 20, spec::kIpv4FlagDf);
  fix_ipv4(df);
  EXPECT_FALSE(classify(df).fragment);
}

TEST(Classify, NeighbourSolicitation) {
  const Frame f = frame(test::frames::kNdpNs);
  const FrameInfo fi = classify(f);
  ASSERT_TRUE(fi.ok());
  EXPECT_EQ(fi.kind, FrameKind::ndp);
  EXPECT_EQ(fi.icmp_type, spec::kNdpNeighbourSolicit);
  const auto m = parse_ndp(f.data(), fi);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->target, *IpAddr::parse("fe80::2"));
  EXPECT_EQ(m->src, *IpAddr::parse("fe80::1"));
  ASSERT_TRUE(m->lla);
  EXPECT_EQ(m->lla->str(), "02:00:00:00:00:01");

  Frame bad = f;
  bad[bad.size() - 1] ^= 1;  // checksum no longer matches
  EXPECT_FALSE(parse_ndp(bad.data(), classify(bad)));
  Frame zero_opt = f;
  zero_opt[14 + 40 + 24 + 1] = 0;  // option length 0 (RFC 4861: discard)
  EXPECT_FALSE(parse_ndp(zero_opt.data(), classify(zero_opt)));
}

TEST(Classify, Arp) {
  const Frame f = frame(test::frames::kArpRequest);
  const FrameInfo fi = classify(f);
  ASSERT_TRUE(fi.ok());
  EXPECT_EQ(fi.kind, FrameKind::arp);
  EXPECT_EQ(fi.src_addr(), *IpAddr::parse("10.0.0.1"));
  EXPECT_EQ(fi.dst_addr(), *IpAddr::parse("10.0.0.2"));
  const ArpMessage m = parse_arp(f.data(), fi);
  EXPECT_EQ(m.op, spec::kArpOpRequest);
  EXPECT_EQ(m.sha.str(), "02:00:00:00:00:01");
  EXPECT_EQ(m.tpa, *IpAddr::parse("10.0.0.2"));
}

struct Malformed {
  const char* what = nullptr;
  const char* base = nullptr;
  void (*edit)(Frame&) = nullptr;
  DropReason want = DropReason::none;
  ClassifyOptions opt{};
};

const Malformed kMalformed[] = {
    {"vlan tag",
     test::frames::kIpv4Udp,
     [](Frame& f) { store_be16(f.data() + 12, 0x8100); },
     DropReason::bad_ethertype,
     {}},
    {"arp hlen",
     test::frames::kArpRequest,
     [](Frame& f) { f[18] = 8; },
     DropReason::arp_bad_header,
     {}},
    {"ipv4 version 5",
     test::frames::kIpv4Udp,
     [](Frame& f) {
       f[14] = 0x55;
       fix_ipv4(f);
     },
     DropReason::ipv4_bad_header,
     {}},
    {"ipv4 ihl 4",
     test::frames::kIpv4Udp,
     [](Frame& f) { f[14] = 0x44; },
     DropReason::ipv4_bad_header,
     {}},
    {"ipv4 total > frame",
     test::frames::kIpv4Udp,
     [](Frame& f) {
       store_be16(f.data() + 16, 61);
       fix_ipv4(f);
     },
     DropReason::ipv4_bad_length,
     {}},
    {"ipv4 total < ihl",
     test::frames::kIpv4Udp,
     [](Frame& f) {
       store_be16(f.data() + 16, 19);
       fix_ipv4(f);
     },
     DropReason::ipv4_bad_length,
     {}},
    {"ipv4 checksum",
     test::frames::kIpv4Udp,
     [](Frame& f) { f[22] ^= 1; },
     DropReason::ipv4_bad_checksum,
     {}},
    {"ipv6 version 4",
     test::frames::kIpv6Udp,
     [](Frame& f) { f[14] = 0x40; },
     DropReason::ipv6_bad_header,
     {}},
    {"ipv6 payload > frame",
     test::frames::kIpv6Udp,
     [](Frame& f) { store_be16(f.data() + 18, 14); },
     DropReason::ipv6_bad_length,
     {}},
    {"ipv6 ext chain overruns",
     test::frames::kIpv6HbhUdp,
     [](Frame& f) { f[55] = 3; },
     DropReason::ipv6_bad_ext_header,
     {}},
    {"ipv6 ext chain garbage",
     test::frames::kIpv6HbhUdp,
     [](Frame& f) { f[54] = 0; },  // a second hop-by-hop: the UDP bytes give it length 0xd2
     DropReason::ipv6_bad_ext_header,
     {}},
    {"udp length < 8",
     test::frames::kIpv4Udp,
     [](Frame& f) { store_be16(f.data() + 38, 7); },
     DropReason::udp_bad_length,
     {}},
    {"udp length > ip payload",
     test::frames::kIpv4Udp,
     [](Frame& f) { store_be16(f.data() + 38, 41); },
     DropReason::udp_bad_length,
     {}},
    {"udp checksum",
     test::frames::kIpv4Udp,
     [](Frame& f) { f[50] ^= 1; },
     DropReason::udp_bad_checksum,
     {.verify_udp_checksum = true}},
    {"udp zero checksum over ipv6",
     test::frames::kIpv6Udp,
     [](Frame& f) { store_be16(f.data() + 60, 0); },
     DropReason::udp_bad_checksum,
     {.verify_udp_checksum = true}},
    {"udp truncated",
     test::frames::kIpv4Udp,
     [](Frame& f) {
       store_be16(f.data() + 16, 24);
       fix_ipv4(f);
     },
     DropReason::udp_truncated,
     {}},
    {"icmp truncated",
     test::frames::kIpv4Icmp,
     [](Frame& f) {
       store_be16(f.data() + 16, 27);
       fix_ipv4(f);
     },
     DropReason::icmp_truncated,
     {}},
    {"ndp hop limit",
     test::frames::kNdpNs,
     [](Frame& f) { f[21] = 64; },
     DropReason::ndp_bad_hop_limit,
     {}},
};

TEST(Classify, MalformedFramesNameTheirReason) {
  for (const Malformed& m : kMalformed) {
    Frame f = frame(m.base);
    m.edit(f);
    const FrameInfo fi = classify(f, m.opt);
    EXPECT_EQ(fi.drop, m.want) << m.what << ": got " << drop_reason_name(fi.drop);
  }
  // UDP checksum 0 over IPv4 means "none" and passes verification.
  Frame f = frame(test::frames::kIpv4Udp);
  store_be16(f.data() + 40, 0);
  EXPECT_TRUE(classify(f, {.verify_udp_checksum = true}).ok());
}

TEST(Classify, Ipv6ExtensionChainIsBounded) {
  // Nine 8-byte destination-options headers before UDP: one more than the walker accepts.
  const Frame base = frame(test::frames::kIpv6Udp);
  Frame f(base.begin(), base.begin() + 54);
  for (int i = 0; i < 9; ++i) {
    const std::uint8_t next = i == 8 ? spec::kProtoUdp : spec::kProtoDestOpts;
    f.insert(f.end(), {next, 0, 1, 4, 0, 0, 0, 0});
  }
  f[20] = spec::kProtoDestOpts;
  f.insert(f.end(), base.begin() + 54, base.end());
  store_be16(f.data() + 18, static_cast<std::uint16_t>(f.size() - 54));
  EXPECT_EQ(classify(f).drop, DropReason::ipv6_bad_ext_header);
  f.erase(f.begin() + 54, f.begin() + 62);  // eight: accepted
  store_be16(f.data() + 18, static_cast<std::uint16_t>(f.size() - 54));
  const FrameInfo fi = classify(f);
  ASSERT_TRUE(fi.ok()) << drop_reason_name(fi.drop);
  EXPECT_EQ(fi.l4_off, 54 + 64);
  EXPECT_EQ(fi.dst_port, 51820);
}

TEST(Classify, EveryTruncationIsDropped) {
  for (const char* hex : {test::frames::kIpv4Udp, test::frames::kIpv6Udp, test::frames::kIpv6HbhUdp,
                          test::frames::kIpv6Frag, test::frames::kNdpNs, test::frames::kIpv4Icmp,
                          test::frames::kArpRequest}) {
    const Frame full = frame(hex);
    ASSERT_TRUE(classify(full).ok());
    for (std::size_t len = 0; len < full.size(); ++len) {
      // A heap copy of exactly len bytes: ASan reports any read beyond it.
      auto* p = new std::uint8_t[len == 0 ? 1 : len];
      std::memcpy(p, full.data(), len);
      const FrameInfo fi = classify_frame(p, len);
      EXPECT_FALSE(fi.ok()) << "len " << len << " of " << full.size();
      if (len > 14) {
        EXPECT_EQ(inner_packet_length(p + 14, len - 14), 0u) << "len " << len;
      }
      delete[] p;
    }
  }
}

TEST(Classify, DropReasonNames) {
  EXPECT_STREQ(drop_reason_name(DropReason::none), "none");
  EXPECT_STREQ(drop_reason_name(DropReason::ipv4_bad_checksum), "ipv4_bad_checksum");
  EXPECT_STREQ(drop_reason_description(DropReason::frame_too_short),
               "frame shorter than an Ethernet header");
  for (std::size_t i = 0; i <= kDropReasonCount; ++i) {
    EXPECT_NE(drop_reason_name(static_cast<DropReason>(i)), nullptr);
  }
}

TEST(InnerPacketLength, StripsPadding) {
  Frame v4 = frame(test::frames::kIpv4Icmp);
  std::vector<std::uint8_t> pt(v4.begin() + 14, v4.end());
  pt.resize(48, 0);  // WireGuard pads to 16
  EXPECT_EQ(inner_packet_length(pt.data(), pt.size()), 44u);
  Frame v6 = frame(test::frames::kIpv6Udp);
  std::vector<std::uint8_t> pt6(v6.begin() + 14, v6.end());
  pt6.resize(64, 0);
  EXPECT_EQ(inner_packet_length(pt6.data(), pt6.size()), 53u);
  EXPECT_EQ(inner_packet_length(pt6.data(), 52), 0u);  // claims more than there is
  const std::uint8_t junk[20] = {0x55};
  EXPECT_EQ(inner_packet_length(junk, sizeof junk), 0u);
  EXPECT_EQ(inner_packet_length(junk, 0), 0u);
  pt[0] = 0x44;  // IHL 4
  EXPECT_EQ(inner_packet_length(pt.data(), pt.size()), 0u);
}

TEST(ClassifyIp, InnerPackets) {
  Frame v4 = frame(test::frames::kIpv4Udp);
  const FrameInfo fi = classify_ip(v4.data() + 14, v4.size() - 14);
  ASSERT_TRUE(fi.ok());
  EXPECT_EQ(fi.l3_off, 0);
  EXPECT_EQ(fi.l4_off, 20);
  EXPECT_EQ(fi.dst_port, 51821);
  const std::uint8_t junk[1] = {0x20};
  EXPECT_EQ(classify_ip(junk, 1).drop, DropReason::bad_ethertype);
}

}  // namespace
}  // namespace meshgate::wire
