// HA state sync, the pure parts (ha_sync.hpp): sealed frames over a byte stream, the key of a
// connection, and the snapshot comparison whose bodies a standby applies as `wg set` would.
#include "meshgate/control/ha_sync.hpp"

#include <gtest/gtest.h>

#include "fake_device.hpp"

namespace meshgate::control::ha_sync {
namespace {

SecretKey secret(std::uint8_t b) {
  SecretKey k;
  std::fill(k.data(), k.data() + k.size(), b);
  return k;
}

std::vector<std::uint8_t> randoms(std::uint8_t b) {
  return std::vector<std::uint8_t>(kRandomLen, b);
}

PeerRecord peer(std::uint8_t b, const char* endpoint, std::vector<std::string> allowed) {
  PeerRecord p;
  p.public_key.fill(b);
  if (endpoint != nullptr) p.endpoint = *Endpoint::parse(endpoint);
  p.allowed_ips = std::move(allowed);
  return p;
}

TEST(HaSyncFrames, OpenInOrderWhateverTheStreamCuts) {
  const SecretKey k = secret(7);
  std::string stream;
  seal_frame(stream, k, 0, "public_key=00\n");
  seal_frame(stream, k, 1, "");  // a heartbeat
  seal_frame(stream, k, 2, std::string(5000, 'x'));
  FrameReader r(k);
  std::vector<std::string> got;
  std::string payload;
  for (char c : stream) {  // one byte at a time: TCP may cut anywhere
    r.append(std::string_view(&c, 1));
    while (r.next(payload) == FrameReader::Result::frame) got.push_back(payload);
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], "public_key=00\n");
  EXPECT_EQ(got[1], "");
  EXPECT_EQ(got[2], std::string(5000, 'x'));
  EXPECT_EQ(r.next(payload), FrameReader::Result::need_more);
}

TEST(HaSyncFrames, AChangedByteAWrongKeyOrAReplayedFrameIsRefused) {
  const SecretKey k = secret(7);
  std::string one;
  seal_frame(one, k, 0, "remove=true\n");
  std::string payload;

  std::string flipped = one;
  flipped[6] ^= 1;
  FrameReader a(k);
  a.append(flipped);
  EXPECT_EQ(a.next(payload), FrameReader::Result::bad);
  EXPECT_TRUE(payload.empty());

  FrameReader b(secret(8));
  b.append(one);
  EXPECT_EQ(b.next(payload), FrameReader::Result::bad);

  FrameReader c(k);  // the same frame twice: the second has the wrong counter
  c.append(one + one);
  EXPECT_EQ(c.next(payload), FrameReader::Result::frame);
  EXPECT_EQ(c.next(payload), FrameReader::Result::bad);
}

TEST(HaSyncFrames, ALengthOverTheLimitIsRefusedBeforeItIsBuffered) {
  FrameReader r(secret(7));
  const std::uint8_t len[4] = {0x00, 0x10, 0x00, 0x01};  // kMaxPayload + 1
  r.append(std::string_view(reinterpret_cast<const char*>(len), 4));
  std::string payload;
  EXPECT_EQ(r.next(payload), FrameReader::Result::bad);
}

TEST(HaSyncKey, DependsOnThePrivateKeyAndBothRandoms) {
  const auto a = randoms(1), s = randoms(2), other = randoms(3);
  const SecretKey k = connection_key(secret(9), a, s);
  EXPECT_TRUE(k.ct_equals(connection_key(secret(9), a, s)));
  EXPECT_FALSE(k.ct_equals(connection_key(secret(10), a, s)));
  EXPECT_FALSE(k.ct_equals(connection_key(secret(9), other, s)));
  EXPECT_FALSE(k.ct_equals(connection_key(secret(9), a, other)));
  EXPECT_FALSE(k.ct_equals(connection_key(secret(9), s, a)));
}

/// Applies bodies through `applier` as the standby does; every one must apply cleanly.
void apply_bodies(Applier& applier, const std::vector<std::string>& bodies) {
  for (const std::string& body : bodies) ASSERT_EQ(applier.apply(body).rc, 0) << body;
}

TEST(HaSyncSnapshot, AFullStateReplacesWhatTheStandbyHad) {
  uapi::FakeDevice standby;
  const Key32 stale = peer(9, nullptr, {}).public_key;  // the standby's alone: goes at the end
  standby.peers[stale].endpoint = *Endpoint::parse("192.0.2.99:1");
  Snapshot snap;
  std::vector<PeerRecord> peers{peer(1, "198.51.100.7:51820", {"10.2.0.0/24", "fd02::/64"}),
                                peer(2, nullptr, {"10.3.0.0/24"})};
  peers[1].preshared_key = secret(5);
  peers[1].persistent_keepalive = 25;
  standby.peers[peers[1].public_key].keepalive = 7;  // both have it: updated in place
  const auto bodies = snap.changes({51820, 0}, peers, true);
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_TRUE(bodies[0].starts_with("meshgate_sync=full_begin\nlisten_port=51820\n")) << bodies[0];
  EXPECT_TRUE(bodies[0].ends_with("meshgate_sync=full_end\n")) << bodies[0];
  Applier applier(standby);
  const Applier::Outcome out = applier.apply(bodies[0]);
  EXPECT_EQ(out.rc, 0);
  EXPECT_EQ(out.peers, 2u);
  EXPECT_EQ(out.removed, 1u);
  ASSERT_EQ(standby.peers.size(), 2u);
  EXPECT_EQ(standby.peers.count(stale), 0u);
  const uapi::FakePeer& p1 = standby.peers.at(peers[0].public_key);
  EXPECT_EQ(p1.endpoint.str(), "198.51.100.7:51820");
  EXPECT_EQ(p1.allowed, (std::vector<std::string>{"10.2.0.0/24", "fd02::/64"}));
  EXPECT_TRUE(p1.psk.is_zero());
  const uapi::FakePeer& p2 = standby.peers.at(peers[1].public_key);
  EXPECT_FALSE(p2.endpoint.known());
  EXPECT_TRUE(p2.psk.ct_equals(secret(5)));
  EXPECT_EQ(p2.keepalive, 25);
}

TEST(HaSyncApplier, TheRoleKeyIsRefusedAndStopsThePayload) {
  uapi::FakeDevice standby;
  Applier applier(standby);
  const Applier::Outcome out = applier.apply("meshgate_role=active\nlisten_port=1\n");
  EXPECT_EQ(out.rc, uapi::kEinval);
  EXPECT_FALSE(standby.role.has_value());
  EXPECT_EQ(standby.port, 51820);
}

TEST(HaSyncApplier, AFullStateCutIntoFramesRemovesOnlyAtItsEnd) {
  uapi::FakeDevice standby;
  const Key32 stale = peer(9, nullptr, {}).public_key;
  standby.peers[stale];
  Applier applier(standby);
  const PeerRecord p = peer(1, nullptr, {"10.2.0.0/24"});
  EXPECT_EQ(applier.apply(std::string(kFullBegin) + "\n" + peer_section(p)).removed, 0u);
  EXPECT_EQ(standby.peers.count(stale), 1u) << "not before the end of the full state";
  EXPECT_EQ(applier.apply(std::string(kFullEnd) + "\n").removed, 1u);
  EXPECT_EQ(standby.peers.count(stale), 0u);
  EXPECT_EQ(standby.peers.count(p.public_key), 1u);
  // A later change names one peer: nothing else goes.
  EXPECT_EQ(applier.apply(peer_section(peer(2, nullptr, {}))).removed, 0u);
  EXPECT_EQ(standby.peers.size(), 2u);
}

TEST(HaSyncSnapshot, LaterBodiesCarryOnlyWhatChanged) {
  uapi::FakeDevice standby;
  Snapshot snap;
  std::vector<PeerRecord> peers{peer(1, "198.51.100.7:51820", {"10.2.0.0/24"}),
                                peer(2, "198.51.100.8:51820", {"10.3.0.0/24"}),
                                peer(3, nullptr, {"10.4.0.0/24"})};
  Applier applier(standby);
  apply_bodies(applier, snap.changes({51820, 0}, peers, true));
  EXPECT_TRUE(snap.changes({51820, 0}, peers, false).empty());

  peers[0].endpoint = *Endpoint::parse("203.0.113.50:40000");  // roamed
  peers[1].allowed_ips.push_back("10.30.0.0/16");              // `wg set ... allowed-ips`
  peers.erase(peers.begin() + 2);                              // `wg set ... remove`
  peers.push_back(peer(4, nullptr, {"10.5.0.0/24"}));          // a new peer
  auto bodies = snap.changes({51820, 0}, peers, false);
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(bodies[0].find("meshgate_sync"), std::string::npos);
  EXPECT_EQ(bodies[0].find("listen_port"), std::string::npos);
  EXPECT_NE(bodies[0].find(to_hex(as_bytes(peer(3, nullptr, {}).public_key)) + "\nremove=true\n"),
            std::string::npos)
      << bodies[0];
  apply_bodies(applier, bodies);
  ASSERT_EQ(standby.peers.size(), 3u);
  EXPECT_EQ(standby.peers.at(peers[0].public_key).endpoint.str(), "203.0.113.50:40000");
  EXPECT_EQ(standby.peers.at(peers[1].public_key).allowed,
            (std::vector<std::string>{"10.3.0.0/24", "10.30.0.0/16"}));
  EXPECT_EQ(standby.peers.count(peers[2].public_key), 1u);

  bodies = snap.changes({51900, 0}, peers, false);  // `wg set ... listen-port`
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(bodies[0], "listen_port=51900\nfwmark=0\n");
}

// A pass taken a slice at a time, as the active's control thread goes through its peers: each
// slice's bodies are due at once, the stale peer goes and the full state ends only with the last.
TEST(HaSyncSnapshot, APassTakenInSlicesRemovesOnlyAtItsEnd) {
  uapi::FakeDevice standby;
  const Key32 stale = peer(9, nullptr, {}).public_key;
  standby.peers[stale];
  Snapshot snap;
  std::vector<PeerRecord> peers{peer(1, "198.51.100.7:51820", {"10.2.0.0/24"}),
                                peer(2, nullptr, {"10.3.0.0/24"}), peer(3, nullptr, {})};
  Applier applier(standby);
  snap.begin({51820, 0}, true);
  snap.add(peers[0]);
  snap.add(peers[1]);
  std::vector<std::string> bodies = snap.take(false);
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_TRUE(bodies[0].starts_with(std::string(kFullBegin) + "\n"));
  EXPECT_EQ(bodies[0].find(kFullEnd), std::string::npos);
  apply_bodies(applier, bodies);
  EXPECT_EQ(standby.peers.size(), 3u) << "the stale peer stays until the full state ends";
  snap.add(peers[2]);
  bodies = snap.take(true);
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_TRUE(bodies[0].ends_with(std::string(kFullEnd) + "\n")) << bodies[0];
  apply_bodies(applier, bodies);
  EXPECT_EQ(standby.peers.size(), 3u);
  EXPECT_EQ(standby.peers.count(stale), 0u);

  // The next pass: a roam in its first slice is due with that slice; a peer the pass never adds
  // is removed at its end; a slice with nothing changed gives nothing.
  peers[0].endpoint = *Endpoint::parse("203.0.113.50:40000");
  snap.begin({51820, 0}, false);
  snap.add(peers[0]);
  bodies = snap.take(false);
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(bodies[0], peer_section(peers[0]));
  apply_bodies(applier, bodies);
  EXPECT_EQ(standby.peers.at(peers[0].public_key).endpoint.str(), "203.0.113.50:40000");
  snap.add(peers[1]);
  EXPECT_TRUE(snap.take(false).empty());
  bodies = snap.take(true);
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(bodies[0], "public_key=" + to_hex(as_bytes(peers[2].public_key)) + "\nremove=true\n");
  apply_bodies(applier, bodies);
  EXPECT_EQ(standby.peers.count(peers[2].public_key), 0u);
}

TEST(HaSyncSnapshot, ARelayedEndpointIsNotSent) {
  Snapshot snap;
  std::vector<PeerRecord> peers{peer(1, "198.51.100.7:51820", {})};
  peers[0].endpoint.channel = 0x4001;
  const auto bodies = snap.changes({51820, 0}, peers, true);
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(bodies[0].find("endpoint="), std::string::npos);
}

TEST(HaSyncSnapshot, AManyPeerStateIsCutIntoFramesAtPeerBoundaries) {
  uapi::FakeDevice standby;
  Snapshot snap;
  std::vector<PeerRecord> peers;
  for (int i = 0; i < 2000; ++i) {
    PeerRecord& p = peers.emplace_back();
    p.public_key[0] = static_cast<std::uint8_t>(i);
    p.public_key[2] = 1;  // never the fake device's own (all-zero) key
    p.public_key[1] = static_cast<std::uint8_t>(i >> 8);
    p.allowed_ips = {"10." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ".0/24"};
  }
  const auto bodies = snap.changes({51820, 0}, peers, true);
  ASSERT_GT(bodies.size(), 1u);
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    EXPECT_LT(bodies[i].size(), kFrameTarget + 1024);
    EXPECT_EQ(bodies[i].find(kFullBegin), i == 0 ? 0 : std::string::npos);
    if (i > 0) {
      EXPECT_TRUE(bodies[i].starts_with("public_key=")) << i;
    }
  }
  EXPECT_TRUE(bodies.back().ends_with(std::string(kFullEnd) + "\n"));
  Applier applier(standby);
  apply_bodies(applier, bodies);
  EXPECT_EQ(standby.peers.size(), 2000u);
}

}  // namespace
}  // namespace meshgate::control::ha_sync
