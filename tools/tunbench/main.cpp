// tunbench: how fast meshgate's data path is, each figure next to the baseline it is compared
// with, measured in the same run.
//
//   tunbench inmem [options]   the daemon's worker code on in-memory packets (inmem.hpp)
//   tunbench netns [options]   end to end in network namespaces, against wireguard-go and nebula
//   tunbench flood [options]   handshake initiations at a paced rate (the netns flood case)
#include <getopt.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "flood.hpp"
#include "inmem.hpp"
#include "meshgate/config/eal_profile.hpp"
#include "meshgate/config/gateway_config.hpp"
#include "meshgate/dpdk/eal.hpp"
#include "netns.hpp"
#include "report.hpp"

namespace {

using namespace tunbench;

constexpr const char* kProfileName = "inmem-bench.profile";

void usage(FILE* out) {
  std::fputs(
      "usage: tunbench inmem [options]\n"
      "       tunbench netns [options]   (tunbench netns --help)\n"
      "       tunbench flood [options]   (tunbench flood --help)\n"
      "\n"
      "inmem: the daemon's worker code (Worker::outbound / Worker::inbound and the TX flush onto\n"
      "net_ring ports) on in-memory packets, each case next to the raw ipsec-mb AEAD rate of\n"
      "the same core, measured in the same run.\n"
      "  --sizes LIST      inner IP packet sizes in bytes, 36..9000, and imix (7:4:1 of\n"
      "                    40/576/1500); the tunnel MTU of a case is 1420, or its largest\n"
      "                    packet above that (default 64,128,256,512,1024,1420,imix)\n"
      "  --peers LIST      peers with a live keypair, traffic spread over them (default 1)\n"
      "  --workers LIST    workers, one lcore each (default 1)\n"
      "  --direction LIST  outbound,inbound,both (default all three)\n"
      "  --burst N         packets per worker call, 1..32 (default 32)\n"
      "  --duration S      seconds of data-path time per case (default 1)\n"
      "  --aead-time S     seconds of raw AEAD time per case (default duration / 2)\n"
      "  --chunk N         frames in flight per worker (default 256)\n"
      "  --verify N        compare every N-th decrypted frame byte for byte, 0: none (default 1)\n"
      "  --repeat N        runs per case; the table shows medians (default 1)\n"
      "  --json FILE       one record per case\n"
      "  --plot FILE       gnuplot chart, .png or .svg\n"
      "  --profile FILE    EAL profile (default: dpdk-configs/inmem-bench.profile)\n"
      "  --lcores LIST     EAL lcores (e.g. 0-11); default: the profile's, else the first\n"
      "                    CPUs this process may run on, one per worker\n"
      "  --quiet           no progress line\n"
      "  --relayed         every peer through a TURN relay: ChannelData both ways\n"
      "  --flood RATES     handshake initiations a second mixed into inbound (e.g. 0,100k,1M),\n"
      "                    half with a valid mac1, one case per rate back to back; the daemon's\n"
      "                    control thread runs on an lcore of its own (one more than the\n"
      "                    workers); directions inbound and both only\n"
      "  --gateway         gateway mode: each worker runs the daemon's loop on its own lcore,\n"
      "                    fed through its RX rings by a feeder lcore of its own (one more\n"
      "                    CPU a worker); directions outbound and inbound (the defaults:\n"
      "                    64,1420 and both of them); the maximum rate, then the time in the\n"
      "                    gateway (p50, p99, p99.9), from the RX ring to the worker's TX\n"
      "                    burst, at shares of it\n"
      "  --loads LIST      gateway mode: those shares (default 0.1,0.5,0.9)\n"
      "  --frames N        gateway mode: distinct frames per feeder (default: 65536, or 4 a\n"
      "                    peer where that is more; inbound, as many as 256 MiB holds where\n"
      "                    that is more: each pass over them rekeys its peers)\n"
      "                    (--chunk: frames in flight at the maximum rate, default 1024 here)\n"
      "  --train N         gateway mode: locality, N frames in a row to one peer and prefix\n"
      "                    (default 1: each frame's peer and prefix drawn anew, uniformly)\n"
      "  --one-peer        gateway mode, 1 peer over every worker as a NIC's hash delivers it:\n"
      "                    inbound, every frame enters on worker 0's RX queue (the peer's one\n"
      "                    outer 5-tuple), the other workers open bursts of it and worker 0\n"
      "                    sends them on in order; outbound, the peer's inner flows spread\n"
      "                    over every worker's queue (a feeder each)\n"
      "  --no-spread       the workers do not open each other's bursts (the baseline)\n"
      "  --preload N       gateway mode without feeder lcores: rounds of N frames a fed queue\n"
      "                    put on the RX rings at once, each timed until the workers have\n"
      "                    transmitted them all (every CPU is the workers'; no latency)\n"
      "  --rekey-after S   gateway mode, outbound: live handshakes. The gateway's control thread\n"
      "                    (the daemon's, on an lcore of its own: one more) makes each peer's\n"
      "                    keypairs with handshakes that the peers' side answers, and rekeys\n"
      "                    after S seconds instead of WireGuard's 120 (at most once a peer per\n"
      "                    5 s, REKEY_TIMEOUT); frames are checked with the keys it derived\n"
      "\n"
      "Gbit/s: inner IP packet bytes (no Ethernet, no WireGuard overhead) per second.\n"
      "ratio: the data path's Gbit/s over the AEAD's for the same sizes; vs linear: the aggregate\n"
      "over N times the fewest workers' figure; vs 1 peer: the ratio over the ratio of the same\n"
      "case with the fewest peers; vs no flood: the ratio over the ratio of the same case at\n"
      "flood 0.\n",
      out);
}

/// A comma-separated list into `out`, each item by `one(item, value)`; false when an item does
/// not parse or the list is empty.
template <class T, class F>
bool parse_items(std::string_view s, std::vector<T>& out, F one) {
  out.clear();
  while (!s.empty()) {
    const std::size_t comma = s.find(',');
    T v{};
    if (!one(s.substr(0, comma), v)) return false;
    out.push_back(v);
    s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
  }
  return !out.empty();
}

/// One number of a list; false unless all of `item` is one.
bool parse_number(std::string_view item, unsigned& v) {
  auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
  return ec == std::errc() && p == item.data() + item.size();
}

bool parse_list(std::string_view s, std::vector<unsigned>& out, unsigned lo, unsigned hi) {
  return parse_items(s, out, [&](std::string_view item, unsigned& v) {
    return parse_number(item, v) && v >= lo && v <= hi;
  });
}

/// One item of --sizes: an inner IP packet size kMinSize..config::kMaxMtu, or imix. The error
/// names the option, the item and the limit it broke.
meshgate::Result<unsigned> parse_size(const std::string& item) {
  if (item == "imix") return kImix;
  unsigned v = 0;
  if (!parse_number(item, v)) {
    return meshgate::Error{"--sizes: '" + item + "' is neither a size in bytes nor imix"};
  }
  if (v < kMinSize) {
    return meshgate::Error{"--sizes: " + item + " B is below " + std::to_string(kMinSize) +
                           " B, the smallest packet tunbench builds (IPv4, UDP and its 8-byte "
                           "sequence number)"};
  }
  if (v > meshgate::config::kMaxMtu) {
    return meshgate::Error{"--sizes: " + item + " B is above " +
                           std::to_string(meshgate::config::kMaxMtu) +
                           " B, the largest tunnel MTU"};
  }
  return v;
}

meshgate::Status parse_sizes(std::string_view s, std::vector<unsigned>& out) {
  out.clear();
  while (!s.empty()) {
    const std::size_t comma = s.find(',');
    auto v = parse_size(std::string(s.substr(0, comma)));
    if (!v) return meshgate::Error{v.error()};
    out.push_back(*v);
    s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
  }
  if (out.empty()) return meshgate::Error{"--sizes: no size given"};
  return meshgate::ok_status();
}

/// One number in [lo, hi]: `out` is set only when it parses.
bool parse_one(std::string_view s, unsigned lo, unsigned hi, unsigned& out) {
  std::vector<unsigned> v;
  if (!parse_list(s, v, lo, hi) || v.size() != 1) return false;
  out = v[0];
  return true;
}

bool parse_directions(std::string_view s, std::vector<Direction>& out) {
  return parse_items(s, out, [](std::string_view item, Direction& d) {
    if (item == "outbound" || item == "out") {
      d = Direction::outbound;
    } else if (item == "inbound" || item == "in") {
      d = Direction::inbound;
    } else if (item == "both") {
      d = Direction::both;
    } else {
      return false;
    }
    return true;
  });
}

/// --flood: rates a second, 0 or as parse_rate() reads them, at most 10M.
bool parse_floods(std::string_view s, std::vector<unsigned>& out) {
  return parse_items(s, out, [](std::string_view item, unsigned& rate) {
    double v = 0;
    if (item != "0" && (!parse_rate(item, v) || v > 1e7)) return false;
    rate = static_cast<unsigned>(v);
    return true;
  });
}

/// --loads: shares of the maximum rate, each above 0 and at most 1.
bool parse_loads(std::string_view s, std::vector<double>& out) {
  return parse_items(s, out, [](std::string_view item, double& v) {
    const std::string text(item);
    char* end = nullptr;
    v = std::strtod(text.c_str(), &end);
    return !text.empty() && *end == 0 && v > 0 && v <= 1;
  });
}

bool parse_seconds(const char* s, double& out) {
  char* end = nullptr;
  out = std::strtod(s, &end);
  return end != s && *end == 0 && out > 0 && out <= 3600;
}

std::string exe_dir() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string p(buf, static_cast<std::size_t>(n));
  return p.substr(0, p.find_last_of('/'));
}

/// The shipped profile: beside the sources when run from the tree or the build directory.
std::string find_profile() {
  const std::string dir = exe_dir();
  for (const std::string& cand :
       {std::string("dpdk-configs/") + kProfileName, dir + "/../../../dpdk-configs/" + kProfileName,
        dir + "/../../dpdk-configs/" + kProfileName, dir + "/" + kProfileName}) {
    if (access(cand.c_str(), R_OK) == 0) return cand;
  }
  return {};
}

/// The first `n` CPUs this process may run on, as an EAL lcore list, or empty if too few.
std::string first_cpus(unsigned n) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return {};
  std::string list;
  unsigned got = 0;
  for (unsigned c = 0; c < CPU_SETSIZE && got < n; ++c) {
    if (!CPU_ISSET(c, &set)) continue;
    if (got++ != 0) list += ',';
    list += std::to_string(c);
  }
  return got == n ? list : std::string{};
}

int fail(const std::string& msg) {
  std::fprintf(stderr, "tunbench: %s\n", msg.c_str());
  return 1;
}

// --- tunbench inmem --------------------------------------------------------------------------

/// The options past InmemOptions: where results go and how the EAL starts.
struct InmemArgs {
  InmemOptions opt;
  std::string json, plot, profile_path, lcores;
  bool given_sizes = false, given_directions = false,  // gateway mode has defaults of its own
      given_chunk = false;
};

// getopt_long values; kInmemOptions lists them in this order (a bad value's message indexes it).
enum {
  kSizes = 256,
  kPeers,
  kWorkers,
  kDirection,
  kBurst,
  kDuration,
  kAeadTime,
  kChunk,
  kVerify,
  kRepeat,
  kJson,
  kPlot,
  kProfile,
  kLcores,
  kQuiet,
  kRelayed,
  kFlood,
  kGateway,
  kLoads,
  kFrames,
  kTrain,
  kOnePeer,
  kNoSpread,
  kPreload,
  kRekeyAfter,
  kHelp
};
const option kInmemOptions[] = {{"sizes", required_argument, nullptr, kSizes},
                                {"peers", required_argument, nullptr, kPeers},
                                {"workers", required_argument, nullptr, kWorkers},
                                {"direction", required_argument, nullptr, kDirection},
                                {"burst", required_argument, nullptr, kBurst},
                                {"duration", required_argument, nullptr, kDuration},
                                {"aead-time", required_argument, nullptr, kAeadTime},
                                {"chunk", required_argument, nullptr, kChunk},
                                {"verify", required_argument, nullptr, kVerify},
                                {"repeat", required_argument, nullptr, kRepeat},
                                {"json", required_argument, nullptr, kJson},
                                {"plot", required_argument, nullptr, kPlot},
                                {"profile", required_argument, nullptr, kProfile},
                                {"lcores", required_argument, nullptr, kLcores},
                                {"quiet", no_argument, nullptr, kQuiet},
                                {"relayed", no_argument, nullptr, kRelayed},
                                {"flood", required_argument, nullptr, kFlood},
                                {"gateway", no_argument, nullptr, kGateway},
                                {"loads", required_argument, nullptr, kLoads},
                                {"frames", required_argument, nullptr, kFrames},
                                {"train", required_argument, nullptr, kTrain},
                                {"one-peer", no_argument, nullptr, kOnePeer},
                                {"no-spread", no_argument, nullptr, kNoSpread},
                                {"preload", required_argument, nullptr, kPreload},
                                {"rekey-after", required_argument, nullptr, kRekeyAfter},
                                {"help", no_argument, nullptr, kHelp},
                                {nullptr, 0, nullptr, 0}};

/// Stores option `c` (kPeers..kRelayed) with its argument; false if the value does not parse.
bool set_inmem_option(int c, const char* arg, InmemArgs& a) {
  InmemOptions& opt = a.opt;
  switch (c) {
    case kPeers:
      return parse_list(arg, opt.peers, 1, 1000000);
    case kWorkers:
      return parse_list(arg, opt.workers, 1, 128);
    case kDirection:
      return parse_directions(arg, opt.directions);
    case kBurst:
      return parse_one(arg, 1, 32, opt.burst);
    case kDuration:
      return parse_seconds(arg, opt.duration);
    case kAeadTime:
      return parse_seconds(arg, opt.aead_time);
    case kChunk:
      return parse_one(arg, 32, 65536, opt.chunk);
    case kVerify:
      return parse_one(arg, 0, 65536, opt.verify_every);
    case kRepeat:
      return parse_one(arg, 1, 100, opt.repeat);
    case kJson:
      a.json = arg;
      return true;
    case kPlot:
      a.plot = arg;
      return true;
    case kProfile:
      a.profile_path = arg;
      return true;
    case kLcores:
      a.lcores = arg;
      return true;
    case kQuiet:
      opt.progress = false;
      return true;
    case kRelayed:
      opt.relayed = true;
      return true;
    case kFlood:
      return parse_floods(arg, opt.floods);
    case kGateway:
      opt.gateway = true;
      return true;
    case kLoads:
      return parse_loads(arg, opt.loads);
    case kFrames:
      return parse_one(arg, 1024, 1u << 22, opt.frames);
    case kTrain:
      return parse_one(arg, 1, 1024, opt.train);
    case kOnePeer:
      opt.one_peer = true;
      return true;
    case kNoSpread:
      opt.spread = false;
      return true;
    case kPreload:
      return parse_one(arg, 1024, 1u << 20, opt.preload);
    case kRekeyAfter:
      return parse_seconds(arg, opt.rekey_after);
    default:
      return false;
  }
}

/// Gateway mode's limits, and its defaults where the command line gave none.
meshgate::Status check_gateway_options(InmemArgs& a) {
  InmemOptions& opt = a.opt;
  if (!opt.gateway) {
    if (opt.one_peer) return meshgate::Error{"--one-peer: with --gateway only"};
    // The stage mode calls the stages directly: there is no poll loop to spread bursts in.
    if (!opt.spread) return meshgate::Error{"--no-spread: with --gateway only"};
    if (opt.preload != 0) return meshgate::Error{"--preload: with --gateway only"};
    if (opt.rekey_after != 0) return meshgate::Error{"--rekey-after: with --gateway only"};
    return opt.train == 1 ? meshgate::ok_status()
                          : meshgate::Status{meshgate::Error{"--train: with --gateway only"}};
  }
  if (opt.one_peer && opt.peers != std::vector{1u}) {
    return meshgate::Error{"--one-peer: one peer (--peers 1, the default with it)"};
  }
  if (!a.given_directions) opt.directions = {Direction::outbound, Direction::inbound};
  if (!a.given_sizes) opt.sizes = {64, 1420};
  // A deeper queue than the stage mode's trips: the feeder's hiccups must not starve the worker.
  if (!a.given_chunk) opt.chunk = 1024;
  const auto& d = opt.directions;
  if (std::find(d.begin(), d.end(), Direction::both) != d.end()) {
    return meshgate::Error{"--gateway: directions outbound and inbound (a feeder plays one side)"};
  }
  if (opt.relayed || !opt.floods.empty()) {
    return meshgate::Error{"--gateway: not with --relayed or --flood"};
  }
  if (opt.frames != 0 && opt.frames < 4 * opt.chunk) {
    return meshgate::Error{"--gateway: --frames must be at least 4 times --chunk"};
  }
  // A round is one pass over the frames at most: inbound, each pass has a keypair of its own.
  if (opt.preload != 0 && opt.preload > (opt.frames != 0 ? opt.frames : 65536)) {
    return meshgate::Error{"--preload: at most --frames (65536 by default)"};
  }
  // Inbound frames are sealed ahead with keys the benchmark gives both sides (Site::rotate):
  // a handshake's keys would need every frame sealed again.
  if (opt.rekey_after != 0 && (d != std::vector{Direction::outbound} || opt.preload != 0)) {
    return meshgate::Error{"--rekey-after: --direction outbound only, and not with --preload"};
  }
  return meshgate::ok_status();
}

/// The command line into `a`. Returns the exit code when the process ends here (--help, a usage
/// error), else -1.
int parse_inmem_args(int argc, char** argv, InmemArgs& a) {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): before the EAL starts any other thread
  for (int c; (c = getopt_long(argc, argv, "", kInmemOptions, nullptr)) != -1;) {
    if (c == kHelp) {
      usage(stdout);
      return 0;
    }
    if (c < kSizes || c >= kHelp) {  // '?': unknown, or a missing argument
      usage(stderr);
      return 2;
    }
    a.given_directions = a.given_directions || c == kDirection;
    a.given_chunk = a.given_chunk || c == kChunk;
    if (c == kSizes) {
      a.given_sizes = true;
      if (auto st = parse_sizes(optarg, a.opt.sizes); !st) {
        fail(st.error());
        return 2;  // a usage error
      }
      continue;
    }
    if (!set_inmem_option(c, optarg, a)) {  // a usage error, as an unknown option
      fail(std::string("bad value for --") + kInmemOptions[c - kSizes].name + ": " + optarg);
      return 2;
    }
  }
  if (optind != argc) {
    usage(stderr);
    return 2;
  }
  if (auto st = check_gateway_options(a); !st) {
    fail(st.error());
    return 2;
  }
  const auto& dirs = a.opt.directions;
  if (!a.opt.floods.empty() &&
      std::find(dirs.begin(), dirs.end(), Direction::outbound) != dirs.end()) {
    fail("--flood: initiations arrive on the Internet port; give --direction inbound or both");
    return 2;
  }
  return -1;
}

/// The profile file (given, else the shipped one found near the binary), else the shipped
/// profile's settings: a copied binary alone (the static build) still runs.
meshgate::Result<meshgate::config::EalProfile> inmem_profile(const std::string& given) {
  const std::string path = given.empty() ? find_profile() : given;
  if (!path.empty()) return meshgate::config::load_profile(path);
  meshgate::config::EalProfile profile;
  profile.no_huge = true;
  profile.memory_mb = 1024;
  profile.no_pci = true;
  profile.file_prefix = "tunbench";
  profile.log_levels = {"lib.eal:warning"};
  return profile;
}

/// The profile's EAL arguments with the lcores: --lcores, else the profile's, else the first
/// CPUs this process may use, one per worker of the largest case.
meshgate::Result<std::vector<std::string>> inmem_eal_args(
    const meshgate::config::EalProfile& profile, const InmemArgs& a) {
  unsigned max_workers = 1;
  for (unsigned w : a.opt.workers) max_workers = std::max(max_workers, w);
  // The control thread's, or gateway mode's feeders'.
  const unsigned feeders = a.opt.feeder_lcores(max_workers);
  const unsigned lcores =
      a.opt.gateway ? max_workers + feeders : max_workers + (a.opt.floods.empty() ? 0 : 1);
  std::vector<std::string> args = profile.eal_args();
  if (!a.lcores.empty()) {
    if (profile.lcores || profile.lcore_map) {
      return meshgate::Error{"--lcores and the profile's lcores: give one of them"};
    }
    args.insert(args.begin(), {"-l", a.lcores});
  } else if (!profile.lcores && !profile.lcore_map) {
    const std::string cpus = first_cpus(lcores);
    if (cpus.empty()) {
      return meshgate::Error{std::to_string(max_workers) + " workers" +
                             (lcores > max_workers ? " and their helpers" : "") +
                             " need a CPU each; this process may use fewer"};
    }
    args.insert(args.begin(), {"-l", cpus});
  }
  return args;
}

/// Every case on the started EAL, then the table, and the JSON and plot files if asked for.
int run_and_report(const InmemArgs& a, int argc, char** argv) {
  const Machine machine = Machine::probe(argc, argv);
  auto runs = run_inmem(a.opt);
  if (!runs) return fail(runs.error());
  const auto cases = summarize_runs(*runs);
  print_table(stdout, cases, machine);
  int rc = 0;
  if (!a.json.empty()) {
    if (auto st = write_json(a.json, cases, machine); !st) rc = fail(st.error());
  }
  if (!a.plot.empty()) {
    if (auto st = write_plot(a.plot, cases); !st) rc = fail(st.error());
  }
  return rc;
}

int inmem_main(int argc, char** argv) {
  InmemArgs a;
  if (int rc = parse_inmem_args(argc, argv, a); rc >= 0) return rc;
  auto profile = inmem_profile(a.profile_path);
  if (!profile) return fail(profile.error());
  auto args = inmem_eal_args(*profile, a);
  if (!args) return fail(args.error());
  if (auto st = meshgate::dpdk::eal_init(*args); !st) return fail(st.error());
  const int rc = run_and_report(a, argc, argv);
  meshgate::dpdk::eal_cleanup();
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const std::string_view mode = argv[1];
  if (mode == "-h" || mode == "--help") {
    usage(stdout);
    return 0;
  }
  // getopt sees the mode's own options: argv[1] becomes the program name.
  if (mode == "inmem") return inmem_main(argc - 1, argv + 1);
  if (mode == "netns") return tunbench::netns_main(argc - 1, argv + 1);
  if (mode == "flood") return tunbench::flood_main(argc - 1, argv + 1);
  usage(stderr);
  return 2;
}
