// Forwarding rewrites (rewrite.hpp): TTL / hop limit, ECN (RFC 6040), TCP MSS.
#include "meshgate/wire/rewrite.hpp"

#include "meshgate/base/bytes.hpp"
#include "meshgate/wire/checksum.hpp"
#include "meshgate/wire/headers.hpp"

namespace meshgate::wire {
namespace {

constexpr std::uint8_t kEcnDrop = 0xFF;

// RFC 6040 4.2, Figure 4 (and Linux's __INET_ECN_decapsulate): the inner ECN field after
// decapsulation, by [outer][inner]. A table, so the common case (no marks) costs no branch.
constexpr std::uint8_t kEcnDecap[4][4] = {
    // inner: Not-ECT    ECT(1)    ECT(0)    CE
    {kEcnNotEct, kEcnEct1, kEcnEct0, kEcnCe},  // outer Not-ECT: inner unchanged
    {kEcnNotEct, kEcnEct1, kEcnEct1, kEcnCe},  // outer ECT(1): ECT(0) becomes ECT(1)
    {kEcnNotEct, kEcnEct1, kEcnEct0, kEcnCe},  // outer ECT(0): inner unchanged
    {kEcnDrop, kEcnCe, kEcnCe, kEcnCe},        // outer CE: marked, or dropped if not ECN-capable
};

Forward forward_v4(std::uint8_t* ip, std::size_t len, std::uint8_t outer_ecn,
                   std::uint16_t mss) noexcept {
  if (ttl_runs_out(ip)) return Forward::ttl_expired;
  const std::uint8_t ecn = kEcnDecap[outer_ecn & 3][ip[1] & 3];
  if (ecn == kEcnDrop) return Forward::ecn_ce_not_ect;
  // Two header words change: version/IHL/TOS and TTL/protocol.
  const std::uint16_t w0 = load_be16(ip);
  const std::uint16_t w4 = load_be16(ip + 8);
  const auto n0 = static_cast<std::uint16_t>((w0 & ~3u) | ecn);
  const auto n4 = static_cast<std::uint16_t>(w4 - 0x100);
  store_be16(ip, n0);
  store_be16(ip + 8, n4);
  store_be16(ip + 10, checksum_update32(load_be16(ip + 10), (std::uint32_t{w0} << 16) | w4,
                                        (std::uint32_t{n0} << 16) | n4));
  const std::size_t hlen = std::size_t{ip[0] & 0x0Fu} * 4;
  // A SYN: TCP, and the first fragment (or none); the MSS is in the first 60 bytes of TCP.
  if (ip[9] == spec::kProtoTcp && (load_be16(ip + 6) & spec::kIpv4OffsetMask) == 0 && mss != 0) {
    clamp_tcp_mss(ip + hlen, len - hlen, mss);
  }
  return Forward::ok;
}

Forward forward_v6(std::uint8_t* ip, std::size_t len, std::uint8_t outer_ecn,
                   std::uint16_t mss) noexcept {
  if (ttl_runs_out(ip)) return Forward::ttl_expired;
  const std::uint8_t ecn = kEcnDecap[outer_ecn & 3][(ip[1] >> 4) & 3];
  if (ecn == kEcnDrop) return Forward::ecn_ce_not_ect;
  ip[1] = static_cast<std::uint8_t>((ip[1] & 0xCF) | (ecn << 4));
  --ip[7];  // no header checksum in IPv6
  if (ip[6] == spec::kProtoTcp && mss != 0) {
    clamp_tcp_mss(ip + sizeof(Ipv6Hdr), len - sizeof(Ipv6Hdr), mss);
  }
  return Forward::ok;
}

}  // namespace

Forward forward_ip(std::uint8_t* ip, std::size_t len, std::uint8_t outer_ecn,
                   MssLimit mss) noexcept {
  if ((ip[0] >> 4) == 6) return forward_v6(ip, len, outer_ecn, mss.v6);
  return forward_v4(ip, len, outer_ecn, mss.v4);
}

bool clamp_tcp_mss(std::uint8_t* tcp, std::size_t len, std::uint16_t max_mss) noexcept {
  if (len < 20 || (tcp[13] & kTcpFlagSyn) == 0) return false;
  const std::size_t doff = std::size_t{tcp[12]} >> 4 << 2;
  if (doff < 20 || doff > len) return false;
  for (std::size_t off = 20; off < doff;) {
    const std::uint8_t kind = tcp[off];
    if (kind == 0) break;  // end of the option list
    if (kind == 1) {       // no-operation
      ++off;
      continue;
    }
    if (off + 1 >= doff || tcp[off + 1] < 2 || off + tcp[off + 1] > doff) break;  // malformed
    if (kind == kTcpOptMss && tcp[off + 1] == 4) {
      const std::uint16_t old = load_be16(tcp + off + 2);
      if (old <= max_mss) return false;
      store_be16(tcp + off + 2, max_mss);
      // The checksum sums 16-bit words from the segment's start: a value at an odd offset
      // straddles two words and counts byte-swapped (RFC 1071 2(B)).
      const bool odd = (off & 1) != 0;
      const std::uint16_t o = odd ? __builtin_bswap16(old) : old;
      const std::uint16_t n = odd ? __builtin_bswap16(max_mss) : max_mss;
      store_be16(tcp + 16, checksum_update16(load_be16(tcp + 16), o, n));
      return true;
    }
    off += tcp[off + 1];
  }
  return false;
}

}  // namespace meshgate::wire
