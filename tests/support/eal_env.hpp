// A GoogleTest environment that starts the EAL once per test binary: no hugepages, no PCI,
// a file prefix of its own, quiet logs. Link with eal_main.cpp.
#pragma once

#include <string>
#include <vector>

namespace meshgate::test {

/// EAL arguments for tests; lcores 0-1 so a worker can run on its own lcore.
std::vector<std::string> test_eal_args();

}  // namespace meshgate::test
