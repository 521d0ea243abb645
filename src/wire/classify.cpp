// Frame classification (Ethernet II, RFC 826 ARP, RFC 791 IPv4, RFC 8200 IPv6, RFC 768 UDP,
// RFC 792 / RFC 4443 ICMP, RFC 4861 NDP). Each stage checks its length once, then reads typed
// header copies; every offset stays below the packet end it was checked against.
#include "meshgate/wire/classify.hpp"

namespace meshgate::wire {
namespace {

constexpr std::size_t kEthLen = sizeof(EthHdr);
constexpr int kMaxIpv6ExtHeaders = 8;  // a longer chain is dropped rather than walked

inline FrameInfo& fail(FrameInfo& fi, DropReason r) noexcept {
  fi.drop = r;
  return fi;
}

// UDP / ICMP after the L3 header. `end` is the end of the IP packet (not of the frame).
void classify_l4(const std::uint8_t* p, std::size_t end, FrameInfo& fi,
                 const ClassifyOptions& opt) noexcept {
  const std::size_t off = fi.l4_off;
  const std::size_t avail = end - off;
  fi.l4_len = static_cast<std::uint16_t>(avail);
  if (fi.l4_proto == spec::kProtoUdp) {
    if (avail < sizeof(UdpHdr)) {
      fail(fi, DropReason::udp_truncated);
      return;
    }
    const auto udp = read_hdr<UdpHdr>(p + off);
    const std::size_t ulen = udp.length.get();
    // Like Linux, a UDP length shorter than the IP payload is accepted (trailing bytes ignored).
    if (ulen < sizeof(UdpHdr) || ulen > avail) {
      fail(fi, DropReason::udp_bad_length);
      return;
    }
    if (opt.verify_udp_checksum) {
      const std::uint16_t c = udp.checksum.get();
      const bool v6 = fi.is_v6();
      const std::uint32_t ph = v6 ? pseudo_header_sum_v6(fi.src, fi.dst, spec::kProtoUdp,
                                                         static_cast<std::uint32_t>(ulen))
                                  : pseudo_header_sum_v4(fi.src, fi.dst, spec::kProtoUdp,
                                                         static_cast<std::uint16_t>(ulen));
      if ((c == 0 && v6) || (c != 0 && !l4_checksum_ok(ph, p + off, ulen))) {
        fail(fi, DropReason::udp_bad_checksum);
        return;
      }
    }
    fi.src_port = udp.src_port.get();
    fi.dst_port = udp.dst_port.get();
    fi.payload_off = static_cast<std::uint16_t>(off + sizeof(UdpHdr));
    fi.payload_len = static_cast<std::uint16_t>(ulen - sizeof(UdpHdr));
  } else if (fi.l4_proto == spec::kProtoIcmp || fi.l4_proto == spec::kProtoIcmpv6) {
    if (avail < sizeof(IcmpHdr)) {
      fail(fi, DropReason::icmp_truncated);
      return;
    }
    fi.icmp_type = p[off];
  }
}

void classify_ipv4(const std::uint8_t* p, std::size_t len, FrameInfo& fi,
                   const ClassifyOptions& opt) noexcept {
  const std::size_t off = fi.l3_off;
  fi.kind = FrameKind::ipv4;
  if (len - off < sizeof(Ipv4Hdr)) {
    fail(fi, DropReason::ipv4_truncated);
    return;
  }
  const auto ip = read_hdr<Ipv4Hdr>(p + off);
  const std::size_t hlen = ip.header_length();
  if (ip.version() != 4 || hlen < sizeof(Ipv4Hdr)) {
    fail(fi, DropReason::ipv4_bad_header);
    return;
  }
  const std::size_t total = ip.total_length.get();
  if (total < hlen || total > len - off) {
    fail(fi, DropReason::ipv4_bad_length);
    return;
  }
  if (opt.verify_ipv4_checksum && !ipv4_header_checksum_ok(p + off, hlen)) {
    fail(fi, DropReason::ipv4_bad_checksum);
    return;
  }
  fi.l3_len = static_cast<std::uint16_t>(total);
  fi.l4_off = static_cast<std::uint16_t>(off + hlen);
  fi.l4_len = static_cast<std::uint16_t>(total - hlen);
  fi.l4_proto = ip.protocol;
  fi.tos = ip.tos;
  fi.src = p + off + 12;
  fi.dst = p + off + 16;
  fi.fragment = ip.is_fragment();
  if (!fi.fragment) classify_l4(p, off + total, fi, opt);
}

// Walks hop-by-hop, routing and destination-options headers; stops at a fragment header.
// Returns false (drop set) when the chain is malformed.
bool walk_ipv6_ext(const std::uint8_t* p, std::size_t end, FrameInfo& fi, std::uint8_t next,
                   std::size_t off) noexcept {
  for (int n = 0; n <= kMaxIpv6ExtHeaders; ++n) {
    if (next == spec::kProtoHopByHop || next == spec::kProtoRouting ||
        next == spec::kProtoDestOpts) {
      if (n == kMaxIpv6ExtHeaders || end - off < 8) break;
      const auto ext = read_hdr<Ipv6ExtHdr>(p + off);
      const std::size_t elen = (std::size_t{ext.length} + 1) * 8;
      if (elen > end - off) break;
      next = ext.next_header;
      off += elen;
      continue;
    }
    if (next == spec::kProtoFragment) {
      if (end - off < sizeof(Ipv6FragHdr)) break;
      fi.fragment = true;
      next = read_hdr<Ipv6FragHdr>(p + off).next_header;
      off += sizeof(Ipv6FragHdr);
    }
    fi.l4_proto = next;
    fi.l4_off = static_cast<std::uint16_t>(off);
    fi.l4_len = static_cast<std::uint16_t>(end - off);
    return true;
  }
  fail(fi, DropReason::ipv6_bad_ext_header);
  return false;
}

void classify_ipv6(const std::uint8_t* p, std::size_t len, FrameInfo& fi,
                   const ClassifyOptions& opt) noexcept {
  const std::size_t off = fi.l3_off;
  fi.kind = FrameKind::ipv6;
  if (len - off < sizeof(Ipv6Hdr)) {
    fail(fi, DropReason::ipv6_truncated);
    return;
  }
  const auto ip = read_hdr<Ipv6Hdr>(p + off);
  if (ip.version() != 6) {
    fail(fi, DropReason::ipv6_bad_header);
    return;
  }
  const std::size_t total = sizeof(Ipv6Hdr) + ip.payload_length.get();
  if (total > len - off) {  // payload length 0 with a jumbo option (RFC 2675) lands here too
    fail(fi, DropReason::ipv6_bad_length);
    return;
  }
  fi.l3_len = static_cast<std::uint16_t>(total);
  fi.tos = ip.traffic_class();
  fi.src = p + off + 8;
  fi.dst = p + off + 24;
  if (!walk_ipv6_ext(p, off + total, fi, ip.next_header, off + sizeof(Ipv6Hdr))) return;
  if (fi.fragment) return;
  classify_l4(p, off + total, fi, opt);
  if (fi.ok() && fi.l4_proto == spec::kProtoIcmpv6 && fi.icmp_type >= spec::kNdpRouterSolicit &&
      fi.icmp_type <= spec::kNdpRedirect) {
    fi.kind = FrameKind::ndp;
    if (ip.hop_limit != spec::kNdpHopLimit) fail(fi, DropReason::ndp_bad_hop_limit);
  }
}

void classify_arp(const std::uint8_t* p, std::size_t len, FrameInfo& fi) noexcept {
  const std::size_t off = fi.l3_off;
  fi.kind = FrameKind::arp;
  if (len - off < sizeof(ArpHdr)) {
    fail(fi, DropReason::arp_truncated);
    return;
  }
  const auto arp = read_hdr<ArpHdr>(p + off);
  if (arp.htype.get() != spec::kArpHtypeEthernet || arp.ptype.get() != spec::kEtherTypeIpv4 ||
      arp.hlen != 6 || arp.plen != 4) {
    fail(fi, DropReason::arp_bad_header);
    return;
  }
  fi.l3_len = sizeof(ArpHdr);
  fi.src = p + off + 14;  // sender protocol address
  fi.dst = p + off + 24;  // target protocol address
}

}  // namespace

IpAddr FrameInfo::src_addr() const noexcept {
  if (src == nullptr) return IpAddr{};
  return is_v6() ? IpAddr::v6_bytes(src) : IpAddr::v4_bytes(src);
}

IpAddr FrameInfo::dst_addr() const noexcept {
  if (dst == nullptr) return IpAddr{};
  return is_v6() ? IpAddr::v6_bytes(dst) : IpAddr::v4_bytes(dst);
}

FrameInfo classify_frame(const std::uint8_t* p, std::size_t len,
                         const ClassifyOptions& opt) noexcept {
  FrameInfo fi;
  if (len < kEthLen) return fail(fi, DropReason::frame_too_short);
  if (len > 0xFFFF) len = 0xFFFF;  // offsets are 16-bit; no IP packet is longer
  fi.l3_off = kEthLen;
  switch (load_be16(p + 12)) {
    case spec::kEtherTypeIpv4:
      classify_ipv4(p, len, fi, opt);
      break;
    case spec::kEtherTypeIpv6:
      classify_ipv6(p, len, fi, opt);
      break;
    case spec::kEtherTypeArp:
      classify_arp(p, len, fi);
      break;
    default:
      fail(fi, DropReason::bad_ethertype);
  }
  return fi;
}

FrameInfo classify_ip(const std::uint8_t* ip, std::size_t len,
                      const ClassifyOptions& opt) noexcept {
  FrameInfo fi;
  if (len > 0xFFFF) len = 0xFFFF;
  if (len == 0) return fail(fi, DropReason::ipv4_truncated);
  switch (ip[0] >> 4) {
    case 4:
      classify_ipv4(ip, len, fi, opt);
      break;
    case 6:
      classify_ipv6(ip, len, fi, opt);
      break;
    default:
      fail(fi, DropReason::bad_ethertype);
  }
  return fi;
}

std::size_t inner_packet_length(const std::uint8_t* ip, std::size_t avail) noexcept {
  if (avail == 0) return 0;
  const unsigned version = ip[0] >> 4;
  if (version == 4) {
    if (avail < sizeof(Ipv4Hdr)) return 0;
    const std::size_t hlen = std::size_t{ip[0] & 0x0Fu} * 4;
    const std::size_t total = load_be16(ip + 2);
    if (hlen < sizeof(Ipv4Hdr) || total < hlen || total > avail) return 0;
    return total;
  }
  if (version == 6) {
    if (avail < sizeof(Ipv6Hdr)) return 0;
    const std::size_t total = sizeof(Ipv6Hdr) + load_be16(ip + 4);
    return total <= avail ? total : 0;
  }
  return 0;
}

ArpMessage parse_arp(const std::uint8_t* frame, const FrameInfo& info) noexcept {
  const auto arp = read_hdr<ArpHdr>(frame + info.l3_off);
  ArpMessage m;
  m.op = arp.oper.get();
  m.sha = arp.sha;
  m.spa = IpAddr::v4_bytes(arp.spa);
  m.tha = arp.tha;
  m.tpa = IpAddr::v4_bytes(arp.tpa);
  return m;
}

std::optional<NdpMessage> parse_ndp(const std::uint8_t* frame, const FrameInfo& info) noexcept {
  if (info.kind != FrameKind::ndp || !info.ok()) return std::nullopt;
  const std::uint8_t* msg = frame + info.l4_off;
  const std::size_t len = info.l4_len;
  if ((info.icmp_type != spec::kNdpNeighbourSolicit &&
       info.icmp_type != spec::kNdpNeighbourAdvert) ||
      len < sizeof(NdpNsHdr) || msg[1] != 0) {
    return std::nullopt;
  }
  if (!l4_checksum_ok(pseudo_header_sum_v6(info.src, info.dst, spec::kProtoIcmpv6,
                                           static_cast<std::uint32_t>(len)),
                      msg, len)) {
    return std::nullopt;
  }
  NdpMessage m;
  m.type = info.icmp_type;
  m.src = info.src_addr();
  m.dst = info.dst_addr();
  m.target = IpAddr::v6_bytes(msg + 8);
  m.flags = m.type == spec::kNdpNeighbourAdvert ? msg[4] : 0;
  if (msg[8] == 0xff) return std::nullopt;  // target must not be multicast
  const std::uint8_t want_opt =
      m.type == spec::kNdpNeighbourSolicit ? spec::kNdpOptSourceLl : spec::kNdpOptTargetLl;
  for (std::size_t off = sizeof(NdpNsHdr); off < len;) {
    if (len - off < 2 || msg[off + 1] == 0) return std::nullopt;
    const std::size_t olen = std::size_t{msg[off + 1]} * 8;
    if (olen > len - off) return std::nullopt;
    if (msg[off] == want_opt && olen >= sizeof(NdpLlaOption)) m.lla = MacAddr::from(msg + off + 2);
    off += olen;
  }
  const bool src_unspecified = m.src.bytes == std::array<std::uint8_t, 16>{};
  if (src_unspecified && m.lla) return std::nullopt;  // RFC 4861 7.1.1 (DAD probes carry none)
  return m;
}

}  // namespace meshgate::wire
