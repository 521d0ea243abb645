// HA state sync (ha_sync.hpp) between real gateways over real TCP on loopback: site A's active
// gateway and its standby twin (the same private key, its own ports), site B beside them. What
// an operator changes with `wg` on the active, and the endpoints it learns, reach the standby;
// a standby made active keeps its own state; a partner with another key writes nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include "meshgate/control/gateway.hpp"
#include "meshgate/dpdk/ring_port.hpp"
#include "ring_gateways.hpp"

namespace meshgate::test {
namespace {

std::uint16_t free_tcp_port() {
  // A port the kernel would hand out, released at once: tests running side by side differ.
  auto fd = control::listen_tcp("127.0.0.1:0");
  EXPECT_TRUE(fd) << fd.error();
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(*fd, reinterpret_cast<sockaddr*>(&ss), &len);
  ::close(*fd);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

Key32 key_of(std::uint8_t b) {
  SecretKey k;
  std::fill(k.data(), k.data() + k.size(), b);
  return crypto::x25519_public(k);
}

/// The public key of peer number `i` of many.
Key32 numbered_key(unsigned i) {
  SecretKey k;
  std::fill(k.data(), k.data() + k.size(), std::uint8_t{0x5A});
  k.data()[1] = static_cast<std::uint8_t>(i);  // not byte 0, whose low bits X25519 clears
  k.data()[2] = static_cast<std::uint8_t>(i >> 8);
  return crypto::x25519_public(k);
}

/// Site A's second server: gateway 0's private key and peer B, standby, on ring ports of its
/// own, accepting the sync on a free port of 127.0.0.1 (address()). Its file differs from the
/// active's as a stale copy would: B at an old endpoint, with the Lighthouse flag (a key of the
/// file only; the sync must keep it), and a peer the active no longer has.
class Twin {
 public:
  Twin(const std::string& tag, RingGateways& net, std::uint32_t max_peers = 64)
      : port_(free_tcp_port()) {
    for (int i = 0; i < 2; ++i) {
      rings_[i] = *dpdk::make_ring(tag + "r" + std::to_string(i), 1024);
      ports_[i] = *dpdk::make_ring_port(tag + "p" + std::to_string(i), rings_[i], 1, rings_[i], 2);
    }
    const std::string text =
        "[Interface]\nPrivateKey = " + to_base64(net.private_key(0).span()) +
        "\nListenPort = 51820\n[Peer]\nPublicKey = " +
        to_base64(as_bytes(crypto::x25519_public(net.private_key(1)))) +
        "\nAllowedIPs = 10.2.0.0/24\nEndpoint = 192.0.2.1:51820\nLighthouse = on\n"
        "[Peer]\nPublicKey = " +
        to_base64(as_bytes(key_of(9))) +
        "\nAllowedIPs = 10.9.0.0/24\n[Gateway]\nInnerPort = " + std::to_string(ports_[0]) +
        "\nOuterPort = " + std::to_string(ports_[1]) +
        "\nInnerAddress = 10.1.0.1/24\nOuterAddress = 198.51.100.2/24\nWorkers = 1\n"
        "Role = standby\nSyncListen = 127.0.0.1:" +
        std::to_string(port_) + "\n";
    auto cfg = config::parse_config(text, "twin.conf");
    EXPECT_TRUE(cfg) << cfg.error();
    auto settings = config::merge_gateway_settings(*cfg, config::EalProfile{});
    auto gw = control::Gateway::create(tag + "g", *cfg, *settings,
                                       {.max_peers = max_peers, .mbufs = 2047});
    EXPECT_TRUE(gw) << gw.error();
    gw_ = std::move(*gw);
    const Status st = gw_->open_sync(cfg->gateway.sync_listen, std::nullopt);
    EXPECT_TRUE(st) << st.error();
  }
  control::Gateway& gw() { return *gw_; }
  /// Where it accepts the sync: a partner's SyncPeer.
  Endpoint address() const { return *Endpoint::parse("127.0.0.1:" + std::to_string(port_)); }
  /// The twin's view of a peer: its endpoint and allowed IPs as `wg show` would print them.
  std::string peer(const Key32& key) {
    auto id = gw_->control().peers().find(key);
    if (!id) return "absent";
    std::string s = gw_->control().peers().find(*id)->settings.endpoint.str();
    for (const std::string& a : gw_->control().config().allowed_ips(*id)) s += " " + a;
    return s;
  }

 private:
  std::uint16_t port_;
  rte_ring* rings_[2] = {};
  std::uint16_t ports_[2] = {};
  std::unique_ptr<control::Gateway> gw_;
};

/// Steps the pair and the twin (and the kernel's loopback TCP between them) until `done`.
template <class F>
bool run_until(RingGateways& net, Twin& twin, F done, int steps = 3000) {
  for (int i = 0; i < steps && !done(); ++i) {
    net.poll(millis(2));
    twin.gw().poll(net.now(), net.wall());
    if (i % 16 == 0) ::usleep(200);  // let loopback TCP deliver between steps
  }
  return done();
}

TEST(HaSync, WhatTheActiveLearnsAndWhatWgChangesReachTheStandby) {
  RingGateways net("hsync");
  Twin twin("hsynct", net);
  LogCapture twin_log(twin.gw());
  ASSERT_TRUE(net.gw(0).open_sync(std::nullopt, twin.address()));
  const Key32 b = crypto::x25519_public(net.private_key(1));

  // The full state on connecting: the standby learns B's endpoint as the active has it, keeps
  // B's Lighthouse flag, and drops the peer the active does not have.
  ASSERT_TRUE(run_until(net, twin, [&] {
    return twin.peer(b) == "198.51.100.3:51820 10.2.0.0/24 fd02::/64";
  })) << twin.peer(b);
  EXPECT_EQ(net.gw(0).sync()->stats().connections, 1u);
  ASSERT_TRUE(run_until(net, twin, [&] { return twin.peer(key_of(9)) == "absent"; }));
  const control::Peers& twin_peers = twin.gw().control().peers();
  EXPECT_TRUE(twin_peers.find(*twin_peers.find(b))->settings.lighthouse);
  EXPECT_TRUE(twin_log.has("ha sync: 1 peer(s) the active partner does not have removed"))
      << twin_log.text();

  // `wg set` on the active: a new peer with a PSK, and B's endpoint as roaming would move it.
  control::PeerConfig& cfg = net.gw(0).control().config();
  control::PeerSettings c;
  c.public_key = key_of(3);
  c.endpoint = *Endpoint::parse("203.0.113.9:51820");
  c.allowed_ips = {*Prefix::parse("10.3.0.0/24")};
  ASSERT_TRUE(cfg.add_peer(c, net.now()));
  const control::PeerId b_id = *net.gw(0).control().peers().find(b);
  cfg.set_endpoint(b_id, *Endpoint::parse("198.51.100.77:40000"), net.now());
  ASSERT_TRUE(run_until(net, twin,
                        [&] {
                          return twin.peer(c.public_key) == "203.0.113.9:51820 10.3.0.0/24" &&
                                 twin.peer(b) == "198.51.100.77:40000 10.2.0.0/24 fd02::/64";
                        }))
      << twin.peer(c.public_key) << " / " << twin.peer(b);
  EXPECT_TRUE(twin_log.has("ha sync: 2 peer change(s) from the active partner")) << twin_log.text();

  // Removed on the active: removed on the standby.
  cfg.remove_peer(*net.gw(0).control().peers().find(c.public_key));
  ASSERT_TRUE(run_until(net, twin, [&] { return twin.peer(c.public_key) == "absent"; }));

  // Made active itself (both active for a moment), the twin keeps its own tables.
  twin.gw().control().set_role(config::Role::active, net.now(), net.wall());
  cfg.set_endpoint(b_id, *Endpoint::parse("198.51.100.78:40000"), net.now());
  ASSERT_TRUE(run_until(net, twin, [&] { return twin.gw().sync()->stats().frames_ignored > 0; }));
  EXPECT_EQ(twin.peer(b), "198.51.100.77:40000 10.2.0.0/24 fd02::/64");

  // The active made standby stops sending: the twin's listener sees the connection end.
  net.gw(0).control().set_role(config::Role::standby, net.now(), net.wall());
  LogCapture a_log(net.gw(0));
  net.poll(millis(20));
  EXPECT_TRUE(a_log.has("closed: this gateway is standby")) << a_log.text();
}

// Many peers: the active goes through them a slice a poll (kPassSlice), the full state and each
// later pass alike. The standby ends with every one of them and without the peer only its stale
// file had, and a roam of a peer in the last slice reaches it.
TEST(HaSync, AManyPeerStateReachesTheStandbyASliceAPoll) {
  RingGateways net("hsyncm");
  Twin twin("hsyncmt", net, 1024);
  constexpr unsigned kPeers = 3 * control::ha_sync::kPassSlice + 10;  // four slices, and B
  control::PeerConfig& cfg = net.gw(0).control().config();
  auto endpoint = [](unsigned i) {
    return "203.0.113." + std::to_string(i % 250 + 1) + ":" + std::to_string(40000 + i);
  };
  auto prefix = [](unsigned i) {
    return "10." + std::to_string(100 + i / 256) + "." + std::to_string(i % 256) + ".0/24";
  };
  for (unsigned i = 0; i < kPeers; ++i) {
    control::PeerSettings c;
    c.public_key = numbered_key(i);
    c.endpoint = *Endpoint::parse(endpoint(i));
    c.allowed_ips = {*Prefix::parse(prefix(i))};
    const auto added = cfg.add_peer(c, net.now());
    ASSERT_TRUE(added) << "peer " << i << ": " << added.error();
  }
  ASSERT_TRUE(net.gw(0).open_sync(std::nullopt, twin.address()));
  const control::Peers& twin_peers = twin.gw().control().peers();
  ASSERT_TRUE(run_until(
      net, twin,
      [&] { return twin_peers.ids().size() == kPeers + 1 && twin.peer(key_of(9)) == "absent"; }))
      << twin_peers.ids().size() << " peers on the standby";
  for (unsigned i = 0; i < kPeers; ++i) {
    ASSERT_EQ(twin.peer(numbered_key(i)), endpoint(i) + " " + prefix(i)) << "peer " << i;
  }
  const Key32 last = numbered_key(kPeers - 1);
  cfg.set_endpoint(*net.gw(0).control().peers().find(last), *Endpoint::parse("192.0.2.200:1"),
                   net.now());
  const std::string roamed = "192.0.2.200:1 " + prefix(kPeers - 1);
  ASSERT_TRUE(run_until(net, twin, [&] { return twin.peer(last) == roamed; })) << twin.peer(last);
  EXPECT_EQ(twin_peers.ids().size(), kPeers + 1);
}

TEST(HaSync, APartnerWithAnotherPrivateKeyWritesNothing) {
  RingGateways net("hsyncx");
  Twin twin("hsyncxt", net);
  LogCapture twin_log(twin.gw());
  // Site B's gateway, not A's twin, sends to the standby: its frames fail their check.
  ASSERT_TRUE(net.gw(1).open_sync(std::nullopt, twin.address()));
  const Key32 b = crypto::x25519_public(net.private_key(1));
  ASSERT_TRUE(run_until(net, twin, [&] { return twin.gw().sync()->stats().refused > 0; }));
  EXPECT_EQ(twin.gw().sync()->stats().frames_applied, 0u);
  EXPECT_EQ(twin.peer(b), "192.0.2.1:51820 10.2.0.0/24");  // as its config has it
  EXPECT_EQ(twin.peer(key_of(9)), "(none) 10.9.0.0/24");
  EXPECT_TRUE(twin_log.has("ha sync: connection closed after a frame that failed its check"))
      << twin_log.text();
}

}  // namespace
}  // namespace meshgate::test
