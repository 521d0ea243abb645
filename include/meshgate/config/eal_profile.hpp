// DPDK EAL profiles: which lcores, memory and devices a gateway process asks EAL for, plus the
// ports and worker layout meshgate uses on top. The format is documented, with a worked example,
// in dpdk-configs/README.md; shipped profiles live beside it.
//
//   [eal]                       # each key maps to one EAL option; eal_args() lists them
//   lcores = 0-1                # -l        (or lcore-map = (0)@0,(1)@1 -> --lcores)
//   main-lcore = 0              # --main-lcore
//   memory = 256                # -m <MiB>  (or socket-memory = 512,512 -> --socket-mem)
//   no-huge = true              # --no-huge
//   huge-dir = /dev/hugepages   # --huge-dir
//   file-prefix = mg-a          # --file-prefix
//   in-memory = true            # --in-memory
//   iova-mode = va              # --iova-mode va|pa
//   no-pci = true               # --no-pci
//   allow = 0000:03:00.0        # -a, repeatable
//   vdev = net_af_packet0,iface=lan0   # --vdev, repeatable
//   log-level = lib.eal:notice  # --log-level, repeatable
//   [meshgate]
//   inner = net_af_packet0      # port id or device name
//   outer = net_af_packet1
//   workers = 1
//   queues = 1                  # RX queues per port; default = workers
//   worker-queues = 1:0         # lcore:queue pairs; default: worker i polls queue i
//   idle-backoff = true         # like the config's IdleBackoff
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meshgate/base/result.hpp"

namespace meshgate::config {

/// One worker lcore and the RX queue (on each port) that it polls.
struct WorkerQueue {
  unsigned lcore = 0;
  unsigned queue = 0;
  friend bool operator==(const WorkerQueue&, const WorkerQueue&) = default;
};

inline constexpr unsigned kMaxLcoreId = 1023;  // a sanity bound; EAL checks RTE_MAX_LCORE
inline constexpr unsigned kMaxQueues = 1024;   // RTE_MAX_QUEUES_PER_PORT

struct EalProfile {
  std::string source;  // file name used in messages

  // [eal]
  std::optional<std::string> lcores;         // "-l" list, e.g. "0-1" or "0,2-3"
  std::vector<unsigned> lcore_ids;           // `lcores` expanded, ascending; empty with lcore-map
  std::optional<std::string> lcore_map;      // "--lcores", passed through for EAL to check
  std::optional<unsigned> main_lcore;        // "--main-lcore"; EAL's default: first lcore
  std::optional<unsigned> memory_mb;         // "-m"
  std::optional<std::string> socket_memory;  // "--socket-mem", MiB per NUMA socket
  bool no_huge = false;                      // "--no-huge": anonymous memory, no hugepages
  std::optional<std::string> huge_dir;       // "--huge-dir", absolute
  std::optional<std::string> file_prefix;    // "--file-prefix": lets processes coexist
  bool in_memory = false;                    // "--in-memory": no runtime files at all
  std::optional<std::string> iova_mode;      // "--iova-mode": "va" or "pa"
  bool no_pci = false;                       // "--no-pci"
  std::vector<std::string> allow;            // "-a", one per entry
  std::vector<std::string> vdevs;            // "--vdev", one per entry
  std::vector<std::string> log_levels;       // "--log-level", one per entry

  // [meshgate]; the gateway config's [Gateway] values win over these.
  std::optional<std::string> inner;  // port id or device name
  std::optional<std::string> outer;
  std::optional<unsigned> workers;
  std::optional<unsigned> queues;          // RX queues per port
  std::vector<WorkerQueue> worker_queues;  // empty: worker i polls queue i
  std::optional<bool> idle_backoff;

  /// The EAL argument list (without argv[0]), always in this order: -l/--lcores, --main-lcore,
  /// -m/--socket-mem, --no-huge, --huge-dir, --file-prefix, --in-memory, --iova-mode, --no-pci,
  /// -a..., --vdev..., --log-level... Each option and its value are separate elements.
  std::vector<std::string> eal_args() const;

  /// The lcore that EAL makes the main one (our control thread), when known.
  std::optional<unsigned> effective_main_lcore() const;
};

/// Reads and parses `path`; an unreadable file gives "path: cannot read: <strerror>".
Result<EalProfile> load_profile(const std::string& path);

/// Parses profile text; `name_for_errors` prefixes every message ("name:line: problem").
Result<EalProfile> parse_profile(std::string_view text, const std::string& name_for_errors);

}  // namespace meshgate::config
