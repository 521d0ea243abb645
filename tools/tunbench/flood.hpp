// tunbench flood: a stream of WireGuard handshake initiations at a paced rate, half random
// bytes, half with a valid mac1 for the target's public key (issue 13's flood case of
// tunbench netns).
#pragma once

namespace tunbench {

int flood_main(int argc, char** argv);

}  // namespace tunbench
