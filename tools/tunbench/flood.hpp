// tunbench flood: a stream of WireGuard handshake initiations at a paced rate, half random
// bytes, half with a valid mac1 for the target's public key (issue 13's flood case of
// tunbench netns).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "meshgate/base/bytes.hpp"
#include "meshgate/wire/messages.hpp"

namespace tunbench {

int flood_main(int argc, char** argv);

/// A rate a second, above 0: "100000", "100k", "1M", "2.5k".
bool parse_rate(std::string_view s, double& out);

/// Distinct initiations a flood sends in turn: computing mac1 and random bytes for every packet
/// would cost the generator CPU that the gateway under test shares on a small machine.
inline constexpr std::size_t kFloodPoolSize = 4096;
/// kFloodPoolSize initiations for the gateway whose public key is `target_public`: the even
/// ones random after the type field (they fail mac1), the odd ones random with the mac1 the
/// target expects (they pass it, then fail at the static key's decryption, or get a cookie
/// reply under load).
std::vector<meshgate::wire::MessageInitiation> flood_messages(const meshgate::Key32& target_public);

}  // namespace tunbench
