// Writes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/): a few small valid inputs
// each, made by the real builders (wire, noise, nat), so every target starts from messages that
// get past the first checks (the eal_profile corpus is dpdk-configs/*.profile). Run by
// tools/fuzz --seed; the output is committed.
//   fuzz_make_corpus DIR
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz_gateway.hpp"
#include "hex_frame.hpp"
#include "meshgate/base/bytes.hpp"
#include "meshgate/crypto/x25519.hpp"
#include "meshgate/nat/coord.hpp"
#include "meshgate/nat/stun.hpp"
#include "meshgate/noise/cookie.hpp"
#include "meshgate/noise/handshake.hpp"
#include "meshgate/wire/build.hpp"
#include "meshgate/wire/checksum.hpp"
#include "packet_samples.hpp"

namespace meshgate::fuzz {
namespace {

using Blob = std::vector<std::uint8_t>;
std::string g_dir;

void put(const std::string& target, const std::string& name, const Blob& bytes) {
  const std::string dir = g_dir + "/" + target;
  ::mkdir(dir.c_str(), 0755);
  FILE* f = std::fopen((dir + "/" + name).c_str(), "wb");
  if (f == nullptr || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
    throw std::runtime_error("cannot write " + dir + "/" + name);
  }
  std::fclose(f);
}
void put(const std::string& target, const std::string& name, const std::string& text) {
  put(target, name, Blob(text.begin(), text.end()));
}
Blob with_mode(std::uint8_t mode, const Blob& b) {
  Blob out{mode};
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

/// A UDP frame from the LAN host to `dst` (the outbound path; port 80, 16 bytes of payload).
Blob lan_udp(const IpAddr& dst) {
  Blob f(14 + 28 + 16, 0x5a);
  wire::OuterTemplate::make(World::kHostMac, World::kInnerMac, World::host_v4(), dst, 1234, 80)
      .write(f.data(), 16, 1, 0);
  return f;
}

/// An ICMP echo request from the LAN host to `dst`: the UDP frame made into ICMP.
Blob lan_ping(const IpAddr& dst) {
  Blob f = lan_udp(dst);
  std::uint8_t* ip = f.data() + 14;
  ip[9] = wire::spec::kProtoIcmp;
  store_be16(ip + 10, 0);
  store_be16(ip + 10, wire::ipv4_header_checksum(ip));
  std::uint8_t* icmp = ip + 20;
  icmp[0] = 8;  // echo request
  icmp[1] = 0;
  store_be16(icmp + 2, 0);
  store_be16(icmp + 2, wire::internet_checksum(icmp, f.size() - 34));
  return f;
}

void frames() {
  std::uint8_t b[128];
  put("inner_frame", "arp_request",
      Blob(b, b + wire::build_arp_request(b, World::kHostMac, World::host_v4(),
                                          *IpAddr::parse("10.1.0.1"))));
  put("inner_frame", "neighbour_solicitation",
      Blob(b, b + wire::build_neighbour_solicitation(b, World::kHostMac, *IpAddr::parse("fd01::2"),
                                                     *IpAddr::parse("fd01::1"))));
  put("inner_frame", "udp_to_peer_network", lan_udp(World::peer_host_v4()));
  put("inner_frame", "ping_gateway", lan_ping(*IpAddr::parse("10.1.0.1")));
  put("outer_frame", "arp_request",
      Blob(b,
           b + wire::build_arp_request(b, World::kRouterMac, World::peer_v4(), World::outer_v4())));
  for (const char* hex : {test::frames::kIpv4Udp, test::frames::kIpv6Udp, test::frames::kIpv6HbhUdp,
                          test::frames::kIpv6Frag, test::frames::kNdpNs, test::frames::kIpv4Icmp,
                          test::frames::kArpRequest}) {
    static int n = 0;
    put("wire", "sample" + std::to_string(n++), test::hex_frame(hex));
  }
}

/// A real initiation from the peer to the gateway, with mac1.
Blob initiation() {
  noise::StaticIdentity id;
  id.set_private_key(FuzzGateway::peer_key());
  const Key32 gw = crypto::x25519_public(FuzzGateway::gateway_key());
  noise::Handshake hs;
  if (!noise::handshake_configure(hs, id, gw, nullptr)) throw std::runtime_error("handshake");
  wire::MessageInitiation msg;
  (void)noise::create_initiation(msg, hs, id, 0x01020304, wall_now());
  noise::CookieSender macs;
  macs.init(gw);
  macs.add_macs(msg, monotonic_now());
  const auto* p = reinterpret_cast<const std::uint8_t*>(&msg);
  return {p, p + sizeof msg};
}

void handshakes() {
  const Blob init = initiation();
  put("handshake", "initiation", with_mode(0, init));
  put("handshake", "initiation_mac1", with_mode(1, init));
  put("handshake", "initiation_relayed", with_mode(0x80, init));
  put("handshake", "real_initiation", with_mode(2, Blob(4, 7)));
  put("handshake", "real_response", with_mode(4, Blob(4, 9)));
  put("handshake", "real_cookie_reply", with_mode(5, Blob(4, 0)));
  Blob response(sizeof(wire::MessageResponse), 0);
  response[0] = 2;
  put("handshake", "response_to_last", with_mode(3, response));
  Blob cookie(sizeof(wire::MessageCookieReply), 0);
  cookie[0] = 3;
  put("handshake", "cookie_reply_to_last", with_mode(3, cookie));
  put("outer_frame", "initiation",
      FuzzGateway::udp_to_us({World::peer_v4(), World::kListen}, init.data(), init.size()));
}

Blob stun_message(nat::stun::Method m, nat::stun::Class c, bool error) {
  namespace stun = nat::stun;
  std::uint8_t buf[512];
  stun::TransactionId tid{};
  stun::Builder b(buf, m, c, tid);
  if (error) {
    b.add_error_code(401, "Unauthorized").add_string(stun::attr::kRealm, "example.org");
    b.add_string(stun::attr::kNonce, "abcdef0123456789");
  } else {
    b.add_xor_address(stun::attr::kXorMappedAddress, {World::outer_v4(), 40000});
    if (m == stun::Method::allocate) {
      b.add_xor_address(stun::attr::kXorRelayedAddress, {World::turn_v4(), 50000});
      b.add_lifetime(600);
    }
    b.add_fingerprint();
  }
  const auto len = b.finish();
  if (!len) throw std::runtime_error(len.error());
  return {buf, buf + *len};
}

void stun_and_coord() {
  namespace stun = nat::stun;
  put("stun_turn", "binding_success",
      with_mode(1, stun_message(stun::Method::binding, stun::Class::success, false)));
  put("stun_turn", "allocate_401",
      with_mode(1, stun_message(stun::Method::allocate, stun::Class::error, true)));
  put("stun_turn", "allocate_success",
      with_mode(1, stun_message(stun::Method::allocate, stun::Class::success, false)));
  nat::coord::Message m;
  m.type = nat::coord::Type::report;
  m.candidates.add({{World::outer_v4(), 51820}, nat::coord::CandidateKind::local});
  m.candidates.add({{World::turn_v4(), 50000}, nat::coord::CandidateKind::relayed});
  Blob c(nat::coord::kMaxMessageSize);
  c.resize(nat::coord::encode(m, c.data()));
  put("stun_turn", "coord_report", with_mode(0, c));
  const Blob cd = {0x40, 0x00, 0x00, 0x04, 4, 0, 0, 0};
  put("outer_frame", "channel_data_from_turn",
      FuzzGateway::udp_to_us({World::turn_v4(), World::kTurnPort}, cd.data(), cd.size()));
}

std::string key_hex(const SecretKey& k) {
  std::string s;
  char h[3];
  for (std::size_t i = 0; i < k.size(); ++i) {
    std::snprintf(h, sizeof h, "%02x", k.data()[i]);
    s += h;
  }
  return s;
}

void texts() {
  const SecretKey peer = FuzzGateway::peer_key();
  const Key32 peer_pub = crypto::x25519_public(peer);
  const std::string pub_hex = key_hex(SecretKey::from(std::span<const std::uint8_t, 32>(peer_pub)));
  put("uapi", "get", std::string("\x05get=1\n\n"));
  put("uapi", "set_peer",
      "\x10set=1\npublic_key=" + pub_hex +
          "\nendpoint=198.51.100.3:51820\nreplace_allowed_ips=true\n"
          "allowed_ip=10.2.0.0/24\nallowed_ip=fd02::/64\npersistent_keepalive_interval=25\n\n");
  put("uapi", "set_listen_port", std::string(1, '\0') + "set=1\nlisten_port=51821\n\n");
  put("config", "gateway.conf",
      "[Interface]\nPrivateKey = " + to_base64(FuzzGateway::gateway_key().span()) +
          "\nListenPort = 51820\n\n[Peer]\nPublicKey = " + to_base64(as_bytes(peer_pub)) +
          "\nAllowedIPs = 10.2.0.0/24, fd02::/64\nEndpoint = 203.0.113.2:51820\n"
          "PersistentKeepalive = 25\n\n[Gateway]\nInnerAddress = 10.1.0.1/24, fd01::1/64\n"
          "OuterAddress = 198.51.100.2/24, 2001:db8:a::2/64\n"
          "OuterGateway = 198.51.100.1, 2001:db8:a::1\nWorkers = 1\nIdleBackoff = on\n"
          "StunServer = 203.0.113.10, [2001:db8:f::10]:3478\nTurnServer = 203.0.113.10:3478\n"
          "TurnUser = site-a\nTurnPassword = correct-horse\n");
}

}  // namespace
}  // namespace meshgate::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  meshgate::fuzz::g_dir = argv[1];
  ::mkdir(argv[1], 0755);
  try {
    meshgate::fuzz::frames();
    meshgate::fuzz::handshakes();
    meshgate::fuzz::stun_and_coord();
    meshgate::fuzz::texts();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_make_corpus: %s\n", e.what());
    return 1;
  }
  return 0;
}
