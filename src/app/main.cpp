// meshgate: the daemon. Parses the command line, starts the EAL from the profile, builds the
// gateway, runs the workers on their lcores and the control thread here, stops on a signal.
#include <getopt.h>
#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include "meshgate/base/secret.hpp"
#include "meshgate/config/eal_profile.hpp"
#include "meshgate/config/gateway_config.hpp"
#include "meshgate/config/gateway_settings.hpp"
#include "meshgate/control/gateway.hpp"
#include "meshgate/dpdk/eal.hpp"
#include "status.hpp"

namespace {

meshgate::control::Gateway* g_gateway = nullptr;

void on_signal(int) {
  if (g_gateway != nullptr) g_gateway->request_stop();
}

void usage(FILE* out) {
  std::fputs(
      "usage: meshgate --config FILE [--profile FILE]\n"
      "       meshgate --check-config FILE [--profile FILE]\n"
      "       meshgate --strip FILE\n"
      "       meshgate --status FILE\n"
      "\n"
      "  --config FILE        wg-quick style config with a [Gateway] section; the tunnel (and\n"
      "                       UAPI socket) is named after the file, without .conf\n"
      "  --profile FILE       DPDK EAL profile (default: the config's Gateway.Profile)\n"
      "  --check-config FILE  validate the config (and profile) and exit\n"
      "  --strip FILE         print the config's wg-syntax part, for `wg syncconf TUNNEL\n"
      "                       <(meshgate --strip FILE)` on a running gateway\n"
      "  --status FILE        the running gateway's reflexive address, NAT class and STUN\n"
      "                       counters, read from its MetricsListen endpoint\n",
      out);
}

std::string tunnel_name(const std::string& path) {
  std::string base = path.substr(path.find_last_of('/') + 1);
  if (base.size() > 5 && base.compare(base.size() - 5, 5, ".conf") == 0) base.resize(base.size() - 5);
  return base;
}

int fail(const std::string& msg) {
  std::fprintf(stderr, "meshgate: %s\n", msg.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  std::string profile_path;
  bool check_only = false;
  bool strip = false;
  static const option kOptions[] = {{"config", required_argument, nullptr, 'c'},
                                    {"check-config", required_argument, nullptr, 'k'},
                                    {"profile", required_argument, nullptr, 'p'},
                                    {"strip", required_argument, nullptr, 's'},
                                    {"status", required_argument, nullptr, 'S'},
                                    {"help", no_argument, nullptr, 'h'},
                                    {nullptr, 0, nullptr, 0}};
  for (int c; (c = getopt_long(argc, argv, "c:k:p:s:h", kOptions, nullptr)) != -1;) {
    switch (c) {
      case 'c': config_path = optarg; break;
      case 'k': config_path = optarg; check_only = true; break;
      case 'p': profile_path = optarg; break;
      case 's': config_path = optarg; strip = true; break;
      case 'h': usage(stdout); return 0;
      case 'S': return meshgate::app::print_status(optarg);
      default: usage(stderr); return 2;
    }
  }
  if (config_path.empty() || optind != argc) {
    usage(stderr);
    return 2;
  }

  auto cfg = meshgate::config::load_config(config_path);
  if (!cfg) return fail(cfg.error());
  for (const std::string& w : cfg->warnings) std::fprintf(stderr, "meshgate: warning: %s\n", w.c_str());
  if (strip) {
    std::string text = meshgate::config::to_wg_setconf(*cfg);
    std::fputs(text.c_str(), stdout);
    meshgate::secure_wipe(text.data(), text.size());
    cfg->interface.private_key.clear();
    return 0;
  }
  if (profile_path.empty() && cfg->gateway.profile) profile_path = *cfg->gateway.profile;
  if (profile_path.empty()) {
    return fail(config_path + ": no EAL profile: give --profile FILE or [Gateway] Profile =");
  }
  auto profile = meshgate::config::load_profile(profile_path);
  if (!profile) return fail(profile.error());
  auto settings = meshgate::config::merge_gateway_settings(*cfg, *profile);
  if (!settings) return fail(settings.error());
  if (check_only) {
    std::printf("%s: ok (%zu peers, %u workers, inner %s, outer %s, profile %s)\n",
                config_path.c_str(), cfg->peers.size(), settings->workers,
                settings->inner_port.c_str(), settings->outer_port.c_str(), profile_path.c_str());
    return 0;
  }

  const std::string name = tunnel_name(config_path);
  std::vector<std::string> eal_args = profile->eal_args();
  if (!profile->file_prefix && !profile->in_memory) {
    // Each gateway process needs its own EAL runtime directory; the tunnel name is unique.
    eal_args.insert(eal_args.end(), {"--file-prefix", "meshgate-" + name});
  }
  if (auto st = meshgate::dpdk::eal_init(eal_args); !st) return fail(st.error());
  int rc = 0;
  {
    auto gw = meshgate::control::Gateway::create(name, *cfg, *settings);
    if (!gw) {
      rc = fail(gw.error());
    } else {
      g_gateway = gw->get();
      (*gw)->control().set_log(stderr);
      struct sigaction sa {};
      sa.sa_handler = on_signal;
      sigaction(SIGINT, &sa, nullptr);
      sigaction(SIGTERM, &sa, nullptr);
      meshgate::control::Gateway& g = **gw;
      meshgate::Status ops = g.open_uapi(meshgate::control::UapiServer::socket_path(name));
      if (ops && cfg->gateway.metrics_listen) ops = g.open_metrics(*cfg->gateway.metrics_listen);
      g.enable_telemetry();
      if (!ops) {
        rc = fail(ops.error());
      } else if (auto st = g.start(); !st) {
        rc = fail(st.error());
      } else {
        std::fprintf(stderr,
                     "meshgate: %s up: %zu peers, %u workers, listening on port %u, UAPI %s\n",
                     name.c_str(), cfg->peers.size(), g.worker_count(),
                     cfg->interface.listen_port,
                     meshgate::control::UapiServer::socket_path(name).c_str());
        (*gw)->run_control();
        (*gw)->join();
        std::fprintf(stderr, "meshgate: %s stopped\n", name.c_str());
        (*gw)->print_stats(stderr);
      }
      g_gateway = nullptr;
    }
  }  // the gateway's destructor stops the ports and wipes every key
  cfg->interface.private_key.clear();
  meshgate::dpdk::eal_cleanup();
  return rc;
}
