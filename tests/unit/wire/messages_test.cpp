// Wire layouts, classification and padding (protocol.md 2).
#include "meshgate/wire/messages.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace meshgate::wire {
namespace {

std::vector<std::uint8_t> message_of(std::uint8_t type, std::size_t len) {
  std::vector<std::uint8_t> m(len, 0xAB);
  if (len > 0) m[0] = type;
  for (std::size_t i = 1; i < 4 && i < len; ++i) m[i] = 0;
  return m;
}

TEST(Wire, SpecConstants) {
  EXPECT_EQ(wire::spec::kRejectAfterMessages, 18446744073709543423ull);  // 2^64 - 2^13 - 1
  EXPECT_EQ(wire::spec::kRekeyAfterMessages, 1152921504606846976ull);    // 2^60
  EXPECT_EQ(wire::spec::kInitiationMinInterval, millis(20));
  EXPECT_EQ(spec::kConstruction.size(), 37u);
  EXPECT_EQ(spec::kIdentifier.size(), 34u);
  EXPECT_EQ(spec::kKeepaliveSize, 32u);
}

TEST(Wire, ClassifiesEachTypeAtItsExactSize) {
  struct Case {
    MessageType type;
    std::size_t size;
  };
  const Case cases[] = {
      {MessageType::initiation, 148}, {MessageType::response, 92}, {MessageType::cookie_reply, 64}};
  for (const Case& c : cases) {
    for (std::size_t len = 0; len <= 200; ++len) {
      auto m = message_of(static_cast<std::uint8_t>(c.type), len);
      Classified r = classify(m.data(), m.size());
      if (len == c.size) {
        ASSERT_TRUE(r.ok()) << to_string(c.type) << " len " << len;
        EXPECT_EQ(r.type, c.type);
      } else {
        ASSERT_FALSE(r.ok()) << to_string(c.type) << " len " << len;
        EXPECT_EQ(r.drop, len < 4 ? WireDrop::too_short : WireDrop::bad_size) << len;
      }
    }
  }
}

TEST(Wire, TransportNeedsAtLeast32Bytes) {
  for (std::size_t len = 0; len <= 200; ++len) {
    auto m = message_of(4, len);
    Classified r = classify(m.data(), m.size());
    if (len >= 32) {
      ASSERT_TRUE(r.ok()) << len;
      EXPECT_EQ(r.type, MessageType::transport);
    } else {
      EXPECT_EQ(r.drop, len < 4 ? WireDrop::too_short : WireDrop::bad_size) << len;
    }
  }
  EXPECT_TRUE(classify(message_of(4, 65535).data(), 65535).ok());
}

TEST(Wire, RejectsReservedBytesAndUnknownTypes) {
  for (std::uint8_t type = 1; type <= 4; ++type) {
    const std::size_t len = type == 4 ? 32 : message_size(static_cast<MessageType>(type));
    for (std::size_t i = 1; i < 4; ++i) {
      auto m = message_of(type, len);
      m[i] = 1;
      EXPECT_EQ(classify(m.data(), m.size()).drop, WireDrop::reserved_nonzero);
    }
  }
  for (int type : {0, 5, 6, 0x80, 0xff}) {
    auto m = message_of(static_cast<std::uint8_t>(type), 148);
    EXPECT_EQ(classify(m.data(), m.size()).drop, WireDrop::unknown_type) << type;
  }
  EXPECT_EQ(classify(nullptr, 0).drop, WireDrop::too_short);
}

TEST(Wire, DropReasonsHaveNamesAndDescriptions) {
  EXPECT_EQ(kWireDropCount, 4u);
  for (std::size_t i = 1; i <= kWireDropCount; ++i) {
    auto d = static_cast<WireDrop>(i);
    EXPECT_NE(to_string(d), "unknown");
    EXPECT_GT(describe(d).size(), 10u);
  }
  EXPECT_EQ(to_string(WireDrop::bad_size), "bad_size");
}

TEST(Wire, PaddingRule) {
  // {len, mtu, padded}: round up to 16, clamp at the MTU; a packet already longer than the MTU
  // is not padded.
  const std::size_t table[][3] = {
      {0, 1420, 0},       {1, 1420, 16},      {15, 1420, 16},     {16, 1420, 16},
      {17, 1420, 32},     {1400, 1420, 1408}, {1410, 1420, 1420}, {1419, 1420, 1420},
      {1420, 1420, 1420}, {1421, 1420, 1421}, {2840, 1420, 2840}, {100, 0, 112},
      {1419, 0, 1424},    {60, 50, 60},       {61, 50, 61},       {45, 50, 48},
      {49, 50, 50},       {50, 50, 50},       {1, 1, 1},          {1500, 1280, 1500},
  };
  for (const auto& row : table) {
    EXPECT_EQ(padded_len(row[0], row[1]), row[2]) << row[0] << " mtu " << row[1];
  }
  // Every length up to the MTU: a multiple of 16 or the MTU itself, never shorter, never longer
  // than the MTU.
  for (std::size_t mtu : {1280u, 1420u, 1423u}) {
    for (std::size_t len = 0; len <= mtu; ++len) {
      const std::size_t p = padded_len(len, mtu);
      ASSERT_TRUE(p >= len && p <= mtu && (p % 16 == 0 || p == mtu)) << len << " mtu " << mtu;
      ASSERT_LT(p - len, 16u);
    }
  }
  EXPECT_TRUE(is_keepalive(0));
  EXPECT_FALSE(is_keepalive(1));
  EXPECT_EQ(transport_message_len(padded_len(kKeepalivePlaintextLen, 1420)), 32u);
}

TEST(Wire, HandshakeMessageSizes) {
  std::vector<std::uint8_t> buf(200, 0);
  for (const auto t : {MessageType::initiation, MessageType::response, MessageType::cookie_reply}) {
    buf[0] = static_cast<std::uint8_t>(t);
    const std::size_t size = message_size(t);
    EXPECT_TRUE(is_handshake_message(buf.data(), size)) << to_string(t);
    EXPECT_FALSE(is_handshake_message(buf.data(), size - 1)) << to_string(t);
    EXPECT_FALSE(is_handshake_message(buf.data(), size + 1)) << to_string(t);
    buf[2] = 1;  // reserved byte
    EXPECT_FALSE(is_handshake_message(buf.data(), size)) << to_string(t);
    buf[2] = 0;
  }
  buf[0] = 4;  // transport: not a handshake, whatever its size
  EXPECT_FALSE(is_handshake_message(buf.data(), 32));
  EXPECT_FALSE(is_handshake_message(buf.data(), 3));
}

TEST(Wire, HeaderHelpers) {
  MessageCookieReply r{};
  r.header = make_header(MessageType::cookie_reply);
  r.receiver_index = 0x04030201;
  const std::uint8_t* b = message_bytes(r);
  const std::uint8_t want[8] = {3, 0, 0, 0, 1, 2, 3, 4};
  EXPECT_EQ(0, std::memcmp(b, want, 8));
  std::uint8_t wire[sizeof r] = {};
  std::memcpy(wire, want, 8);
  auto back = load_message<MessageCookieReply>(wire);
  EXPECT_EQ(std::uint32_t{back.receiver_index}, r.receiver_index);
  EXPECT_EQ(classify(wire, sizeof wire).type, MessageType::cookie_reply);
}

}  // namespace
}  // namespace meshgate::wire
