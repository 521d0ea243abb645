// The port and worker layout a gateway runs with: the config file's [Gateway] values merged over
// the EAL profile's [meshgate] values. The config file wins; defaults fill what both leave out.
#pragma once

#include <string>
#include <vector>

#include "meshgate/base/result.hpp"
#include "meshgate/config/eal_profile.hpp"
#include "meshgate/config/gateway_config.hpp"

namespace meshgate::config {

struct GatewaySettings {
  std::string inner_port;  // required in one of the two files
  std::string outer_port;  // required in one of the two files
  unsigned workers = kDefaultWorkers;
  unsigned queues = kDefaultWorkers;       // RX queues per port; default = workers
  std::vector<WorkerQueue> worker_queues;  // empty: worker i polls queue i
  bool idle_backoff = kDefaultIdleBackoff;
};

/// Merges and checks: both ports named and different, enough queues for the workers (or a
/// worker-queues map with one entry per worker that covers every queue), and enough lcores in
/// the profile for the workers plus the control thread. Messages name the file(s) involved.
Result<GatewaySettings> merge_gateway_settings(const GatewayConfig& config,
                                               const EalProfile& profile);

}  // namespace meshgate::config
