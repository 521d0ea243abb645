#include "netns.hpp"

#include <cstdio>

namespace tunbench {

int netns_main(int, char**) {
  std::fputs("tunbench netns: not built yet\n", stderr);
  return 2;
}

}  // namespace tunbench
