// TURN through the data path: gateway A's Allocate requests leave its outer port from the listen
// port, a server played by the test on the outer wire (both the STUN and the TURN server, on one
// address) answers 401 and then 200, the worker hands the answers to the control thread, and the
// control thread gives each to the client whose request it answers.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <utility>

#include "meshgate/nat/stun.hpp"
#include "packets.hpp"
#include "ring_gateways.hpp"

namespace meshgate::test {
namespace {

namespace stun = nat::stun;

const Endpoint kServer = *Endpoint::parse("198.51.100.78:3478");  // on A's outer subnet
const Endpoint kMapped = *Endpoint::parse("203.0.113.51:60000");
const Endpoint kRelayed = *Endpoint::parse("198.51.100.78:49152");
const IpAddr kGatewayA = *IpAddr::parse("198.51.100.2");
const control::GatewayLimits kSmall{.max_peers = 16, .mbufs = 2047};

/// The server's answer to one request: Binding success; Allocate 401 without credentials,
/// else success signed with the key of user/password in realm "test".
std::vector<std::uint8_t> answer(const stun::Message& m) {
  std::vector<std::uint8_t> b(256);
  const bool authenticated = m.find(stun::attr::kUsername) != nullptr;
  const auto key = stun::long_term_key("user", "test", "password");
  const bool challenge = m.method == stun::Method::allocate && !authenticated;
  stun::Builder builder(b, m.method, challenge ? stun::Class::error : stun::Class::success,
                        m.transaction_id);
  if (challenge) {
    builder.add_error_code(401, "Unauthorized")
        .add_string(stun::attr::kRealm, "test")
        .add_string(stun::attr::kNonce, "n0");
  } else if (m.method == stun::Method::allocate) {
    builder.add_xor_address(stun::attr::kXorRelayedAddress, kRelayed)
        .add_xor_address(stun::attr::kXorMappedAddress, kMapped)
        .add_lifetime(600)
        .add_integrity(key);
  } else {
    builder.add_xor_address(stun::attr::kXorMappedAddress, kMapped);
  }
  builder.add_fingerprint();
  b.resize(*builder.finish());
  return b;
}

TEST(Turn, AllocatesThroughTheOuterPortBesideStun) {
  RingGateways net("turn", false, kSmall);
  control::Gateway& a = net.gw(0);
  char* log_text = nullptr;
  std::size_t log_len = 0;
  FILE* log = open_memstream(&log_text, &log_len);
  a.control().set_log(log);
  a.control().stun().set_servers({kServer}, net.now());
  a.control().turn().configure({kServer, "user", "password"}, net.now());

  // The server on A's outer wire; only gateway A runs, so nothing else reads its TX ring.
  LanHost host;
  host.to_gw = net.wire_to(0);
  host.from_gw = net.wire_to(1);
  host.pool = a.dataplane().pool;
  host.mac = wire::MacAddr{{0x02, 0x99, 0, 0, 0, 0x78}};
  host.ip4 = kServer.addr;
  host.gw_mac = a.dataplane().addr.outer_mac;
  int allocates = 0;
  for (int i = 0; i < 300 && a.control().turn().client().state() != nat::TurnState::allocated;
       ++i) {
    net.poll_only(0, millis(10));
    host.service();
    for (const std::vector<std::uint8_t>& ip : std::exchange(host.received, {})) {
      const wire::FrameInfo f = wire::classify_ip(ip.data(), ip.size());
      ASSERT_TRUE(f.ok());
      EXPECT_EQ(f.src_port, 51820) << "STUN and TURN leave from the listen port";
      stun::Message m;
      ASSERT_EQ(stun::parse(ip.data() + f.payload_off, f.payload_len, m), stun::ParseError::none);
      if (m.method == stun::Method::allocate) ++allocates;
      ASSERT_TRUE(
          host.send_ip(udp_packet(kServer.addr, kGatewayA, kServer.port, 51820, answer(m))));
    }
  }
  for (int i = 0; i < 3; ++i) net.poll_only(0, millis(10));

  const nat::TurnClient& turn = a.control().turn().client();
  EXPECT_EQ(turn.state(), nat::TurnState::allocated);
  EXPECT_EQ(turn.allocation().relayed, kRelayed);
  EXPECT_EQ(allocates, 2);
  EXPECT_EQ(turn.stats().verdicts[static_cast<std::size_t>(nat::TurnVerdict::challenge)], 1u);
  EXPECT_EQ(turn.stats().verdicts[static_cast<std::size_t>(nat::TurnVerdict::none)], 1u);
  // The Binding answer from the same address went to the STUN client, not to TURN.
  EXPECT_EQ(a.control().stun().client().reflexive().address, kMapped);
  EXPECT_EQ(a.control().drops()[dataplane::Drop::control_rejected], 0u) << [&] {
    std::string v;
    for (std::size_t i = 0; i <= nat::kTurnVerdictCount; ++i) {
      v += " turn:" + std::to_string(turn.stats().verdicts[i]);
    }
    for (std::size_t i = 0; i <= nat::kStunVerdictCount; ++i) {
      v += " stun:" + std::to_string(a.control().stun().client().stats().verdicts[i]);
    }
    return v;
  }();
  a.control().set_log(nullptr);
  std::fclose(log);
  EXPECT_NE(std::string(log_text, log_len)
                .find("meshgate: TURN relayed address 198.51.100.78:49152 (server "
                      "198.51.100.78:3478, lifetime 600 s)"),
            std::string::npos)
      << std::string(log_text, log_len);
  std::free(log_text);
}

}  // namespace
}  // namespace meshgate::test
