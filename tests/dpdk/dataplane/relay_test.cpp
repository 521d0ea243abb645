// The workers' relayed data path (docs/nat-traversal.md, "Relayed data path"): ChannelData from
// the TURN server unwrapped on the way in, sealed into ChannelData on the way out, and
// coordination messages handed to the control thread with the outer source they came by.
#include <gtest/gtest.h>

#include "meshgate/dataplane/worker.hpp"
#include "meshgate/nat/coord.hpp"
#include "meshgate/wire/classify.hpp"
#include "test_plane.hpp"

namespace meshgate::dataplane {
namespace {

using test::TestPlane;
using Bytes = std::vector<std::uint8_t>;

const IpAddr kTurn = *IpAddr::parse("198.51.100.77");
const wire::MacAddr kTurnMac{{0x02, 0x77, 0, 0, 0, 1}};
constexpr std::uint16_t kTurnPort = 3478;
constexpr std::uint16_t kChannel = 0x4123;
const Endpoint kRelayed{kTurn, kTurnPort, kChannel};

/// A TestPlane whose gateway has a TURN server (a confirmed neighbour on the outer link).
struct RelayPlane : TestPlane {
  explicit RelayPlane(unsigned peers) : TestPlane(peers) {
    dp->turn_server = {kTurn, kTurnPort};
    EXPECT_TRUE(dp->neighbours.confirm(kTurn, kTurnMac, monotonic_now()));
  }
};

/// The WireGuard message peer `p` would send us carrying `plain` (sealed with its keypair).
Bytes wg_message(TestPlane& t, PeerId p, const Bytes& plain) {
  Sealer s(*t.dp, 0, crypto::AeadBackend::sodium);
  DropCounters drops;
  rte_mbuf* m = t.mbuf(plain);
  EXPECT_EQ(s.seal_for_peer(p, &m, 1, monotonic_now(), drops), 1u);
  Bytes f = TestPlane::bytes(m);
  rte_pktmbuf_free(m);
  const wire::FrameInfo fi = wire::classify_frame(f.data(), f.size());
  return {f.begin() + fi.payload_off, f.end()};
}

/// `msg` as ChannelData on `channel` from `from`:`port` to our listen port.
Bytes channel_frame(const TestPlane& t, const Bytes& msg, const IpAddr& from = kTurn,
                    std::uint16_t port = kTurnPort, std::uint16_t channel = kChannel) {
  const wire::OuterTemplate o = wire::OuterTemplate::make(
      kTurnMac, test::kOuterMac, from, t.dp->addr.outer_v4, port, test::kListen, channel);
  Bytes f(o.len + msg.size());
  std::copy(msg.begin(), msg.end(), f.begin() + o.len);
  o.write(f.data(), msg.size(), 9, 0);
  return f;
}

void run_inbound(Worker& w, TestPlane& t, const std::vector<Bytes>& frames) {
  std::vector<rte_mbuf*> pkts;
  for (const Bytes& f : frames) pkts.push_back(t.mbuf(f));
  const Nanos now = monotonic_now();
  w.inbound(pkts.data(), static_cast<unsigned>(pkts.size()), now);
  w.finish_inbound(now);
  w.flush();
}

std::vector<Event> events(const TestPlane& t) {
  std::vector<Event> out;
  Event e;
  while (rte_ring_dequeue_elem(t.dp->events, &e, kEventSize) == 0) out.push_back(e);
  return out;
}

TEST(WorkerRelay, TransportFromTheTurnServerIsOpenedDeliveredAndRoamsToTheRelayedEndpoint) {
  RelayPlane t(1);
  Worker w(*t.dp, 0);
  const Bytes inner = TestPlane::ip_packet(TestPlane::peer_host(0, 7), t.host, 200);
  run_inbound(w, t, {channel_frame(t, wg_message(t, 0, inner))});
  const auto lan = TestPlane::drain(t.inner_tx);
  ASSERT_EQ(lan.size(), 1u);
  EXPECT_EQ(Bytes(lan[0].begin() + 14, lan[0].end()), test::forwarded(inner));
  EXPECT_EQ(w.drops().total(), 0u);
  const auto ev = events(t);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Event::Kind::endpoint_changed);
  EXPECT_EQ(ev[0].peer, 0u);
  EXPECT_EQ(ev[0].endpoint, kRelayed);
}

TEST(WorkerRelay, ChannelDataFromElsewhereOrMalformedOrNotWireGuardIsDropped) {
  RelayPlane t(1);
  Worker w(*t.dp, 0);
  const Bytes msg = wg_message(t, 0, TestPlane::ip_packet(TestPlane::peer_host(0, 7), t.host, 80));
  Bytes short_field = channel_frame(t, msg);
  const wire::FrameInfo fi = wire::classify_frame(short_field.data(), short_field.size());
  store_be16(short_field.data() + fi.payload_off + 2, static_cast<std::uint16_t>(msg.size() + 8));
  Bytes junk(64, 0x77);
  run_inbound(w, t,
              {channel_frame(t, msg, *IpAddr::parse("198.51.100.78")),  // another address
               channel_frame(t, msg, kTurn, 3479),                      // another port
               short_field,                                             // length past the end
               channel_frame(t, junk)});
  EXPECT_EQ(w.drops()[Drop::channel_data_unknown_source], 2u);
  EXPECT_EQ(w.drops()[Drop::channel_data_malformed], 1u);
  EXPECT_EQ(w.drops()[Drop::channel_data_not_wireguard], 1u);
  EXPECT_EQ(w.drops().total(), 4u);
  EXPECT_EQ(rte_ring_count(t.dp->to_control), 0u);
  EXPECT_TRUE(TestPlane::drain(t.inner_tx).empty());
  EXPECT_EQ(rte_mempool_in_use_count(t.dp->pool), 0u);
}

TEST(WorkerRelay, RelayedHandshakeGoesToTheControlThread) {
  RelayPlane t(1);
  Worker w(*t.dp, 0);
  Bytes init(wire::spec::kInitiationSize, 0x5A);
  store_le32(init.data(), 1);
  run_inbound(w, t, {channel_frame(t, init)});
  void* m;
  ASSERT_EQ(rte_ring_dequeue(t.dp->to_control, &m), 0);
  EXPECT_EQ(meta(static_cast<rte_mbuf*>(m)).kind, ToControl::outer_handshake);
  rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
  EXPECT_EQ(w.drops().total(), 0u);
}

TEST(WorkerRelay, PeerRoutedThroughTheRelaySendsChannelDataToTheTurnServer) {
  RelayPlane t(1);
  Worker w(*t.dp, 0);
  const PeerRoute route{.outer = outer_template(*t.dp, kRelayed, kTurnMac), .endpoint = kRelayed};
  ASSERT_EQ(route.outer.len, wire::kOuterV4Len + 4);
  t.dp->peers[0].route.store(&route);
  rte_mbuf* pkt = t.mbuf(TestPlane::lan_frame(TestPlane::peer_host(0, 5), 300));
  const Nanos now = monotonic_now();
  w.outbound(&pkt, 1, now);
  w.finish_outbound(now);
  w.flush();
  const auto out = TestPlane::drain(t.outer_tx);
  t.dp->peers[0].route.store(t.routes[0].get());
  ASSERT_EQ(out.size(), 1u);
  const Bytes& f = out[0];
  const wire::FrameInfo fi =
      wire::classify_frame(f.data(), f.size(), {.verify_ipv4_checksum = true});
  ASSERT_TRUE(fi.ok());
  EXPECT_EQ(wire::MacAddr::from(f.data()), kTurnMac);
  EXPECT_EQ(fi.dst_addr(), kTurn);
  EXPECT_EQ(fi.dst_port, kTurnPort);
  EXPECT_EQ(fi.src_port, test::kListen);
  const std::size_t wg_len = 16 + 304 + 16;  // header, 300 bytes padded to 16, tag
  EXPECT_EQ(fi.payload_len, 4 + wg_len);
  EXPECT_EQ(load_be16(f.data() + 14 + 2), 20 + 8 + 4 + wg_len);  // IPv4 total length
  EXPECT_EQ(load_be16(f.data() + 14 + 20 + 4), 8 + 4 + wg_len);  // UDP length
  EXPECT_EQ(load_be16(f.data() + fi.payload_off), kChannel);
  EXPECT_EQ(load_be16(f.data() + fi.payload_off + 2), wg_len);
  EXPECT_EQ(load_le32(f.data() + fi.payload_off + 4), 4u);  // a transport message inside
  EXPECT_EQ(f.size(), fi.payload_off + 4 + wg_len);
}

TEST(WorkerRelay, CoordinationMessageGoesToTheControlThreadWithoutRoaming) {
  RelayPlane t(1);
  Worker w(*t.dp, 0);
  const Bytes coord = {nat::coord::kMagic, 1, 0, 10, 1, 2, 3, 4, 5, 6};
  run_inbound(w, t, {channel_frame(t, wg_message(t, 0, coord))});
  void* v;
  ASSERT_EQ(rte_ring_dequeue(t.dp->to_control, &v), 0);
  auto* m = static_cast<rte_mbuf*>(v);
  EXPECT_EQ(meta(m).kind, ToControl::tunnel_coordination);
  EXPECT_EQ(meta(m).peer, 0u);
  EXPECT_EQ(meta(m).endpoint, kRelayed);
  EXPECT_EQ(TestPlane::bytes(m), coord);  // exactly the message, padding cut
  rte_pktmbuf_free(m);
  EXPECT_TRUE(events(t).empty());  // no endpoint_changed, though the source is new
  EXPECT_EQ(t.dp->activity(0, 0).rx_packets.load(), 1u);
  EXPECT_EQ(w.drops().total(), 0u);
}

TEST(WorkerRelay, MagicWithABadLengthIsABadInnerPacket) {
  RelayPlane t(1);
  Worker w(*t.dp, 0);
  const Bytes too_long = {nat::coord::kMagic, 1, 0x02, 0x00, 1, 2, 3, 4};  // claims 512 bytes
  const Bytes too_short = {nat::coord::kMagic, 1, 0, 3, 1, 2, 3, 4};       // shorter than header
  run_inbound(w, t,
              {channel_frame(t, wg_message(t, 0, too_long)),
               channel_frame(t, wg_message(t, 0, too_short))});
  EXPECT_EQ(w.drops()[Drop::inner_bad_packet], 2u);
  EXPECT_EQ(rte_ring_count(t.dp->to_control), 0u);
}

}  // namespace
}  // namespace meshgate::dataplane
