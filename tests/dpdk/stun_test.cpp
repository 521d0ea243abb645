// STUN through the data path: gateway A's Binding request leaves its outer port from the listen
// port, a STUN server played by the test on the outer wire answers, the worker hands the answer
// to the control thread, and the STUN part learns the reflexive address from it. Answers that
// are not ours change nothing and are counted.
#include "meshgate/nat/stun.hpp"

#include <gtest/gtest.h>
#include <rte_ring.h>

#include <cstdio>
#include <optional>
#include <string>

#include "packets.hpp"
#include "ring_gateways.hpp"

namespace meshgate::test {
namespace {

namespace stun = nat::stun;

const Endpoint kServer = *Endpoint::parse("198.51.100.77:3478");  // on A's outer subnet
const Endpoint kMapped = *Endpoint::parse("203.0.113.50:60000");  // what the "NAT" made of A
const IpAddr kGatewayA = *IpAddr::parse("198.51.100.2");
// Small pools: the pools of every gateway a test binary makes live as long as its EAL.
const control::GatewayLimits kSmall{.max_peers = 16, .mbufs = 2047};

/// The STUN server on A's outer wire: a host that answers ARP for its address and collects what
/// A sends it. Only gateway A runs (poll_only), so nothing else reads A's outer TX ring.
struct WireServer {
  explicit WireServer(RingGateways& net) : net_(net) {
    control::Gateway& a = net.gw(0);
    host.to_gw = net.wire_to(0);
    host.from_gw = net.wire_to(1);
    host.pool = a.dataplane().pool;
    host.mac = wire::MacAddr{{0x02, 0x99, 0, 0, 0, 0x77}};
    host.ip4 = kServer.addr;
    host.gw_mac = a.dataplane().addr.outer_mac;
  }

  /// Steps A until it sends a STUN request here; returns it (its UDP header checked).
  std::optional<stun::TransactionId> next_request() {
    for (int i = 0; i < 300; ++i) {
      net_.poll_only(0, millis(10));
      host.service();
      if (host.received.empty()) continue;
      const std::vector<std::uint8_t> ip = host.received.front();
      host.received.erase(host.received.begin());
      const wire::FrameInfo f = wire::classify_ip(ip.data(), ip.size());
      EXPECT_TRUE(f.ok());
      EXPECT_EQ(f.src_addr(), kGatewayA);
      EXPECT_EQ(f.src_port, 51820) << "STUN leaves from the listen port";
      EXPECT_EQ(f.dst_port, kServer.port);
      stun::Message m;
      if (stun::parse(ip.data() + f.payload_off, f.payload_len, m) != stun::ParseError::none) {
        ADD_FAILURE() << "not a STUN message";
        return std::nullopt;
      }
      EXPECT_EQ(m.cls, stun::Class::request);
      EXPECT_EQ(stun::check_fingerprint(m), stun::AuthVerdict::none);
      return m.transaction_id;
    }
    return std::nullopt;
  }
  /// A UDP datagram from the server to A's listen port, on A's outer wire.
  void send(const std::vector<std::uint8_t>& payload) {
    ASSERT_TRUE(host.send_ip(udp_packet(kServer.addr, kGatewayA, kServer.port, 51820, payload)));
  }
  void send_answer(const stun::TransactionId& tid) {
    std::vector<std::uint8_t> b(128);
    stun::Builder builder(b, stun::Method::binding, stun::Class::success, tid);
    builder.add_xor_address(stun::attr::kXorMappedAddress, kMapped).add_fingerprint();
    b.resize(*builder.finish());
    send(b);
  }

  LanHost host;

 private:
  RingGateways& net_;
};

std::uint64_t verdicts(control::Gateway& g, nat::StunVerdict v) {
  return g.control().stun().client().stats().verdicts[static_cast<std::size_t>(v)];
}

std::uint64_t rejected(control::Gateway& g) {
  return g.control().drops()[dataplane::Drop::control_rejected];
}

TEST(Stun, AnswerOnTheOuterPortSetsTheReflexiveAddress) {
  RingGateways net("stun", false, kSmall);
  control::Gateway& a = net.gw(0);
  char* log_text = nullptr;
  std::size_t log_len = 0;
  FILE* log = open_memstream(&log_text, &log_len);
  a.control().set_log(log);
  a.control().stun().set_servers({kServer}, net.now());
  WireServer server(net);

  const auto tid = server.next_request();
  ASSERT_TRUE(tid) << "no STUN request reached the wire; not sent: "
                   << a.control().stun().stats().not_sent;
  EXPECT_FALSE(a.control().stun().client().reflexive().address.known());
  server.send_answer(*tid);
  for (int i = 0; i < 3; ++i) net.poll_only(0, millis(10));

  const nat::Reflexive& r = a.control().stun().client().reflexive();
  EXPECT_EQ(r.address, kMapped);
  EXPECT_EQ(r.server, kServer);
  EXPECT_EQ(verdicts(a, nat::StunVerdict::none), 1u);
  EXPECT_EQ(rejected(a), 0u);
  a.control().set_log(nullptr);
  std::fclose(log);
  EXPECT_NE(std::string(log_text, log_len)
                .find("meshgate: reflexive address 203.0.113.50:60000 (via server "
                      "198.51.100.77:3478)"),
            std::string::npos)
      << std::string(log_text, log_len);
  std::free(log_text);
}

TEST(Stun, WrongTransactionAndStrayChannelDataAreCountedAndChangeNothing) {
  RingGateways net("stunx", false, kSmall);
  control::Gateway& a = net.gw(0);
  LogCapture log(a);
  a.control().stun().set_servers({kServer}, net.now());
  WireServer server(net);
  const auto tid = server.next_request();
  ASSERT_TRUE(tid);

  stun::TransactionId wrong = *tid;
  wrong[11] ^= 0x80;
  server.send_answer(wrong);
  // TURN ChannelData on channel 0x4000 from a server that is not our TURN server (there is
  // none): the worker drops it under its own reason, the control thread never sees it.
  server.send({0x40, 0x00, 0x00, 0x04, 1, 2, 3, 4});
  for (int i = 0; i < 3; ++i) net.poll_only(0, millis(10));

  EXPECT_FALSE(a.control().stun().client().reflexive().address.known());
  EXPECT_EQ(verdicts(a, nat::StunVerdict::unknown_transaction), 1u);
  EXPECT_TRUE(log.has("dropped (unknown_transaction): ")) << log.text();  // never silent
  EXPECT_EQ(verdicts(a, nat::StunVerdict::none), 0u);
  EXPECT_EQ(rejected(a), 1u);  // the stray answer
  EXPECT_EQ(a.worker(0).drops()[dataplane::Drop::channel_data_unknown_source], 1u);
  EXPECT_EQ(a.worker(0).drops().total(), 1u);
  // The transaction is still open: the real answer is taken.
  server.send_answer(*tid);
  for (int i = 0; i < 3; ++i) net.poll_only(0, millis(10));
  EXPECT_EQ(a.control().stun().client().reflexive().address, kMapped);
}

}  // namespace
}  // namespace meshgate::test
