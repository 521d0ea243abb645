// Building and using a peer's outer header template (PeerRoute).
#pragma once

#include <cstdint>

#include "meshgate/dataplane/peers.hpp"
#include "meshgate/wire/headers.hpp"

namespace meshgate::dataplane {

/// Builds the Ethernet + IP + UDP template for sending to `endpoint` from `src`:`sport`.
PeerRoute make_route(const Endpoint& endpoint, const IpAddr& src, std::uint16_t sport,
                     const wire::MacAddr& src_mac, const wire::MacAddr& dst_mac);

/// Writes the template at `frame` and fills in the lengths and checksums for a WireGuard
/// message of `wg_len` bytes that already follows the header in memory.
void write_outer_header(std::uint8_t* frame, const PeerRoute& r, std::uint16_t wg_len) noexcept;

}  // namespace meshgate::dataplane
