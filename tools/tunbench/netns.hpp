// tunbench netns: two sites in network namespaces, a meshgate pair, a wireguard-go pair and a
// nebula pair measured back to back in one run.
#pragma once

namespace tunbench {

int netns_main(int argc, char** argv);

}  // namespace tunbench
