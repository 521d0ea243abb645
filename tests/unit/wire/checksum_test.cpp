// Internet checksum: known values (RFC 1071, a textbook IPv4 header, reference frames) and a
// naive byte-wise reference over random buffers of every length 0..2000 at every alignment.
#include "meshgate/wire/checksum.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "hex_frame.hpp"
#include "meshgate/wire/headers.hpp"
#include "packet_samples.hpp"

namespace meshgate::wire {
namespace {

// The obvious implementation: 16-bit big-endian words, 32-bit accumulator, fold at the end.
std::uint16_t naive_sum(const std::uint8_t* p, std::size_t len, std::uint32_t seed = 0) {
  std::uint64_t s = seed;
  for (std::size_t i = 0; i + 1 < len; i += 2) s += (std::uint32_t{p[i]} << 8) | p[i + 1];
  if (len % 2 != 0) s += std::uint32_t{p[len - 1]} << 8;
  while (s >> 16) s = (s & 0xFFFF) + (s >> 16);
  return static_cast<std::uint16_t>(s);
}

TEST(Checksum, Rfc1071Example) {
  // RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2.
  const std::uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(ones_sum(b, sizeof b), 0xddf2);
  EXPECT_EQ(internet_checksum(b, sizeof b), static_cast<std::uint16_t>(~0xddf2));
}

TEST(Checksum, KnownIpv4Header) {
  // The widely reproduced example header (192.168.0.1 -> 192.168.0.199, checksum b861).
  auto h = test::hex_frame("45000073000040004011b861c0a80001c0a800c7");
  EXPECT_TRUE(ipv4_header_checksum_ok(h.data(), 20));
  EXPECT_EQ(ipv4_header_checksum(h.data()), 0xb861);
  h[10] = 0x12;  // the stored value is ignored when computing
  EXPECT_EQ(ipv4_header_checksum(h.data()), 0xb861);
  EXPECT_FALSE(ipv4_header_checksum_ok(h.data(), 20));
}

TEST(Checksum, ReferenceFramesVerify) {
  const auto f4 = test::hex_frame(test::frames::kIpv4Udp);
  EXPECT_TRUE(ipv4_header_checksum_ok(f4.data() + 14, 20));
  const std::uint8_t* ip = f4.data() + 14;
  const std::size_t ulen = f4.size() - 34;
  EXPECT_TRUE(l4_checksum_ok(pseudo_header_sum_v4(ip + 12, ip + 16, 17, ulen), ip + 20, ulen));
  std::vector<std::uint8_t> seg(ip + 20, ip + 20 + ulen);
  const std::uint16_t stored = load_be16(seg.data() + 6);
  seg[6] = seg[7] = 0;
  EXPECT_EQ(udp_checksum_v4(ip + 12, ip + 16, seg.data(), seg.size()), stored);

  const auto f6 = test::hex_frame(test::frames::kIpv6Udp);
  const std::uint8_t* ip6 = f6.data() + 14;
  std::vector<std::uint8_t> seg6(ip6 + 40, f6.data() + f6.size());
  const std::uint16_t stored6 = load_be16(seg6.data() + 6);
  seg6[6] = seg6[7] = 0;
  EXPECT_EQ(udp_checksum_v6(ip6 + 8, ip6 + 24, seg6.data(), seg6.size()), stored6);

  const auto ns = test::hex_frame(test::frames::kNdpNs);
  const std::uint8_t* nip = ns.data() + 14;
  std::vector<std::uint8_t> msg(nip + 40, ns.data() + ns.size());
  const std::uint16_t stored_ns = load_be16(msg.data() + 2);
  msg[2] = msg[3] = 0;
  EXPECT_EQ(icmp6_checksum(nip + 8, nip + 24, msg.data(), msg.size()), stored_ns);
}

TEST(Checksum, MatchesNaiveEveryLengthAndAlignment) {
  std::mt19937 rng(1071);
  std::vector<std::uint8_t> buf(2000 + 16);
  for (auto& b : buf) b = static_cast<std::uint8_t>(rng());
  for (std::size_t len = 0; len <= 2000; ++len) {
    for (std::size_t align = 0; align < 8; ++align) {
      // An exact-size copy, so ASan catches any read past the end.
      std::vector<std::uint8_t> v(buf.begin() + static_cast<std::ptrdiff_t>(align),
                                  buf.begin() + static_cast<std::ptrdiff_t>(align + len));
      const std::uint8_t* p = v.data();
      ASSERT_EQ(ones_sum(p, len), naive_sum(p, len)) << "len " << len;
      ASSERT_EQ(ones_sum(buf.data() + align, len), naive_sum(buf.data() + align, len))
          << "len " << len << " align " << align;
    }
  }
}

TEST(Checksum, AllOnesBuffersDoNotLoseCarries) {
  for (std::size_t len : {1u, 2u, 7u, 8u, 9u, 31u, 32u, 33u, 64u, 1420u, 65535u}) {
    std::vector<std::uint8_t> v(len, 0xFF);
    EXPECT_EQ(ones_sum(v.data(), len), naive_sum(v.data(), len)) << len;
    EXPECT_EQ(ones_sum(v.data(), len, 0xFFFFFFFF), naive_sum(v.data(), len, 0xFFFFFFFF)) << len;
  }
}

TEST(Checksum, SeedIsAddedInOnesComplement) {
  std::mt19937 rng(7);
  std::vector<std::uint8_t> v(301);
  for (auto& b : v) b = static_cast<std::uint8_t>(rng());
  for (int i = 0; i < 1000; ++i) {
    const std::uint32_t seed = static_cast<std::uint32_t>(rng());
    ASSERT_EQ(ones_sum(v.data(), v.size(), seed), naive_sum(v.data(), v.size(), seed));
  }
}

TEST(Checksum, PseudoHeadersMatchNaive) {
  std::mt19937 rng(768);
  for (int i = 0; i < 200; ++i) {
    std::uint8_t src[16], dst[16];
    for (auto& b : src) b = static_cast<std::uint8_t>(rng());
    for (auto& b : dst) b = static_cast<std::uint8_t>(rng());
    std::vector<std::uint8_t> seg(8 + rng() % 1500);
    for (auto& b : seg) b = static_cast<std::uint8_t>(rng());
    seg[6] = seg[7] = 0;
    // IPv4: src, dst, zero, protocol, length.
    std::vector<std::uint8_t> ph4(src, src + 4);
    ph4.insert(ph4.end(), dst, dst + 4);
    ph4.insert(ph4.end(), {0, 17, static_cast<std::uint8_t>(seg.size() >> 8),
                           static_cast<std::uint8_t>(seg.size())});
    ph4.insert(ph4.end(), seg.begin(), seg.end());
    std::uint16_t want4 = static_cast<std::uint16_t>(~naive_sum(ph4.data(), ph4.size()));
    if (want4 == 0) want4 = 0xFFFF;
    ASSERT_EQ(udp_checksum_v4(src, dst, seg.data(), seg.size()), want4);
    // IPv6: src, dst, 32-bit length, three zero bytes, next header.
    std::vector<std::uint8_t> ph6(src, src + 16);
    ph6.insert(ph6.end(), dst, dst + 16);
    ph6.insert(ph6.end(), {0, 0, static_cast<std::uint8_t>(seg.size() >> 8),
                           static_cast<std::uint8_t>(seg.size()), 0, 0, 0, 17});
    ph6.insert(ph6.end(), seg.begin(), seg.end());
    std::uint16_t want6 = static_cast<std::uint16_t>(~naive_sum(ph6.data(), ph6.size()));
    if (want6 == 0) want6 = 0xFFFF;
    ASSERT_EQ(udp_checksum_v6(src, dst, seg.data(), seg.size()), want6);
  }
}

TEST(Checksum, IncrementalUpdateMatchesRecompute) {
  std::mt19937 rng(1624);
  for (int i = 0; i < 10000; ++i) {
    std::uint8_t h[20];
    for (auto& b : h) b = static_cast<std::uint8_t>(rng());
    h[0] = 0x45;
    store_be16(h + 10, 0);
    store_be16(h + 10, internet_checksum(h, 20));
    // Change one 16-bit word (not the checksum itself) and a 32-bit address.
    const std::size_t w = (rng() % 8 + 1) * 2;  // word 0 holds the IHL: keep it
    const std::size_t word = w >= 10 ? w + 2 : w;
    const std::uint16_t old16 = load_be16(h + word);
    const auto new16 = static_cast<std::uint16_t>(rng());
    store_be16(h + word, new16);
    std::uint16_t c = checksum_update16(load_be16(h + 10), old16, new16);
    EXPECT_EQ(c, ipv4_header_checksum(h));
    store_be16(h + 10, c);
    const std::uint32_t old32 = load_be32(h + 16);
    const auto new32 = static_cast<std::uint32_t>(rng());
    store_be32(h + 16, new32);
    c = checksum_update32(c, old32, new32);
    ASSERT_EQ(c, ipv4_header_checksum(h));
    store_be16(h + 10, c);
    ASSERT_TRUE(ipv4_header_checksum_ok(h, 20));
  }
}

}  // namespace
}  // namespace meshgate::wire
