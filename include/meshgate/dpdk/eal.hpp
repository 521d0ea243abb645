// EAL start-up and shutdown. The only module besides dpdk/ports that touches rte_eal_*.
#pragma once

#include <string>
#include <vector>

#include "meshgate/base/result.hpp"

namespace meshgate::dpdk {

/// Starts the EAL with `args` (the argv tail from an EAL profile). Once per process.
Status eal_init(const std::vector<std::string>& args);

/// Releases EAL resources (hugepage files, vdevs). Call after every lcore has returned.
void eal_cleanup();

/// The lcores the EAL gave us besides the main one, in order.
std::vector<unsigned> worker_lcores();

}  // namespace meshgate::dpdk
