// STUN/TURN codec: the RFC 5769 vectors, a round trip of every attribute, ChannelData and the
// data path's demultiplexer. Rejections of malformed input are in stun_malformed_test.cpp.
#include "meshgate/nat/stun.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "rfc5769.hpp"
#include "test_hex.hpp"

namespace meshgate::nat::stun {
namespace {

using test::text;
using test::unhex;
using Buf = std::vector<std::uint8_t>;

Message parse_ok(const Buf& b) {
  Message m;
  const ParseError e = parse(b.data(), b.size(), m);
  EXPECT_EQ(e, ParseError::none) << to_string(e);
  return m;
}

TransactionId tid_of(std::string_view hex) {
  TransactionId t{};
  EXPECT_TRUE(from_hex(hex, t));
  return t;
}

Endpoint ep(const char* s) {
  return *Endpoint::parse(s);
}

TEST(StunVectors, SampleRequest) {
  const Buf b = unhex(test::kSampleRequest);
  const Message m = parse_ok(b);
  EXPECT_EQ(m.method, Method::binding);
  EXPECT_EQ(m.cls, Class::request);
  EXPECT_EQ(to_hex(m.transaction_id), test::kTransactionId);
  EXPECT_EQ(*get_string(m, attr::kSoftware), "STUN test client");
  EXPECT_EQ(*get_string(m, attr::kUsername), "evtj:h6vY");
  EXPECT_EQ(*get_u32(m, attr::kPriority), 0x6e0001ffu);
  EXPECT_EQ(to_hex(m.value(*m.find(attr::kIceControlled))), "932ff9b151263b36");
  EXPECT_EQ(check_fingerprint(m), AuthVerdict::none);
  EXPECT_EQ(verify_message(m, text(test::kShortTermPassword)), AuthVerdict::none);
  EXPECT_EQ(verify_message(m, text("VOkJxbRl1RmTxUk/WvJxBT")), AuthVerdict::bad_integrity);
}

TEST(StunVectors, Ipv4Response) {
  const Buf b = unhex(test::kIpv4Response);
  const Message m = parse_ok(b);
  EXPECT_EQ(m.method, Method::binding);
  EXPECT_EQ(m.cls, Class::success);
  EXPECT_EQ(*get_string(m, attr::kSoftware), "test vector");
  auto mapped = get_xor_address(m, attr::kXorMappedAddress);
  ASSERT_TRUE(mapped) << mapped.error();
  EXPECT_EQ(*mapped, ep("192.0.2.1:32853"));
  EXPECT_EQ(verify_message(m, text(test::kShortTermPassword)), AuthVerdict::none);

  // The same value comes out of the builder.
  Buf out(64);
  Builder(out, Method::binding, Class::success, m.transaction_id)
      .add_xor_address(attr::kXorMappedAddress, ep("192.0.2.1:32853"));
  EXPECT_EQ(to_hex(ByteSpan(out.data() + 20, 12)), "002000080001a147e112a643");
}

TEST(StunVectors, Ipv6Response) {
  const Buf b = unhex(test::kIpv6Response);
  const Message m = parse_ok(b);
  auto mapped = get_xor_address(m, attr::kXorMappedAddress);
  ASSERT_TRUE(mapped) << mapped.error();
  EXPECT_EQ(*mapped, ep("[2001:db8:1234:5678:11:2233:4455:6677]:32853"));
  EXPECT_EQ(verify_message(m, text(test::kShortTermPassword)), AuthVerdict::none);

  Buf out(64);
  Builder(out, Method::binding, Class::success, m.transaction_id)
      .add_xor_address(attr::kXorMappedAddress, *mapped);
  EXPECT_EQ(to_hex(ByteSpan(out.data() + 20, 24)),
            "002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d9");
}

TEST(StunVectors, LongTermRequest) {
  const Buf b = unhex(test::kLongTermRequest);
  const Message m = parse_ok(b);
  EXPECT_EQ(*get_string(m, attr::kUsername), test::kLongTermUser);
  EXPECT_EQ(*get_string(m, attr::kNonce), test::kLongTermNonce);
  EXPECT_EQ(*get_string(m, attr::kRealm), test::kLongTermRealm);
  const auto key =
      long_term_key(test::kLongTermUser, test::kLongTermRealm, test::kLongTermPassword);
  EXPECT_EQ(to_hex(key), "e8ca7ad59d5eb0518e312911d2dab2a9");  // Python hashlib, independently
  EXPECT_EQ(check_fingerprint(m), AuthVerdict::missing_fingerprint);
  EXPECT_EQ(verify_message(m, as_bytes(key)), AuthVerdict::none);
  const auto wrong = long_term_key(test::kLongTermUser, test::kLongTermRealm, "thematrix");
  EXPECT_EQ(verify_message(m, as_bytes(wrong)), AuthVerdict::bad_integrity);

  // Built again from its parts it is byte for byte the RFC's message (zero padding there).
  Buf out(256);
  auto n = Builder(out, Method::binding, Class::request, m.transaction_id)
               .add_string(attr::kUsername, test::kLongTermUser)
               .add_string(attr::kNonce, test::kLongTermNonce)
               .add_string(attr::kRealm, test::kLongTermRealm)
               .add_integrity(as_bytes(key))
               .finish();
  ASSERT_TRUE(n) << n.error();
  out.resize(*n);
  EXPECT_EQ(to_hex(out), to_hex(b));
}

TEST(StunCodec, MessageTypes) {
  const Method methods[] = {Method::binding,     Method::allocate, Method::refresh,
                            Method::send,        Method::data,     Method::create_permission,
                            Method::channel_bind};
  const Class classes[] = {Class::request, Class::indication, Class::success, Class::error};
  for (Method me : methods) {
    for (Class c : classes) {
      const std::uint16_t t = message_type(me, c);
      EXPECT_EQ(t & 0xC000, 0);
      EXPECT_EQ(type_method(t), me);
      EXPECT_EQ(type_class(t), c);
    }
  }
  EXPECT_EQ(message_type(Method::allocate, Class::request), 0x0003);
  EXPECT_EQ(message_type(Method::allocate, Class::success), 0x0103);
  EXPECT_EQ(message_type(Method::refresh, Class::error), 0x0114);
  EXPECT_EQ(message_type(Method::send, Class::indication), 0x0016);
  EXPECT_EQ(message_type(Method::create_permission, Class::request), 0x0008);
  EXPECT_EQ(message_type(Method::channel_bind, Class::success), 0x0109);
  // The widest method: every method bit set, class bits interleaved.
  EXPECT_EQ(message_type(static_cast<Method>(0xFFF), Class::error), 0x3FFF);
  EXPECT_EQ(to_string(Method::channel_bind), "ChannelBind");
}

// Every attribute this codec writes, parsed back through its getter.
TEST(StunCodec, EveryAttributeRoundTrips) {
  const TransactionId tid = tid_of("0102030405060708090a0b0c");
  const Bytes<16> key = long_term_key("alice", "meshgate", "secret");
  const std::uint16_t unknown[] = {0x7001, 0x0033};
  Buf buf(1024);
  auto n = Builder(buf, Method::allocate, Class::error, tid)
               .add_xor_address(attr::kXorMappedAddress, ep("198.51.100.7:4500"))
               .add_xor_address(attr::kXorPeerAddress, ep("[2001:db8::42]:51820"))
               .add_xor_address(attr::kXorRelayedAddress, ep("203.0.113.9:50000"))
               .add_address(attr::kMappedAddress, ep("[2001:db8::1]:3478"))
               .add_address(attr::kResponseOrigin, ep("192.0.2.10:3478"))
               .add_address(attr::kOtherAddress, ep("192.0.2.11:3479"))
               .add_string(attr::kUsername, "alice")
               .add_string(attr::kRealm, "meshgate")
               .add_string(attr::kNonce, "nonce-123")
               .add_string(attr::kSoftware, "meshgate 0.1")
               .add_error_code(438, "Stale Nonce")
               .add_unknown_attributes(unknown)
               .add_lifetime(600)
               .add_channel_number(0x4001)
               .add_requested_transport(17)
               .add_change_request({.change_ip = true, .change_port = false})
               .add(attr::kData, text("payload"))
               .add_integrity(as_bytes(key))
               .add_fingerprint()
               .finish();
  ASSERT_TRUE(n) << n.error();
  buf.resize(*n);
  const Message m = parse_ok(buf);
  EXPECT_EQ(m.method, Method::allocate);
  EXPECT_EQ(m.cls, Class::error);
  EXPECT_EQ(m.transaction_id, tid);
  EXPECT_EQ(*get_xor_address(m, attr::kXorMappedAddress), ep("198.51.100.7:4500"));
  EXPECT_EQ(*get_xor_address(m, attr::kXorPeerAddress), ep("[2001:db8::42]:51820"));
  EXPECT_EQ(*get_xor_address(m, attr::kXorRelayedAddress), ep("203.0.113.9:50000"));
  EXPECT_EQ(*get_address(m, attr::kMappedAddress), ep("[2001:db8::1]:3478"));
  EXPECT_EQ(*get_address(m, attr::kResponseOrigin), ep("192.0.2.10:3478"));
  EXPECT_EQ(*get_address(m, attr::kOtherAddress), ep("192.0.2.11:3479"));
  EXPECT_EQ(*get_string(m, attr::kUsername), "alice");
  EXPECT_EQ(*get_string(m, attr::kRealm), "meshgate");
  EXPECT_EQ(*get_string(m, attr::kNonce), "nonce-123");
  EXPECT_EQ(*get_string(m, attr::kSoftware), "meshgate 0.1");
  const auto ec = get_error_code(m);
  ASSERT_TRUE(ec) << ec.error();
  EXPECT_EQ(ec->code, 438);
  EXPECT_EQ(ec->reason, "Stale Nonce");
  EXPECT_EQ(to_hex(m.value(*m.find(attr::kUnknownAttributes))), "70010033");
  EXPECT_EQ(*get_u32(m, attr::kLifetime), 600u);
  EXPECT_EQ(*get_channel_number(m), 0x4001);
  EXPECT_EQ(*get_requested_transport(m), 17);
  const auto cr = get_change_request(m);
  ASSERT_TRUE(cr);
  EXPECT_TRUE(cr->change_ip);
  EXPECT_FALSE(cr->change_port);
  EXPECT_EQ(*get_string(m, attr::kData), "payload");
  EXPECT_EQ(verify_message(m, as_bytes(key)), AuthVerdict::none);
  EXPECT_EQ(check_fingerprint(m), AuthVerdict::none);
}

// A plain address is written as is; an XOR address differs from it in port and address.
TEST(StunCodec, XorChangesTheBytes) {
  const TransactionId tid = tid_of("00112233445566778899aabb");
  Buf plain(64), xored(64);
  Builder(plain, Method::binding, Class::success, tid)
      .add_address(attr::kMappedAddress, ep("10.0.0.1:1"));
  Builder(xored, Method::binding, Class::success, tid)
      .add_xor_address(attr::kMappedAddress, ep("10.0.0.1:1"));
  EXPECT_EQ(to_hex(ByteSpan(plain.data() + 24, 8)), "000100010a000001");
  // port 1 ^ 0x2112, address 10.0.0.1 ^ 0x2112a442.
  EXPECT_EQ(to_hex(ByteSpan(xored.data() + 24, 8)), "000121132b12a443");
}

TEST(StunCodec, ValuesArePaddedWithZeros) {
  for (std::size_t len = 0; len <= 9; ++len) {
    Buf buf(64, 0xEE);
    const std::string s(len, 'x');
    auto n = Builder(buf, Method::binding, Class::request, TransactionId{})
                 .add_string(attr::kSoftware, s)
                 .finish();
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 20 + 4 + padded4(len)) << len;
    EXPECT_EQ(load_be16(buf.data() + 2), *n - 20);
    for (std::size_t i = 24 + len; i < *n; ++i) EXPECT_EQ(buf[i], 0) << len;
    buf.resize(*n);
    EXPECT_EQ(*get_string(parse_ok(buf), attr::kSoftware), s);
  }
}

// Integrity over a message that also has a FINGERPRINT: the HMAC's length field stops at
// MESSAGE-INTEGRITY, so the FINGERPRINT added afterwards does not break it.
TEST(StunCodec, IntegrityThenFingerprint) {
  Buf buf(128);
  const std::string_view pw = "password";
  auto n = Builder(buf, Method::refresh, Class::request, tid_of("aaaaaaaaaaaaaaaaaaaaaaaa"))
               .add_lifetime(0)
               .add_integrity(text(pw))
               .add_fingerprint()
               .finish();
  ASSERT_TRUE(n);
  buf.resize(*n);
  const Message m = parse_ok(buf);
  EXPECT_EQ(check_integrity(m, text(pw)), AuthVerdict::none);
  EXPECT_EQ(check_integrity(m, text("passwore")), AuthVerdict::bad_integrity);
}

TEST(StunCodec, Crc32) {
  EXPECT_EQ(crc32(text("123456789")), 0xCBF43926u);
  EXPECT_EQ(crc32(text("")), 0u);
}

TEST(StunCodec, ReasonNamesAreDistinct) {
  std::set<std::string_view> names;
  for (std::size_t i = 0; i <= kParseErrorCount; ++i) names.insert(to_string(ParseError(i)));
  for (std::size_t i = 1; i <= kAuthVerdictCount; ++i) names.insert(to_string(AuthVerdict(i)));
  EXPECT_EQ(names.size(), kParseErrorCount + 1 + kAuthVerdictCount);
  EXPECT_EQ(to_string(AuthVerdict::bad_fingerprint), "bad_fingerprint");
  EXPECT_EQ(to_string(ParseError::unknown_required), "unknown_required");
  EXPECT_EQ(to_string(DemuxDrop::channel_bad_length), "channel_bad_length");
  EXPECT_FALSE(describe(AuthVerdict::missing_integrity).empty());
}

// --- ChannelData and the demultiplexer ------------------------------------------------------

TEST(ChannelData, HeaderRoundTrip) {
  Buf pkt(4 + 5);
  channel_data_header(pkt.data(), 0x4ABC, 5);
  EXPECT_EQ(to_hex(ByteSpan(pkt.data(), 4)), "4abc0005");
  const Demuxed d = parse_channel_data(pkt.data(), pkt.size());
  EXPECT_EQ(d.kind, PayloadKind::channel_data);
  EXPECT_EQ(d.channel, 0x4ABC);
  EXPECT_EQ(d.data_len, 5);
}

TEST(ChannelData, PaddingUpToThreeBytes) {
  for (std::size_t extra = 0; extra <= 4; ++extra) {
    Buf pkt(4 + 5 + extra);
    channel_data_header(pkt.data(), 0x4000, 5);
    const Demuxed d = demux(pkt.data(), pkt.size());
    if (extra <= 3) {
      EXPECT_EQ(d.kind, PayloadKind::channel_data) << extra;
    } else {
      EXPECT_EQ(d.drop, DemuxDrop::channel_bad_length) << extra;
    }
  }
}

TEST(ChannelData, RangeAndLength) {
  Buf pkt(8);
  channel_data_header(pkt.data(), 0x4FFF, 4);
  EXPECT_EQ(demux(pkt.data(), 8).kind, PayloadKind::channel_data);
  EXPECT_EQ(demux(pkt.data(), 7).drop, DemuxDrop::channel_bad_length);  // length past the end
  channel_data_header(pkt.data(), 0x5000, 4);                           // reserved
  EXPECT_EQ(demux(pkt.data(), 8).drop, DemuxDrop::not_stun_or_turn);
  channel_data_header(pkt.data(), 0x3FFF, 4);
  EXPECT_EQ(parse_channel_data(pkt.data(), 8).drop, DemuxDrop::not_stun_or_turn);
  channel_data_header(pkt.data(), 0x4000, 0);  // empty data is allowed
  EXPECT_EQ(demux(pkt.data(), 4).kind, PayloadKind::channel_data);
  EXPECT_EQ(demux(pkt.data(), 3).drop, DemuxDrop::too_short);
}

TEST(Demux, RfcVectorsAreStun) {
  for (auto v :
       {test::kSampleRequest, test::kIpv4Response, test::kIpv6Response, test::kLongTermRequest}) {
    const Buf b = unhex(v);
    EXPECT_EQ(demux(b.data(), b.size()).kind, PayloadKind::stun);
  }
}

TEST(Demux, StunRejections) {
  Buf b = unhex(test::kSampleRequest);
  Buf longer = b;
  longer.push_back(0);
  EXPECT_EQ(demux(longer.data(), longer.size()).drop, DemuxDrop::stun_bad_length);
  EXPECT_EQ(demux(b.data(), b.size() - 4).drop, DemuxDrop::stun_bad_length);
  EXPECT_EQ(demux(b.data(), 19).drop, DemuxDrop::stun_too_short);
  Buf odd = b;
  store_be16(odd.data() + 2, 0x57);  // not a multiple of 4
  EXPECT_EQ(demux(odd.data(), 20 + 0x57).drop, DemuxDrop::stun_bad_length);
  Buf cookie = b;
  cookie[7] ^= 1;
  EXPECT_EQ(demux(cookie.data(), cookie.size()).drop, DemuxDrop::stun_bad_cookie);
  Buf high = b;
  high[0] = 0x80;  // RTP/DTLS territory
  EXPECT_EQ(demux(high.data(), high.size()).drop, DemuxDrop::not_stun_or_turn);
}

// WireGuard's four messages, as sized on the wire, with a sender index equal to the cookie:
// the exact length rule still keeps them out.
TEST(Demux, WireGuardMessagesAreNeverStunOrChannelData) {
  for (std::size_t size : {148u, 92u, 64u, 32u, 1452u}) {
    for (std::uint8_t type = 1; type <= 4; ++type) {
      Buf b(size, 0);
      b[0] = type;
      store_be32(b.data() + 4, kMagicCookie);
      EXPECT_EQ(demux(b.data(), b.size()).kind, PayloadKind::junk) << size << " " << int(type);
    }
  }
}

}  // namespace
}  // namespace meshgate::nat::stun
