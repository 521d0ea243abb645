// A whole gateway on a started EAL: ports, mbuf pool, rings, tables, the control thread and
// the workers, assembled from the config file and the EAL profile.
//
// Two ways to run it:
//   - the daemon: start() launches the workers on their lcores, run_control() runs the control
//     thread on the calling (main) lcore until request_stop(), then join();
//   - tests and tunbench: no lcores at all; poll() runs one iteration of every worker and of
//     the control thread on the calling thread, so two gateways can talk in one process.
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "meshgate/base/result.hpp"
#include "meshgate/config/gateway_config.hpp"
#include "meshgate/config/gateway_settings.hpp"
#include "meshgate/control/control.hpp"
#include "meshgate/control/ha_sync.hpp"
#include "meshgate/control/metrics.hpp"
#include "meshgate/control/uapi_server.hpp"
#include "meshgate/dataplane/dataplane.hpp"
#include "meshgate/dataplane/worker.hpp"

namespace meshgate::control {

/// Registers the /meshgate/* DPDK telemetry commands once per process (telemetry.cpp).
void register_telemetry();

/// The L3 MTU a port of `role` is configured for when the tunnel MTU is `tunnel_mtu`: the LAN
/// port the tunnel MTU, the Internet port that sealed (docs/design.md, "MTU and jumbo
/// frames"); neither below Ethernet's 1500. The mbuf pool is made for the outer one.
std::uint16_t port_mtu(dataplane::PortRole role, std::uint16_t tunnel_mtu);

/// The rings from the workers to the control thread (to_control, handshakes, events), sized and
/// named as the gateway's (`name` prefixes the ring names); the caller frees them.
Status make_control_rings(dataplane::Dataplane& dp, const std::string& name);
/// Frees what make_control_rings made (and whatever it left in them: the mbufs in a ring are
/// the caller's to drain first); the workers and the control thread must have stopped.
void free_control_rings(dataplane::Dataplane& dp);

struct GatewayLimits {
  std::uint32_t max_peers = 1024;
  /// Pool size; 0: the config's Mbufs, else mbuf_budget() of the gateway's shape. Tests set a
  /// small one to fit several gateways in one EAL; the config's Mbufs still wins.
  unsigned mbufs = 0;
};

class Gateway {
 public:
  /// `name` is the tunnel name (the config file's base name), used for pool/ring names.
  static Result<std::unique_ptr<Gateway>> create(const std::string& name,
                                                 const config::GatewayConfig& cfg,
                                                 const config::GatewaySettings& settings,
                                                 const GatewayLimits& limits = {});
  ~Gateway();

  /// Launches worker i on the i-th non-main lcore. Fails if there are fewer lcores than workers.
  Status start();
  void run_control() { control_->run(); }
  void request_stop() { dp_->stop.store(true); }
  /// Waits for the worker lcores to return.
  void join();

  /// One iteration of every worker, then of the control thread (single-threaded use).
  unsigned poll(Nanos now, WallTime wall);

  /// Human-readable counters: per worker, per drop reason, handshakes (for logs at exit).
  void print_stats(FILE* out) const;

  // --- operator interfaces, all served from the control thread (gateway_ops.cpp) ---
  /// The UAPI on `path` (UapiServer::socket_path(name()) for the daemon), so `wg` works.
  Status open_uapi(const std::string& path);
  /// Prometheus text on "addr:port" (HTTP GET /metrics).
  Status open_metrics(const std::string& address);
  /// State sync of a high-availability pair (ha_sync.hpp): accept the partner on `listen` and,
  /// while active, send it our state at `partner` (either may be none).
  Status open_sync(std::optional<Endpoint> listen, std::optional<Endpoint> partner);
  /// Null without open_sync.
  const StateSync* sync() const noexcept { return sync_.get(); }
  /// Answers DPDK telemetry's /meshgate/* commands (telemetry.cpp) through MetricsHub.
  void enable_telemetry();
  /// Counters now (control thread; relaxed reads of what the workers write).
  MetricsSnapshot metrics() const;

  const std::string& name() const noexcept { return name_; }
  dataplane::Dataplane& dataplane() noexcept { return *dp_; }
  Control& control() noexcept { return *control_; }
  dataplane::Worker& worker(unsigned i) noexcept { return *workers_[i]; }
  unsigned worker_count() const noexcept { return static_cast<unsigned>(workers_.size()); }

 private:
  Gateway() = default;
  std::string name_;
  std::unique_ptr<dataplane::Dataplane> dp_;
  std::vector<std::unique_ptr<dataplane::Worker>> workers_;
  std::unique_ptr<Control> control_;
  std::vector<unsigned> lcores_;
  bool ports_started_ = false;
  std::unique_ptr<uapi::Device> uapi_device_;
  std::unique_ptr<UapiServer> uapi_;
  std::unique_ptr<StreamServer> metrics_server_;
  std::unique_ptr<uapi::Device> sync_device_;
  std::unique_ptr<StateSync> sync_;
};

}  // namespace meshgate::control
