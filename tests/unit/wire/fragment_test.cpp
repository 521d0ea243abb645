// IPv4 fragmentation: every fragment within the MTU, offsets in 8-byte units, MF, options by
// their copy flag, and the pieces reassembled by a plain reference (packets.hpp) give back the
// packet; header checksums verified by a full reference sum.
#include "meshgate/wire/fragment.hpp"

#include <gtest/gtest.h>

#include "meshgate/wire/headers.hpp"
#include "packets.hpp"

namespace meshgate::wire {
namespace {

using test::reference_reassemble;
using test::reference_sum;

std::vector<std::vector<std::uint8_t>> cut(const std::vector<std::uint8_t>& pkt, std::size_t mtu) {
  Ipv4Fragmenter f(pkt.data(), pkt.size(), mtu);
  EXPECT_TRUE(f.ok());
  std::vector<std::vector<std::uint8_t>> out;
  while (!f.done()) {
    std::vector<std::uint8_t> buf(mtu + 64, 0xEE);
    const std::size_t n = f.next(buf.data());
    EXPECT_LE(n, mtu);
    buf.resize(n);
    out.push_back(buf);
  }
  return out;
}

std::vector<std::uint8_t> udp(std::size_t ip_len) {
  return test::udp_packet(*IpAddr::parse("10.1.0.2"), *IpAddr::parse("10.2.0.2"), 4000, 5000,
                          test::pattern(ip_len - 28, 3));
}

TEST(Ipv4Fragmenter, CutsA1500BytePacketForA1420MtuAndTheReferenceReassemblesIt) {
  auto pkt = udp(1500);
  store_be16(pkt.data() + 4, 0x1234);  // id
  store_be16(pkt.data() + 10, 0);
  store_be16(pkt.data() + 10, static_cast<std::uint16_t>(~reference_sum(pkt.data(), 20)));
  const auto frags = cut(pkt, 1420);
  ASSERT_EQ(frags.size(), 2u);
  EXPECT_EQ(frags[0].size(), 20u + 1400u);  // 1400: the largest multiple of 8 within 1420 - 20
  EXPECT_EQ(load_be16(frags[0].data() + 6), spec::kIpv4FlagMf);
  EXPECT_EQ(load_be16(frags[1].data() + 6), 1400 / 8);  // offset in 8-byte units, MF clear
  for (const auto& f : frags) EXPECT_EQ(load_be16(f.data() + 4), 0x1234);
  const auto whole = reference_reassemble(frags);
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(*whole, pkt);
  EXPECT_TRUE(test::reference_checksums_ok(*whole));  // the UDP checksum survived the trip
}

TEST(Ipv4Fragmenter, SmallMtuManyPiecesEachAMultipleOfEightButTheLast) {
  const auto pkt = udp(4000);
  const auto frags = cut(pkt, 576);
  ASSERT_EQ(frags.size(), 8u);  // 552 data bytes each: ceil(3980 / 552)
  for (std::size_t i = 0; i + 1 < frags.size(); ++i) {
    EXPECT_EQ((frags[i].size() - 20) % 8, 0u);
    EXPECT_NE(load_be16(frags[i].data() + 6) & spec::kIpv4FlagMf, 0);
  }
  EXPECT_EQ(reference_reassemble(frags), pkt);
}

TEST(Ipv4Fragmenter, AFragmentCutAgainKeepsItsOffsetAndMf) {
  auto pkt = udp(1500);
  for (const std::uint16_t orig : {std::uint16_t(0x2000 | 100), std::uint16_t(100)}) {
    store_be16(pkt.data() + 6, orig);  // offset 800 bytes, with and without MF
    store_be16(pkt.data() + 10, 0);
    store_be16(pkt.data() + 10, static_cast<std::uint16_t>(~reference_sum(pkt.data(), 20)));
    const auto frags = cut(pkt, 1420);
    ASSERT_EQ(frags.size(), 2u);
    EXPECT_EQ(load_be16(frags[0].data() + 6), 0x2000 | 100);
    EXPECT_EQ(load_be16(frags[1].data() + 6), (orig & 0x2000) | (100 + 1400 / 8));
    for (const auto& f : frags) EXPECT_EQ(reference_sum(f.data(), 20), 0xFFFF);
  }
}

TEST(Ipv4Fragmenter, LaterFragmentsCarryOnlyTheCopiedOptions) {
  // Options: record route (7, not copied, 7 bytes), NOP, loose source route (131, copied, 7
  // bytes), end of list: 16 bytes, IHL 9.
  const std::vector<std::uint8_t> opts = {7, 7, 4, 0, 0, 0, 0, 1, 131, 7, 4, 10, 2, 0, 2, 0};
  const auto plain = udp(1500);
  std::vector<std::uint8_t> pkt(plain.begin(), plain.begin() + 20);
  pkt.insert(pkt.end(), opts.begin(), opts.end());
  pkt.insert(pkt.end(), plain.begin() + 20, plain.end());
  pkt[0] = 0x49;
  store_be16(pkt.data() + 2, static_cast<std::uint16_t>(pkt.size()));
  store_be16(pkt.data() + 10, 0);
  store_be16(pkt.data() + 10, static_cast<std::uint16_t>(~reference_sum(pkt.data(), 36)));
  const auto frags = cut(pkt, 1420);
  ASSERT_EQ(frags.size(), 2u);
  EXPECT_EQ(frags[0][0], 0x49);
  EXPECT_TRUE(std::equal(opts.begin(), opts.end(), frags[0].begin() + 20));
  EXPECT_EQ(frags[1][0], 0x47);  // 20 + 7 copied bytes + 1 byte of end-of-list padding
  const std::vector<std::uint8_t> copied = {131, 7, 4, 10, 2, 0, 2, 0};
  EXPECT_TRUE(std::equal(copied.begin(), copied.end(), frags[1].begin() + 20));
  EXPECT_EQ(reference_reassemble(frags), pkt);
}

TEST(Ipv4Fragmenter, MalformedOptionsGiveNoFragments) {
  const auto plain = udp(1500);
  std::vector<std::uint8_t> pkt(plain.begin(), plain.begin() + 20);
  const std::vector<std::uint8_t> bad = {131, 9, 4, 0};  // runs past the 4 option bytes
  pkt.insert(pkt.end(), bad.begin(), bad.end());
  pkt.insert(pkt.end(), plain.begin() + 20, plain.end());
  pkt[0] = 0x46;
  Ipv4Fragmenter f(pkt.data(), pkt.size(), 1420);
  EXPECT_FALSE(f.ok());
  EXPECT_TRUE(f.done());
}

}  // namespace
}  // namespace meshgate::wire
