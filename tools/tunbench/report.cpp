#include "report.hpp"

#include <intel-ipsec-mb.h>
#include <rte_config.h>
#include <rte_cycles.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "lane.hpp"
#include "meshgate/crypto/aead.hpp"

namespace tunbench {

using meshgate::Error;
using meshgate::Status;

namespace {

std::string size_text(unsigned size) {
  return size == kImix ? "imix" : std::to_string(size);
}

bool same_case(const CaseResult& a, const CaseResult& b) {
  return a.direction == b.direction && a.size == b.size && a.peers == b.peers &&
         a.workers == b.workers && a.burst == b.burst && a.flood == b.flood &&
         a.control == b.control && a.gateway == b.gateway;
}

double median_of(std::vector<CaseResult>& v, double CaseResult::*field) {
  std::vector<double> x;
  x.reserve(v.size());
  for (const CaseResult& r : v) x.push_back(r.*field);
  std::sort(x.begin(), x.end());
  const std::size_t n = x.size();
  return n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
}

/// The medians of one case's runs, with the ranges and the totals of its counts.
CaseSummary summarize_group(std::vector<CaseResult>& group) {
  CaseSummary s;
  s.runs = static_cast<unsigned>(group.size());
  s.median = group.front();
  for (double CaseResult::*f :
       {&CaseResult::mpps, &CaseResult::gbps, &CaseResult::cycles_per_packet,
        &CaseResult::aead_mpps, &CaseResult::aead_gbps, &CaseResult::ratio, &CaseResult::flood_rate,
        &CaseResult::handshake_rate, &CaseResult::aead_uncached_gbps, &CaseResult::ratio_uncached,
        &CaseResult::handoff_ns_before, &CaseResult::handoff_ns_after}) {
    s.median.*f = median_of(group, f);
  }
  CaseResult& m = s.median;
  m.packets = m.verified = m.checked_outer = m.in_order = m.opened_for_others = 0;
  m.handshakes = m.keypairs_seen = m.handshake_requests = 0;
  m.flood_sent = m.flood_ring_full = m.flood_handled = m.cookies_sent = 0;
  s.gbps_min = s.ratio_min = 1e300;
  for (const CaseResult& r : group) {
    for (std::uint64_t CaseResult::*f :
         {&CaseResult::packets, &CaseResult::verified, &CaseResult::checked_outer,
          &CaseResult::in_order, &CaseResult::opened_for_others, &CaseResult::flood_sent,
          &CaseResult::flood_ring_full, &CaseResult::flood_handled, &CaseResult::cookies_sent,
          &CaseResult::handshakes, &CaseResult::keypairs_seen, &CaseResult::handshake_requests}) {
      m.*f += r.*f;
    }
    s.gbps_min = std::min(s.gbps_min, r.gbps);
    s.gbps_max = std::max(s.gbps_max, r.gbps);
    s.ratio_min = std::min(s.ratio_min, r.ratio);
    s.ratio_max = std::max(s.ratio_max, r.ratio);
  }
  return s;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

Machine Machine::probe(int argc, char** argv) {
  Machine m;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      m.cpu = line.substr(line.find(':') + 2);
      break;
    }
  }
  m.cpus = static_cast<unsigned>(sysconf(_SC_NPROCESSORS_ONLN));
  m.tsc_ghz = static_cast<double>(rte_get_tsc_hz()) / 1e9;
  meshgate::crypto::AeadBatch probe(meshgate::crypto::AeadBackend::ipsec_mb);
  m.aead_arch = std::string(probe.arch());
  m.ipsec_mb_version = imb_get_version_str();
  m.command = "tunbench";
  for (int i = 0; i < argc; ++i) {
    m.command += ' ';
    m.command += argv[i];
  }
  char buf[32];
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  m.date = buf;
  return m;
}

std::vector<CaseSummary> summarize_runs(const std::vector<CaseResult>& runs) {
  // Runs of one case may be interleaved with others' (the flood rates of a repeat run back to
  // back): each case's runs, in the order of its first.
  std::vector<std::vector<CaseResult>> groups;
  for (const CaseResult& r : runs) {
    auto g = std::find_if(groups.begin(), groups.end(),
                          [&](const auto& grp) { return same_case(grp.front(), r); });
    if (g == groups.end()) {
      groups.push_back({r});
    } else {
      g->push_back(r);
    }
  }
  std::vector<CaseSummary> out;
  out.reserve(groups.size());
  for (std::vector<CaseResult>& group : groups) out.push_back(summarize_group(group));
  return out;
}

namespace {

/// The case `r` is measured against: the one with the fewest workers (or peers) among the cases
/// that differ from `r` in that dimension alone; nullptr when `r` is that case or has none.
const CaseResult* base_case(const std::vector<CaseSummary>& cases, const CaseResult& r,
                            unsigned CaseResult::*dim) {
  const CaseResult* base = nullptr;
  for (const CaseSummary& c : cases) {
    CaseResult b = c.median;
    b.*dim = r.*dim;
    if (!same_case(b, r)) continue;
    if (base == nullptr || c.median.*dim < base->*dim) base = &c.median;
  }
  return base != nullptr && base->*dim != r.*dim ? base : nullptr;
}

/// Aggregate throughput over linear scaling from the fewest workers of the same case (1 = linear);
/// 0 when there is nothing to compare with.
double scaling(const std::vector<CaseSummary>& cases, const CaseResult& r) {
  const CaseResult* base = base_case(cases, r, &CaseResult::workers);
  if (base == nullptr || base->gbps <= 0) return 0;
  return r.gbps / (base->gbps * r.workers / base->workers);
}

/// The case's ratio to AEAD over the ratio of the same case with the fewest peers (1 = as fast
/// as one peer); 0 when there is nothing to compare with. The ratios rather than Mpps: each is
/// against the AEAD of its own run, which takes out drift of the machine between cases.
double peer_scaling(const std::vector<CaseSummary>& cases, const CaseResult& r) {
  const CaseResult* base = base_case(cases, r, &CaseResult::peers);
  if (base == nullptr || base->ratio <= 0) return 0;
  return r.ratio / base->ratio;
}

/// The case's ratio to AEAD over the ratio of the same case without a flood (1 = the flood
/// cost nothing); 0 when there is nothing to compare with. The ratios, as for peer_scaling.
double flood_cost(const std::vector<CaseSummary>& cases, const CaseResult& r) {
  const CaseResult* base = base_case(cases, r, &CaseResult::flood);
  if (base == nullptr || base->ratio <= 0) return 0;
  return r.ratio / base->ratio;
}

/// The flood columns of a row: the rate reached and the cost.
void print_flood_columns(FILE* out, const std::vector<CaseSummary>& cases, const CaseResult& r) {
  std::fprintf(out, "  %9.0f", r.flood_rate);
  const double x = flood_cost(cases, r);
  if (x > 0) {
    std::fprintf(out, "  %10.1f%%", 100 * x);
  } else {
    std::fprintf(out, "  %11s", "");
  }
}

/// Gateway mode: how the maximum rate was set, and the time in the gateway at each load.
void print_latency(FILE* out, const std::vector<CaseSummary>& cases) {
  std::fprintf(out,
               "\ntime in the gateway, from the feeder's enqueue on the RX ring to the "
               "worker's TX burst, at shares of the maximum rate (microseconds);\nstalls: "
               "the feeders' loops held up over 100 us and the workers' polls over 1 ms apart "
               "(the machine did not run them); skipped: the frames due meanwhile, not offered;"
               "\nworker CPU: its gaps over 5 us a second and their share of the time, in 0.5 s "
               "of a loop alone on it before the phases (the machine's interrupts and ticks, a "
               "floor under the tail)\n");
  std::fprintf(out, "%-9s %5s %7s %7s %10s %5s %8s %9s %9s %9s %8s %13s %8s %14s\n", "direction",
               "size", "peers", "workers", "RX empty", "load", "Mpps", "p50", "p99", "p99.9",
               "p99/p50", "stalls f/w", "skipped", "worker CPU");
  for (const CaseSummary& c : cases) {
    const CaseResult& r = c.median;
    for (const LatencyPoint& l : r.latency) {
      std::fprintf(out,
                   "%-9s %5s %7u %7u %9.1f%% %4.0f%% %8.3f %9.2f %9.2f %9.2f %8.2f %7llu/%-5llu "
                   "%8llu %6.0f/s %5.2f%%\n",
                   direction_name(r.direction), size_text(r.size).c_str(), r.peers, r.workers,
                   100 * r.starved, 100 * l.load, l.mpps, l.p50_us, l.p99_us, l.p999_us,
                   l.p50_us > 0 ? l.p99_us / l.p50_us : 0,
                   static_cast<unsigned long long>(l.feeder_stalls),
                   static_cast<unsigned long long>(l.worker_stalls),
                   static_cast<unsigned long long>(l.skipped), r.worker_cpu.per_second,
                   100 * r.worker_cpu.share);
    }
  }
}

/// Where every initiation of the flood cases went.
/// A count summed over the cases (each median holds the sum of its runs), for printing.
unsigned long long total(const std::vector<CaseSummary>& cases, std::uint64_t CaseResult::*f) {
  unsigned long long n = 0;
  for (const CaseSummary& c : cases) n += c.median.*f;
  return n;
}

void print_flood_totals(FILE* out, const std::vector<CaseSummary>& cases) {
  std::fprintf(out,
               "flood: %llu initiations mixed in, %llu handled by the control thread, %llu "
               "dropped at its full ring; %llu cookie replies sent\n",
               total(cases, &CaseResult::flood_sent), total(cases, &CaseResult::flood_handled),
               total(cases, &CaseResult::flood_ring_full), total(cases, &CaseResult::cookies_sent));
}

/// --rekey-after: what the live control thread did in the cases.
void print_live(FILE* out, const std::vector<CaseSummary>& cases) {
  std::fprintf(out,
               "live handshakes: the control thread ran beside the workers and rekeyed after %g s "
               "(REKEY_AFTER_TIME, WireGuard's 120 s shortened; the first handshakes spread over "
               "that time; at most once a peer per 5 s); %llu handshakes during the cases, the "
               "workers asked for %llu, a peer's frames moved to a new keypair %llu times\n",
               cases.front().median.rekey_after, total(cases, &CaseResult::handshakes),
               total(cases, &CaseResult::handshake_requests),
               total(cases, &CaseResult::keypairs_seen));
}

/// Gateway mode's lines above the table: what ran, the tables, one peer's layout.
void print_gateway_header(FILE* out, const CaseResult& first) {
  if (first.preload != 0) {
    std::fprintf(out,
                 "gateway mode: the workers' own loop on net_ring queues; rounds of %u frames "
                 "a fed queue preloaded, timed until all were transmitted (no feeder lcore)\n",
                 first.preload);
  } else {
    std::fprintf(out,
                 "gateway mode: the workers' own loop on net_ring queues, fed by a feeder "
                 "lcore each; the maximum rate\n");
  }
  std::fprintf(out,
               "tables: every peer owns a /24, a scattered /32 and an IPv6 /64; half the frames "
               "of %u B or more are IPv6, a quarter each to the /24 and the /32; %s\n",
               kMinSizeV6,
               first.train == 1
                   ? "each frame's peer and prefix drawn anew"
                   : ("trains of " + std::to_string(first.train) + " frames to one peer and prefix")
                         .c_str());
  if (first.one_peer) {
    std::fprintf(out,
                 "one peer: inbound, every frame entered on worker 0's RX queue and the workers "
                 "%s; outbound, its inner flows spread over every worker's queue\n",
                 first.spread ? "opened each other's bursts"
                              : "did not open each other's bursts (--no-spread)");
  }
}

/// The table's optional columns.
struct Columns {
  bool gateway = false, scaled = false, peered = false, flooded = false;
};

/// One case's row of the table.
void print_row(FILE* out, const std::vector<CaseSummary>& cases, const CaseSummary& c,
               const Columns& k) {
  const CaseResult& r = c.median;
  std::fprintf(out, "%-9s %5s %5u %7u %7u %5u %8.3f %8.2f %8.0f %9.3f %9.2f %6.1f%%",
               direction_name(r.direction), size_text(r.size).c_str(), unsigned{r.mtu}, r.peers,
               r.workers, r.burst, r.mpps, r.gbps, r.cycles_per_packet, r.aead_mpps, r.aead_gbps,
               100 * r.ratio);
  if (k.gateway) {
    std::fprintf(out, "  %7.1f%%  %4.0f/%-4.0f", 100 * r.ratio_uncached, r.handoff_ns_before,
                 r.handoff_ns_after);
  }
  if (k.scaled) {
    const double x = scaling(cases, r);
    if (x > 0) {
      std::fprintf(out, "  %8.2fx", x);
    } else {
      std::fprintf(out, "  %9s", "");
    }
  }
  if (k.peered) {
    const double x = peer_scaling(cases, r);
    if (x > 0) {
      std::fprintf(out, "  %9.1f%%", 100 * x);
    } else {
      std::fprintf(out, "  %10s", "");
    }
  }
  if (k.flooded) print_flood_columns(out, cases, r);
  if (c.runs > 1) std::fprintf(out, "  (%.1f-%.1f)", 100 * c.ratio_min, 100 * c.ratio_max);
  std::fputc('\n', out);
}

}  // namespace

void print_table(FILE* out, const std::vector<CaseSummary>& cases, const Machine& m) {
  const bool gateway = !cases.empty() && cases.front().median.gateway;
  std::fprintf(out, "\ntunbench inmem%s on %s (%u CPUs, TSC %.2f GHz), ipsec-mb %s (%s)\n",
               gateway ? " --gateway" : "", m.cpu.c_str(), m.cpus, m.tsc_ghz,
               m.ipsec_mb_version.c_str(), m.aead_arch.c_str());
  if (gateway) print_gateway_header(out, cases.front().median);
  const unsigned runs = cases.empty() ? 1 : cases.front().runs;
  if (runs > 1) std::fprintf(out, "medians of %u runs; ratio min-max in brackets\n", runs);
  if (gateway) {
    std::fprintf(out,
                 "ratio: against the same cores' AEAD on packets in cache; uncached: on packets "
                 "out of every cache (in place through a %zu MiB pool), as a NIC's writes to "
                 "memory arrive\nhandoff ns: a cache line's trip from the main lcore's CPU to "
                 "another, before/after the case (a virtual machine's level)\n",
                 AeadPoolRig::kPoolBytes >> 20);
  }
  bool scaled = false, peered = false, flooded = false;
  for (const CaseSummary& c : cases) {
    scaled = scaled || scaling(cases, c.median) > 0;
    peered = peered || peer_scaling(cases, c.median) > 0;
    flooded = flooded || c.median.control;
  }
  if (flooded)
    std::fprintf(out, "the control thread ran beside the workers, on an lcore of its own\n");
  std::fprintf(out, "%-9s %5s %5s %7s %7s %5s %8s %8s %8s %9s %9s %7s%s%s%s%s%s\n", "direction",
               "size", "mtu", "peers", "workers", "burst", "Mpps", "Gbit/s", "cyc/pkt", "AEAD Mpps",
               "AEAD Gb/s", "ratio", gateway ? "  uncached  handoff ns" : "",
               scaled ? "  vs linear" : "", peered ? "  vs 1 peer" : "",
               flooded ? "    flood/s  vs no flood" : "", runs > 1 ? "  (ratio min-max)" : "");
  const Columns k{.gateway = gateway, .scaled = scaled, .peered = peered, .flooded = flooded};
  for (const CaseSummary& c : cases) print_row(out, cases, c, k);
  if (flooded) print_flood_totals(out, cases);
  if (gateway && !cases.front().median.latency.empty()) print_latency(out, cases);
  std::fprintf(out,
               "every frame came back; %llu decrypted frames compared byte for byte, %llu "
               "encrypted frames opened with libsodium\n",
               total(cases, &CaseResult::verified), total(cases, &CaseResult::checked_outer));
  if (gateway) {
    std::fprintf(out,
                 "%llu frames found in order within their peer's flows (one out of order fails "
                 "the case)\n",
                 total(cases, &CaseResult::in_order));
  }
  if (gateway && cases.front().median.rekey_after > 0) print_live(out, cases);
}

namespace {

void write_gateway_fields(std::ostringstream& o, const CaseResult& r) {
  o << ", \"aead_uncached_gbps\": " << r.aead_uncached_gbps
    << ", \"ratio_uncached\": " << r.ratio_uncached << ", \"handoff_ns\": [" << r.handoff_ns_before
    << ", " << r.handoff_ns_after << "]"
    << ", \"rx_empty\": " << r.starved
    << ", \"worker_cpu_gaps\": {\"per_second\": " << r.worker_cpu.per_second
    << ", \"share\": " << r.worker_cpu.share << ", \"longest_us\": " << r.worker_cpu.longest_us
    << "}"
    << ", \"ipv6_share\": " << r.ipv6_share << ", \"prefixes_per_peer\": 3, \"train\": " << r.train
    << ", \"frames\": " << r.frames << ", \"one_peer\": " << (r.one_peer ? "true" : "false")
    << ", \"preload\": " << r.preload << ", \"spread\": " << (r.spread ? "true" : "false")
    << ", \"opened_for_others\": " << r.opened_for_others << ", \"in_order\": " << r.in_order
    << ", \"rekeys\": " << r.rekeys << ", \"rekey_after\": " << r.rekey_after
    << ", \"handshakes\": " << r.handshakes << ", \"handshake_rate\": " << r.handshake_rate
    << ", \"keypairs_seen\": " << r.keypairs_seen
    << ", \"handshake_requests\": " << r.handshake_requests << ", \"pool_mbufs\": " << r.pool_mbufs
    << ", \"frames_bytes\": " << r.frames_bytes << ", \"latency\": [";
  for (std::size_t i = 0; i < r.latency.size(); ++i) {
    const LatencyPoint& l = r.latency[i];
    o << (i ? ", " : "") << "{\"load\": " << l.load << ", \"mpps\": " << l.mpps
      << ", \"p50_us\": " << l.p50_us << ", \"p99_us\": " << l.p99_us
      << ", \"p999_us\": " << l.p999_us << ", \"samples\": " << l.samples
      << ", \"feeder_stalls\": " << l.feeder_stalls << ", \"worker_stalls\": " << l.worker_stalls
      << ", \"skipped\": " << l.skipped << ", \"unstamped\": " << l.unstamped << "}";
  }
  o << "]";
}

}  // namespace

Status write_json(const std::string& path, const std::vector<CaseSummary>& cases,
                  const Machine& m) {
  std::ostringstream o;
  o.precision(6);
  o << "{\n  \"tool\": \"tunbench\",\n  \"machine\": {\"cpu\": " << json_string(m.cpu)
    << ", \"cpus\": " << m.cpus << ", \"tsc_ghz\": " << m.tsc_ghz
    << ", \"ipsec_mb\": " << json_string(m.ipsec_mb_version)
    << ", \"aead_arch\": " << json_string(m.aead_arch) << ", \"date\": " << json_string(m.date)
    << ", \"command\": " << json_string(m.command) << "},\n  \"records\": [\n";
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const CaseResult& r = cases[i].median;
    o << "    {\"mode\": \"" << (r.gateway ? "gateway" : "stage") << "\", \"direction\": \""
      << direction_name(r.direction)
      << "\", \"size\": " << (r.size == kImix ? "\"imix\"" : std::to_string(r.size))
      << ", \"avg_size\": " << r.avg_size << ", \"mtu\": " << r.mtu << ", \"peers\": " << r.peers
      << ", \"workers\": " << r.workers << ", \"burst\": " << r.burst
      << ", \"runs\": " << cases[i].runs << ", \"mpps\": " << r.mpps << ", \"gbps\": " << r.gbps
      << ", \"gbps_min\": " << cases[i].gbps_min << ", \"gbps_max\": " << cases[i].gbps_max
      << ", \"cycles_per_packet\": " << r.cycles_per_packet
      << ", \"aead_limit_mpps\": " << r.aead_mpps << ", \"aead_limit_gbps\": " << r.aead_gbps
      << ", \"ratio\": " << r.ratio << ", \"ratio_min\": " << cases[i].ratio_min
      << ", \"ratio_max\": " << cases[i].ratio_max << ", \"vs_linear\": " << scaling(cases, r)
      << ", \"vs_fewest_peers\": " << peer_scaling(cases, r);
    if (r.control) {
      o << ", \"control_thread\": true, \"flood\": " << r.flood
        << ", \"flood_rate\": " << r.flood_rate << ", \"vs_no_flood\": " << flood_cost(cases, r)
        << ", \"flood_sent\": " << r.flood_sent << ", \"flood_handled\": " << r.flood_handled
        << ", \"flood_ring_full\": " << r.flood_ring_full
        << ", \"cookies_sent\": " << r.cookies_sent;
    }
    if (r.gateway) write_gateway_fields(o, r);
    o << ", \"packets\": " << r.packets << ", \"verified\": " << r.verified
      << ", \"checked_outer\": " << r.checked_outer << "}" << (i + 1 < cases.size() ? ",\n" : "\n");
  }
  o << "  ]\n}\n";
  std::ofstream f(path);
  if (!(f << o.str())) return Error{path + ": cannot write"};
  return meshgate::ok_status();
}

namespace {

/// One of the plot's two panels: which cases it shows and what its x axis is.
struct Panel {
  const char* name;
  std::function<bool(const CaseResult&)> pick;
  std::function<std::string(const CaseResult&)> x;
  std::string title;
  const char* xlabel;
};

/// The two panels: by size at the fewest workers and peers, and by workers at the largest
/// fixed size (imix if none) and the most peers.
std::vector<Panel> plot_panels(const std::vector<CaseSummary>& cases) {
  unsigned min_workers = ~0u, min_peers = ~0u, max_peers = 0, big_size = 0;
  for (const CaseSummary& c : cases) {
    min_workers = std::min(min_workers, c.median.workers);
    min_peers = std::min(min_peers, c.median.peers);
    max_peers = std::max(max_peers, c.median.peers);
    if (c.median.size != kImix) big_size = std::max(big_size, c.median.size);
  }
  if (big_size == 0) big_size = kImix;
  std::vector<Panel> panels;
  panels.push_back(
      {"size",
       [=](const CaseResult& r) { return r.workers == min_workers && r.peers == min_peers; },
       [](const CaseResult& r) { return size_text(r.size); },
       "by size: " + std::to_string(min_workers) + " worker(s), " + std::to_string(min_peers) +
           " peer(s)",
       "xlabel 'inner packet size (B)'"});
  panels.push_back(
      {"workers", [=](const CaseResult& r) { return r.size == big_size && r.peers == max_peers; },
       [](const CaseResult& r) { return std::to_string(r.workers); },
       "by workers: " + size_text(big_size) + " B, " + std::to_string(max_peers) + " peers",
       "xlabel 'workers'"});
  return panels;
}

/// A panel's datablocks, one per direction (x, label, Gbit/s, AEAD limit), and its plot.
void plot_panel(std::ostringstream& gp, const std::vector<CaseSummary>& cases, const Panel& panel) {
  std::vector<std::string> plots;
  for (Direction d : {Direction::outbound, Direction::inbound, Direction::both}) {
    std::ostringstream block;
    unsigned n = 0;
    for (const CaseSummary& c : cases) {
      if (c.median.direction != d || !panel.pick(c.median)) continue;
      block << n++ << " \"" << panel.x(c.median) << "\" " << c.median.gbps << " "
            << c.median.aead_gbps << "\n";
    }
    if (n == 0) continue;
    const std::string name = std::string("$") + panel.name + direction_name(d);
    gp << name << " << EOD\n" << block.str() << "EOD\n";
    plots.push_back(name + " using 1:3:xtic(2) with linespoints lw 2 title '" + direction_name(d) +
                    "'");
    plots.push_back(name + " using 1:4 with linespoints dt 2 pt 6 title '" + direction_name(d) +
                    " AEAD limit'");
  }
  gp << "set title '" << panel.title << "'\n";
  gp << "set " << panel.xlabel << "\n";
  if (plots.empty()) {
    gp << "set label 1 'no data' at graph 0.5,0.5 center\nplot NaN notitle\nunset label 1\n";
    return;
  }
  gp << "plot ";
  for (std::size_t i = 0; i < plots.size(); ++i) gp << (i ? ", \\\n     " : "") << plots[i];
  gp << "\n";
}

/// Writes the script beside the image (PATH.gp) and runs gnuplot on it.
Status run_gnuplot(const std::string& path, const std::string& text) {
  const std::string script = path + ".gp";
  {
    std::ofstream f(script);
    if (!(f << text)) return Error{script + ": cannot write"};
  }
  const std::string cmd = "gnuplot '" + script + "'";
  // NOLINTNEXTLINE(concurrency-mt-unsafe): tunbench's one thread, after every case has run
  if (std::system(cmd.c_str()) != 0) return Error{"gnuplot failed on " + script};
  return meshgate::ok_status();
}

}  // namespace

Status write_plot(const std::string& path, const std::vector<CaseSummary>& cases) {
  if (cases.empty()) return Error{"--plot: no results"};
  const bool svg = path.size() > 4 && path.compare(path.size() - 4, 4, ".svg") == 0;
  std::ostringstream gp;
  gp << "set terminal " << (svg ? "svg size 1400,560 dynamic" : "pngcairo size 1400,560")
     << "\nset output '" << path << "'\nset multiplot layout 1,2 title 'tunbench inmem'\n"
     << "set grid\nset key top left\nset ylabel 'Gbit/s of inner packets'\nset yrange [0:*]\n";
  for (const Panel& panel : plot_panels(cases)) plot_panel(gp, cases, panel);
  gp << "unset multiplot\n";
  return run_gnuplot(path, gp.str());
}

}  // namespace tunbench
