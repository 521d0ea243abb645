#include "meshgate/control/metrics.hpp"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>

#include "meshgate/dataplane/drops.hpp"

namespace meshgate::control {

namespace {

constexpr std::size_t kMaxRequest = 8192;

struct Writer {
  std::string& out;
  std::string tunnel_label;

  void help(const char* name, const char* type, const char* text) {
    out.append("# HELP ").append(name).append(" ").append(text).append("\n");
    out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  }
  void sample(const char* name, const std::string& labels, std::uint64_t v) {
    sample_text(name, labels, std::to_string(v));
  }
  void sample_real(const char* name, const std::string& labels, double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6f", v);
    sample_text(name, labels, buf);
  }
  void sample_text(const char* name, const std::string& labels, const std::string& v) {
    out.append(name).append("{").append(tunnel_label);
    if (!labels.empty()) out.append(",").append(labels);
    out.append("} ").append(v).append("\n");
  }
};

std::string label(const char* k, const std::string& v) {
  std::string s = std::string(k) + "=\"";
  for (char c : v) {
    if (c == '"' || c == '\\') s += '\\';
    if (c == '\n') {
      s += "\\n";
      continue;
    }
    s += c;
  }
  return s + "\"";
}

/// The request counters the STUN and TURN clients share: meshgate_<proto>_requests_total by kind
/// and meshgate_<proto>_timeouts_total.
void write_transactions(Writer& w, const std::string& proto, const std::string& name,
                        std::uint64_t requests, std::uint64_t retransmissions,
                        std::uint64_t not_sent, std::uint64_t timeouts) {
  const std::string req = "meshgate_" + proto + "_requests_total";
  const std::string tmo = "meshgate_" + proto + "_timeouts_total";
  const std::string req_help =
      name + " requests: first transmissions, retransmissions, and requests that could not be sent";
  const std::string tmo_help = name + " transactions that got no answer";
  w.help(req.c_str(), "counter", req_help.c_str());
  w.sample(req.c_str(), label("kind", "first"), requests);
  w.sample(req.c_str(), label("kind", "retransmission"), retransmissions);
  w.sample(req.c_str(), label("kind", "not_sent"), not_sent);
  w.help(tmo.c_str(), "counter", tmo_help.c_str());
  w.sample(tmo.c_str(), "", timeouts);
}

/// Address discovery: one info sample carrying the state as labels (the Prometheus way to
/// expose strings), and counters. Nothing when no STUN server is configured.
void write_nat(Writer& w, const NatMetrics& n) {
  if (n.servers.empty()) return;
  w.help("meshgate_nat_info", "gauge",
         "reflexive address of the listen port (empty: not learnt yet), the server that said it, "
         "and the NAT's behaviour per RFC 5780");
  const auto ep = [](const Endpoint& e) { return e.known() ? e.str() : std::string(); };
  std::string labels = label("reflexive", ep(n.reflexive));
  for (const std::string& l : {label("server", ep(n.reflexive_server)), label("mapping", n.mapping),
                               label("filtering", n.filtering), label("class", n.nat_class),
                               label("description", n.description)}) {
    labels.append(",").append(l);
  }
  w.sample("meshgate_nat_info", labels, 1);
  if (n.reflexive.known()) {
    w.help("meshgate_stun_reflexive_age_seconds", "gauge",
           "seconds since a STUN server last confirmed the reflexive address");
    w.sample("meshgate_stun_reflexive_age_seconds", "", n.reflexive_age_seconds);
  }
  write_transactions(w, "stun", "STUN", n.requests, n.retransmissions, n.not_sent, n.timeouts);
  w.help("meshgate_stun_reflexive_changes_total", "counter",
         "times a known reflexive address was replaced by another");
  w.sample("meshgate_stun_reflexive_changes_total", "", n.address_changes);
  w.help("meshgate_stun_messages_total", "counter", "STUN messages received, by verdict");
  for (const auto& [verdict, v] : n.messages) {
    w.sample("meshgate_stun_messages_total", label("verdict", verdict), v);
  }
}

/// The TURN relay: an info sample with the state as labels, and counters. Nothing when no
/// TURN server is configured.
void write_turn(Writer& w, const TurnMetrics& t) {
  if (!t.server.known()) return;
  w.help("meshgate_turn_info", "gauge",
         "TURN allocation: relayed address (empty: none), server, state (idle, allocating, "
         "allocated, failed)");
  const std::string relayed = t.relayed.known() ? t.relayed.str() : std::string();
  w.sample("meshgate_turn_info",
           label("relayed", relayed) + "," + label("server", t.server.str()) + "," +
               label("state", t.state),
           1);
  w.help("meshgate_turn_lifetime_seconds", "gauge", "lifetime the server gave the allocation");
  w.sample("meshgate_turn_lifetime_seconds", "", t.lifetime_seconds);
  write_transactions(w, "turn", "TURN", t.requests, t.retransmissions, t.not_sent, t.timeouts);
  w.help("meshgate_turn_allocations_total", "counter", "successful TURN Allocate requests");
  w.sample("meshgate_turn_allocations_total", "", t.allocations);
  w.help("meshgate_turn_messages_total", "counter", "TURN answers received, by verdict");
  for (const auto& [verdict, v] : t.messages) {
    w.sample("meshgate_turn_messages_total", label("verdict", verdict), v);
  }
}

/// The path of each peer (keys[i] is peer i's public_key label).
void write_paths(Writer& w, const std::vector<PeerMetrics>& peers,
                 const std::vector<std::string>& keys) {
  w.help("meshgate_peer_path_info", "gauge",
         "the path a peer's packets take: direct, relayed (endpoint: the TURN server) or none");
  for (std::size_t i = 0; i < peers.size(); ++i) {
    const Endpoint& e = peers[i].endpoint;
    std::string labels = keys[i] + "," + label("path", peers[i].path) + "," +
                         label("endpoint", e.known() ? e.str() : "");
    if (e.channel != 0) {
      char ch[8];
      std::snprintf(ch, sizeof ch, "0x%04x", e.channel);
      labels.append(",").append(label("channel", ch));
    }
    w.sample("meshgate_peer_path_info", labels, 1);
  }
  w.help("meshgate_peer_rtt_seconds", "gauge", "round trip of the latest ping on the peer's path");
  for (std::size_t i = 0; i < peers.size(); ++i) {
    if (peers[i].rtt_seconds >= 0)
      w.sample_real("meshgate_peer_rtt_seconds", keys[i], peers[i].rtt_seconds);
  }
  w.help("meshgate_peer_path_changes_total", "counter", "changes of the peer's path");
  for (std::size_t i = 0; i < peers.size(); ++i) {
    if (peers[i].path_tracked) {
      w.sample("meshgate_peer_path_changes_total", keys[i], peers[i].path_changes);
    }
  }
  w.help("meshgate_peer_path_age_seconds", "gauge", "seconds since the peer's path last changed");
  for (std::size_t i = 0; i < peers.size(); ++i) {
    if (peers[i].path_tracked) {
      w.sample("meshgate_peer_path_age_seconds", keys[i], peers[i].path_age_seconds);
    }
  }
  w.help("meshgate_peer_candidate_info", "gauge",
         "the peer's candidate addresses (from a lighthouse, and sources of its pings)");
  for (std::size_t i = 0; i < peers.size(); ++i) {
    for (const auto& [ep, kind] : peers[i].candidates) {
      w.sample("meshgate_peer_candidate_info",
               keys[i] + "," + label("candidate", ep.str()) + "," + label("kind", kind), 1);
    }
  }
}

void write_coordination(Writer& w, const CoordinationMetrics& c) {
  w.help("meshgate_lighthouse_info", "gauge", "1 when this gateway introduces its peers");
  w.sample("meshgate_lighthouse_info", "", c.lighthouse ? 1 : 0);
  w.help("meshgate_coordination_messages_total", "counter",
         "coordination messages received in tunnels, by type and verdict");
  for (const auto& [tv, n] : c.received) {
    const std::size_t slash = tv.find('/');
    w.sample("meshgate_coordination_messages_total",
             label("type", tv.substr(0, slash)) + "," + label("verdict", tv.substr(slash + 1)), n);
  }
  w.help("meshgate_coordination_sent_total", "counter", "coordination messages sent, by type");
  const std::pair<const char*, std::uint64_t> sent[] = {{"report", c.reports_sent},
                                                        {"request", c.requests_sent},
                                                        {"introduce", c.introductions_sent},
                                                        {"ping", c.pings_sent},
                                                        {"pong", c.pongs_sent}};
  for (const auto& [type, n] : sent) {
    w.sample("meshgate_coordination_sent_total", label("type", type), n);
  }
}

/// HA state sync (ha_sync.hpp), for a gateway that has it configured.
void write_ha_sync(Writer& w, const MetricsSnapshot& s) {
  const HaSyncStats& st = s.ha_sync_stats;
  w.help("meshgate_ha_sync_connected", "gauge",
         "1 while this (active) gateway's state sync link to its standby partner is up");
  w.sample("meshgate_ha_sync_connected", "", s.ha_sync_connected ? 1 : 0);
  w.help("meshgate_ha_sync_connections_total", "counter",
         "state sync links this gateway made to its standby partner");
  w.sample("meshgate_ha_sync_connections_total", "", st.connections);
  w.help("meshgate_ha_sync_frames_total", "counter",
         "state sync frames: sent (active, heartbeats included), applied or ignored (received "
         "while standby or active)");
  const std::pair<const char*, std::uint64_t> frames[] = {
      {"sent", st.frames_sent}, {"applied", st.frames_applied}, {"ignored", st.frames_ignored}};
  for (const auto& [event, n] : frames) {
    w.sample("meshgate_ha_sync_frames_total", label("event", event), n);
  }
  w.help("meshgate_ha_sync_refused_total", "counter",
         "state sync refusals: connections closed on a frame that failed its check, and changes "
         "the standby could not apply");
  w.sample("meshgate_ha_sync_refused_total", label("what", "connection"), st.refused);
  w.sample("meshgate_ha_sync_refused_total", label("what", "change"), st.lines_refused);
}

/// Every peer's info line and counters, labelled with `keys` (their public keys, in order).
void write_peers(Writer& w, const MetricsSnapshot& s, const std::vector<std::string>& keys) {
  struct PeerCounter {
    const char* name;
    const char* type;
    const char* help;
    std::uint64_t PeerMetrics::*field;
  };
  static constexpr PeerCounter kPeer[] = {
      {"meshgate_peer_rx_bytes_total", "counter", "WireGuard message bytes received from the peer",
       &PeerMetrics::rx_bytes},
      {"meshgate_peer_tx_bytes_total", "counter", "WireGuard message bytes sent to the peer",
       &PeerMetrics::tx_bytes},
      {"meshgate_peer_rx_packets_total", "counter", "transport packets received from the peer",
       &PeerMetrics::rx_packets},
      {"meshgate_peer_tx_packets_total", "counter", "transport packets sent to the peer",
       &PeerMetrics::tx_packets},
      {"meshgate_peer_handshakes_total", "counter", "sessions derived with the peer",
       &PeerMetrics::handshakes},
  };
  w.help("meshgate_peer_info", "gauge", "one per peer; the endpoint label is its current endpoint");
  for (std::size_t i = 0; i < s.peers.size(); ++i) {
    const Endpoint& e = s.peers[i].endpoint;
    w.sample("meshgate_peer_info", keys[i] + "," + label("endpoint", e.known() ? e.str() : ""), 1);
  }
  for (const PeerCounter& c : kPeer) {
    w.help(c.name, c.type, c.help);
    for (std::size_t i = 0; i < s.peers.size(); ++i) w.sample(c.name, keys[i], s.peers[i].*c.field);
  }
  w.help("meshgate_peer_last_handshake_seconds", "gauge",
         "Unix time of the last handshake (0: never)");
  for (std::size_t i = 0; i < s.peers.size(); ++i) {
    w.sample("meshgate_peer_last_handshake_seconds", keys[i],
             static_cast<std::uint64_t>(s.peers[i].last_handshake.sec));
  }
}

/// Every lcore's packet counters by port, and its drops by reason.
void write_lcores(Writer& w, const MetricsSnapshot& s) {
  struct LcoreCounter {
    const char* name;
    const char* help;
    std::uint64_t LcoreMetrics::*field;
    const char* port;
  };
  static constexpr LcoreCounter kLcore[] = {
      {"meshgate_rx_packets_total", "packets received per lcore and port", &LcoreMetrics::rx_inner,
       "inner"},
      {"meshgate_rx_packets_total", nullptr, &LcoreMetrics::rx_outer, "outer"},
      {"meshgate_tx_packets_total", "packets transmitted per lcore and port",
       &LcoreMetrics::tx_inner, "inner"},
      {"meshgate_tx_packets_total", nullptr, &LcoreMetrics::tx_outer, "outer"},
      {"meshgate_encrypted_packets_total", "packets sealed per lcore", &LcoreMetrics::encrypted,
       nullptr},
      {"meshgate_decrypted_packets_total", "packets opened per lcore", &LcoreMetrics::decrypted,
       nullptr},
      {"meshgate_opened_for_others_packets_total",
       "packets an lcore opened off another worker's RX queue (one peer spread over workers)",
       &LcoreMetrics::opened_for_others, nullptr},
      {"meshgate_worker_stalls_total",
       "polls that began over 1 ms after the one before: the worker's CPU ran something else "
       "meanwhile (is its core isolated?)",
       &LcoreMetrics::stalls, nullptr},
      {"meshgate_to_control_packets_total", "packets handed to the control thread per lcore",
       &LcoreMetrics::to_control, nullptr},
      {"meshgate_reassembled_packets_total", "outer datagrams reassembled from fragments per lcore",
       &LcoreMetrics::reassembled, nullptr},
  };
  for (const LcoreCounter& c : kLcore) {
    if (c.help != nullptr) w.help(c.name, "counter", c.help);
    for (const LcoreMetrics& l : s.lcores) {
      std::string labels = label("lcore", l.name);
      // append, not `+= "," + ...`: GCC 12 warns (-Wrestrict, a false positive) on the latter.
      if (c.port != nullptr) labels.append(",").append(label("port", c.port));
      w.sample(c.name, labels, l.*c.field);
    }
  }
  w.help("meshgate_drops_total", "counter", "packets dropped per lcore and reason");
  for (const LcoreMetrics& l : s.lcores) {
    for (std::size_t i = 0; i < l.drops.size() && i < dataplane::kDropCount; ++i) {
      w.sample("meshgate_drops_total",
               label("lcore", l.name) + "," + label("reason", dataplane::drop_name(i)), l.drops[i]);
    }
  }
}

}  // namespace

std::string format_prometheus(const MetricsSnapshot& s) {
  std::string out;
  Writer w{out, label("tunnel", s.tunnel)};
  w.help("meshgate_standby", "gauge",
         "1 while the gateway is a high-availability standby (sends and answers nothing)");
  w.sample("meshgate_standby", "", s.standby ? 1 : 0);
  if (s.ha_sync) write_ha_sync(w, s);
  std::vector<std::string> keys;
  for (const PeerMetrics& p : s.peers)
    keys.push_back(label("public_key", to_base64(as_bytes(p.public_key))));
  write_peers(w, s, keys);
  write_lcores(w, s);
  w.help("meshgate_handshake_events_total", "counter",
         "handshake messages and outcomes on the control thread");
  for (const auto& [name, v] : s.handshake_events)
    w.sample("meshgate_handshake_events_total", label("event", name), v);
  write_paths(w, s.peers, keys);
  write_nat(w, s.nat);
  write_turn(w, s.turn);
  write_coordination(w, s.coordination);
  return out;
}

namespace {

/// One sample line of the exposition format: name{k="v",...} value.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  std::string value;
};

/// Reads `"..."` at s[i] (i on the opening quote) with the format's three escapes; advances i.
std::optional<std::string> quoted(std::string_view s, std::size_t& i) {
  std::string v;
  for (++i; i < s.size(); ++i) {
    if (s[i] == '"') return ++i, v;
    if (s[i] == '\\' && i + 1 < s.size()) {
      ++i;
      v += s[i] == 'n' ? '\n' : s[i];
    } else {
      v += s[i];
    }
  }
  return std::nullopt;
}

std::optional<Sample> parse_sample(std::string_view line) {
  Sample out;
  std::size_t i = line.find_first_of("{ ");
  if (line.empty() || line[0] == '#' || i == std::string_view::npos) return std::nullopt;
  out.name = std::string(line.substr(0, i));
  if (line[i] == '{') {
    for (++i; i < line.size() && line[i] != '}';) {
      const std::size_t eq = line.find('=', i);
      if (eq == std::string_view::npos || eq + 1 >= line.size()) return std::nullopt;
      const std::string key(line.substr(i, eq - i));
      i = eq + 1;
      auto v = quoted(line, i);
      if (!v) return std::nullopt;
      out.labels[key] = *v;
      if (i < line.size() && line[i] == ',') ++i;
    }
    ++i;  // past '}'
  }
  if (i >= line.size()) return std::nullopt;
  out.value = std::string(line.substr(line.find_first_not_of(' ', i)));
  return out;
}

std::vector<Sample> parse_samples(std::string_view text) {
  std::vector<Sample> out;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    if (auto s = parse_sample(text.substr(0, nl))) out.push_back(std::move(*s));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  }
  return out;
}

}  // namespace

namespace {

/// The samples of one exposition text, looked up by name (and kind label) and by verdict.
struct StatusSamples {
  std::map<std::string, std::string> counters;  // "name:kind" or "name" -> value
  const Sample* nat_info = nullptr;
  const Sample* turn_info = nullptr;
  std::string stun_answers, turn_answers;  // "accepted 12, wrong_source 1"

  explicit StatusSamples(const std::vector<Sample>& samples) {
    for (const Sample& s : samples) {
      if (s.name == "meshgate_nat_info") nat_info = &s;
      if (s.name == "meshgate_turn_info") turn_info = &s;
      std::string key = s.name;
      if (auto k = s.labels.find("kind"); k != s.labels.end()) key.append(":").append(k->second);
      counters[key] = s.value;
      auto v = s.labels.find("verdict");
      if (v == s.labels.end() || s.value == "0") continue;
      std::string* list = s.name == "meshgate_stun_messages_total"   ? &stun_answers
                          : s.name == "meshgate_turn_messages_total" ? &turn_answers
                                                                     : nullptr;
      if (list != nullptr) {
        list->append(list->empty() ? "" : ", ").append(v->second).append(" ").append(s.value);
      }
    }
  }
  std::string count(const std::string& k) const {
    return counters.count(k) != 0 ? counters.at(k) : std::string("0");
  }
  static std::string at(const Sample* s, const char* k) {
    return s != nullptr && s->labels.count(k) != 0 ? s->labels.at(k) : std::string();
  }
};

std::string stun_status(const StatusSamples& ss) {
  const Sample* info = ss.nat_info;
  std::string out = "  reflexive address: ";
  if (ss.at(info, "reflexive").empty()) {
    out += "not learnt yet\n";
  } else {
    out += ss.at(info, "reflexive") + " (via " + ss.at(info, "server") + ", confirmed " +
           ss.count("meshgate_stun_reflexive_age_seconds") + " s ago)\n";
  }
  out += "  NAT: " + ss.at(info, "description") + " [" + ss.at(info, "class") + "]\n";
  out += "  STUN: " + ss.count("meshgate_stun_requests_total:first") + " requests, " +
         ss.count("meshgate_stun_requests_total:retransmission") + " retransmissions, " +
         ss.count("meshgate_stun_timeouts_total") + " timeouts, " +
         ss.count("meshgate_stun_requests_total:not_sent") + " not sent, " +
         ss.count("meshgate_stun_reflexive_changes_total") + " address changes\n";
  out += "  answers: " + (ss.stun_answers.empty() ? std::string("none") : ss.stun_answers) + "\n";
  return out;
}

std::string turn_status(const StatusSamples& ss) {
  const Sample* info = ss.turn_info;
  std::string out = "  TURN relayed address: ";
  if (ss.at(info, "relayed").empty()) {
    out += "none (" + ss.at(info, "state") + ", server " + ss.at(info, "server") + ")\n";
  } else {
    out += ss.at(info, "relayed") + " (server " + ss.at(info, "server") + ", " +
           ss.at(info, "state") + ", lifetime " + ss.count("meshgate_turn_lifetime_seconds") +
           " s)\n";
  }
  out += "  TURN: " + ss.count("meshgate_turn_requests_total:first") + " requests, " +
         ss.count("meshgate_turn_requests_total:retransmission") + " retransmissions, " +
         ss.count("meshgate_turn_timeouts_total") + " timeouts, " +
         ss.count("meshgate_turn_requests_total:not_sent") + " not sent, " +
         ss.count("meshgate_turn_allocations_total") + " allocations\n";
  out +=
      "  TURN answers: " + (ss.turn_answers.empty() ? std::string("none") : ss.turn_answers) + "\n";
  return out;
}

}  // namespace

Result<std::string> format_nat_status(std::string_view prometheus_text) {
  const std::vector<Sample> samples = parse_samples(prometheus_text);
  const StatusSamples ss(samples);
  if (ss.nat_info == nullptr && ss.turn_info == nullptr) {
    return Error{"no STUN or TURN server configured (StunServer, TurnServer in [Gateway])"};
  }
  const Sample* any = ss.nat_info != nullptr ? ss.nat_info : ss.turn_info;
  std::string out = "tunnel " + StatusSamples::at(any, "tunnel") + "\n";
  if (ss.nat_info != nullptr) out += stun_status(ss);
  if (ss.turn_info != nullptr) out += turn_status(ss);
  return out;
}

std::string format_peer_paths(std::string_view prometheus_text) {
  const std::vector<Sample> samples = parse_samples(prometheus_text);
  struct PeerView {
    const Sample* path = nullptr;
    std::string rtt, age, candidates;
  };
  std::map<std::string, PeerView> peers;  // by public key
  std::vector<std::string> order;
  for (const Sample& s : samples) {
    auto k = s.labels.find("public_key");
    if (k == s.labels.end()) continue;
    PeerView& v = peers[k->second];
    if (s.name == "meshgate_peer_path_info") {
      v.path = &s;
      order.push_back(k->second);
    } else if (s.name == "meshgate_peer_rtt_seconds") {
      char ms[32];
      std::snprintf(ms, sizeof ms, ", rtt %.1f ms", std::strtod(s.value.c_str(), nullptr) * 1e3);
      v.rtt = ms;
    } else if (s.name == "meshgate_peer_path_age_seconds") {
      v.age = ", changed " + s.value + " s ago";
    } else if (s.name == "meshgate_peer_candidate_info") {
      v.candidates.append(v.candidates.empty() ? "" : ", ")
          .append(StatusSamples::at(&s, "candidate"))
          .append(" ")
          .append(StatusSamples::at(&s, "kind"));
    }
  }
  std::string out;
  for (const std::string& key : order) {
    const PeerView& v = peers[key];
    const std::string path = StatusSamples::at(v.path, "path");
    out.append("peer ").append(key).append(": path ").append(path);
    if (path != "none") {
      out.append(" ").append(StatusSamples::at(v.path, "endpoint"));
      const std::string ch = StatusSamples::at(v.path, "channel");
      if (!ch.empty()) out.append(" channel ").append(ch);
      out += v.rtt + v.age;
    }
    out += "\n";
    if (!v.candidates.empty()) out.append("  candidates: ").append(v.candidates).append("\n");
  }
  return out;
}

bool HttpMetricsSession::on_data(std::string_view in, std::string& out) {
  request_.append(in);
  std::size_t end = request_.find("\r\n\r\n");
  if (end == std::string::npos) end = request_.find("\n\n");
  if (end == std::string::npos) {
    if (request_.size() <= kMaxRequest) return true;
    out =
        "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: "
        "0\r\n\r\n";
    return false;
  }
  const std::string_view line =
      std::string_view(request_).substr(0, request_.find_first_of("\r\n"));
  std::string status = "200 OK";
  std::string body;
  if (line.substr(0, 4) != "GET ") {
    status = "405 Method Not Allowed";
  } else if (line.substr(4).starts_with("/metrics ") || line.substr(4).starts_with("/ ")) {
    body = body_();
  } else {
    status = "404 Not Found";
  }
  out = "HTTP/1.1 " + status + "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n" +
        "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  return false;
}

MetricsSnapshot MetricsHub::fresh(std::chrono::milliseconds wait) {
  std::unique_lock lock(mutex_);
  const std::uint64_t asked_at = generation_;
  want_.store(true, std::memory_order_release);
  cv_.wait_for(lock, wait, [&] { return generation_ != asked_at; });
  return snapshot_;
}

void MetricsHub::publish(MetricsSnapshot s) {
  {
    std::lock_guard lock(mutex_);
    snapshot_ = std::move(s);
    ++generation_;
    want_.store(false, std::memory_order_release);
  }
  cv_.notify_all();
}

MetricsHub& MetricsHub::instance() {
  static MetricsHub hub;
  return hub;
}

}  // namespace meshgate::control
