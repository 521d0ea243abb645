// tunbench: how fast meshgate's data path is, each figure next to the baseline it is compared
// with, measured in the same run.
//
//   tunbench inmem [options]   the daemon's worker code on in-memory packets (inmem.hpp)
//   tunbench netns [options]   end to end in network namespaces, against wireguard-go and nebula
#include <getopt.h>
#include <sched.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "inmem.hpp"
#include "meshgate/config/eal_profile.hpp"
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
      "\n"
      "inmem: the daemon's worker code (Worker::outbound / Worker::inbound and the TX flush onto\n"
      "net_ring ports) on in-memory packets, each case next to the raw ipsec-mb AEAD rate of\n"
      "the same core, measured in the same run.\n"
      "  --sizes LIST      inner IP packet sizes, 64..1420, and imix (7:4:1 of 64/576/1420)\n"
      "                    (default 64,128,256,512,1024,1420,imix)\n"
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
      "\n"
      "ratio: the data path's Gbit/s over the AEAD's for the same sizes; vs linear: the aggregate\n"
      "over N times the fewest workers' figure; vs 1 peer: the ratio over the ratio of the same\n"
      "case with the fewest peers.\n",
      out);
}

bool parse_list(std::string_view s, std::vector<unsigned>& out, unsigned lo, unsigned hi,
                bool allow_imix = false) {
  out.clear();
  while (!s.empty()) {
    const std::size_t comma = s.find(',');
    const std::string_view item = s.substr(0, comma);
    unsigned v = 0;
    if (allow_imix && item == "imix") {
      v = kImix;
    } else {
      auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
      if (ec != std::errc() || p != item.data() + item.size() || v < lo || v > hi) return false;
    }
    out.push_back(v);
    s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
  }
  return !out.empty();
}

/// One number in [lo, hi]: `out` is set only when it parses.
bool parse_one(std::string_view s, unsigned lo, unsigned hi, unsigned& out) {
  std::vector<unsigned> v;
  if (!parse_list(s, v, lo, hi) || v.size() != 1) return false;
  out = v[0];
  return true;
}

bool parse_directions(std::string_view s, std::vector<Direction>& out) {
  out.clear();
  while (!s.empty()) {
    const std::size_t comma = s.find(',');
    const std::string_view item = s.substr(0, comma);
    if (item == "outbound" || item == "out") {
      out.push_back(Direction::outbound);
    } else if (item == "inbound" || item == "in") {
      out.push_back(Direction::inbound);
    } else if (item == "both") {
      out.push_back(Direction::both);
    } else {
      return false;
    }
    s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
  }
  return !out.empty();
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

int inmem_main(int argc, char** argv) {
  InmemOptions opt;
  std::string json, plot, profile_path, lcores;
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
    kHelp
  };
  static const option kOptions[] = {{"sizes", required_argument, nullptr, kSizes},
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
                                    {"help", no_argument, nullptr, kHelp},
                                    {nullptr, 0, nullptr, 0}};
  for (int c; (c = getopt_long(argc, argv, "", kOptions, nullptr)) != -1;) {
    bool ok = true;
    switch (c) {
      case kSizes:
        ok = parse_list(optarg, opt.sizes, 64, 1420, true);
        break;
      case kPeers:
        ok = parse_list(optarg, opt.peers, 1, 1000000);
        break;
      case kWorkers:
        ok = parse_list(optarg, opt.workers, 1, 128);
        break;
      case kDirection:
        ok = parse_directions(optarg, opt.directions);
        break;
      case kBurst:
        ok = parse_one(optarg, 1, 32, opt.burst);
        break;
      case kDuration:
        ok = parse_seconds(optarg, opt.duration);
        break;
      case kAeadTime:
        ok = parse_seconds(optarg, opt.aead_time);
        break;
      case kChunk:
        ok = parse_one(optarg, 32, 65536, opt.chunk);
        break;
      case kVerify:
        ok = parse_one(optarg, 0, 65536, opt.verify_every);
        break;
      case kRepeat:
        ok = parse_one(optarg, 1, 100, opt.repeat);
        break;
      case kJson:
        json = optarg;
        break;
      case kPlot:
        plot = optarg;
        break;
      case kProfile:
        profile_path = optarg;
        break;
      case kLcores:
        lcores = optarg;
        break;
      case kQuiet:
        opt.progress = false;
        break;
      case kHelp:
        usage(stdout);
        return 0;
      default:
        usage(stderr);
        return 2;
    }
    if (!ok) {  // a usage error, as an unknown option
      fail(std::string("bad value for --") + kOptions[c - kSizes].name + ": " + optarg);
      return 2;
    }
  }
  if (optind != argc) {
    usage(stderr);
    return 2;
  }

  if (profile_path.empty()) profile_path = find_profile();
  meshgate::config::EalProfile profile;
  if (!profile_path.empty()) {
    auto p = meshgate::config::load_profile(profile_path);
    if (!p) return fail(p.error());
    profile = *p;
  } else {  // a copied binary alone (the static build): the shipped profile's settings
    profile.no_huge = true;
    profile.memory_mb = 1024;
    profile.no_pci = true;
    profile.file_prefix = "tunbench";
    profile.log_levels = {"lib.eal:warning"};
  }
  unsigned max_workers = 1;
  for (unsigned w : opt.workers) max_workers = std::max(max_workers, w);
  std::vector<std::string> args = profile.eal_args();
  if (!lcores.empty()) {
    if (profile.lcores || profile.lcore_map) {
      return fail("--lcores and the profile's lcores: give one of them");
    }
    args.insert(args.begin(), {"-l", lcores});
  } else if (!profile.lcores && !profile.lcore_map) {
    const std::string cpus = first_cpus(max_workers);
    if (cpus.empty()) {
      return fail(std::to_string(max_workers) +
                  " workers need as many CPUs; this process may "
                  "use fewer");
    }
    args.insert(args.begin(), {"-l", cpus});
  }
  if (auto st = meshgate::dpdk::eal_init(args); !st) return fail(st.error());

  int rc = 0;
  {
    const Machine machine = Machine::probe(argc, argv);
    auto runs = run_inmem(opt);
    if (!runs) {
      rc = fail(runs.error());
    } else {
      const auto cases = summarize_runs(*runs);
      print_table(stdout, cases, machine);
      if (!json.empty()) {
        if (auto st = write_json(json, cases, machine); !st) rc = fail(st.error());
      }
      if (!plot.empty()) {
        if (auto st = write_plot(plot, cases); !st) rc = fail(st.error());
      }
    }
  }
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
  usage(stderr);
  return 2;
}
