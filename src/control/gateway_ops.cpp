// The gateway's operator interfaces: UAPI socket, Prometheus endpoint, DPDK telemetry, and the
// counter snapshot they share. All are polled from the control thread (Control::add_service).
#include "meshgate/control/gateway.hpp"
#include "meshgate/dataplane/drops.hpp"

namespace meshgate::control {

namespace {

using dataplane::peek;

/// Relaxed reads of one lcore's drop counters, by drop index.
std::vector<std::uint64_t> drops_of(const dataplane::DropCounters& d) {
  std::vector<std::uint64_t> out(dataplane::kDropCount);
  for (std::size_t i = 0; i < dataplane::kDropCount; ++i) out[i] = peek(d.count[i]);
  return out;
}

LcoreMetrics lcore_metrics(std::string name, const dataplane::Worker& w) {
  LcoreMetrics l;
  l.name = std::move(name);
  const dataplane::WorkerStats& s = w.stats();
  l.rx_inner = peek(s.rx_inner);
  l.rx_outer = peek(s.rx_outer);
  l.tx_inner = peek(s.tx_inner);
  l.tx_outer = peek(s.tx_outer);
  l.encrypted = peek(s.encrypted);
  l.decrypted = peek(s.decrypted);
  l.opened_for_others = peek(s.opened_for_others);
  l.stalls = peek(s.stalls);
  l.to_control = peek(s.to_control);
  l.reassembled = peek(w.reassembled());
  l.drops = drops_of(w.drops());
  return l;
}

/// The control thread as an lcore: its transmit counters and the control plane's drops.
LcoreMetrics control_metrics(const Control& c) {
  LcoreMetrics l;
  l.name = "control";
  const TransmitStats& t = c.tx().stats();
  l.tx_inner = peek(t.tx_inner);
  l.tx_outer = peek(t.tx_outer);
  l.encrypted = peek(t.sealed);
  l.drops = drops_of(c.drops());
  return l;
}

/// Address discovery, read on the control thread (the STUN part is its own).
NatMetrics nat_metrics(const Control& c) {
  NatMetrics n;
  const nat::StunClient& client = c.stun().client();
  n.servers = client.servers();
  const nat::Reflexive& r = client.reflexive();
  n.reflexive = r.address;
  n.reflexive_server = r.server;
  if (r.address.known()) {
    n.reflexive_age_seconds = static_cast<std::uint64_t>((c.now() - r.confirmed) / kNsPerSec);
  }
  const nat::NatClass& k = client.nat();
  n.mapping = nat::to_string(k.mapping);
  n.filtering = nat::to_string(k.filtering);
  n.nat_class = k.short_name();
  n.description = k.describe();
  const nat::StunClientStats& st = client.stats();
  n.requests = st.requests_sent;
  n.retransmissions = st.retransmissions;
  n.not_sent = c.stun().stats().not_sent;
  n.timeouts = st.timeouts;
  n.address_changes = st.address_changes;
  for (std::size_t i = 0; i <= nat::kStunVerdictCount; ++i) {
    n.messages.emplace_back(nat::to_string(static_cast<nat::StunVerdict>(i)), st.verdicts[i]);
  }
  return n;
}

/// The TURN relay, read on the control thread (the TURN part is its own).
TurnMetrics turn_metrics(const Control& c) {
  TurnMetrics t;
  const nat::TurnClient& client = c.turn().client();
  t.server = client.config().server;
  t.state = nat::to_string(client.state());
  t.relayed = client.allocation().relayed;
  t.lifetime_seconds = client.allocation().lifetime;
  const nat::TurnClientStats& st = client.stats();
  t.requests = st.requests_sent;
  t.retransmissions = st.retransmissions;
  t.not_sent = c.turn().stats().not_sent;
  t.timeouts = st.timeouts;
  t.allocations = st.allocations;
  for (std::size_t i = 0; i <= nat::kTurnVerdictCount; ++i) {
    t.messages.emplace_back(nat::to_string(static_cast<nat::TurnVerdict>(i)), st.verdicts[i]);
  }
  return t;
}

/// The peer's path: from its endpoint for every peer, with what path selection knows for a peer
/// a lighthouse introduced.
void path_metrics(const Control& c, PeerId id, PeerMetrics& p) {
  p.path = std::string(to_string(c.paths().path_of(id, c.now())));
  const PathState* ps = c.paths().find(id);
  if (ps == nullptr) return;
  p.path_tracked = true;
  if (ps->rtt >= 0) p.rtt_seconds = static_cast<double>(ps->rtt) / 1e9;
  p.path_changes = ps->changes;
  p.path_age_seconds =
      static_cast<std::uint64_t>(std::max<Nanos>(0, c.now() - ps->changed_at) / 1'000'000'000);
  for (const nat::coord::Candidate& cand : ps->candidates.view()) {
    p.candidates.emplace_back(cand.endpoint, std::string(nat::coord::to_string(cand.kind)));
  }
}

CoordinationMetrics coordination_metrics(const Control& c) {
  CoordinationMetrics m;
  const LighthouseStats& st = c.lighthouse().stats();
  m.lighthouse = c.lighthouse().serving();
  for (std::size_t t = 0; t <= nat::coord::kTypeCount; ++t) {
    for (std::size_t v = 1; v <= kCoordVerdictCount; ++v) {
      if (st.messages[t][v] == 0) continue;
      const std::string type =
          t == 0 ? "undecoded"
                 : std::string(nat::coord::to_string(static_cast<nat::coord::Type>(t)));
      m.received.emplace_back(type + "/" + std::string(to_string(static_cast<CoordVerdict>(v))),
                              st.messages[t][v]);
    }
  }
  m.reports_sent = st.reports_sent;
  m.requests_sent = st.requests_sent;
  m.introductions_sent = st.introductions_sent;
  m.pings_sent = c.paths().stats().pings_sent;
  m.pongs_sent = c.paths().stats().pongs_sent;
  return m;
}

}  // namespace

MetricsSnapshot Gateway::metrics() const {
  MetricsSnapshot s;
  s.tunnel = name_;
  const Control& c = *control_;
  s.listen_port = c.config().listen_port();
  s.standby = c.standby();
  if (sync_) {
    s.ha_sync = true;
    s.ha_sync_connected = sync_->connected();
    s.ha_sync_stats = sync_->stats();
  }
  for (PeerId id : c.peers().ids()) {
    const PeerState& ps = *c.peers().find(id);
    const dataplane::PeerTotals pr = dp_->peer_totals(id);
    PeerMetrics& p = s.peers.emplace_back();
    p.public_key = ps.settings.public_key;
    p.endpoint = ps.settings.endpoint;
    p.rx_bytes = pr.rx_bytes;
    p.tx_bytes = pr.tx_bytes;
    p.rx_packets = pr.rx_packets;
    p.tx_packets = pr.tx_packets;
    p.handshakes = ps.handshakes;
    p.last_handshake = ps.timers.last_handshake();
    path_metrics(c, id, p);
  }
  for (const auto& w : workers_)
    s.lcores.push_back(lcore_metrics("worker" + std::to_string(w->id()), *w));
  s.lcores.push_back(control_metrics(c));
  const ControlStats st = c.stats();
  s.handshake_events = {
      {"initiations_sent", st.initiations_sent}, {"initiations_received", st.initiations_received},
      {"responses_sent", st.responses_sent},     {"responses_received", st.responses_received},
      {"cookies_sent", st.cookies_sent},         {"cookies_received", st.cookies_received},
      {"keepalives_sent", st.keepalives_sent},   {"rate_limited", st.rate_limited},
  };
  for (std::size_t i = 1; i <= noise::kHandshakeDropCount; ++i) {
    s.handshake_events.emplace_back(
        "rejected_" + std::string(noise::to_string(static_cast<noise::HandshakeDrop>(i))),
        st.handshake_drops[i]);
  }
  s.nat = nat_metrics(c);
  s.turn = turn_metrics(c);
  s.coordination = coordination_metrics(c);
  return s;
}

Status Gateway::open_uapi(const std::string& path) {
  uapi_device_ = make_uapi_device(*control_);
  auto server = UapiServer::open(path, *uapi_device_);
  if (!server) return Error{"UAPI: " + server.error()};
  uapi_ = std::move(*server);
  control_->add_service([this](Nanos now) { return uapi_->poll(now); });
  return ok_status();
}

Status Gateway::open_metrics(const std::string& address) {
  auto fd = listen_tcp(address);
  if (!fd) return Error{"MetricsListen: " + fd.error()};
  metrics_server_ = std::make_unique<StreamServer>(*fd, [this] {
    return std::make_unique<HttpMetricsSession>([this] { return format_prometheus(metrics()); });
  });
  control_->add_service([this](Nanos now) { return metrics_server_->poll(now); });
  return ok_status();
}

Status Gateway::open_sync(std::optional<Endpoint> listen, std::optional<Endpoint> partner) {
  sync_device_ = make_uapi_device(*control_);
  auto sync = StateSync::open(*control_, *sync_device_, listen, partner);
  if (!sync) return Error{sync.error()};
  sync_ = std::move(*sync);
  control_->add_service([this](Nanos now) { return sync_->poll(now); });
  return ok_status();
}

void Gateway::enable_telemetry() {
  register_telemetry();
  control_->add_service([this](Nanos) -> unsigned {
    MetricsHub& hub = MetricsHub::instance();
    if (!hub.wanted()) return 0;
    hub.publish(metrics());
    return 1;
  });
}

}  // namespace meshgate::control
