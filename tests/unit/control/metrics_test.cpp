#include "meshgate/control/metrics.hpp"

#include <gtest/gtest.h>

#include "meshgate/dataplane/drops.hpp"

namespace meshgate::control {
namespace {

MetricsSnapshot sample() {
  MetricsSnapshot s;
  s.tunnel = "site-a";
  PeerMetrics& p = s.peers.emplace_back();
  p.public_key.fill(0);
  p.endpoint = *Endpoint::parse("203.0.113.2:51820");
  p.rx_bytes = 1000;
  p.tx_bytes = 2000;
  p.rx_packets = 10;
  p.tx_packets = 20;
  p.handshakes = 2;
  p.last_handshake = {1700000000, 0};
  LcoreMetrics& l = s.lcores.emplace_back();
  l.name = "worker0";
  l.rx_inner = 5;
  l.stalls = 7;
  l.drops.assign(dataplane::kDropCount, 0);
  l.drops[dataplane::drop_index(dataplane::Drop::wg_replay)] = 3;
  s.handshake_events = {{"initiations_sent", 4}};
  return s;
}

TEST(Prometheus, PeerLcoreDropAndHandshakeSamples) {
  const std::string t = format_prometheus(sample());
  const std::string key = "public_key=\"" + std::string(43, 'A') + "=\"";
  for (const std::string& want : std::vector<std::string>{
           "# TYPE meshgate_peer_rx_bytes_total counter\n",
           "meshgate_peer_rx_bytes_total{tunnel=\"site-a\"," + key + "} 1000\n",
           "meshgate_peer_tx_bytes_total{tunnel=\"site-a\"," + key + "} 2000\n",
           "meshgate_peer_rx_packets_total{tunnel=\"site-a\"," + key + "} 10\n",
           "meshgate_peer_tx_packets_total{tunnel=\"site-a\"," + key + "} 20\n",
           "meshgate_peer_handshakes_total{tunnel=\"site-a\"," + key + "} 2\n",
           "meshgate_peer_last_handshake_seconds{tunnel=\"site-a\"," + key + "} 1700000000\n",
           "meshgate_peer_info{tunnel=\"site-a\"," + key + ",endpoint=\"203.0.113.2:51820\"} 1\n",
           "meshgate_rx_packets_total{tunnel=\"site-a\",lcore=\"worker0\",port=\"inner\"} 5\n",
           "# TYPE meshgate_worker_stalls_total counter\n",
           "meshgate_worker_stalls_total{tunnel=\"site-a\",lcore=\"worker0\"} 7\n",
           "meshgate_drops_total{tunnel=\"site-a\",lcore=\"worker0\",reason=\"wg_replay\"} 3\n",
           "meshgate_drops_total{tunnel=\"site-a\",lcore=\"worker0\",reason=\"no_route\"} 0\n",
           "meshgate_handshake_events_total{tunnel=\"site-a\",event=\"initiations_sent\"} 4\n",
       }) {
    EXPECT_NE(t.find(want), std::string::npos) << want;
  }
  // Each metric family is declared once.
  EXPECT_EQ(t.find("# TYPE meshgate_rx_packets_total"),
            t.rfind("# TYPE meshgate_rx_packets_total"));
}

TEST(Prometheus, HighAvailabilityRole) {
  MetricsSnapshot s = sample();
  EXPECT_NE(format_prometheus(s).find("meshgate_standby{tunnel=\"site-a\"} 0\n"),
            std::string::npos);
  s.standby = true;
  EXPECT_NE(format_prometheus(s).find("meshgate_standby{tunnel=\"site-a\"} 1\n"),
            std::string::npos);
}

TEST(Prometheus, HighAvailabilityStateSync) {
  MetricsSnapshot s = sample();
  EXPECT_EQ(format_prometheus(s).find("meshgate_ha_sync"), std::string::npos)
      << "a gateway without state sync has no such lines";
  s.ha_sync = true;
  s.ha_sync_connected = true;
  s.ha_sync_stats.connections = 2;
  s.ha_sync_stats.frames_sent = 40;
  s.ha_sync_stats.refused = 1;
  const std::string t = format_prometheus(s);
  for (const char* want : {
           "meshgate_ha_sync_connected{tunnel=\"site-a\"} 1\n",
           "meshgate_ha_sync_connections_total{tunnel=\"site-a\"} 2\n",
           "meshgate_ha_sync_frames_total{tunnel=\"site-a\",event=\"sent\"} 40\n",
           "meshgate_ha_sync_frames_total{tunnel=\"site-a\",event=\"applied\"} 0\n",
           "meshgate_ha_sync_refused_total{tunnel=\"site-a\",what=\"connection\"} 1\n",
       }) {
    EXPECT_NE(t.find(want), std::string::npos) << want;
  }
}

NatMetrics nat_sample() {
  NatMetrics n;
  n.servers = {*Endpoint::parse("203.0.113.1:3478")};
  n.reflexive = *Endpoint::parse("198.51.100.7:40000");
  n.reflexive_server = n.servers[0];
  n.reflexive_age_seconds = 3;
  n.mapping = "endpoint_independent";
  n.filtering = "address_and_port_dependent";
  n.nat_class = "port-restricted cone";
  n.description = "endpoint-independent mapping, address-and-port-dependent filtering";
  n.requests = 12;
  n.retransmissions = 1;
  n.messages = {{"accepted", 12}, {"wrong_source", 2}, {"malformed", 0}};
  return n;
}

TEST(Prometheus, NatInfoAndStunCounters) {
  MetricsSnapshot s = sample();
  s.nat = nat_sample();
  const std::string t = format_prometheus(s);
  for (const std::string& want : std::vector<std::string>{
           "meshgate_nat_info{tunnel=\"site-a\",reflexive=\"198.51.100.7:40000\",server=\"203.0."
           "113.1:"
           "3478\",mapping=\"endpoint_independent\",filtering=\"address_and_port_dependent\","
           "class=\"port-restricted cone\",description=\"endpoint-independent mapping, "
           "address-and-port-dependent filtering\"} 1\n",
           "meshgate_stun_reflexive_age_seconds{tunnel=\"site-a\"} 3\n",
           "meshgate_stun_requests_total{tunnel=\"site-a\",kind=\"retransmission\"} 1\n",
           "meshgate_stun_messages_total{tunnel=\"site-a\",verdict=\"wrong_source\"} 2\n",
       }) {
    EXPECT_NE(t.find(want), std::string::npos) << want;
  }
  // No STUN server configured: no NAT lines at all (an empty info sample would mislead).
  EXPECT_EQ(format_prometheus(sample()).find("meshgate_nat_info"), std::string::npos);
}

TEST(Prometheus, NatStatusForAPerson) {
  MetricsSnapshot s = sample();
  s.nat = nat_sample();
  const auto text = format_nat_status(format_prometheus(s));
  ASSERT_TRUE(text.ok()) << text.error();
  EXPECT_EQ(*text,
            "tunnel site-a\n"
            "  reflexive address: 198.51.100.7:40000 (via 203.0.113.1:3478, confirmed 3 s ago)\n"
            "  NAT: endpoint-independent mapping, address-and-port-dependent filtering "
            "[port-restricted cone]\n"
            "  STUN: 12 requests, 1 retransmissions, 0 timeouts, 0 not sent, 0 address changes\n"
            "  answers: accepted 12, wrong_source 2\n");
  s.nat.reflexive = {};
  EXPECT_NE(format_nat_status(format_prometheus(s))->find("reflexive address: not learnt yet"),
            std::string::npos);
  EXPECT_FALSE(format_nat_status(format_prometheus(sample())).ok());
}

TurnMetrics turn_sample() {
  TurnMetrics t;
  t.server = *Endpoint::parse("203.0.113.1:3478");
  t.state = "allocated";
  t.relayed = *Endpoint::parse("203.0.113.1:49152");
  t.lifetime_seconds = 600;
  t.requests = 3;
  t.allocations = 1;
  t.messages = {{"accepted", 2}, {"challenge", 1}, {"wrong_source", 0}};
  return t;
}

TEST(Prometheus, TurnInfoAndCounters) {
  MetricsSnapshot s = sample();
  s.turn = turn_sample();
  const std::string t = format_prometheus(s);
  const std::string info =
      "meshgate_turn_info{tunnel=\"site-a\",relayed=\"203.0.113.1:49152\",server=\"203.0.113.1:"
      "3478\",state=\"allocated\"} 1\n";
  for (const std::string& want : std::vector<std::string>{
           info,
           "meshgate_turn_lifetime_seconds{tunnel=\"site-a\"} 600\n",
           "meshgate_turn_requests_total{tunnel=\"site-a\",kind=\"first\"} 3\n",
           "meshgate_turn_allocations_total{tunnel=\"site-a\"} 1\n",
           "meshgate_turn_messages_total{tunnel=\"site-a\",verdict=\"challenge\"} 1\n",
       }) {
    EXPECT_NE(t.find(want), std::string::npos) << want;
  }
  EXPECT_EQ(format_prometheus(sample()).find("meshgate_turn_info"), std::string::npos);
}

TEST(Prometheus, TurnStatusForAPerson) {
  MetricsSnapshot s = sample();
  s.turn = turn_sample();
  auto text = format_nat_status(format_prometheus(s));
  ASSERT_TRUE(text.ok()) << text.error();
  EXPECT_EQ(*text,
            "tunnel site-a\n"
            "  TURN relayed address: 203.0.113.1:49152 (server 203.0.113.1:3478, allocated, "
            "lifetime 600 s)\n"
            "  TURN: 3 requests, 0 retransmissions, 0 timeouts, 0 not sent, 1 allocations\n"
            "  TURN answers: accepted 2, challenge 1\n");
  s.nat = nat_sample();
  s.turn.relayed = {};
  s.turn.state = "failed";
  text = format_nat_status(format_prometheus(s));
  ASSERT_TRUE(text.ok()) << text.error();
  EXPECT_NE(text->find("  answers: accepted 12, wrong_source 2\n  TURN relayed address: none "
                       "(failed, server 203.0.113.1:3478)\n"),
            std::string::npos)
      << *text;
}

TEST(Prometheus, PeerPathsForPrometheusAndForAPerson) {
  MetricsSnapshot s = sample();
  s.peers[0].path = "direct";
  s.peers[0].rtt_seconds = 0.0004;
  s.peers[0].path_tracked = true;
  s.peers[0].path_changes = 2;
  s.peers[0].path_age_seconds = 12;
  s.peers[0].candidates = {{*Endpoint::parse("10.2.0.2:51820"), "local"},
                           {*Endpoint::parse("203.0.113.2:51820"), "reflexive"}};
  PeerMetrics& relayed = s.peers.emplace_back();
  relayed.public_key.fill(1);
  relayed.endpoint = *Endpoint::parse("198.51.100.78:3478");
  relayed.endpoint.channel = 0x4001;
  relayed.path = "relayed";
  relayed.path_tracked = true;
  s.peers.emplace_back().public_key.fill(2);  // no endpoint: path none
  s.coordination.received = {{"report/accepted", 3}, {"introduce/not_lighthouse", 1}};
  const std::string text = format_prometheus(s);
  const std::string k0 = "public_key=\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"";
  EXPECT_NE(text.find("meshgate_peer_path_info{tunnel=\"site-a\"," + k0 +
                      ",path=\"direct\",endpoint=\"203.0.113.2:51820\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("path=\"relayed\",endpoint=\"198.51.100.78:3478\",channel=\"0x4001\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("meshgate_peer_rtt_seconds{tunnel=\"site-a\"," + k0 + "} 0.000400"),
            std::string::npos);
  EXPECT_NE(text.find(",candidate=\"10.2.0.2:51820\",kind=\"local\"} 1"), std::string::npos);
  EXPECT_NE(text.find("meshgate_coordination_messages_total{tunnel=\"site-a\",type=\"introduce\","
                      "verdict=\"not_lighthouse\"} 1"),
            std::string::npos);

  EXPECT_EQ(format_peer_paths(text),
            "peer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=: path direct 203.0.113.2:51820, rtt "
            "0.4 ms, changed 12 s ago\n"
            "  candidates: 10.2.0.2:51820 local, 203.0.113.2:51820 reflexive\n"
            "peer AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=: path relayed 198.51.100.78:3478 "
            "channel 0x4001, changed 0 s ago\n"
            "peer AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=: path none\n");
}

TEST(Prometheus, HttpSession) {
  HttpMetricsSession s([] { return std::string("x 1\n"); });
  std::string out;
  EXPECT_TRUE(s.on_data("GET /metrics HTTP/1.1\r\nHost: a\r\n", out));
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(s.on_data("\r\n", out));
  EXPECT_TRUE(out.starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_NE(out.find("Content-Length: 4\r\n"), std::string::npos);
  EXPECT_TRUE(out.ends_with("\r\n\r\nx 1\n"));

  HttpMetricsSession s404([] { return std::string(); });
  out.clear();
  EXPECT_FALSE(s404.on_data("GET /nope HTTP/1.0\r\n\r\n", out));
  EXPECT_TRUE(out.starts_with("HTTP/1.1 404"));
}

}  // namespace
}  // namespace meshgate::control
