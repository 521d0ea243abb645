// Counters the operator reads: a snapshot the control thread takes of the per-peer counters,
// the per-lcore statistics and drop reasons, and the handshake counters; its Prometheus text
// form; the HTTP session that serves it; and the hub through which the DPDK telemetry thread
// asks the control thread for a fresh snapshot (telemetry.cpp registers /meshgate/*).
//
// Pure code: no DPDK. Gateway::metrics() (gateway.hpp) fills a snapshot.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "meshgate/base/bytes.hpp"
#include "meshgate/base/ip.hpp"
#include "meshgate/base/result.hpp"
#include "meshgate/base/time.hpp"
#include "meshgate/control/stream_server.hpp"

namespace meshgate::control {

struct PeerMetrics {
  Key32 public_key{};
  Endpoint endpoint;  // current (configured or learnt by roaming); unknown: none
  std::uint64_t rx_bytes = 0, tx_bytes = 0;  // WireGuard message bytes, as `wg show`
  std::uint64_t rx_packets = 0, tx_packets = 0;
  std::uint64_t handshakes = 0;  // sessions derived
  WallTime last_handshake;
  // The path (control/paths.hpp): "direct", "relayed" (endpoint is the TURN server) or "none".
  std::string path = "none";
  double rtt_seconds = -1;         // latest ping round trip; -1: unknown (not probed)
  bool path_tracked = false;       // a lighthouse introduced the peer: changes and age are known
  std::uint64_t path_changes = 0;  // since a lighthouse introduced the peer
  std::uint64_t path_age_seconds = 0;                        // since the path last changed
  std::vector<std::pair<Endpoint, std::string>> candidates;  // the peer's, with their kind
};

/// One lcore: a worker, or the control thread's TX path ("control").
struct LcoreMetrics {
  std::string name;
  std::uint64_t rx_inner = 0, rx_outer = 0, tx_inner = 0, tx_outer = 0;
  std::uint64_t encrypted = 0, decrypted = 0, to_control = 0;
  std::uint64_t reassembled = 0;        // outer datagrams put back together from fragments
  std::uint64_t opened_for_others = 0;  // of decrypted: packets of another worker's RX queue
  std::uint64_t stalls = 0;  // polls over 1 ms after the one before (dataplane/poll_gaps.hpp)
  std::vector<std::uint64_t> drops;  // by dataplane drop index (drops.hpp), kDropCount long
};

/// Address discovery (STUN, control/stun.hpp). No servers: none configured, nothing to show.
struct NatMetrics {
  std::vector<Endpoint> servers;
  Endpoint reflexive;  // unknown until a server answers
  Endpoint reflexive_server;
  std::uint64_t reflexive_age_seconds = 0;  // since a server last confirmed it
  // nat::NatClass in words: to_string(Mapping), to_string(Filtering), short_name(), describe().
  std::string mapping = "unknown", filtering = "unknown", nat_class = "unknown", description;
  std::uint64_t requests = 0, retransmissions = 0, not_sent = 0, timeouts = 0;
  std::uint64_t address_changes = 0;
  std::vector<std::pair<std::string, std::uint64_t>> messages;  // by verdict: "accepted", n
};

/// The TURN relay (control/turn.hpp). No server: none configured, nothing to show.
struct TurnMetrics {
  Endpoint server;
  std::string state = "idle";  // nat::to_string(TurnState)
  Endpoint relayed;            // unknown unless allocated
  std::uint64_t lifetime_seconds = 0;
  std::uint64_t requests = 0, retransmissions = 0, not_sent = 0, timeouts = 0, allocations = 0;
  std::vector<std::pair<std::string, std::uint64_t>> messages;  // by verdict: "accepted", n
};

/// Coordination messages received (control/lighthouse.hpp): "type/verdict" -> count, the nonzero
/// ones; and what this gateway sent.
struct CoordinationMetrics {
  bool lighthouse = false;                                      // this gateway serves introductions
  std::vector<std::pair<std::string, std::uint64_t>> received;  // "report/accepted", n
  std::uint64_t reports_sent = 0, requests_sent = 0, introductions_sent = 0;
  std::uint64_t pings_sent = 0, pongs_sent = 0;
};

/// HA state sync's counters (ha_sync.hpp; StateSync writes them on the control thread).
struct HaSyncStats {
  std::uint64_t connections = 0;     // active: connections that got the standby's hello
  std::uint64_t frames_sent = 0;     // active: heartbeats included
  std::uint64_t frames_applied = 0;  // standby: frames with changes, applied
  std::uint64_t frames_ignored = 0;  // standby: frames that came while this gateway was active
  std::uint64_t lines_refused = 0;   // standby: set lines that failed (the frame stops there)
  std::uint64_t refused = 0;         // standby: connections closed on a bad hello or frame
};

struct MetricsSnapshot {
  std::string tunnel;
  std::uint16_t listen_port = 0;
  bool standby = false;            // an HA standby (Control::set_role)
  bool ha_sync = false;            // state sync configured (SyncListen or SyncPeer)
  bool ha_sync_connected = false;  // active: the link to the standby is up
  HaSyncStats ha_sync_stats;
  std::vector<PeerMetrics> peers;
  std::vector<LcoreMetrics> lcores;
  std::vector<std::pair<std::string, std::uint64_t>> handshake_events;  // "initiations_sent", n
  NatMetrics nat;
  TurnMetrics turn;
  CoordinationMetrics coordination;
};

/// Prometheus text exposition format 0.0.4.
std::string format_prometheus(const MetricsSnapshot& s);

/// The NAT and STUN lines of format_prometheus()'s text, for a person: what `meshgate --status`
/// prints, with the TURN lines when meshgate_turn_info is there. An error when the text has
/// neither (no StunServer and no TurnServer configured).
Result<std::string> format_nat_status(std::string_view prometheus_text);
/// One paragraph per peer for a person: its path, round trip, when the path changed, and its
/// candidates; from the meshgate_peer_* samples of format_prometheus()'s text.
std::string format_peer_paths(std::string_view prometheus_text);

/// Answers "GET /metrics" (and "GET /") with `body()`; anything else with 404/405. One request
/// per connection (HTTP/1.0 style: the reply closes it).
class HttpMetricsSession : public StreamServer::Session {
 public:
  explicit HttpMetricsSession(std::function<std::string()> body) : body_(std::move(body)) {}
  bool on_data(std::string_view in, std::string& out) override;

 private:
  std::function<std::string()> body_;
  std::string request_;
};

/// Hands snapshots from the control thread to another thread (DPDK telemetry's). The reader
/// asks, the control thread sees the request on its next tick and publishes.
class MetricsHub {
 public:
  // --- reader thread ---
  /// Asks for a snapshot newer than the call and waits up to `wait` for it; the latest one
  /// published otherwise (empty if none yet).
  MetricsSnapshot fresh(std::chrono::milliseconds wait);

  // --- control thread ---
  bool wanted() const noexcept { return want_.load(std::memory_order_acquire); }
  void publish(MetricsSnapshot s);

  /// The process's hub: DPDK telemetry callbacks carry no context pointer.
  static MetricsHub& instance();

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  MetricsSnapshot snapshot_;
  std::uint64_t generation_ = 0;
  std::atomic<bool> want_{false};
};

}  // namespace meshgate::control
