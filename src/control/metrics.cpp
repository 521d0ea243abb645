#include "meshgate/control/metrics.hpp"

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
    out.append(name).append("{").append(tunnel_label);
    if (!labels.empty()) out.append(",").append(labels);
    out.append("} ").append(std::to_string(v)).append("\n");
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

}  // namespace

std::string format_prometheus(const MetricsSnapshot& s) {
  std::string out;
  Writer w{out, label("tunnel", s.tunnel)};

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
  std::vector<std::string> keys;
  for (const PeerMetrics& p : s.peers)
    keys.push_back(label("public_key", to_base64(as_bytes(p.public_key))));
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
      {"meshgate_to_control_packets_total", "packets handed to the control thread per lcore",
       &LcoreMetrics::to_control, nullptr},
  };
  for (const LcoreCounter& c : kLcore) {
    if (c.help != nullptr) w.help(c.name, "counter", c.help);
    for (const LcoreMetrics& l : s.lcores) {
      std::string labels = label("lcore", l.name);
      if (c.port != nullptr) labels += "," + label("port", c.port);
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
  w.help("meshgate_handshake_events_total", "counter",
         "handshake messages and outcomes on the control thread");
  for (const auto& [name, v] : s.handshake_events)
    w.sample("meshgate_handshake_events_total", label("event", name), v);
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
