#include "meshgate/dataplane/vlan.hpp"

#include <rte_ether.h>

namespace meshgate::dataplane {

namespace {
constexpr std::uint16_t kVidMask = 0x0FFF;  // the TCI's low 12 bits; the top 4 are PCP and DEI
}

unsigned untag_burst(rte_mbuf** pkts, unsigned n, std::uint16_t vid, DropCounters& drops) noexcept {
  unsigned kept = 0;
  for (unsigned i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    // rte_vlan_strip moves the tag into vlan_tci and sets RTE_MBUF_F_RX_VLAN_STRIPPED, the same
    // state a PMD that strips leaves, so one check below covers both.
    if (rte_vlan_strip(m) != 0 && (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) == 0) {
      drops.add(Drop::vlan_mismatch);
      rte_pktmbuf_free(m);
      continue;
    }
    if ((m->vlan_tci & kVidMask) != vid) {
      drops.add(Drop::vlan_mismatch);
      rte_pktmbuf_free(m);
      continue;
    }
    pkts[kept++] = m;
  }
  return kept;
}

bool tag_frame(rte_mbuf* m, std::uint16_t vid) noexcept {
  m->vlan_tci = vid;
  return rte_vlan_insert(&m) == 0;
}

}  // namespace meshgate::dataplane
