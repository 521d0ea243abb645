// Drop verdicts of the data path, as an operator reads them from the per-lcore counters.
//
// Two gateways over net_ring ports (ring_gateways.hpp) complete a handshake and carry traffic;
// then crafted variants of a WireGuard data frame that A really sent are fed into B's Internet
// port one at a time. Each must end in exactly one named drop counter (incremented by one), in
// the control thread's ring, or on B's LAN, byte for byte. A second test sends a seeded storm
// of malformed frames and checks that every one is accounted for and the tunnel still works.
#include <gtest/gtest.h>
#include <rte_config.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "drop_tunnel.hpp"

namespace meshgate::test::drops {
namespace {

// --- the table --------------------------------------------------------------------------------

struct Row {
  const char* name;
  std::function<void()> run;
};

/// A STUN Binding success response header with `attr_len` zero bytes of attributes.
Bytes stun_message(std::size_t attr_len) {
  Bytes b(20 + attr_len, 0);
  store_be16(b.data(), 0x0101);
  store_be16(b.data() + 2, static_cast<std::uint16_t>(attr_len));
  store_be32(b.data() + 4, 0x2112A442);
  for (std::size_t i = 8; i < 20; ++i) b[i] = static_cast<std::uint8_t>(i);
  return b;
}

/// TURN ChannelData: `claimed` in the length field, `carried` bytes after the header.
Bytes channel_data(std::uint16_t channel, std::uint16_t claimed, std::size_t carried) {
  Bytes b(4 + carried, 0xAB);
  store_be16(b.data(), channel);
  store_be16(b.data() + 2, claimed);
  return b;
}

class InboundVerdicts : public ::testing::TestWithParam<bool> {};

TEST_P(InboundVerdicts, EachCraftedPacketHasOneNamedVerdict) {
  const bool outer_v6 = GetParam();
  Tunnel t(outer_v6 ? "dv6" : "dv4", outer_v6);
  LanHost& a = t.host(0);
  LanHost& b = t.host(1);

  const Bytes inner = udp_packet(a.ip4, b.ip4, 4000, 5000, pattern(200, 7));
  const Bytes valid = t.capture(inner);
  ASSERT_FALSE(valid.empty());
  const Layout lay = layout_of(valid);
  ASSERT_EQ(lay.v6, outer_v6);
  const Bytes wg = payload_of(valid);
  const std::uint32_t receiver = load_le32(wg.data() + 4);
  const std::uint64_t counter = load_le64(wg.data() + 8);
  dataplane::Keypair& kp = t.keypair_of(valid);
  // Crafted messages use counters ahead of A's, inside the replay window, so A's own later
  // packets stay acceptable.
  std::uint64_t next_counter = counter + 100;
  auto crafted = [&](const Bytes& plain) {
    return with_payload(valid, seal_transport(kp.recv_key, receiver, next_counter++, plain));
  };
  auto flip = [&](std::size_t payload_byte, std::uint8_t mask) {
    Bytes f = valid;
    f[lay.payload + payload_byte] ^= mask;
    return f;
  };

  const std::vector<Row> rows = {
      {"valid data frame", [&] { expect_delivered(t.inject(valid), forwarded(inner, 2)); }},
      {"replay of the valid frame", [&] { expect_drop(t.inject(valid), Drop::wg_replay); }},
      {"frame too short",
       [&] {
         expect_drop(t.inject(Bytes(valid.begin(), valid.begin() + 10)),
                     DropReason::frame_too_short);
       }},
      {"bad ethertype",
       [&] {
         Bytes f = valid;
         store_be16(f.data() + 12, 0x88B5);
         expect_drop(t.inject(f), DropReason::bad_ethertype);
       }},
      {"IPv4 bad header checksum / IPv6 bad version",
       [&] {
         Bytes f = valid;
         if (outer_v6) {
           f[lay.l3] = 0x70;
           expect_drop(t.inject(f), DropReason::ipv6_bad_header);
         } else {
           f[lay.l3 + 10] ^= 0x01;
           expect_drop(t.inject(f), DropReason::ipv4_bad_checksum);
         }
       }},
      {"outer fragment reaching past 64 KiB",
       [&] {
         // Fragments are reassembled (reassembly_test.cpp); one that cannot belong to any
         // datagram is dropped at once. Offset 8191 * 8 and MF set, plus the whole message.
         Bytes f = valid;
         if (outer_v6) {  // a fragment header between IPv6 and UDP
           const std::uint8_t frag[8] = {f[lay.l3 + 6], 0, 0xFF, 0xF9, 0x12, 0x34, 0x56, 0x78};
           f.insert(f.begin() + static_cast<std::ptrdiff_t>(lay.l4), frag, frag + 8);
           f[lay.l3 + 6] = 44;
           store_be16(f.data() + lay.l3 + 4, static_cast<std::uint16_t>(f.size() - lay.l3 - 40));
         } else {  // checksum right
           store_be16(f.data() + lay.l3 + 6, wire::spec::kIpv4FlagMf | wire::spec::kIpv4OffsetMask);
           fix_ipv4_checksum(f, lay.l3);
         }
         expect_drop(t.inject(f), Drop::fragment_malformed);
       }},
      {"not addressed to B's outer address",
       [&] {
         Bytes f = valid;
         std::uint8_t* dst = f.data() + lay.l3 + (outer_v6 ? 39 : 19);  // last address byte
         *dst = 9;  // 198.51.100.9 / 2001:db8::9: on B's link, not B
         fix_lengths(f, lay);
         expect_drop(t.inject(f), Drop::not_for_us);
       }},
      {"unicast frame for another MAC, seen because the port is promiscuous",
       [&] {
         Bytes f = valid;
         f[5] ^= 0x40;  // destination MAC no longer B's; still unicast
         expect_drop(t.inject(f), Drop::other_mac);
       }},
      {"UDP to another port of B goes to the control thread",
       [&] {
         Bytes f = valid;
         store_be16(f.data() + lay.l4 + 2, 53);
         fix_lengths(f, lay);
         const Outcome o = t.inject(f);
         expect_to_control(o);
         EXPECT_EQ(o.control_drops, 0u);
       }},
      {"unknown WireGuard message type",
       [&] { expect_drop(t.inject(flip(0, 0x01)), Drop::wg_bad_type); }},
      {"type 4 with a non-zero reserved byte",
       [&] { expect_drop(t.inject(flip(1, 0x01)), Drop::wg_bad_type); }},
      {"STUN binding response goes to the control thread",
       [&] { expect_to_control(t.inject(with_payload(valid, stun_message(0)))); }},
      {"STUN header whose length field disagrees with the datagram",
       [&] {
         Bytes stun = stun_message(8);
         stun[3] = 12;  // claims 12 bytes of attributes, carries 8
         expect_drop(t.inject(with_payload(valid, stun)), Drop::stun_malformed);
       }},
      {"TURN ChannelData from a source that is not our TURN server",
       [&] {
         expect_drop(t.inject(with_payload(valid, channel_data(0x4001, 40, 40))),
                     Drop::channel_data_unknown_source);
       }},
      {"ChannelData whose length runs past the datagram",
       [&] {
         expect_drop(t.inject(with_payload(valid, channel_data(0x4001, 64, 40))),
                     Drop::channel_data_malformed);
       }},
      {"reserved channel number 0x5000 is junk, not TURN",
       [&] {
         expect_drop(t.inject(with_payload(valid, channel_data(0x5000, 40, 40))),
                     Drop::wg_bad_type);
       }},
      {"type 4 of 31 bytes",
       [&] {
         expect_drop(t.inject(with_payload(valid, Bytes(wg.begin(), wg.begin() + 31))),
                     Drop::wg_bad_size);
       }},
      {"type 4 of 4 bytes",
       [&] {
         expect_drop(t.inject(with_payload(valid, Bytes(wg.begin(), wg.begin() + 4))),
                     Drop::wg_bad_size);
       }},
      {"unknown receiver index",
       [&] { expect_drop(t.inject(flip(7, 0x80)), Drop::wg_no_keypair); }},
      {"receiver index 0",
       [&] {
         Bytes p = wg;
         store_le32(p.data() + 4, 0);
         expect_drop(t.inject(with_payload(valid, p)), Drop::wg_no_keypair);
       }},
      {"flipped tag byte",
       [&] { expect_drop(t.inject(flip(wg.size() - 1, 0x40)), Drop::wg_auth_failed); }},
      {"flipped ciphertext byte",
       [&] { expect_drop(t.inject(flip(kWgHeader, 0x01)), Drop::wg_auth_failed); }},
      {"flipped counter", [&] { expect_drop(t.inject(flip(8, 0x02)), Drop::wg_auth_failed); }},
      {"counter beyond the window of the valid one, wrong key",
       [&] {
         const std::uint8_t wrong_key[32] = {1, 2, 3};
         expect_drop(t.inject(with_payload(
                         valid, seal_transport(wrong_key, receiver, counter + 50, inner))),
                     Drop::wg_auth_failed);
       }},
      {"chained mbuf",
       [&] {
         rte_mbuf* head = t.mbuf_of(Bytes(valid.begin(), valid.begin() + 40));
         rte_mbuf* tail = t.mbuf_of(Bytes(valid.begin() + 40, valid.end()));
         ASSERT_EQ(rte_pktmbuf_chain(head, tail), 0);
         expect_drop(t.inject(head), Drop::multi_segment);
       }},
      {"crafted data message (checks the crafting itself)",
       [&] {
         const Bytes p = udp_packet(a.ip4, b.ip4, 1, 2, pattern(33, 5));
         expect_delivered(t.inject(crafted(p)), forwarded(p));
       }},
      {"keepalive: authenticated, counted, delivered nowhere",
       [&] {
         const Outcome o = t.inject(crafted({}));
         EXPECT_EQ(o.rx_outer, 1u);
         EXPECT_TRUE(o.drops.empty()) << o.describe();
         EXPECT_EQ(o.to_control, 0u);
         EXPECT_TRUE(o.delivered.empty());
         EXPECT_EQ(o.peer_rx_packets, 1u);
         EXPECT_EQ(o.peer_rx_bytes, wire::spec::kKeepaliveSize);
         EXPECT_FALSE(o.last_rx_data_moved) << "a keepalive is not data";
       }},
      {"plaintext that is not IP",
       [&] { expect_drop(t.inject(crafted(Bytes(48, 0xAB))), Drop::inner_bad_packet, 1); }},
      {"inner IPv4 total length beyond the plaintext",
       [&] {
         Bytes p = udp_packet(a.ip4, b.ip4, 1, 2, pattern(40, 3));
         store_be16(p.data() + 2, 400);
         expect_drop(t.inject(crafted(p)), Drop::inner_bad_packet, 1);
       }},
      {"inner IPv6 header cut short",
       [&] {
         const Bytes p = udp_packet(a.ip6, b.ip6, 1, 2, pattern(40, 3));
         expect_drop(t.inject(crafted(Bytes(p.begin(), p.begin() + 30))), Drop::inner_bad_packet,
                     1);
       }},
      {"inner source on B's own LAN (spoofed)",
       [&] {
         const Bytes p = udp_packet(*IpAddr::parse("10.2.0.7"), b.ip4, 1, 2, pattern(40, 3));
         expect_drop(t.inject(crafted(p)), Drop::inner_source_not_allowed, 1);
       }},
      {"inner IPv6 source outside A's allowed IPs",
       [&] {
         const Bytes p = udp_packet(*IpAddr::parse("fd09::9"), b.ip6, 1, 2, pattern(40, 3));
         expect_drop(t.inject(crafted(p)), Drop::inner_source_not_allowed, 1);
       }},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.name);
    r.run();
  }
  // After all of that the tunnel still carries A's next packet.
  const Bytes again = udp_packet(a.ip4, b.ip4, 4000, 5000, pattern(64, 8));
  b.received.clear();
  ASSERT_TRUE(a.send_ip(again));
  ASSERT_TRUE(t.net().poll_until([&] { return !b.received.empty(); }));
  EXPECT_EQ(b.received.back(), forwarded(again, 2));
}

INSTANTIATE_TEST_SUITE_P(Outer, InboundVerdicts, ::testing::Values(false, true), outer_name);

// A host on A's LAN sends from an address outside the addresses A may use in the tunnel: A
// encrypts it (A routes by destination), B refuses it after authentication.
TEST(InboundVerdicts, SourceOutsideAllowedIpsSentThroughA) {
  Tunnel t("dsrc", false);
  LanHost& a = t.host(0);
  const Snapshot before = t.snapshot();
  const auto a_drops = t.gw(0).worker(0).drops();
  ASSERT_TRUE(
      a.send_ip(udp_packet(*IpAddr::parse("10.9.9.9"), t.host(1).ip4, 1, 2, pattern(64, 1))));
  ASSERT_TRUE(t.net().poll_until(
      [&] { return t.worker_b().drops()[Drop::inner_source_not_allowed] != 0; }, 50));
  for (int i = 0; i < 5; ++i) t.net().poll();
  const Outcome o = t.since(before);
  ASSERT_EQ(o.drops.size(), 1u) << o.describe();
  EXPECT_EQ(o.drops[0],
            std::make_pair(drop_index(Drop::inner_source_not_allowed), std::uint64_t{1}));
  EXPECT_TRUE(o.delivered.empty());
  EXPECT_TRUE(moved(a_drops, t.gw(0).worker(0).drops()).empty()) << "A must not drop it";
}

// A packet older than REJECT_AFTER_TIME's keypair: the worker rejects the keypair before
// decrypting. Gateway::poll runs the worker before the control thread, so the worker sees the
// frame while the keypair is still published.
TEST(InboundVerdicts, ExpiredKeypair) {
  Tunnel t("dexp", false);
  const Bytes valid = t.capture(udp_packet(t.host(0).ip4, t.host(1).ip4, 1, 2, pattern(64, 1)));
  ASSERT_FALSE(valid.empty());
  const Snapshot before = t.snapshot();
  ASSERT_EQ(rte_ring_enqueue(t.net().wire_to(1), t.mbuf_of(valid)), 0);
  t.net().poll_only(1, wire::spec::kRejectAfterTime + seconds(1));
  const Outcome o = t.since(before);
  expect_drop(o, Drop::wg_key_expired);
}

// --- the storm --------------------------------------------------------------------------------

class MalformedStorm : public ::testing::TestWithParam<bool> {};

TEST_P(MalformedStorm, EveryPacketAccountedForAndTheTunnelSurvives) {
  const bool outer_v6 = GetParam();
  Tunnel t(outer_v6 ? "sv6" : "sv4", outer_v6);
  LanHost& a = t.host(0);
  LanHost& b = t.host(1);
  const Bytes inner = udp_packet(a.ip4, b.ip4, 4000, 5000, pattern(300, 4));
  const Bytes valid = t.capture(inner);  // never delivered as is: a flipped copy may be, once
  ASSERT_FALSE(valid.empty());
  const Layout lay = layout_of(valid);
  const Bytes wg = payload_of(valid);
  rte_mempool* pool = b.pool;
  const std::size_t max_frame = RTE_MBUF_DEFAULT_DATAROOM;

  std::mt19937 rng(0x6d657368);  // fixed: a failure reproduces
  auto rand_bytes = [&](std::size_t n) {
    Bytes v(n);
    for (auto& x : v) x = static_cast<std::uint8_t>(rng());
    return v;
  };
  std::vector<Bytes> storm;
  // Random bytes of random length, with a plausible Ethernet header half the time.
  for (int i = 0; i < 3000; ++i) {
    Bytes f = rand_bytes(rng() % 1600);
    if (i % 2 == 0 && f.size() >= 14) std::copy(valid.begin(), valid.begin() + 14, f.begin());
    storm.push_back(std::move(f));
  }
  // Every truncation of the valid frame, as is (lengths now wrong) and with its headers fixed
  // (a shorter WireGuard message).
  for (std::size_t n = 0; n < valid.size(); ++n) {
    storm.emplace_back(valid.begin(), valid.begin() + static_cast<std::ptrdiff_t>(n));
  }
  for (std::size_t n = 0; n < wg.size(); ++n) {
    storm.push_back(
        with_payload(valid, Bytes(wg.begin(), wg.begin() + static_cast<std::ptrdiff_t>(n))));
  }
  // WireGuard messages of every type, right and wrong sizes, up to the largest frame an mbuf
  // holds; type 4 with the live receiver index so they reach the AEAD.
  const std::size_t max_payload = max_frame - lay.payload;
  for (int i = 0; i < 1500; ++i) {
    static constexpr std::size_t kSizes[] = {0, 4, 16, 31, 32, 64, 92, 148, 1400};
    const std::size_t len =
        i % 3 == 0 ? rng() % (max_payload + 1) : kSizes[rng() % std::size(kSizes)];
    Bytes p = rand_bytes(len);
    if (len >= 4) {
      store_le32(p.data(),
                 static_cast<std::uint32_t>(rng() % 6));  // 0..5: unknown, 1-3, 4, unknown
      if (len >= 8 && rng() % 2 == 0) std::copy(wg.begin() + 4, wg.begin() + 8, p.begin() + 4);
    }
    storm.push_back(with_payload(valid, p));
  }
  // Random bit flips of the valid frame: one to three bits anywhere.
  for (int i = 0; i < 2000; ++i) {
    Bytes f = valid;
    const int bits = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < bits; ++k)
      f[rng() % f.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
    storm.push_back(std::move(f));
  }
  for (const Bytes& f : storm) ASSERT_LE(f.size(), max_frame);

  // Mbufs of B's pool that are outside the pool right now: on rings or held by the control thread.
  auto in_flight_elsewhere = [&] {
    return rte_ring_count(t.net().wire_to(0)) + rte_ring_count(b.from_gw);
  };
  const unsigned avail_before = rte_mempool_avail_count(pool) + in_flight_elsewhere();
  const Snapshot before = t.snapshot();
  const std::size_t delivered_before = b.received.size();

  // B alone, its LAN host not serviced: nothing enters B's LAN port, so everything B's worker
  // receives is storm.
  std::size_t next = 0;
  while (next < storm.size()) {
    for (int k = 0; k < 512 && next < storm.size(); ++k, ++next) {
      rte_mbuf* m = t.mbuf_of(storm[next]);
      ASSERT_NE(m, nullptr);
      ASSERT_EQ(rte_ring_enqueue(t.net().wire_to(1), m), 0);
    }
    for (int i = 0; i < 100 && rte_ring_count(t.net().wire_to(1)) != 0; ++i) {
      t.net().poll_only(1, millis(1), /*service_host=*/false);
    }
    ASSERT_EQ(rte_ring_count(t.net().wire_to(1)), 0u);
  }
  for (int i = 0; i < 3; ++i) t.net().poll_only(1, millis(1), false);

  const Outcome o = t.since(before);
  const std::uint64_t injected = storm.size();
  std::uint64_t dropped = 0;
  for (auto [slot, n] : o.drops) dropped += n;
  EXPECT_EQ(o.rx_outer, injected);
  EXPECT_EQ(t.snapshot().stats.rx_inner, before.stats.rx_inner) << "nothing came from the LAN";
  EXPECT_EQ(dropped + o.to_control + o.tx_inner, injected) << o.describe();
  RecordProperty("verdicts", o.describe());
  // Deliveries: only the valid frame's inner packet can authenticate, and only once.
  t.host(1).service();
  const std::size_t delivered = b.received.size() - delivered_before;
  EXPECT_EQ(delivered, o.tx_inner);
  EXPECT_LE(delivered, 1u);
  for (std::size_t i = delivered_before; i < b.received.size(); ++i)
    EXPECT_EQ(b.received[i], forwarded(inner, 2));
  // The storm reached every stage.
  const auto& d = t.worker_b().drops();
  for (auto slot :
       {drop_index(DropReason::frame_too_short), drop_index(DropReason::bad_ethertype),
        drop_index(Drop::wg_bad_type), drop_index(Drop::wg_bad_size),
        drop_index(Drop::wg_no_keypair), drop_index(Drop::wg_auth_failed),
        drop_index(outer_v6 ? DropReason::ipv6_truncated : DropReason::ipv4_truncated),
        drop_index(outer_v6 ? DropReason::ipv6_bad_length : DropReason::ipv4_bad_length),
        drop_index(DropReason::udp_bad_length)}) {
    EXPECT_GT(d.count[slot] - before.drops.count[slot], 0u) << drop_name(slot);
  }
  EXPECT_GT(o.to_control, 0u) << "handshake-typed messages go to the control thread";
  EXPECT_EQ(d[Drop::control_ring_full], before.drops[Drop::control_ring_full]);

  // No mbuf leaked: run both sides until quiet, then count what is out of the pool.
  for (int i = 0; i < 20; ++i) t.net().poll_only(1);
  EXPECT_EQ(rte_mempool_avail_count(pool) + in_flight_elsewhere(), avail_before);

  // The tunnel still works.
  b.received.clear();
  const Bytes again = udp_packet(a.ip4, b.ip4, 4000, 5000, pattern(500, 6));
  ASSERT_TRUE(a.send_ip(again));
  ASSERT_TRUE(t.net().poll_until([&] { return !b.received.empty(); }, 100));
  EXPECT_EQ(b.received.back(), forwarded(again, 2));
}

INSTANTIATE_TEST_SUITE_P(Outer, MalformedStorm, ::testing::Values(false, true), outer_name);

}  // namespace
}  // namespace meshgate::test::drops
