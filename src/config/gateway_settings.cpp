#include "meshgate/config/gateway_settings.hpp"

#include <algorithm>

namespace meshgate::config {
namespace {

template <class T>
std::optional<T> first_of(const std::optional<T>& winner, const std::optional<T>& fallback) {
  return winner ? winner : fallback;
}

Status check_queues(const GatewaySettings& s, const EalProfile& profile) {
  const std::string at = profile.source + ": ";
  if (s.worker_queues.empty()) {
    if (s.queues < s.workers) {
      return Error{at + "queues (" + std::to_string(s.queues) + ") is less than workers (" +
                   std::to_string(s.workers) +
                   "): each worker polls an RX queue of its own; raise queues or set "
                   "worker-queues"};
    }
    return ok_status();
  }
  if (s.worker_queues.size() != s.workers) {
    return Error{at + "the number of worker-queues entries (" +
                 std::to_string(s.worker_queues.size()) + ") differs from workers (" +
                 std::to_string(s.workers) + ")"};
  }
  for (unsigned q = 0; q < s.queues; ++q) {
    bool polled = std::any_of(s.worker_queues.begin(), s.worker_queues.end(),
                              [&](const WorkerQueue& wq) { return wq.queue == q; });
    if (!polled) {
      return Error{at + "RX queue " + std::to_string(q) + " of " + std::to_string(s.queues) +
                   " is polled by no worker in worker-queues"};
    }
  }
  for (const WorkerQueue& wq : s.worker_queues) {
    if (wq.queue >= s.queues) {
      return Error{at + "worker-queues gives lcore " + std::to_string(wq.lcore) + " queue " +
                   std::to_string(wq.queue) + " but there are only " + std::to_string(s.queues) +
                   " queues"};
    }
  }
  return ok_status();
}

Status check_lcore_count(const GatewaySettings& s, const EalProfile& profile) {
  // The main lcore runs the control thread; each worker needs an lcore of its own.
  if (profile.lcore_ids.empty() || s.workers < profile.lcore_ids.size()) return ok_status();
  return Error{profile.source + ": " + std::to_string(s.workers) + " workers need " +
               std::to_string(s.workers + 1) + " lcores (one more for the control thread) but " +
               "lcores '" + *profile.lcores + "' has " + std::to_string(profile.lcore_ids.size())};
}

}  // namespace

Result<GatewaySettings> merge_gateway_settings(const GatewayConfig& config,
                                               const EalProfile& profile) {
  const GatewaySection& g = config.gateway;
  GatewaySettings s;
  auto inner = first_of(g.inner_port, profile.inner);
  auto outer = first_of(g.outer_port, profile.outer);
  auto missing = [&](const char* what, const char* config_key, const char* profile_key) {
    return Error{std::string(what) + " is set in neither " + config.source + " ([Gateway] " +
                 config_key + ") nor " + profile.source + " ([meshgate] " + profile_key + ")"};
  };
  if (!inner) return missing("the inner port", "InnerPort", "inner");
  if (!outer) return missing("the outer port", "OuterPort", "outer");
  if (*inner == *outer) {
    return Error{config.source + ", " + profile.source + ": the inner and the outer port are " +
                 "both '" + *inner + "'"};
  }
  s.inner_port = *inner;
  s.outer_port = *outer;
  s.workers = first_of(g.workers, profile.workers).value_or(kDefaultWorkers);
  s.queues = profile.queues.value_or(s.workers);
  s.worker_queues = profile.worker_queues;
  s.idle_backoff = first_of(g.idle_backoff, profile.idle_backoff).value_or(kDefaultIdleBackoff);
  if (Status st = check_queues(s, profile); !st) return Error{st.error()};
  if (Status st = check_lcore_count(s, profile); !st) return Error{st.error()};
  return s;
}

}  // namespace meshgate::config
