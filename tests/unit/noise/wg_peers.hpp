// Two in-memory WireGuard nodes for the handshake and cookie tests: identities, one peer
// entry each, cookie state, and a tiny transport seal/open on top of the 16-byte header.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <vector>

#include "meshgate/base/bytes.hpp"
#include "meshgate/crypto/aead.hpp"
#include "meshgate/crypto/x25519.hpp"
#include "meshgate/noise/cookie.hpp"
#include "meshgate/noise/handshake.hpp"
#include "meshgate/wire/messages.hpp"

namespace meshgate::noise::testing {

struct Node {
  StaticIdentity id;
  Handshake hs;         // the one peer this node knows
  CookieSender cookie;  // macs on what we send to that peer
  CookieChecker checker;
  Endpoint addr;
};

/// Node a initiates to node b. PSK null = none.
struct Pair {
  Node a;
  Node b;
  WallTime wall{1'700'000'000, 0};
  Nanos now = seconds(1000);
  std::uint32_t next_index = 0x1000;

  explicit Pair(const SecretKey* psk = nullptr) {
    a.id.set_private_key(crypto::x25519_generate());
    b.id.set_private_key(crypto::x25519_generate());
    EXPECT_TRUE(handshake_configure(a.hs, a.id, b.id.public_key, psk).ok());
    EXPECT_TRUE(handshake_configure(b.hs, b.id, a.id.public_key, psk).ok());
    a.cookie.init(b.id.public_key);
    b.cookie.init(a.id.public_key);
    const std::uint8_t a4[4] = {192, 0, 2, 1};
    const std::uint8_t b4[4] = {198, 51, 100, 7};
    a.addr = Endpoint{IpAddr::v4_bytes(a4), 51820};
    b.addr = Endpoint{IpAddr::v4_bytes(b4), 51820};
  }

  /// Advances both clocks (monotonic and wall) by `d`.
  void tick(Nanos d) {
    now += d;
    wall.nsec += d % kNsPerSec;
    wall.sec += d / kNsPerSec + wall.nsec / kNsPerSec;
    wall.nsec %= kNsPerSec;
  }

  wire::MessageInitiation initiation() {
    wire::MessageInitiation m;
    EXPECT_EQ(create_initiation(m, a.hs, a.id, next_index++, wall), HandshakeDrop::none);
    a.cookie.add_macs(m, now);
    return m;
  }

  /// b's receive path for an initiation: classify, mac1/mac2, both consume steps.
  HandshakeDrop b_receives(const wire::MessageInitiation& m, bool under_load = false) {
    auto c = wire::classify(wire::message_bytes(m), sizeof m);
    if (!c.ok() || c.type != wire::MessageType::initiation) return HandshakeDrop::bad_mac1;
    MacVerdict v = b.checker.validate(m, b.id, a.addr, under_load, now);
    if (v == MacVerdict::invalid_mac1) return HandshakeDrop::bad_mac1;
    if (under_load && v != MacVerdict::valid_mac1_and_mac2) return HandshakeDrop::cookie_required;
    Handshake* found = nullptr;
    auto lookup = [&](const Key32& k) -> Handshake* {
      return k == b.hs.remote_static ? &b.hs : nullptr;
    };
    return consume_initiation(m, b.id, lookup, now, &found);
  }

  wire::MessageResponse response() {
    wire::MessageResponse m;
    EXPECT_EQ(create_response(m, b.hs, b.id, next_index++), HandshakeDrop::none);
    b.cookie.add_macs(m, now);
    return m;
  }

  HandshakeDrop a_receives(const wire::MessageResponse& m) {
    auto c = wire::classify(wire::message_bytes(m), sizeof m);
    if (!c.ok() || c.type != wire::MessageType::response) return HandshakeDrop::bad_mac1;
    if (a.checker.validate(m, a.id, b.addr, false, now) == MacVerdict::invalid_mac1) {
      return HandshakeDrop::bad_mac1;
    }
    return consume_response(m, a.hs, a.id);
  }

  /// A full exchange; fills both keypairs.
  void handshake(SessionKeys& ka, SessionKeys& kb) {
    auto init = initiation();
    ASSERT_EQ(b_receives(init), HandshakeDrop::none);
    auto resp = response();
    ASSERT_EQ(a_receives(resp), HandshakeDrop::none);
    ASSERT_EQ(begin_session(a.hs, ka, now), HandshakeDrop::none);
    ASSERT_EQ(begin_session(b.hs, kb, now), HandshakeDrop::none);
  }
};

/// Type 4: header, padded plaintext sealed in place, tag (protocol.md 2).
inline std::vector<std::uint8_t> seal_transport(const SessionKeys& kp, std::uint64_t counter,
                                                const std::vector<std::uint8_t>& plain,
                                                std::size_t mtu = 1420) {
  const std::size_t padded = wire::padded_len(plain.size(), mtu);
  std::vector<std::uint8_t> out(wire::transport_message_len(padded), 0);
  store_le32(out.data(), static_cast<std::uint32_t>(wire::MessageType::transport));
  store_le32(out.data() + 4, kp.remote_index);
  store_le64(out.data() + 8, counter);
  std::uint8_t* body = out.data() + wire::spec::kTransportHeaderSize;
  if (!plain.empty()) std::memcpy(body, plain.data(), plain.size());
  crypto::aead_seal(body, kp.send, counter, body, padded, {});
  return out;
}

/// Opens a type 4 message addressed to `kp`; the plaintext still carries its padding.
inline std::optional<std::vector<std::uint8_t>> open_transport(
    const SessionKeys& kp, const std::vector<std::uint8_t>& msg) {
  auto c = wire::classify(msg.data(), msg.size());
  if (!c.ok() || c.type != wire::MessageType::transport) return std::nullopt;
  if (load_le32(msg.data() + 4) != kp.local_index) return std::nullopt;
  const std::uint64_t counter = load_le64(msg.data() + 8);
  const std::size_t hdr = wire::spec::kTransportHeaderSize;
  const std::size_t len = msg.size() - hdr - crypto::kAeadTagLen;
  std::vector<std::uint8_t> plain(len);
  if (!crypto::aead_open(plain.data(), kp.recv, counter, msg.data() + hdr, len, {})) {
    return std::nullopt;
  }
  return plain;
}

}  // namespace meshgate::noise::testing
