#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

#include "eal_env.hpp"
#include "meshgate/dpdk/eal.hpp"

namespace meshgate::test {

// 1 GiB of ordinary memory: each RingGateways keeps its mbuf pools until the EAL ends, and a
// binary creates a dozen of them.
std::vector<std::string> test_eal_args() {
  return {"--no-huge",
          "-m",
          "1024",
          "--no-pci",
          "--file-prefix",
          "mgtest" + std::to_string(getpid()),
          "-l",
          "0-1",
          "--log-level",
          "*:warning"};
}

}  // namespace meshgate::test

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  meshgate::Status st = meshgate::dpdk::eal_init(meshgate::test::test_eal_args());
  if (!st) {
    std::fprintf(stderr, "%s\n", st.error().c_str());
    return 1;
  }
  int rc = RUN_ALL_TESTS();
  meshgate::dpdk::eal_cleanup();
  return rc;
}
