// A forwarding hop's rewrites: TTL / hop limit, TCP MSS clamping (SYN and SYN-ACK, IPv4 and
// IPv6, an MSS option at an odd offset), ECN on encapsulation and decapsulation (RFC 6040).
// Every checksum the incremental updates leave is verified by a full reference sum.
#include "meshgate/wire/rewrite.hpp"

#include <gtest/gtest.h>

#include "packets.hpp"

namespace meshgate::wire {
namespace {

using test::reference_checksums_ok;

const IpAddr kA4 = *IpAddr::parse("10.1.0.2");
const IpAddr kB4 = *IpAddr::parse("10.2.0.2");
const IpAddr kA6 = *IpAddr::parse("fd01::2");
const IpAddr kB6 = *IpAddr::parse("fd02::2");
constexpr MssLimit kLimit = mss_limit_for_mtu(1380);

const std::vector<std::uint8_t> kMss1460 = {2, 4, 0x05, 0xB4, 1, 1, 4, 2};  // MSS, NOP, NOP, SACK
std::uint16_t mss_at(const std::vector<std::uint8_t>& p, std::size_t off) {
  return load_be16(p.data() + off);
}

TEST(MssLimit, IsTheMtuLessTheHeaders) {
  EXPECT_EQ(kLimit.v4, 1340);
  EXPECT_EQ(kLimit.v6, 1320);
}

TEST(ForwardIp, SynAndSynAckGetTheirMssLoweredWithRightChecksums) {
  for (const std::uint8_t flags : {std::uint8_t{0x02}, std::uint8_t{0x12}}) {
    auto v4 = test::tcp_packet(kA4, kB4, flags, kMss1460);
    ASSERT_EQ(forward_ip(v4.data(), v4.size(), kEcnNotEct, kLimit), Forward::ok);
    EXPECT_EQ(mss_at(v4, 20 + 22), 1340);
    EXPECT_TRUE(reference_checksums_ok(v4));
    auto v6 = test::tcp_packet(kA6, kB6, flags, kMss1460);
    ASSERT_EQ(forward_ip(v6.data(), v6.size(), kEcnNotEct, kLimit), Forward::ok);
    EXPECT_EQ(mss_at(v6, 40 + 22), 1320);
    EXPECT_TRUE(reference_checksums_ok(v6));
  }
}

TEST(ForwardIp, MssIsNeverRaisedAndOnlySynsAreTouched) {
  const std::vector<std::uint8_t> small = {2, 4, 0x04, 0xB0, 1, 1, 1, 0};  // MSS 1200
  auto syn = test::tcp_packet(kA4, kB4, 0x02, small);
  forward_ip(syn.data(), syn.size(), kEcnNotEct, kLimit);
  EXPECT_EQ(mss_at(syn, 20 + 22), 1200);
  auto ack = test::tcp_packet(kA4, kB4, 0x10, kMss1460);  // an MSS option without SYN: left
  forward_ip(ack.data(), ack.size(), kEcnNotEct, kLimit);
  EXPECT_EQ(mss_at(ack, 20 + 22), 1460);
  auto off = test::tcp_packet(kA4, kB4, 0x02, kMss1460);  // clamping off
  forward_ip(off.data(), off.size(), kEcnNotEct, MssLimit{});
  EXPECT_EQ(mss_at(off, 20 + 22), 1460);
  for (auto* p : {&syn, &ack, &off}) EXPECT_TRUE(reference_checksums_ok(*p));
}

TEST(ClampTcpMss, AnOptionAtAnOddOffsetKeepsTheChecksumRight) {
  // NOP first: the MSS value straddles two 16-bit words of the checksum.
  auto p = test::tcp_packet(kA4, kB4, 0x02, {1, 2, 4, 0x23, 0x45, 1, 1, 0});
  EXPECT_TRUE(clamp_tcp_mss(p.data() + 20, p.size() - 20, 1000));
  EXPECT_EQ(mss_at(p, 20 + 23), 1000);
  EXPECT_TRUE(reference_checksums_ok(p));
}

TEST(ClampTcpMss, MalformedOptionsAreLeftAlone) {
  for (const auto& opts : {std::vector<std::uint8_t>{8, 0, 2, 4, 0x05, 0xB4, 0, 0},     // length 0
                           std::vector<std::uint8_t>{8, 12, 2, 4, 0x05, 0xB4, 0, 0},    // past end
                           std::vector<std::uint8_t>{0, 0, 2, 4, 0x05, 0xB4, 0, 0}}) {  // EOL first
    auto p = test::tcp_packet(kA4, kB4, 0x02, opts);
    const auto before = p;
    EXPECT_FALSE(clamp_tcp_mss(p.data() + 20, p.size() - 20, 1000));
    EXPECT_EQ(p, before);
  }
  auto p = test::tcp_packet(kA4, kB4, 0x02, kMss1460);
  p[20 + 12] = 0xF0;  // data offset 60 bytes: beyond the segment
  EXPECT_FALSE(clamp_tcp_mss(p.data() + 20, p.size() - 20, 1000));
}

TEST(ForwardIp, TtlAndHopLimitGoDownByOneAndExpireAtOne) {
  auto v4 = test::udp_packet(kA4, kB4, 1, 2, test::pattern(100, 1));
  ASSERT_EQ(forward_ip(v4.data(), v4.size(), kEcnNotEct, kLimit), Forward::ok);
  EXPECT_EQ(v4[8], 63);
  EXPECT_TRUE(reference_checksums_ok(v4));
  auto v6 = test::udp_packet(kA6, kB6, 1, 2, test::pattern(100, 1));
  ASSERT_EQ(forward_ip(v6.data(), v6.size(), kEcnNotEct, kLimit), Forward::ok);
  EXPECT_EQ(v6[7], 63);
  for (const std::uint8_t ttl : {std::uint8_t{0}, std::uint8_t{1}}) {
    auto p4 = test::udp_packet(kA4, kB4, 1, 2, test::pattern(100, 1));
    p4[8] = ttl;  // (checksum now off: forward_ip must not care, it leaves the packet alone)
    const auto before4 = p4;
    EXPECT_EQ(forward_ip(p4.data(), p4.size(), kEcnNotEct, kLimit), Forward::ttl_expired);
    EXPECT_EQ(p4, before4);
    auto p6 = test::udp_packet(kA6, kB6, 1, 2, test::pattern(100, 1));
    p6[7] = ttl;
    EXPECT_EQ(forward_ip(p6.data(), p6.size(), kEcnNotEct, kLimit), Forward::ttl_expired);
  }
}

TEST(Ecn, EncapsulationCopiesTheInnerFieldButCeBecomesEct0) {
  EXPECT_EQ(ecn_encapsulate(kEcnNotEct), kEcnNotEct);
  EXPECT_EQ(ecn_encapsulate(kEcnEct0), kEcnEct0);
  EXPECT_EQ(ecn_encapsulate(kEcnEct1), kEcnEct1);
  EXPECT_EQ(ecn_encapsulate(kEcnCe), kEcnEct0);
  auto v4 = test::udp_packet(kA4, kB4, 1, 2, {});
  v4[1] = 0xB9;  // DSCP 46, ECT(1)
  EXPECT_EQ(ecn_of(v4.data()), kEcnEct1);
  auto v6 = test::udp_packet(kA6, kB6, 1, 2, {});
  v6[0] = 0x6B;  // traffic class 0xB8 | CE: 1011 1011
  v6[1] = 0xB0;
  EXPECT_EQ(ecn_of(v6.data()), kEcnCe);
}

// Set the ECN field of a test packet (and fix the IPv4 checksum).
void set_ecn(std::vector<std::uint8_t>& p, std::uint8_t ecn) {
  if ((p[0] >> 4) == 6) {
    p[1] = static_cast<std::uint8_t>((p[1] & 0xCF) | (ecn << 4));
    return;
  }
  p[1] = static_cast<std::uint8_t>(0xB8 | ecn);  // with a DSCP, which must survive
  store_be16(p.data() + 10, 0);
  store_be16(p.data() + 10, static_cast<std::uint16_t>(~test::reference_sum(p.data(), 20)));
}

TEST(Ecn, DecapsulationFollowsRfc6040) {
  // [outer][inner] -> inner after; 0xFF: dropped.
  const std::uint8_t want[4][4] = {{0, 1, 2, 3}, {0, 1, 1, 3}, {0, 1, 2, 3}, {0xFF, 3, 3, 3}};
  for (const IpAddr* src : {&kA4, &kA6}) {
    for (std::uint8_t outer = 0; outer < 4; ++outer) {
      for (std::uint8_t inner = 0; inner < 4; ++inner) {
        auto p = test::udp_packet(*src, src->is_v6() ? kB6 : kB4, 1, 2, test::pattern(30, 2));
        set_ecn(p, inner);
        const Forward f = forward_ip(p.data(), p.size(), outer, kLimit);
        const std::string where = std::to_string(outer) + "/" + std::to_string(inner);
        if (want[outer][inner] == 0xFF) {
          EXPECT_EQ(f, Forward::ecn_ce_not_ect) << where;
          continue;
        }
        ASSERT_EQ(f, Forward::ok) << where;
        EXPECT_EQ(ecn_of(p.data()), want[outer][inner]) << where;
        EXPECT_TRUE(reference_checksums_ok(p)) << where;
        if (!src->is_v6()) {
          EXPECT_EQ(p[1] & 0xFC, 0xB8) << where;  // DSCP untouched
        }
      }
    }
  }
}

}  // namespace
}  // namespace meshgate::wire
