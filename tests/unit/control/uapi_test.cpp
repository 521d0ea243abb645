// The UAPI protocol (protocol.md 9) against a fake device: framing, get replies, every
// set key `wg` sends, and the error rules, line by line.
#include "meshgate/control/uapi.hpp"

#include <gtest/gtest.h>

#include "fake_device.hpp"

namespace meshgate::control::uapi {
namespace {

Key32 key(std::uint8_t b) {
  Key32 k;
  k.fill(b);
  return k;
}
std::string hex(std::uint8_t b) {
  return to_hex(as_bytes(key(b)));
}

/// Sends `request` on a fresh connection; returns the reply. `open` tells whether it stayed open.
std::string talk(FakeDevice& dev, std::string_view request, bool* open = nullptr) {
  Connection c(dev);
  std::string out;
  const bool o = c.feed(request, out);
  if (open != nullptr) *open = o;
  return out;
}

TEST(UapiGet, FormatsInterfaceThenPeersThenErrno) {
  FakeDevice dev;
  SecretKey k;
  k.data()[0] = 0x40;
  dev.private_key = k;
  dev.mark = 7;
  FakePeer& p = dev.peers[key(0xab)];
  p.endpoint = *Endpoint::parse("[2001:db8::7]:51820");
  p.keepalive = 25;
  p.allowed = {"10.9.0.2/32", "fd00::/64"};
  const std::string want = "private_key=40" + std::string(62, '0') +
                           "\nlisten_port=51820\nfwmark=7\n" + "public_key=" + hex(0xab) +
                           "\npreshared_key=" + std::string(64, '0') +
                           "\nprotocol_version=1\nendpoint=[2001:db8::7]:51820\n"
                           "last_handshake_time_sec=1700000000\nlast_handshake_time_nsec=5\n"
                           "tx_bytes=200\nrx_bytes=100\npersistent_keepalive_interval=25\n"
                           "allowed_ip=10.9.0.2/32\nallowed_ip=fd00::/64\nerrno=0\n\n";
  EXPECT_EQ(talk(dev, "get=1\n\n"), want);
}

TEST(UapiGet, LeavesOutWhatIsUnset) {
  FakeDevice dev;
  dev.peers[key(1)];
  const std::string r = talk(dev, "get=1\n\n");
  EXPECT_EQ(r.find("private_key="), std::string::npos);
  EXPECT_EQ(r.find("fwmark="), std::string::npos);
  EXPECT_EQ(r.find("endpoint="), std::string::npos);
  EXPECT_NE(r.find("public_key=" + hex(1)), std::string::npos);
  EXPECT_TRUE(r.ends_with("errno=0\n\n"));
}

TEST(UapiGet, TrailingLineIsAPositiveErrno) {
  FakeDevice dev;
  EXPECT_EQ(talk(dev, "get=1\nfoo=bar\n\n"), "errno=22\n\n");
}

TEST(UapiSet, WgSetconfSequence) {
  FakeDevice dev;
  dev.peers[key(9)];  // replaced
  const std::string req =
      "set=1\nprivate_key=" + hex(0x11) + "\nlisten_port=4000\nfwmark=0\n" +
      "replace_peers=true\npublic_key=" + hex(2) + "\npreshared_key=" + hex(3) +
      "\nendpoint=192.0.2.1:51820\npersistent_keepalive_interval=25\n"
      "replace_allowed_ips=true\nallowed_ip=10.0.0.0/24\nallowed_ip=fd00::1/128\n"
      "protocol_version=1\n\n";
  EXPECT_EQ(talk(dev, req), "errno=0\n\n");
  ASSERT_TRUE(dev.private_key);
  EXPECT_EQ(dev.private_key->data()[0], 0x11);
  EXPECT_EQ(dev.port, 4000);
  ASSERT_EQ(dev.peers.size(), 1u);
  const FakePeer& p = dev.peers.at(key(2));
  EXPECT_EQ(p.psk.data()[5], 3);
  EXPECT_EQ(p.endpoint.str(), "192.0.2.1:51820");
  EXPECT_EQ(p.keepalive, 25);
  EXPECT_EQ(p.allowed, (std::vector<std::string>{"10.0.0.0/24", "fd00::1/128"}));
}

TEST(UapiSet, ZeroPrivateKeyRemovesIt) {
  FakeDevice dev;
  dev.private_key = SecretKey{};
  dev.private_key->data()[0] = 1;
  EXPECT_EQ(talk(dev, "set=1\nprivate_key=" + std::string(64, '0') + "\n\n"), "errno=0\n\n");
  EXPECT_FALSE(dev.private_key);
}

TEST(UapiSet, MeshgateRoleSwitchesAHighAvailabilityGateway) {
  FakeDevice dev;
  EXPECT_EQ(talk(dev, "set=1\nmeshgate_role=standby\n\n"), "errno=0\n\n");
  EXPECT_EQ(dev.role, config::Role::standby);
  EXPECT_EQ(talk(dev, "set=1\nmeshgate_role=active\n\n"), "errno=0\n\n");
  EXPECT_EQ(dev.role, config::Role::active);
}

TEST(UapiSet, UppercaseHexIsAccepted) {
  FakeDevice dev;
  std::string k = hex(0xab);
  std::transform(k.begin(), k.end(), k.begin(), ::toupper);
  EXPECT_EQ(talk(dev, "set=1\npublic_key=" + k + "\n\n"), "errno=0\n\n");
  EXPECT_EQ(dev.peers.count(key(0xab)), 1u);
}

struct BadLine {
  const char* name;
  std::string request;
  std::string reply;
};

class UapiSetErrors : public ::testing::TestWithParam<BadLine> {};

TEST_P(UapiSetErrors, ReplyAndNothingApplied) {
  FakeDevice dev;
  dev.peers[key(5)].allowed = {"10.5.0.0/16"};
  const auto before = dev.get();
  bool open = true;
  EXPECT_EQ(talk(dev, GetParam().request, &open), GetParam().reply);
  EXPECT_EQ(dev.calls, 0) << "a rejected line applied something";
  EXPECT_EQ(format_get(dev.get()), format_get(before));
}

INSTANTIATE_TEST_SUITE_P(
    Table, UapiSetErrors,
    ::testing::Values(
        BadLine{"unknown_interface_key", "set=1\nfoo=1\n\n", "errno=-22\n\n"},
        BadLine{"unknown_peer_key", "set=1\npublic_key=" + hex(5) + "\nfoo=1\n\n", "errno=-22\n\n"},
        BadLine{"get_only_key", "set=1\npublic_key=" + hex(5) + "\nrx_bytes=1\n\n",
                "errno=-22\n\n"},
        BadLine{"interface_key_after_peer", "set=1\npublic_key=" + hex(5) + "\nlisten_port=1\n\n",
                "errno=-22\n\n"},
        BadLine{"replace_peers_after_peer",
                "set=1\npublic_key=" + hex(5) + "\nreplace_peers=true\n\n", "errno=-22\n\n"},
        BadLine{"bad_hex_private", "set=1\nprivate_key=" + std::string(63, '0') + "g\n\n",
                "errno=-22\n\n"},
        BadLine{"short_key", "set=1\nprivate_key=0000\n\n", "errno=-22\n\n"},
        BadLine{"bad_hex_public", "set=1\npublic_key=zz" + hex(5).substr(2) + "\n\n",
                "errno=-22\n\n"},
        BadLine{"bad_hex_psk", "set=1\npublic_key=" + hex(5) + "\npreshared_key=xyz\n\n",
                "errno=-22\n\n"},
        BadLine{"port_too_big", "set=1\nlisten_port=65536\n\n", "errno=-22\n\n"},
        BadLine{"port_signed", "set=1\nlisten_port=-1\n\n", "errno=-22\n\n"},
        BadLine{"port_empty", "set=1\nlisten_port=\n\n", "errno=-22\n\n"},
        BadLine{"fwmark_too_big", "set=1\nfwmark=4294967296\n\n", "errno=-22\n\n"},
        BadLine{"replace_peers_false", "set=1\nreplace_peers=false\n\n", "errno=-22\n\n"},
        BadLine{"role_unknown", "set=1\nmeshgate_role=master\n\n", "errno=-22\n\n"},
        BadLine{"role_in_peer_section",
                "set=1\npublic_key=" + hex(5) + "\nmeshgate_role=active\n\n", "errno=-22\n\n"},
        BadLine{"bad_endpoint", "set=1\npublic_key=" + hex(5) + "\nendpoint=example.org:1\n\n",
                "errno=-22\n\n"},
        BadLine{"v6_endpoint_without_brackets",
                "set=1\npublic_key=" + hex(5) + "\nendpoint=2001:db8::1:5\n\n", "errno=-22\n\n"},
        BadLine{"keepalive_too_big",
                "set=1\npublic_key=" + hex(5) + "\npersistent_keepalive_interval=65536\n\n",
                "errno=-22\n\n"},
        BadLine{"allowed_ip_no_len", "set=1\npublic_key=" + hex(5) + "\nallowed_ip=10.0.0.1\n\n",
                "errno=-22\n\n"},
        BadLine{"allowed_ip_bad_len",
                "set=1\npublic_key=" + hex(5) + "\nallowed_ip=10.0.0.0/33\n\n", "errno=-22\n\n"},
        BadLine{"allowed_ip_garbage", "set=1\npublic_key=" + hex(5) + "\nallowed_ip=-\n\n",
                "errno=-22\n\n"},
        BadLine{"remove_not_true", "set=1\npublic_key=" + hex(5) + "\nremove=yes\n\n",
                "errno=-22\n\n"},
        BadLine{"protocol_version_2", "set=1\npublic_key=" + hex(5) + "\nprotocol_version=2\n\n",
                "errno=-22\n\n"},
        BadLine{"no_equals", "set=1\nprivate_key\n\n", "errno=-71\n\n"},
        BadLine{"space_around_equals", "set=1\nlisten_port = 5\n\n", "errno=-22\n\n"},
        BadLine{"huge_line", "set=1\nprivate_key=" + std::string(5000, 'a') + "\n\n",
                "errno=-5\n\n"},
        BadLine{"unknown_operation", "hello=1\n\n", ""},
        BadLine{"partial_line_then_gone", "set=1\nlisten_port=4242", ""}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(UapiSet, ErrorStopsTheRequestButEarlierLinesStay) {
  FakeDevice dev;
  const std::string r = talk(dev, "set=1\nlisten_port=1000\nfwmark=x\nlisten_port=2000\n\n");
  EXPECT_EQ(r, "errno=-22\n\n");
  EXPECT_EQ(dev.port, 1000);
}

TEST(UapiSet, HugeLineClosesTheConnection) {
  FakeDevice dev;
  bool open = true;
  talk(dev, "set=1\nprivate_key=" + std::string(5000, 'a'), &open);  // not even finished
  EXPECT_FALSE(open);
}

TEST(UapiSet, UnknownOperationClosesWithoutReply) {
  FakeDevice dev;
  bool open = true;
  EXPECT_EQ(talk(dev, "hello\n", &open), "");
  EXPECT_FALSE(open);
}

TEST(UapiSet, UpdateOnlyDoesNotCreate) {
  FakeDevice dev;
  dev.peers[key(1)].keepalive = 5;
  const std::string r = talk(dev, "set=1\npublic_key=" + hex(1) + "\nupdate_only=true\n" +
                                      "persistent_keepalive_interval=9\npublic_key=" + hex(2) +
                                      "\nupdate_only=true\npersistent_keepalive_interval=9\n\n");
  EXPECT_EQ(r, "errno=0\n\n");
  EXPECT_EQ(dev.peers.at(key(1)).keepalive, 9);
  EXPECT_EQ(dev.peers.count(key(2)), 0u);
}

TEST(UapiSet, RemoveThenLinesForThePeerAreIgnored) {
  FakeDevice dev;
  dev.peers[key(1)];
  dev.peers[key(2)];
  EXPECT_EQ(talk(dev, "set=1\npublic_key=" + hex(1) + "\nremove=true\nallowed_ip=10.0.0.0/8\n\n"),
            "errno=0\n\n");
  EXPECT_EQ(dev.peers.count(key(1)), 0u);
  EXPECT_EQ(dev.peers.count(key(2)), 1u);
}

TEST(UapiSet, OwnPublicKeyIsIgnored) {
  FakeDevice dev;
  dev.own = key(7);
  EXPECT_EQ(talk(dev, "set=1\npublic_key=" + hex(7) + "\nallowed_ip=10.0.0.0/8\n\n"),
            "errno=0\n\n");
  EXPECT_TRUE(dev.peers.empty());
  // Still checked: a bad value for the ignored peer is an error.
  EXPECT_EQ(talk(dev, "set=1\npublic_key=" + hex(7) + "\nallowed_ip=nonsense\n\n"),
            "errno=-22\n\n");
}

TEST(UapiSet, AllowedIpPrefixesAddRemoveReplace) {
  FakeDevice dev;
  dev.peers[key(1)].allowed = {"10.1.0.0/16", "10.2.0.0/16"};
  dev.peers[key(2)].allowed = {"10.9.0.0/16"};
  EXPECT_EQ(talk(dev, "set=1\npublic_key=" + hex(1) +
                          "\nallowed_ip=-10.1.0.0/16\nallowed_ip=10.9.0.0/16\n\n"),
            "errno=0\n\n");
  EXPECT_EQ(dev.peers[key(1)].allowed, (std::vector<std::string>{"10.2.0.0/16", "10.9.0.0/16"}));
  EXPECT_TRUE(dev.peers[key(2)].allowed.empty());  // stolen
  EXPECT_EQ(talk(dev, "set=1\npublic_key=" + hex(1) +
                          "\nreplace_allowed_ips=true\nallowed_ip=10.3.0.7/16\n\n"),
            "errno=0\n\n");
  EXPECT_EQ(dev.peers[key(1)].allowed, (std::vector<std::string>{"10.3.0.0/16"}));
}

TEST(UapiSet, ReplacementIsOneCallAtTheEndOfThePeerSection) {
  FakeDevice dev;
  dev.peers[key(1)].allowed = {"10.1.0.0/16"};
  Connection c(dev);
  std::string out;
  EXPECT_TRUE(c.feed(
      "set=1\npublic_key=" + hex(1) + "\nreplace_allowed_ips=true\nallowed_ip=10.1.0.0/16\n" +
          "allowed_ip=10.2.0.0/16\nallowed_ip=-10.2.0.0/16\nallowed_ip=10.3.0.0/16\n",
      out));
  EXPECT_EQ(dev.calls, 0);  // held back until the section ends
  EXPECT_EQ(dev.peers[key(1)].allowed, (std::vector<std::string>{"10.1.0.0/16"}));
  EXPECT_TRUE(c.feed("public_key=" + hex(2) + "\n", out));
  EXPECT_EQ(dev.peers[key(1)].allowed, (std::vector<std::string>{"10.1.0.0/16", "10.3.0.0/16"}));
}

TEST(UapiSet, HeldBackReplacementAppliesOnErrorAndOnDisconnect) {
  FakeDevice dev;
  dev.peers[key(1)].allowed = {"10.1.0.0/16"};
  EXPECT_EQ(talk(dev, "set=1\npublic_key=" + hex(1) +
                          "\nreplace_allowed_ips=true\nallowed_ip=10.7.0.0/16\nbogus=1\n\n"),
            "errno=-22\n\n");
  EXPECT_EQ(dev.peers[key(1)].allowed, (std::vector<std::string>{"10.7.0.0/16"}));
  {
    Connection c(dev);
    std::string out;
    EXPECT_TRUE(c.feed("set=1\npublic_key=" + hex(1) +
                           "\nreplace_allowed_ips=true\nallowed_ip=10.8.0.0/16\nallowed_ip=10.9",
                       out));
    c.close();  // gone mid-line: the finished lines apply, the cut one does not
  }
  EXPECT_EQ(dev.peers[key(1)].allowed, (std::vector<std::string>{"10.8.0.0/16"}));
}

TEST(UapiFraming, ByteByByteEqualsAtOnce) {
  const std::string req = "set=1\nlisten_port=777\npublic_key=" + hex(3) +
                          "\nendpoint=[2001:db8::1]:9\nallowed_ip=fd00::/8\n\nget=1\n\n";
  FakeDevice a;
  FakeDevice b;
  std::string out_a;
  std::string out_b;
  Connection ca(a);
  Connection cb(b);
  EXPECT_TRUE(ca.feed(req, out_a));
  for (char ch : req) EXPECT_TRUE(cb.feed(std::string_view(&ch, 1), out_b));
  EXPECT_EQ(out_a, out_b);
  EXPECT_TRUE(out_a.starts_with("errno=0\n\nlisten_port=777\n"));
  EXPECT_EQ(b.peers.at(key(3)).endpoint.str(), "[2001:db8::1]:9");
}

TEST(UapiFraming, AfterAnErrorTheRestOfTheRequestIsSkipped) {
  FakeDevice dev;
  Connection c(dev);
  std::string out;
  EXPECT_TRUE(c.feed("set=1\nbogus=1\nlisten_port=5\n\nset=1\nlisten_port=6\n\n", out));
  EXPECT_EQ(out, "errno=-22\n\nerrno=0\n\n");
  EXPECT_EQ(dev.port, 6);
}

}  // namespace
}  // namespace meshgate::control::uapi
