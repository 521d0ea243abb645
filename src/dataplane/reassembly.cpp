// Outer fragment reassembly on a worker (reassembly.hpp).
//
// rte_ip_frag_table_del_expired_entries() is still marked experimental in DPDK 22.11; without it
// a table whose fragments stop coming would keep its incomplete datagrams (and their mbufs) until
// a later fragment happened to hash onto them.
// NOLINTNEXTLINE(bugprone-reserved-identifier): the name DPDK's rte_compat.h checks
#define ALLOW_EXPERIMENTAL_API 1

#include "meshgate/dataplane/reassembly.hpp"

#include <rte_ip.h>

#include <cstdint>
#include <limits>

#include "meshgate/base/bytes.hpp"
#include "meshgate/wire/checksum.hpp"
#include "meshgate/wire/headers.hpp"

namespace meshgate::dataplane {

namespace {

/// Entries per hash bucket (DPDK wants a power of two); the table has `flows` buckets.
constexpr std::uint32_t kBucketEntries = 4;
/// IPv6: the fixed header and the fragment header right after it, the only layout DPDK's
/// reassembly handles.
constexpr std::uint16_t kIpv6FragL3Len = sizeof(wire::Ipv6Hdr) + sizeof(wire::Ipv6FragHdr);

/// Where a fragment's data goes in its datagram.
struct Piece {
  std::uint32_t offset = 0;  // bytes from the start of the datagram's payload
  std::uint32_t len = 0;     // bytes of payload this fragment carries
  bool more = false;         // MF / M: not the last piece
};

/// A piece RFC 791 / RFC 8200 allow: not empty, a multiple of 8 bytes unless it is the last, and
/// inside the largest datagram (65535 bytes with its header).
bool sane(const Piece& p, std::uint32_t l3_header) noexcept {
  if (p.len == 0 || (p.more && p.len % 8 != 0)) return false;
  return p.offset + p.len + l3_header <= std::numeric_limits<std::uint16_t>::max();
}

/// Reads a fragment's piece and sets the mbuf's l2_len/l3_len for DPDK; false for an IPv6
/// fragment header that is not right after the fixed header (DPDK cannot reassemble it).
bool read_piece(rte_mbuf* m, const wire::FrameInfo& f, bool v6, Piece& p) noexcept {
  const std::uint8_t* l3 = rte_pktmbuf_mtod(m, const std::uint8_t*) + f.l3_off;
  m->l2_len = f.l3_off;
  if (v6) {
    const auto ip = wire::read_hdr<wire::Ipv6Hdr>(l3);
    if (ip.next_header != wire::spec::kProtoFragment || f.l4_off != f.l3_off + kIpv6FragL3Len) {
      return false;
    }
    const auto fh = wire::read_hdr<wire::Ipv6FragHdr>(l3 + sizeof(wire::Ipv6Hdr));
    m->l3_len = kIpv6FragL3Len;
    p = {fh.offset_flags.get() & 0xFFF8u, f.l4_len, (fh.offset_flags.get() & 1u) != 0};
    return true;
  }
  const auto ip = wire::read_hdr<wire::Ipv4Hdr>(l3);
  m->l3_len = static_cast<std::uint16_t>(ip.header_length());
  p = {(ip.frag.get() & wire::spec::kIpv4OffsetMask) * 8u, f.l4_len,
       (ip.frag.get() & wire::spec::kIpv4FlagMf) != 0};
  return true;
}

}  // namespace

Reassembly::Reassembly(const ReassemblyLimits& limits, int socket)
    : table_(rte_ip_frag_table_create(limits.flows, kBucketEntries, limits.flows,
                                      static_cast<std::uint64_t>(limits.timeout), socket)) {}

Reassembly::~Reassembly() {
  if (table_ == nullptr) return;
  // Everything still waiting goes back to the pool: expire it all, a death row at a time.
  do {
    rte_ip_frag_free_death_row(&death_row_, 0);
    rte_ip_frag_table_del_expired_entries(table_, &death_row_,
                                          std::numeric_limits<std::uint64_t>::max() / 2);
  } while (death_row_.cnt != 0);
  rte_ip_frag_table_destroy(table_);
}

rte_mbuf* Reassembly::add(rte_mbuf* m, const wire::FrameInfo& f, Nanos now,
                          DropCounters& drops) noexcept {
  const bool v6 = f.is_v6();
  Piece p;
  if (!read_piece(m, f, v6, p)) {
    drops.add(wire::DropReason::ipv6_fragment);
    rte_pktmbuf_free(m);
    return nullptr;
  }
  if (!sane(p, m->l3_len)) {
    drops.add(Drop::fragment_malformed);
    rte_pktmbuf_free(m);
    return nullptr;
  }
  if (table_ == nullptr) {
    drops.add(Drop::fragment_table_full);
    rte_pktmbuf_free(m);
    return nullptr;
  }
  // DPDK chains the fragments' data as it stands: Ethernet padding after a short last piece
  // would end up inside the datagram.
  rte_pktmbuf_trim(m, static_cast<std::uint16_t>(m->data_len - f.l3_off - f.l3_len));
  rte_mbuf* whole = insert(m, v6, now, drops);
  if (whole == nullptr) return nullptr;
  ++reassembled_;
  return finish(whole, v6, drops);
}

rte_mbuf* Reassembly::insert(rte_mbuf* m, bool v6, Nanos now, DropCounters& drops) noexcept {
  const std::uint32_t before = death_row_.cnt;
  auto* l3 = rte_pktmbuf_mtod_offset(m, std::uint8_t*, m->l2_len);
  const auto tms = static_cast<std::uint64_t>(now);
  rte_mbuf* whole = v6 ? rte_ipv6_frag_reassemble_packet(
                             table_, &death_row_, m, tms, reinterpret_cast<rte_ipv6_hdr*>(l3),
                             reinterpret_cast<rte_ipv6_fragment_ext*>(l3 + sizeof(wire::Ipv6Hdr)))
                       : rte_ipv4_frag_reassemble_packet(table_, &death_row_, m, tms,
                                                         reinterpret_cast<rte_ipv4_hdr*>(l3));
  // What the table put on the death row says what happened: only this fragment, there was no
  // room for its datagram; this fragment with others, its datagram was inconsistent and thrown
  // away whole; only others, an expired datagram made room for this one.
  const std::uint32_t freed = death_row_.cnt - before;
  if (freed != 0) {
    bool mine = false;
    for (std::uint32_t i = before; i < death_row_.cnt; ++i) mine |= death_row_.row[i] == m;
    if (!mine) {
      drops.add(Drop::fragment_expired, freed);
    } else {
      drops.add(freed == 1 ? Drop::fragment_table_full : Drop::fragment_malformed, freed);
    }
    rte_ip_frag_free_death_row(&death_row_, 0);
  }
  return whole;
}

rte_mbuf* Reassembly::finish(rte_mbuf* m, bool v6, DropCounters& drops) noexcept {
  // The inbound path reads a frame as one contiguous buffer; a datagram that does not fit in
  // its first fragment's buffer is not a WireGuard message we could have sent anyway.
  if (rte_pktmbuf_linearize(m) != 0) {
    drops.add(Drop::fragmented_too_big);
    rte_pktmbuf_free(m);
    return nullptr;
  }
  if (!v6) {  // DPDK rewrote the length and flags and left the checksum zero
    auto* ip = rte_pktmbuf_mtod_offset(m, std::uint8_t*, m->l2_len);
    store_be16(ip + 10, wire::ipv4_header_checksum(ip));
  }
  return m;
}

void Reassembly::expire(Nanos now, DropCounters& drops) noexcept {
  if (table_ == nullptr) return;
  // The death row holds fewer mbufs than a full table: the walk stops when it is full, so free
  // and walk again until nothing more is expired.
  for (;;) {
    rte_ip_frag_table_del_expired_entries(table_, &death_row_, static_cast<std::uint64_t>(now));
    if (death_row_.cnt == 0) return;
    drops.add(Drop::fragment_expired, death_row_.cnt);
    rte_ip_frag_free_death_row(&death_row_, 0);
  }
}

}  // namespace meshgate::dataplane
