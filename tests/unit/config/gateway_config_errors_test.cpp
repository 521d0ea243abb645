// Every class of config error, with its exact message and line. Texts use $K<n> for test keys
// and $PUB1 for the public key of $K1 (see test_keys.hpp).
#include <gtest/gtest.h>

#include "meshgate/config/gateway_config.hpp"
#include "test_keys.hpp"

namespace meshgate::config {
namespace {

using test::expand;

// Lines 1-5; cases append from line 6 on.
const char* const kBase = R"([Interface]
PrivateKey = $K1
[Gateway]
InnerAddress = 192.168.10.1/24
OuterAddress = 198.51.100.2/24
)";

struct Case {
  const char* name;
  std::string text;   // before expand()
  std::string error;  // after expand()
};

std::string base(const char* more) {
  return std::string(kBase) + more;
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      // Structure.
      {"unknown section", base("[Bogus]\n"), "t.conf:6: unknown section [Bogus]"},
      {"two [Interface]", base("[Interface]\nListenPrt = 1\n"),
       "t.conf:6: duplicate [Interface] section (first at line 1)"},
      {"unknown key in section", "[Interface]\nListenPrt = 1\n",
       "t.conf:2: unknown key 'ListenPrt' in [Interface]"},
      {"gateway key in peer", base("[Peer]\nPublicKey = $K2\nWorkers = 2\n"),
       "t.conf:8: unknown key 'Workers' in [Peer]"},
      {"key outside a section", "# header comment\nPrivateKey = $K1\n[Interface]\n",
       "t.conf:2: key 'PrivateKey' is outside any section"},
      {"malformed line", base("[Peer]\nPublicKey $K2\n"),
       "t.conf:7: malformed line 'PublicKey $K2': expected Key = Value"},
      {"malformed header", base("[Peer\n"), "t.conf:6: malformed section header '[Peer'"},
      {"two [Gateway]", base("[Gateway]\n"),
       "t.conf:6: [Gateway] may appear only once (first at line 3)"},
      {"single-valued key twice", base("Workers = 1\nWorkers = 2\n"),
       "t.conf:7: Workers is given twice in [Gateway] (first at line 6)"},
      {"empty required value", "[Interface]\nPrivateKey =\n",
       "t.conf:2: PrivateKey has an empty value"},
      {"empty port", base("InnerPort = \n"), "t.conf:6: InnerPort has an empty value"},
      // Whole-file problems.
      {"missing [Interface]", "[Gateway]\nInnerAddress = 192.168.10.1/24\n",
       "t.conf: missing [Interface] section"},
      {"missing PrivateKey", "[Interface]\nListenPort = 1\n",
       "t.conf: [Interface] has no PrivateKey"},
      {"missing [Gateway]", "[Interface]\nPrivateKey = $K1\n", "t.conf: missing [Gateway] section"},
      {"missing InnerAddress", "[Interface]\nPrivateKey = $K1\n[Gateway]\nWorkers = 1\n",
       "t.conf: [Gateway] has no InnerAddress"},
      {"missing OuterAddress",
       "[Interface]\nPrivateKey = $K1\n[Gateway]\nInnerAddress = 192.168.10.1/24\n",
       "t.conf: [Gateway] has no OuterAddress"},
      // Keys.
      {"bad private key", "[Interface]\nPrivateKey = c2VjcmV0\n",
       "t.conf:2: invalid PrivateKey: not a base64-encoded 32-byte key (the value is secret and "
       "not shown)"},
      {"bad public key (16 bytes)", base("[Peer]\nPublicKey = AAAAAAAAAAAAAAAAAAAAAA==\n"),
       "t.conf:7: invalid PublicKey 'AAAAAAAAAAAAAAAAAAAAAA==': not a base64-encoded 32-byte key"},
      {"bad preshared key", base("[Peer]\nPublicKey = $K2\nPresharedKey = nope\n"),
       "t.conf:8: invalid PresharedKey: not a base64-encoded 32-byte key (the value is secret "
       "and not shown)"},
      {"peer without PublicKey", base("[Peer]\nAllowedIPs = 10.1.0.0/16\n"),
       "t.conf:6: [Peer] has no PublicKey"},
      {"duplicate peer key", base("[Peer]\nPublicKey = $K2\n\n[Peer]\nPublicKey = $K2\n"),
       "t.conf:10: duplicate peer PublicKey '$K2' (first at line 7)"},
      {"peer is ourselves", base("[Peer]\nPublicKey = $PUB1\n"),
       "t.conf:7: peer PublicKey '$PUB1' is the interface's own public key"},
      // Numbers.
      {"ListenPort not a number", "[Interface]\nListenPort = 51k\n",
       "t.conf:2: invalid ListenPort '51k': not a number"},
      {"ListenPort out of range", "[Interface]\nListenPort = 65536\n",
       "t.conf:2: invalid ListenPort '65536': out of range 0..65535"},
      {"ListenPort negative", "[Interface]\nListenPort = -1\n",
       "t.conf:2: invalid ListenPort '-1': not a number"},
      {"MTU too small", "[Interface]\nMTU = 575\n",
       "t.conf:2: invalid MTU '575': out of range 576..9000"},
      {"MTU too big", "[Interface]\nMTU = 9001\n",
       "t.conf:2: invalid MTU '9001': out of range 576..9000"},
      {"MTU below the IPv6 minimum",
       "[Interface]\nPrivateKey = $K1\nAddress = 10.99.0.1/24, fd99::1/64\nMTU = 1000\n"
       "[Gateway]\nInnerAddress = 192.168.10.1/24\nOuterAddress = 198.51.100.2/24\n",
       "t.conf:4: invalid MTU '1000': below 1280, the IPv6 minimum (RFC 8200 section 5), and "
       "Address has IPv6 address fd99::1/64"},
      {"FwMark bad hex", "[Interface]\nFwMark = 0xZZ\n",
       "t.conf:2: invalid FwMark '0xZZ': not a number"},
      {"FwMark too big", "[Interface]\nFwMark = 0x100000000\n",
       "t.conf:2: invalid FwMark '0x100000000': out of range 0..4294967295"},
      {"PersistentKeepalive out of range", base("[Peer]\nPersistentKeepalive = 65536\n"),
       "t.conf:7: invalid PersistentKeepalive '65536': out of range 0..65535"},
      {"Workers zero", base("Workers = 0\n"), "t.conf:6: invalid Workers '0': out of range 1..128"},
      {"MetricsListen host name", base("MetricsListen = localhost:9586\n"),
       "t.conf:6: invalid MetricsListen 'localhost:9586': expected a numeric address:port or "
       "[v6]:port, e.g. 127.0.0.1:9586"},
      {"MetricsListen without port", base("MetricsListen = 127.0.0.1\n"),
       "t.conf:6: invalid MetricsListen '127.0.0.1': expected a numeric address:port or "
       "[v6]:port, e.g. 127.0.0.1:9586"},
      {"StunServer host name", base("StunServer = stun.example.net:3478\n"),
       "t.conf:6: invalid StunServer 'stun.example.net:3478': expected an IP address with an "
       "optional port, e.g. 192.0.2.1, 192.0.2.1:3478 or [2001:db8::1]:3478 (no host names)"},
      {"StunServer port zero", base("StunServer = 203.0.113.1:0\n"),
       "t.conf:6: invalid StunServer '203.0.113.1:0': expected an IP address with an optional "
       "port, e.g. 192.0.2.1, 192.0.2.1:3478 or [2001:db8::1]:3478 (no host names)"},
      {"StunServer v6 without brackets and port", base("StunServer = 2001:db8::1:3478:x\n"),
       "t.conf:6: invalid StunServer '2001:db8::1:3478:x': expected an IP address with an "
       "optional port, e.g. 192.0.2.1, 192.0.2.1:3478 or [2001:db8::1]:3478 (no host names)"},
      {"StunServer twice", base("StunServer = 203.0.113.1\nStunServer = 203.0.113.1:3478\n"),
       "t.conf:7: invalid StunServer '203.0.113.1:3478': this STUN server is already listed"},
      {"StunServer of a family without OuterAddress",
       base("StunServer = 203.0.113.1\nStunServer = [2001:db8::1]:3478\n"),
       "t.conf:7: StunServer [2001:db8::1]:3478 is IPv6 and no OuterAddress is"},
      {"TurnServer host name", base("TurnServer = turn.example.net\n"),
       "t.conf:6: invalid TurnServer 'turn.example.net': expected an IP address with an optional "
       "port, e.g. 192.0.2.1, 192.0.2.1:3478 or [2001:db8::1]:3478 (no host names)"},
      {"TurnServer list", base("TurnServer = 203.0.113.1, 203.0.113.2\n"),
       "t.conf:6: invalid TurnServer '203.0.113.1, 203.0.113.2': expected an IP address with an "
       "optional port, e.g. 192.0.2.1, 192.0.2.1:3478 or [2001:db8::1]:3478 (no host names)"},
      {"Lighthouse peer without an endpoint",
       base("[Peer]\nPublicKey = $K2\nAllowedIPs = 10.9.0.0/24\nLighthouse = on\n"),
       "t.conf:6: [Peer] with Lighthouse = on needs an Endpoint"},
      {"PublicEndpoint without a port", base("PublicEndpoint = 198.51.100.7\n"),
       "t.conf:6: invalid PublicEndpoint '198.51.100.7': expected a numeric address:port or "
       "[v6]:port, e.g. 198.51.100.7:51820"},
      {"SyncListen with a host name", base("SyncListen = mgmt-a:51821\n"),
       "t.conf:6: invalid SyncListen 'mgmt-a:51821': expected a numeric address:port or "
       "[v6]:port, e.g. 192.0.2.11:51821"},
      {"SyncPeer without a port", base("SyncPeer = 192.0.2.12\n"),
       "t.conf:6: invalid SyncPeer '192.0.2.12': expected a numeric address:port or [v6]:port, "
       "e.g. 192.0.2.12:51821"},
      {"SyncPeer twice", base("SyncPeer = 192.0.2.12:51821\nSyncPeer = 192.0.2.13:51821\n"),
       "t.conf:7: SyncPeer is given twice in [Gateway] (first at line 6)"},
      {"TurnServer twice", base("TurnServer = 203.0.113.1\nTurnServer = 203.0.113.2\n"),
       "t.conf:7: TurnServer is given twice in [Gateway] (first at line 6)"},
      {"TurnServer without credentials", base("TurnServer = 203.0.113.1\n"),
       "t.conf:6: TurnServer 203.0.113.1:3478 needs TurnUser and TurnPassword (long-term "
       "credentials)"},
      {"TurnServer without password", base("TurnUser = user\nTurnServer = 203.0.113.1:3479\n"),
       "t.conf:7: TurnServer 203.0.113.1:3479 needs TurnUser and TurnPassword (long-term "
       "credentials)"},
      {"TurnUser without TurnServer", base("TurnUser = user\n"),
       "t.conf:6: TurnUser without TurnServer"},
      {"TurnPassword without TurnServer", base("TurnPassword = secret\n"),
       "t.conf:6: TurnPassword without TurnServer"},
      {"TurnServer of a family without OuterAddress",
       base("TurnServer = [2001:db8::1]\nTurnUser = u\nTurnPassword = p\n"),
       "t.conf:6: TurnServer [2001:db8::1]:3478 is IPv6 and no OuterAddress is"},
      {"Workers too many", base("Workers = 129\n"),
       "t.conf:6: invalid Workers '129': out of range 1..128"},
      {"InnerVlan zero", base("InnerVlan = 0\n"),
       "t.conf:6: invalid InnerVlan '0': out of range 1..4094"},
      {"OuterVlan reserved", base("OuterVlan = 4095\n"),
       "t.conf:6: invalid OuterVlan '4095': out of range 1..4094"},
      {"Role of keepalived's words", base("Role = master\n"),
       "t.conf:6: invalid Role 'master': expected active or standby"},
      {"Mbufs too few", base("Mbufs = 100\n"),
       "t.conf:6: invalid Mbufs '100': out of range 1023..16777216"},
      {"Mbufs not a number", base("Mbufs = many\n"),
       "t.conf:6: invalid Mbufs 'many': not a number"},
      {"IdleBackoff not a flag", base("IdleBackoff = sometimes\n"),
       "t.conf:6: invalid IdleBackoff 'sometimes': expected on/off, true/false or yes/no"},
      {"SpreadInbound not a flag", base("SpreadInbound = 2\n"),
       "t.conf:6: invalid SpreadInbound '2': expected on/off, true/false or yes/no"},
      {"MssClamp not a flag", base("MssClamp = 1380\n"),
       "t.conf:6: invalid MssClamp '1380': expected on/off, true/false or yes/no"},
      {"MssClamp twice", base("MssClamp = on\nMssClamp = off\n"),
       "t.conf:7: MssClamp is given twice in [Gateway] (first at line 6)"},
      {"port id out of range", base("OuterPort = 65536\n"),
       "t.conf:6: invalid OuterPort '65536': out of range 0..65535"},
      {"port name with a space", base("OuterPort = net af\n"),
       "t.conf:6: invalid OuterPort 'net af': not a DPDK port id or device name"},
      // Prefixes and addresses.
      {"prefix too long", base("[Peer]\nPublicKey = $K2\nAllowedIPs = 10.0.0.0/33\n"),
       "t.conf:8: invalid AllowedIPs '10.0.0.0/33': not an IP prefix"},
      {"prefix not an address", base("[Peer]\nPublicKey = $K2\nAllowedIPs = 10.1.0.0/16, lan\n"),
       "t.conf:8: invalid AllowedIPs 'lan': not an IP prefix"},
      {"empty list element", base("[Peer]\nAllowedIPs = 10.1.0.0/16,,10.2.0.0/16\n"),
       "t.conf:7: invalid AllowedIPs '10.1.0.0/16,,10.2.0.0/16': empty list element"},
      {"prefix in two peers",
       base("[Peer]\nPublicKey = $K2\nAllowedIPs = 10.1.0.0/16\n[Peer]\nPublicKey = $K3\n"
            "AllowedIPs = 10.2.0.0/16, 10.1.0.5/16\n"),
       "t.conf:11: AllowedIPs 10.1.0.0/16 is already routed to the peer at line 6 (line 8); "
       "WireGuard would silently move it to this peer, meshgate refuses the config"},
      {"bad Address", "[Interface]\nAddress = 10.99.0.1/24, 10.99.0.300\n",
       "t.conf:2: invalid Address '10.99.0.300': not an address with optional /prefix-length"},
      {"bad InnerAddress", base("InnerAddress = 192.168.20.1/\n"),
       "t.conf:6: invalid InnerAddress '192.168.20.1/': not an address with optional "
       "/prefix-length"},
      {"two IPv4 OuterGateway", base("OuterGateway = 198.51.100.1, 198.51.100.254\n"),
       "t.conf:6: invalid OuterGateway '198.51.100.1, 198.51.100.254': two IPv4 next hops; at "
       "most one per family"},
      {"OuterGateway not an address", base("OuterGateway = router\n"),
       "t.conf:6: invalid OuterGateway 'router': not an IP address"},
      {"OuterGateway off-link", base("OuterGateway = 203.0.113.1\n"),
       "t.conf:6: OuterGateway 203.0.113.1 is not inside any OuterAddress subnet"},
      {"InnerGateway of a family without InnerAddress", base("InnerGateway = fd00::1\n"),
       "t.conf:6: InnerGateway fd00::1 is not inside any InnerAddress subnet"},
      // Endpoints.
      {"endpoint without port", base("[Peer]\nPublicKey = $K2\nEndpoint = 203.0.113.5\n"),
       "t.conf:8: invalid Endpoint '203.0.113.5': expected host:port or [v6]:port"},
      {"v6 endpoint without brackets", base("[Peer]\nEndpoint = 2001:db8::5:51820\n"),
       "t.conf:7: invalid Endpoint '2001:db8::5:51820': expected host:port or [v6]:port"},
      {"endpoint port 0", base("[Peer]\nEndpoint = 203.0.113.5:0\n"),
       "t.conf:7: invalid Endpoint '203.0.113.5:0': port must be 1..65535"},
      {"endpoint port too big", base("[Peer]\nEndpoint = 203.0.113.5:65536\n"),
       "t.conf:7: invalid Endpoint '203.0.113.5:65536': port must be 1..65535"},
      {"bracketed endpoint without port", base("[Peer]\nEndpoint = [2001:db8::5]\n"),
       "t.conf:7: invalid Endpoint '[2001:db8::5]': expected host:port or [v6]:port"},
  };
  return all;
}

TEST(GatewayConfigErrors, ExactMessageAndLine) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    auto r = parse_config(expand(c.text), "t.conf");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), expand(c.error));
  }
}

TEST(GatewayConfigErrors, UnresolvableEndpointNamesTheHost) {
  auto r = parse_config(expand(base("[Peer]\nPublicKey = $K2\nEndpoint = nosuch.invalid:51820\n")),
                        "t.conf");
  ASSERT_FALSE(r.ok());
  const std::string want =
      "t.conf:8: cannot resolve Endpoint 'nosuch.invalid:51820': host "
      "'nosuch.invalid': ";
  EXPECT_EQ(r.error().substr(0, want.size()), want) << r.error();
  EXPECT_GT(r.error().size(), want.size());  // and the resolver's reason
}

TEST(GatewayConfigErrors, PrivateKeyNeverAppearsInMessages) {
  // Nearly a key (one character short): the message must not echo it.
  std::string almost = test::key_b64(9).substr(1);
  auto r = parse_config("[Interface]\nPrivateKey = " + almost + "\n", "t.conf");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().find(almost), std::string::npos);
}

}  // namespace
}  // namespace meshgate::config
