#include "netns.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace tunbench {

namespace {

std::string exe_path() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "./tunbench";
  return {buf, static_cast<std::size_t>(n)};
}

}  // namespace

// The namespaces, the three pairs, the traffic and the flood case are shell work (ip, wg, nebula,
// iperf3, ping): tools/tunbench/netns.sh does it with the netns test suite's helpers. This finds
// the source tree and the meshgate binary beside this build and hands over.
int netns_main(int argc, char** argv) {
  // NOLINTBEGIN(concurrency-mt-unsafe): tunbench's one thread, just before exec
  const std::string exe = exe_path();
  const std::string dir = exe.substr(0, exe.find_last_of('/'));  // <build>/tools/tunbench
  const char* root_env = std::getenv("MG_ROOT");
  const std::string root = root_env != nullptr ? root_env : dir + "/../../..";
  const std::string script = root + "/tools/tunbench/netns.sh";
  if (access(script.c_str(), R_OK) != 0) {
    std::fprintf(stderr, "tunbench netns: %s not found (set MG_ROOT to the source tree)\n",
                 script.c_str());
    return 2;
  }
  const char* bin_env = std::getenv("MG_BIN");
  const std::string bin = bin_env != nullptr ? bin_env : dir + "/../../src/app/meshgate";
  setenv("MG_ROOT", root.c_str(), 1);
  setenv("MG_BIN", bin.c_str(), 1);
  setenv("MG_TUNBENCH", exe.c_str(), 1);  // the flood case runs `tunbench flood`
  // NOLINTEND(concurrency-mt-unsafe)
  std::vector<char*> args;
  std::string bash = "bash";
  std::string script_arg = script;
  args.push_back(bash.data());
  args.push_back(script_arg.data());
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  execvp("bash", args.data());
  std::perror("tunbench netns: bash");
  return 2;
}

}  // namespace tunbench
