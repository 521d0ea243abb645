#include "meshgate/config/gateway_config.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "test_keys.hpp"

namespace meshgate::config {
namespace {

using test::expand;
using test::key;

IpAddr ip(const char* s) {
  return *IpAddr::parse(s);
}
Prefix pfx(const char* s) {
  return *Prefix::parse(s);
}
InterfaceAddress ifa(const char* s) {
  return *InterfaceAddress::parse(s);
}

const char* const kFull = R"(# Gateway A of the two-site demo.
[Interface]
PrivateKey = $K1
ListenPort = 51000
Address = 10.99.0.1/24
Address = fd99::1/64
MTU = 1400
FwMark = 0x20

[Peer]
# site B
PublicKey = $K2
PresharedKey = $K3
AllowedIPs = 10.1.0.0/16, 192.0.2.7
AllowedIPs = fd01::/48
Endpoint = 203.0.113.5:51820
PersistentKeepalive = 25

[Peer]
PublicKey = $K4
AllowedIPs = 10.2.0.0/16
Endpoint = [2001:db8::5]:4500

[Gateway]
InnerPort = 0
OuterPort = net_af_packet1
InnerAddress = 192.168.10.1/24
OuterAddress = 198.51.100.2/24, 2001:db8:1::2/64
OuterGateway = 198.51.100.1, 2001:db8:1::1
InnerGateway = 192.168.10.254
Workers = 2
IdleBackoff = yes
SpreadInbound = off
MssClamp = off
Profile = profiles/eal.profile
MetricsListen = [::1]:9586
StunServer = 203.0.113.1, 203.0.113.9:3479
StunServer = [2001:db8::3478]
)";

TEST(GatewayConfig, FullConfigParsesEveryField) {
  auto r = parse_config(expand(kFull), "/etc/meshgate/gw-a.conf");
  ASSERT_TRUE(r.ok()) << r.error();
  const GatewayConfig& c = *r;
  EXPECT_EQ(c.source, "/etc/meshgate/gw-a.conf");
  EXPECT_TRUE(c.warnings.empty());

  Key32 k1 = key(1);
  EXPECT_TRUE(
      c.interface.private_key.ct_equals(SecretKey::from(std::span<const std::uint8_t, 32>(k1))));
  EXPECT_EQ(c.interface.listen_port, 51000);
  EXPECT_EQ(c.interface.addresses,
            (std::vector<InterfaceAddress>{ifa("10.99.0.1/24"), ifa("fd99::1/64")}));
  EXPECT_EQ(c.interface.mtu, 1400u);
  EXPECT_EQ(c.interface.fwmark, 0x20u);

  ASSERT_EQ(c.peers.size(), 2u);
  const PeerConfig& b = c.peers[0];
  EXPECT_EQ(b.public_key, key(2));
  ASSERT_TRUE(b.preshared_key.has_value());
  Key32 k3 = key(3);
  EXPECT_TRUE(b.preshared_key->ct_equals(SecretKey::from(std::span<const std::uint8_t, 32>(k3))));
  EXPECT_EQ(b.allowed_ips,
            (std::vector<Prefix>{pfx("10.1.0.0/16"), pfx("192.0.2.7/32"), pfx("fd01::/48")}));
  ASSERT_TRUE(b.endpoint.has_value());
  EXPECT_EQ(b.endpoint->str(), "203.0.113.5:51820");
  EXPECT_EQ(b.endpoint_spec, "203.0.113.5:51820");
  EXPECT_EQ(b.persistent_keepalive, 25);
  EXPECT_EQ(b.line, 10u);

  const PeerConfig& d = c.peers[1];
  EXPECT_EQ(d.public_key, key(4));
  EXPECT_FALSE(d.preshared_key.has_value());
  EXPECT_EQ(d.allowed_ips, (std::vector<Prefix>{pfx("10.2.0.0/16")}));
  EXPECT_EQ(d.endpoint->str(), "[2001:db8::5]:4500");
  EXPECT_EQ(d.persistent_keepalive, 0);
  EXPECT_EQ(d.line, 19u);

  const GatewaySection& g = c.gateway;
  EXPECT_EQ(g.inner_port, "0");
  EXPECT_EQ(g.outer_port, "net_af_packet1");
  EXPECT_EQ(g.inner_addresses, (std::vector<InterfaceAddress>{ifa("192.168.10.1/24")}));
  EXPECT_EQ(g.outer_addresses,
            (std::vector<InterfaceAddress>{ifa("198.51.100.2/24"), ifa("2001:db8:1::2/64")}));
  EXPECT_EQ(g.outer_gateway_v4, ip("198.51.100.1"));
  EXPECT_EQ(g.outer_gateway_v6, ip("2001:db8:1::1"));
  EXPECT_EQ(g.inner_gateway_v4, ip("192.168.10.254"));
  EXPECT_FALSE(g.inner_gateway_v6.has_value());
  EXPECT_EQ(g.workers, 2u);
  EXPECT_EQ(g.idle_backoff, true);
  EXPECT_FALSE(g.spread_inbound);
  EXPECT_FALSE(g.mss_clamp);
  EXPECT_EQ(g.profile, "/etc/meshgate/profiles/eal.profile");
  EXPECT_EQ(g.metrics_listen, "[::1]:9586");
  // Repeated keys and comma lists add up, in file order; the port defaults to 3478.
  EXPECT_EQ(g.stun_servers, (std::vector<Endpoint>{*Endpoint::parse("203.0.113.1:3478"),
                                                   *Endpoint::parse("203.0.113.9:3479"),
                                                   *Endpoint::parse("[2001:db8::3478]:3478")}));
}

const char* const kMinimal = R"([Interface]
PrivateKey = $K1
[Gateway]
InnerAddress = 192.168.10.1/24
OuterAddress = 198.51.100.2/24
)";

TEST(GatewayConfig, VlanOfEachPort) {
  auto r =
      parse_config(expand(std::string(kMinimal) + "InnerVlan = 10\nOuterVlan = 4094\n"), "gw.conf");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->gateway.inner_vlan, 10u);
  EXPECT_EQ(r->gateway.outer_vlan, 4094u);
}

TEST(GatewayConfig, RoleOfAHighAvailabilityPair) {
  auto r = parse_config(expand(std::string(kMinimal) + "Role = standby\n"), "gw.conf");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->gateway.role, Role::standby);
  r = parse_config(expand(std::string(kMinimal) + "Role = active\n"), "gw.conf");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->gateway.role, Role::active);
}

TEST(GatewayConfig, DefaultsOfAMinimalConfig) {
  auto r = parse_config(expand(kMinimal), "gw.conf");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->interface.listen_port, kDefaultListenPort);
  EXPECT_EQ(r->interface.listen_port, 51820);
  EXPECT_EQ(r->interface.mtu, kDefaultMtu);
  EXPECT_EQ(r->interface.fwmark, 0u);
  EXPECT_TRUE(r->interface.addresses.empty());
  EXPECT_TRUE(r->peers.empty());
  EXPECT_FALSE(r->gateway.inner_port.has_value());
  EXPECT_FALSE(r->gateway.outer_port.has_value());
  EXPECT_FALSE(r->gateway.outer_gateway_v4.has_value());
  EXPECT_FALSE(r->gateway.workers.has_value());
  EXPECT_FALSE(r->gateway.idle_backoff.has_value());
  EXPECT_TRUE(r->gateway.spread_inbound);
  EXPECT_EQ(r->gateway.inner_vlan, 0u);  // untagged
  EXPECT_EQ(r->gateway.outer_vlan, 0u);
  EXPECT_TRUE(r->gateway.mss_clamp);  // on unless turned off
  EXPECT_FALSE(r->gateway.profile.has_value());
  EXPECT_FALSE(r->gateway.metrics_listen.has_value());
  EXPECT_TRUE(r->gateway.stun_servers.empty());
  EXPECT_FALSE(r->gateway.turn_server.has_value());
  EXPECT_TRUE(r->gateway.turn_user.empty());
  EXPECT_EQ(r->gateway.role, Role::active);  // a lone gateway is simply active
}

TEST(GatewayConfig, TurnServerAndCredentials) {
  auto r = parse_config(expand(std::string(kMinimal) + "TurnServer = 203.0.113.1\nTurnUser = user\n"
                                                       "TurnPassword = pass word:x\n"),
                        "gw.conf");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->gateway.turn_server, Endpoint::parse("203.0.113.1:3478"));
  EXPECT_EQ(r->gateway.turn_user, "user");
  EXPECT_EQ(r->gateway.turn_password, "pass word:x");
  auto v6 =
      parse_config(expand("[Interface]\nPrivateKey = $K1\n[Gateway]\n"
                          "InnerAddress = 192.168.10.1/24\nOuterAddress = 2001:db8::2/64\n"
                          "TurnServer = [2001:db8::9]:3479\nTurnUser = u\nTurnPassword = p\n"),
                   "gw.conf");
  ASSERT_TRUE(v6.ok()) << v6.error();
  EXPECT_EQ(v6->gateway.turn_server, Endpoint::parse("[2001:db8::9]:3479"));
}

TEST(GatewayConfig, LighthouseRolesAndPublicEndpoint) {
  auto r = parse_config(
      expand(std::string(kMinimal) + "Lighthouse = on\nPublicEndpoint = 198.51.100.7:51820\n"
                                     "[Peer]\nPublicKey = $K3\nEndpoint = 203.0.113.9:51820\n"
                                     "Lighthouse = yes\n[Peer]\nPublicKey = $K2\n"),
      "gw.conf");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(r->gateway.lighthouse);
  EXPECT_EQ(r->gateway.public_endpoint, Endpoint::parse("198.51.100.7:51820"));
  ASSERT_EQ(r->peers.size(), 2u);
  EXPECT_TRUE(r->peers[0].lighthouse);
  EXPECT_FALSE(r->peers[1].lighthouse);
}

TEST(GatewayConfig, WgQuickOnlyKeysAreAcceptedWithWarnings) {
  auto r = parse_config(expand(R"([Interface]
PrivateKey = $K1
DNS = 10.99.0.53, corp.example
Table = off
PreUp = echo up %i
PostUp = iptables -A FORWARD -i %i -j ACCEPT
PostUp = echo second
PreDown = true
PostDown = true
SaveConfig = true
[Gateway]
InnerAddress = 192.168.10.1/24
OuterAddress = 198.51.100.2/24
)"),
                        "gw.conf");
  ASSERT_TRUE(r.ok()) << r.error();
  std::vector<std::string> want;
  for (auto [line, key] : {std::pair{3, "DNS"},
                           {4, "Table"},
                           {5, "PreUp"},
                           {6, "PostUp"},
                           {7, "PostUp"},
                           {8, "PreDown"},
                           {9, "PostDown"},
                           {10, "SaveConfig"}}) {
    want.push_back("gw.conf:" + std::to_string(line) + ": " + key +
                   " is a wg-quick setting and is ignored by meshgate");
  }
  EXPECT_EQ(r->warnings, want);
}

TEST(GatewayConfig, SectionAndKeyNamesAreCaseInsensitive) {
  auto r = parse_config(expand(R"([INTERFACE]
privatekey = $K1
LISTENPORT = 7
mtu = 1300
[peer]
publickey = $K2
allowedips = 10.1.0.0/16
persistentkeepalive = off
[gateway]
innerADDRESS = 192.168.10.1/24
outeraddress = 198.51.100.2/24
idlebackoff = OFF
workers = 3
)"),
                        "gw.conf");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->interface.listen_port, 7);
  EXPECT_EQ(r->interface.mtu, 1300u);
  ASSERT_EQ(r->peers.size(), 1u);
  EXPECT_EQ(r->peers[0].public_key, key(2));
  EXPECT_EQ(r->peers[0].persistent_keepalive, 0);
  EXPECT_EQ(r->gateway.idle_backoff, false);
  EXPECT_EQ(r->gateway.workers, 3u);
}

TEST(GatewayConfig, CommentsBlankLinesAndWhitespace) {
  auto r = parse_config(expand("\n\n   # only a comment\n"
                               "[Interface]   # the interface\n"
                               "\tPrivateKey\t=\t$K1\t# trailing comment\r\n"
                               "\n"
                               "FwMark = off\n"
                               "[Peer]\n"
                               "PublicKey=$K2\n"
                               "AllowedIPs =10.1.0.0/16 ,  fd01::/48   \n"
                               "[Gateway]\n"
                               "InnerAddress = 192.168.10.1/24\n"
                               "OuterAddress = 198.51.100.2/24\n"),
                        "gw.conf");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->interface.fwmark, 0u);
  EXPECT_EQ(r->peers[0].allowed_ips, (std::vector<Prefix>{pfx("10.1.0.0/16"), pfx("fd01::/48")}));
  EXPECT_EQ(r->peers[0].line, 8u);
}

TEST(GatewayConfig, AllowedIPsAccumulateDeduplicateAndMaskHostBits) {
  auto r = parse_config(expand(R"([Interface]
PrivateKey = $K1
[Peer]
PublicKey = $K2
AllowedIPs = 10.1.0.0/16
AllowedIPs =
AllowedIPs = 10.2.3.4/16, 2001:db8::1
AllowedIPs = 10.1.0.0/16
[Gateway]
InnerAddress = 192.168.10.1/24
OuterAddress = 198.51.100.2/24
)"),
                        "gw.conf");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->peers[0].allowed_ips,
            (std::vector<Prefix>{pfx("10.1.0.0/16"), pfx("10.2.0.0/16"), pfx("2001:db8::1/128")}));
  EXPECT_EQ(r->warnings,
            (std::vector<std::string>{"gw.conf:7: AllowedIPs 10.2.3.4/16 has host bits set; using "
                                      "10.2.0.0/16"}));
}

TEST(GatewayConfig, EndpointHostNameIsResolvedAtLoad) {
  auto r = parse_config(expand(R"([Interface]
PrivateKey = $K1
[Peer]
PublicKey = $K2
Endpoint = localhost:51820
[Gateway]
InnerAddress = 192.168.10.1/24
OuterAddress = 198.51.100.2/24
)"),
                        "gw.conf");
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_TRUE(r->peers[0].endpoint.has_value());
  const Endpoint& e = *r->peers[0].endpoint;
  EXPECT_EQ(e.port, 51820);
  EXPECT_TRUE(e.addr == ip("127.0.0.1") || e.addr == ip("::1")) << e.str();
  EXPECT_EQ(r->peers[0].endpoint_spec, "localhost:51820");
}

TEST(GatewayConfig, RelativeProfileWithoutDirectoryStaysRelative) {
  std::string text = expand(kMinimal) + "Profile = eal.profile\n";
  auto r = parse_config(text, "gw.conf");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->gateway.profile, "eal.profile");
  auto abs = parse_config(expand(kMinimal) + "Profile = /srv/eal.profile\n", "/etc/mg/gw.conf");
  ASSERT_TRUE(abs.ok()) << abs.error();
  EXPECT_EQ(abs->gateway.profile, "/srv/eal.profile");
}

TEST(GatewayConfig, WgSetconfReparsesToTheSamePeers) {
  auto r = parse_config(expand(kFull), "gw.conf");
  ASSERT_TRUE(r.ok()) << r.error();
  const std::string setconf = to_wg_setconf(*r);
  EXPECT_EQ(setconf, expand(R"([Interface]
PrivateKey = $K1
ListenPort = 51000
FwMark = 0x20

[Peer]
PublicKey = $K2
PresharedKey = $K3
AllowedIPs = 10.1.0.0/16, 192.0.2.7/32, fd01::/48
Endpoint = 203.0.113.5:51820
PersistentKeepalive = 25

[Peer]
PublicKey = $K4
AllowedIPs = 10.2.0.0/16
Endpoint = [2001:db8::5]:4500
)"));
  // No [Gateway] in wg syntax: add one to satisfy meshgate's parser.
  auto back = parse_config(setconf +
                               "[Gateway]\nInnerAddress = 192.168.10.1/24\n"
                               "OuterAddress = 198.51.100.2/24\n",
                           "setconf");
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_TRUE(back->warnings.empty());
  EXPECT_TRUE(back->interface.private_key.ct_equals(r->interface.private_key));
  EXPECT_EQ(back->interface.listen_port, r->interface.listen_port);
  EXPECT_EQ(back->interface.fwmark, r->interface.fwmark);
  ASSERT_EQ(back->peers.size(), r->peers.size());
  for (std::size_t i = 0; i < r->peers.size(); ++i) {
    const PeerConfig& a = r->peers[i];
    const PeerConfig& b = back->peers[i];
    EXPECT_EQ(a.public_key, b.public_key);
    EXPECT_EQ(a.preshared_key.has_value(), b.preshared_key.has_value());
    if (a.preshared_key && b.preshared_key) {
      EXPECT_TRUE(a.preshared_key->ct_equals(*b.preshared_key));
    }
    EXPECT_EQ(a.allowed_ips, b.allowed_ips);
    EXPECT_EQ(a.endpoint, b.endpoint);
    EXPECT_EQ(a.persistent_keepalive, b.persistent_keepalive);
  }
}

TEST(GatewayConfig, LoadConfigReadsAFile) {
  std::string path = ::testing::TempDir() + "meshgate-config-test.conf";
  {
    std::ofstream f(path);
    f << expand(kMinimal);
  }
  auto r = load_config(path);
  std::remove(path.c_str());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->source, path);
  auto missing = load_config("/nonexistent-dir/gw.conf");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error(), "/nonexistent-dir/gw.conf: cannot read: No such file or directory");
}

}  // namespace
}  // namespace meshgate::config
