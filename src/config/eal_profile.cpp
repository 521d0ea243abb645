// Parser of DPDK EAL profiles (eal_profile.hpp, dpdk-configs/README.md): one key table per
// section, then the checks that involve two keys.
#include "meshgate/config/eal_profile.hpp"

#include <algorithm>
#include <map>

#include "ini_rules.hpp"
#include "values.hpp"

namespace meshgate::config {
namespace detail {
namespace {

struct ProfileCtx {
  EalProfile p;
  std::map<std::string_view, std::size_t> lines;  // canonical key -> line it was given on

  void at(std::string_view key, std::size_t line) { lines[key] = line; }
};

using Rule = KeyRule<ProfileCtx>;

// "0-1", "0,2-3": expanded to ascending, unique lcore ids.
Status parse_lcore_list(std::string_view key, std::string_view v, std::vector<unsigned>& out) {
  auto items = split_list(key, v);
  if (!items) return Error{items.error()};
  for (std::string_view item : *items) {
    std::size_t dash = item.find('-');
    unsigned lo = 0;
    unsigned hi = 0;
    Status st = parse_uint_to(key, item.substr(0, dash), 0, kMaxLcoreId, lo);
    if (st && dash != std::string_view::npos) {
      st = parse_uint_to(key, item.substr(dash + 1), 0, kMaxLcoreId, hi);
    } else {
      hi = lo;
    }
    if (!st || hi < lo) return invalid(key, v, "expected lcore ids or ranges such as 0-1,4");
    for (unsigned l = lo; l <= hi; ++l) {
      if (std::find(out.begin(), out.end(), l) != out.end()) {
        return invalid(key, v, "lcore " + std::to_string(l) + " listed twice");
      }
      out.push_back(l);
    }
  }
  std::sort(out.begin(), out.end());
  return ok_status();
}

// "1:0,2:1": worker lcore -> RX queue.
Status parse_worker_queues(std::string_view key, std::string_view v,
                           std::vector<WorkerQueue>& out) {
  auto items = split_list(key, v);
  if (!items) return Error{items.error()};
  for (std::string_view item : *items) {
    std::size_t colon = item.find(':');
    WorkerQueue wq;
    if (colon == std::string_view::npos ||
        !parse_uint_to(key, item.substr(0, colon), 0, kMaxLcoreId, wq.lcore) ||
        !parse_uint_to(key, item.substr(colon + 1), 0, kMaxQueues - 1, wq.queue)) {
      return invalid(key, item, "expected lcore:queue");
    }
    for (const WorkerQueue& o : out) {
      if (o.lcore == wq.lcore) {
        return invalid(key, v, "lcore " + std::to_string(wq.lcore) + " listed twice");
      }
    }
    out.push_back(wq);
  }
  return ok_status();
}

template <auto Member>
Status set_flag(ProfileCtx& c, std::string_view k, std::string_view v, std::size_t line) {
  c.at(k, line);
  bool on = false;
  Status st = parse_flag(k, v, on);
  if (st) c.p.*Member = on;
  return st;
}

template <auto Member>
Status set_word(ProfileCtx& c, std::string_view k, std::string_view v, std::size_t line) {
  c.at(k, line);
  std::string w;
  Status st = parse_word(k, v, w);
  if (st) c.p.*Member = std::move(w);
  return st;
}

template <auto Member>
Status add_word(ProfileCtx& c, std::string_view k, std::string_view v, std::size_t line) {
  c.at(k, line);
  std::string w;
  Status st = parse_word(k, v, w);
  if (st) (c.p.*Member).push_back(std::move(w));
  return st;
}

template <auto Member, unsigned Lo, unsigned Hi>
Status set_uint(ProfileCtx& c, std::string_view k, std::string_view v, std::size_t line) {
  c.at(k, line);
  unsigned n = 0;
  Status st = parse_uint_to(k, v, Lo, Hi, n);
  if (st) c.p.*Member = n;
  return st;
}

constexpr Rule kEalKeys[] = {
    {"lcores", kSingle,
     [](ProfileCtx& c, std::string_view k, std::string_view v, std::size_t line) {
       c.at(k, line);
       c.p.lcores = std::string(v);
       return parse_lcore_list(k, v, c.p.lcore_ids);
     }},
    {"lcore-map", kSingle, set_word<&EalProfile::lcore_map>},
    {"main-lcore", kSingle, set_uint<&EalProfile::main_lcore, 0, kMaxLcoreId>},
    {"memory", kSingle, set_uint<&EalProfile::memory_mb, 1, 1u << 20>},
    {"socket-memory", kSingle,
     [](ProfileCtx& c, std::string_view k, std::string_view v, std::size_t line) {
       c.at(k, line);
       auto items = split_list(k, v);
       if (!items) return Status(Error{items.error()});
       for (std::string_view item : *items) {
         unsigned mb = 0;
         if (Status st = parse_uint_to(k, item, 0, 1u << 20, mb); !st) return st;
       }
       c.p.socket_memory = std::string(v);
       return ok_status();
     }},
    {"no-huge", kSingle, set_flag<&EalProfile::no_huge>},
    {"huge-dir", kSingle,
     [](ProfileCtx& c, std::string_view k, std::string_view v, std::size_t line) {
       if (v.front() != '/') return Status(invalid(k, v, "not an absolute path"));
       return set_word<&EalProfile::huge_dir>(c, k, v, line);
     }},
    {"file-prefix", kSingle,
     [](ProfileCtx& c, std::string_view k, std::string_view v, std::size_t line) {
       if (v.find_first_not_of(
               "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
           std::string_view::npos) {
         return Status(invalid(k, v, "use letters, digits, '_', '.' and '-' (it names files)"));
       }
       return set_word<&EalProfile::file_prefix>(c, k, v, line);
     }},
    {"in-memory", kSingle, set_flag<&EalProfile::in_memory>},
    {"iova-mode", kSingle,
     [](ProfileCtx& c, std::string_view k, std::string_view v, std::size_t line) {
       if (!iequals(v, "va") && !iequals(v, "pa"))
         return Status(invalid(k, v, "expected va or pa"));
       c.at(k, line);
       c.p.iova_mode = iequals(v, "va") ? "va" : "pa";
       return ok_status();
     }},
    {"no-pci", kSingle, set_flag<&EalProfile::no_pci>},
    {"allow", kRepeatable, add_word<&EalProfile::allow>},
    {"vdev", kRepeatable, add_word<&EalProfile::vdevs>},
    {"log-level", kRepeatable, add_word<&EalProfile::log_levels>},
};

constexpr Rule kMeshgateKeys[] = {
    {"inner", kSingle,
     [](ProfileCtx& c, std::string_view k, std::string_view v, std::size_t) {
       return parse_port_ref(k, v, c.p.inner);
     }},
    {"outer", kSingle,
     [](ProfileCtx& c, std::string_view k, std::string_view v, std::size_t) {
       return parse_port_ref(k, v, c.p.outer);
     }},
    {"workers", kSingle, set_uint<&EalProfile::workers, 1, kMaxWorkers>},
    {"queues", kSingle, set_uint<&EalProfile::queues, 1, kMaxQueues>},
    {"worker-queues", kSingle,
     [](ProfileCtx& c, std::string_view k, std::string_view v, std::size_t line) {
       c.at(k, line);
       return parse_worker_queues(k, v, c.p.worker_queues);
     }},
    {"idle-backoff", kSingle, set_flag<&EalProfile::idle_backoff>},
};

constexpr SectionRule<ProfileCtx> kSections[] = {
    {"eal", kEalKeys, nullptr},
    {"meshgate", kMeshgateKeys, nullptr},
};

// Pairs of keys EAL refuses together; the error points at the later one.
Status check_exclusive(const ProfileCtx& c, std::string_view a, std::string_view b,
                       std::string_view why) {
  auto ia = c.lines.find(a);
  auto ib = c.lines.find(b);
  if (ia == c.lines.end() || ib == c.lines.end()) return ok_status();
  auto [first, second] = ia->second < ib->second ? std::pair(ia, ib) : std::pair(ib, ia);
  return Error{where(c.p.source, second->second) + std::string(second->first) +
               " cannot be combined with " + std::string(first->first) + " (line " +
               std::to_string(first->second) + "): " + std::string(why)};
}

Status check_lcores(const ProfileCtx& c) {
  const EalProfile& p = c.p;
  if (p.lcore_ids.empty()) return ok_status();
  auto has = [&](unsigned l) {
    return std::find(p.lcore_ids.begin(), p.lcore_ids.end(), l) != p.lcore_ids.end();
  };
  if (p.main_lcore && !has(*p.main_lcore)) {
    return Error{where(p.source, c.lines.at("main-lcore")) + "main-lcore " +
                 std::to_string(*p.main_lcore) + " is not in lcores '" + *p.lcores + "'"};
  }
  for (const WorkerQueue& wq : p.worker_queues) {
    std::string problem;
    if (!has(wq.lcore)) {
      problem = "worker-queues lcore " + std::to_string(wq.lcore) + " is not in lcores '" +
                *p.lcores + "'";
    } else if (wq.lcore == p.effective_main_lcore()) {
      problem = "worker-queues lcore " + std::to_string(wq.lcore) +
                " is the main lcore, which runs the control thread";
    }
    if (!problem.empty()) return Error{where(p.source, c.lines.at("worker-queues")) + problem};
  }
  return ok_status();
}

Status check_profile(const ProfileCtx& c) {
  Status st = check_exclusive(c, "lcores", "lcore-map", "give the lcore set one way");
  if (st) st = check_exclusive(c, "memory", "socket-memory", "EAL takes -m or --socket-mem");
  if (st) st = check_exclusive(c, "no-huge", "socket-memory", "per-socket memory needs hugepages");
  if (st && c.p.no_huge && c.p.in_memory) {
    // EAL 22.11: --no-huge implies legacy memory, which --in-memory refuses at start-up.
    st = Error{where(c.p.source, c.lines.at("in-memory")) +
               "in-memory cannot be combined with no-huge (EAL then uses legacy memory, which "
               "--in-memory refuses); leave both in-memory and file-prefix out and meshgate uses "
               "the tunnel name as the file prefix"};
  }
  if (st) st = check_lcores(c);
  return st;
}

}  // namespace
}  // namespace detail

std::optional<unsigned> EalProfile::effective_main_lcore() const {
  if (main_lcore) return main_lcore;
  if (!lcore_ids.empty()) return lcore_ids.front();
  return std::nullopt;
}

std::vector<std::string> EalProfile::eal_args() const {
  std::vector<std::string> a;
  auto opt = [&](const char* flag, const std::optional<std::string>& v) {
    if (v) a.insert(a.end(), {flag, *v});
  };
  auto num = [&](const char* flag, const std::optional<unsigned>& v) {
    if (v) a.insert(a.end(), {flag, std::to_string(*v)});
  };
  auto each = [&](const char* flag, const std::vector<std::string>& vs) {
    for (const std::string& v : vs) a.insert(a.end(), {flag, v});
  };
  opt("-l", lcores);
  opt("--lcores", lcore_map);
  num("--main-lcore", main_lcore);
  num("-m", memory_mb);
  opt("--socket-mem", socket_memory);
  if (no_huge) a.emplace_back("--no-huge");
  opt("--huge-dir", huge_dir);
  opt("--file-prefix", file_prefix);
  if (in_memory) a.emplace_back("--in-memory");
  opt("--iova-mode", iova_mode);
  if (no_pci) a.emplace_back("--no-pci");
  each("-a", allow);
  each("--vdev", vdevs);
  each("--log-level", log_levels);
  return a;
}

Result<EalProfile> parse_profile(std::string_view text, const std::string& name_for_errors) {
  detail::ProfileCtx ctx;
  ctx.p.source = name_for_errors;
  Status st = detail::run_ini<detail::ProfileCtx>(text, name_for_errors, detail::kSections, ctx);
  if (st) st = detail::check_profile(ctx);
  if (!st) return Error{st.error()};
  return std::move(ctx.p);
}

Result<EalProfile> load_profile(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return Error{text.error()};
  return parse_profile(*text, path);
}

}  // namespace meshgate::config
