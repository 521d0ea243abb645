#include "meshgate/dpdk/eal.hpp"

#include <rte_config.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

namespace meshgate::dpdk {

Status eal_init(const std::vector<std::string>& args) {
  // rte_eal_init may keep pointers into argv for the life of the process: the strings live in
  // a static that outlives this call.
  static std::vector<std::string> storage;
  storage.clear();
  storage.emplace_back("meshgate");
  storage.insert(storage.end(), args.begin(), args.end());
  static std::vector<char*> argv;
  argv.clear();
  for (std::string& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  if (rte_eal_init(static_cast<int>(argv.size() - 1), argv.data()) < 0) {
    return Error{std::string("EAL initialisation failed: ") + rte_strerror(rte_errno)};
  }
  return ok_status();
}

void eal_cleanup() {
  rte_eal_cleanup();
}

std::vector<unsigned> worker_lcores() {
  std::vector<unsigned> out;
  unsigned id = 0;
  RTE_LCORE_FOREACH_WORKER(id) {
    out.push_back(id);
  }
  return out;
}

}  // namespace meshgate::dpdk
