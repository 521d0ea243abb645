// meshgate: the daemon. Parses the command line, starts the EAL from the profile, builds the
// gateway, runs the workers on their lcores and the control thread here, stops on a signal.
#include <getopt.h>
#include <signal.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "meshgate/base/secret.hpp"
#include "meshgate/config/eal_profile.hpp"
#include "meshgate/config/gateway_config.hpp"
#include "meshgate/config/gateway_settings.hpp"
#include "meshgate/control/gateway.hpp"
#include "meshgate/dpdk/eal.hpp"
#include "role.hpp"
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
      "       meshgate --set-role active|standby --config FILE\n"
      "\n"
      "  --config FILE        wg-quick style config with a [Gateway] section; the tunnel (and\n"
      "                       UAPI socket) is named after the file, without .conf\n"
      "  --profile FILE       DPDK EAL profile (default: the config's Gateway.Profile)\n"
      "  --check-config FILE  validate the config (and profile) and exit\n"
      "  --strip FILE         print the config's wg-syntax part, for `wg syncconf TUNNEL\n"
      "                       <(meshgate --strip FILE)` on a running gateway\n"
      "  --status FILE        the running gateway's reflexive address, NAT class and STUN\n"
      "                       counters, read from its MetricsListen endpoint\n"
      "  --set-role ROLE      switch the running gateway of a high-availability pair (the\n"
      "                       tunnel named after --config) to active or standby\n",
      out);
}

std::string tunnel_name(const std::string& path) {
  std::string base = path.substr(path.find_last_of('/') + 1);
  if (base.size() > 5 && base.compare(base.size() - 5, 5, ".conf") == 0)
    base.resize(base.size() - 5);
  return base;
}

int fail(const std::string& msg) {
  std::fprintf(stderr, "meshgate: %s\n", msg.c_str());
  return 1;
}

struct Args {
  std::string config_path;
  std::string profile_path;  // empty: the config's Gateway.Profile
  bool check_only = false;
  bool strip = false;
  std::string set_role;  // --set-role: talk to the running gateway instead
};

/// The command line into `a`. Returns the exit code when the process ends here (--help, a usage
/// error), else -1.
int parse_args(int argc, char** argv, Args& a) {
  static const option kOptions[] = {{"config", required_argument, nullptr, 'c'},
                                    {"check-config", required_argument, nullptr, 'k'},
                                    {"profile", required_argument, nullptr, 'p'},
                                    {"strip", required_argument, nullptr, 's'},
                                    {"status", required_argument, nullptr, 'S'},
                                    {"set-role", required_argument, nullptr, 'R'},
                                    {"help", no_argument, nullptr, 'h'},
                                    {nullptr, 0, nullptr, 0}};
  // NOLINTNEXTLINE(concurrency-mt-unsafe): the main thread, before any other thread starts
  for (int c; (c = getopt_long(argc, argv, "c:k:p:s:h", kOptions, nullptr)) != -1;) {
    switch (c) {
      case 'c':
        a.config_path = optarg;
        break;
      case 'k':
        a.config_path = optarg;
        a.check_only = true;
        break;
      case 'p':
        a.profile_path = optarg;
        break;
      case 's':
        a.config_path = optarg;
        a.strip = true;
        break;
      case 'h':
        usage(stdout);
        return 0;
      case 'S':
        return meshgate::app::print_status(optarg);
      case 'R':
        a.set_role = optarg;
        break;
      default:
        usage(stderr);
        return 2;
    }
  }
  if (a.config_path.empty() || optind != argc) {
    usage(stderr);
    return 2;
  }
  return -1;
}

/// --strip: the config's wg-syntax part on stdout; the copies of the private key are wiped.
int print_stripped(meshgate::config::GatewayConfig& cfg) {
  std::string text = meshgate::config::to_wg_setconf(cfg);
  std::fputs(text.c_str(), stdout);
  meshgate::secure_wipe(text.data(), text.size());
  cfg.interface.private_key.clear();
  return 0;
}

struct Setup {
  meshgate::config::EalProfile profile;
  meshgate::config::GatewaySettings settings;
};

/// The EAL profile (--profile, else the config's) and the settings merged from both. Sets
/// `a.profile_path` to the profile used.
meshgate::Result<Setup> load_setup(Args& a, const meshgate::config::GatewayConfig& cfg) {
  if (a.profile_path.empty() && cfg.gateway.profile) a.profile_path = *cfg.gateway.profile;
  if (a.profile_path.empty()) {
    return meshgate::Error{a.config_path +
                           ": no EAL profile: give --profile FILE or [Gateway] Profile ="};
  }
  auto profile = meshgate::config::load_profile(a.profile_path);
  if (!profile) return meshgate::Error{profile.error()};
  auto settings = meshgate::config::merge_gateway_settings(cfg, *profile);
  if (!settings) return meshgate::Error{settings.error()};
  return Setup{std::move(*profile), std::move(*settings)};
}

std::vector<std::string> eal_args(const meshgate::config::EalProfile& profile,
                                  const std::string& name) {
  std::vector<std::string> args = profile.eal_args();
  if (!profile.file_prefix && !profile.in_memory) {
    // Each gateway process needs its own EAL runtime directory; the tunnel name is unique.
    args.insert(args.end(), {"--file-prefix", "meshgate-" + name});
  }
  return args;
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

/// The UAPI socket, the metrics listener if the config asks for one, and DPDK telemetry.
meshgate::Status open_operator_interfaces(meshgate::control::Gateway& g, const std::string& name,
                                          const meshgate::config::GatewayConfig& cfg) {
  meshgate::Status ops = g.open_uapi(meshgate::control::UapiServer::socket_path(name));
  if (ops && cfg.gateway.metrics_listen) ops = g.open_metrics(*cfg.gateway.metrics_listen);
  if (ops && (cfg.gateway.sync_listen || cfg.gateway.sync_peer)) {
    ops = g.open_sync(cfg.gateway.sync_listen, cfg.gateway.sync_peer);
  }
  g.enable_telemetry();
  return ops;
}

/// The control thread on this lcore until a signal stops it, then the counters.
void serve(meshgate::control::Gateway& g, const std::string& name,
           const meshgate::config::GatewayConfig& cfg) {
  std::fprintf(stderr, "meshgate: %s up: %zu peers, %u workers, listening on port %u, UAPI %s\n",
               name.c_str(), cfg.peers.size(), g.worker_count(), cfg.interface.listen_port,
               meshgate::control::UapiServer::socket_path(name).c_str());
  g.run_control();
  g.join();
  std::fprintf(stderr, "meshgate: %s stopped\n", name.c_str());
  g.print_stats(stderr);
}

/// Builds the gateway on the started EAL and runs it until SIGINT or SIGTERM; the exit code.
/// The gateway's destructor, on return, stops the ports and wipes every key.
int run_gateway(const std::string& name, const meshgate::config::GatewayConfig& cfg,
                const meshgate::config::GatewaySettings& settings) {
  auto gw = meshgate::control::Gateway::create(name, cfg, settings);
  if (!gw) return fail(gw.error());
  meshgate::control::Gateway& g = **gw;
  g_gateway = &g;
  g.control().set_log(stderr);
  install_signal_handlers();
  int rc = 0;
  if (auto ops = open_operator_interfaces(g, name, cfg); !ops) {
    rc = fail(ops.error());
  } else if (auto st = g.start(); !st) {
    rc = fail(st.error());
  } else {
    serve(g, name, cfg);
  }
  g_gateway = nullptr;
  return rc;
}

/// The whole process but the last-resort catch in main().
int run(int argc, char** argv) {
  Args args;
  if (int rc = parse_args(argc, argv, args); rc >= 0) return rc;
  if (!args.set_role.empty()) {
    return meshgate::app::set_role(tunnel_name(args.config_path), args.set_role);
  }
  auto cfg = meshgate::config::load_config(args.config_path);
  if (!cfg) return fail(cfg.error());
  for (const std::string& w : cfg->warnings) {
    std::fprintf(stderr, "meshgate: warning: %s\n", w.c_str());
  }
  if (args.strip) return print_stripped(*cfg);
  auto setup = load_setup(args, *cfg);
  if (!setup) return fail(setup.error());
  const meshgate::config::GatewaySettings& settings = setup->settings;
  if (args.check_only) {
    std::printf("%s: ok (%zu peers, %u workers, inner %s, outer %s, profile %s)\n",
                args.config_path.c_str(), cfg->peers.size(), settings.workers,
                settings.inner_port.c_str(), settings.outer_port.c_str(),
                args.profile_path.c_str());
    return 0;
  }

  const std::string name = tunnel_name(args.config_path);
  if (auto st = meshgate::dpdk::eal_init(eal_args(setup->profile, name)); !st) {
    return fail(st.error());
  }
  const int rc = run_gateway(name, *cfg, settings);
  cfg->interface.private_key.clear();
  meshgate::dpdk::eal_cleanup();
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {  // e.g. bad_alloc while building the gateway
    std::fprintf(stderr, "meshgate: unexpected error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "meshgate: unexpected error\n");
  }
  return 1;
}
