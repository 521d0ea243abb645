// 802.1Q VLAN tags at a port's edge (docs/design.md, "VLANs"). A port configured with a VLAN
// takes only frames of that VLAN and sends every frame tagged with it. The tag comes off right
// after the PMD's receive and goes on right before its transmit, so every stage in between (and
// the control thread) sees plain Ethernet.
//
// Thread contract: pure functions of their arguments on mbufs the caller owns (a worker, or the
// control thread's TX queue).
#pragma once

#include <rte_config.h>
#include <rte_mbuf.h>

#include <cstdint>

#include "meshgate/dataplane/drops.hpp"

namespace meshgate::dataplane {

/// Keeps the frames of VLAN `vid` (1..4094), without their tags, packed at the front of `pkts`,
/// and returns how many. A tag may still be in the frame, or already taken off by the PMD
/// (RTE_MBUF_F_RX_VLAN_STRIPPED and vlan_tci). Untagged frames and frames of another VLAN are
/// freed and counted as vlan_mismatch.
unsigned untag_burst(rte_mbuf** pkts, unsigned n, std::uint16_t vid, DropCounters& drops) noexcept;

/// Inserts the tag of VLAN `vid` (priority 0). False when the mbuf is shared, too short or
/// lacks 4 bytes of headroom; the caller still owns it.
bool tag_frame(rte_mbuf* m, std::uint16_t vid) noexcept;

}  // namespace meshgate::dataplane
