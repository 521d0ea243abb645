// The one name of a peer inside the gateway: an index into the peer table, the value the
// allowed-IPs tables map prefixes to, and what keypairs and activity rows are keyed by.
#pragma once

#include <cstdint>

namespace meshgate::peer {

using PeerId = std::uint32_t;
/// No peer: an unrouted destination, an unused slot.
inline constexpr PeerId kNoPeer = ~PeerId{0};

}  // namespace meshgate::peer
