// Packet builders. Headers are filled in typed local copies and written with one memcpy each.
#include "meshgate/wire/build.hpp"

#include <algorithm>
#include <cstring>

#include "meshgate/nat/stun.hpp"

namespace meshgate::wire {
namespace {

constexpr std::size_t kEthLen = sizeof(EthHdr);

void put_eth(std::uint8_t* buf, const MacAddr& src, const MacAddr& dst, std::uint16_t type) {
  EthHdr eth;
  eth.dst = dst;
  eth.src = src;
  eth.ethertype.set(type);
  write_hdr(buf, eth);
}

Ipv4Hdr make_ipv4(const std::uint8_t* src4, const std::uint8_t* dst4, std::uint8_t proto,
                  std::size_t total, std::uint8_t tos, std::uint16_t id, std::uint16_t frag,
                  std::uint8_t ttl) {
  Ipv4Hdr ip{};
  ip.version_ihl = 0x45;
  ip.tos = tos;
  ip.total_length.set(static_cast<std::uint16_t>(total));
  ip.id.set(id);
  ip.frag.set(frag);
  ip.ttl = ttl;
  ip.protocol = proto;
  std::memcpy(ip.src, src4, 4);
  std::memcpy(ip.dst, dst4, 4);
  ip.checksum.set(
      static_cast<std::uint16_t>(~ones_sum20(reinterpret_cast<const std::uint8_t*>(&ip))));
  return ip;
}

Ipv6Hdr make_ipv6(const std::uint8_t* src16, const std::uint8_t* dst16, std::uint8_t next,
                  std::size_t payload, std::uint8_t tclass, std::uint8_t hop_limit) {
  Ipv6Hdr ip{};
  ip.vtc_flow.set((6u << 28) | (std::uint32_t{tclass} << 20));
  ip.payload_length.set(static_cast<std::uint16_t>(payload));
  ip.next_header = next;
  ip.hop_limit = hop_limit;
  std::memcpy(ip.src, src16, 16);
  std::memcpy(ip.dst, dst16, 16);
  return ip;
}

UdpHdr make_udp(std::uint16_t sport, std::uint16_t dport, std::size_t ulen) {
  UdpHdr udp{};
  udp.src_port.set(sport);
  udp.dst_port.set(dport);
  udp.length.set(static_cast<std::uint16_t>(ulen));
  return udp;
}

// Writes Ethernet + IPv6 + UDP with checksum 0; returns the UDP header position.
std::uint8_t* put_outer_v6(std::uint8_t* buf, const MacAddr& src_mac, const MacAddr& dst_mac,
                           const IpAddr& src_ip, const IpAddr& dst_ip, std::uint16_t sport,
                           std::uint16_t dport, std::size_t ulen, std::uint8_t tclass) {
  put_eth(buf, src_mac, dst_mac, spec::kEtherTypeIpv6);
  write_hdr(buf + kEthLen, make_ipv6(src_ip.bytes.data(), dst_ip.bytes.data(), spec::kProtoUdp,
                                     ulen, tclass, spec::kDefaultTtl));
  std::uint8_t* udp = buf + kEthLen + sizeof(Ipv6Hdr);
  write_hdr(udp, make_udp(sport, dport, ulen));
  return udp;
}

}  // namespace

OuterTemplate OuterTemplate::make(const MacAddr& src_mac, const MacAddr& dst_mac,
                                  const IpAddr& src_ip, const IpAddr& dst_ip, std::uint16_t sport,
                                  std::uint16_t dport, std::uint16_t channel,
                                  std::uint8_t ttl) noexcept {
  OuterTemplate t;
  if (src_ip.family != dst_ip.family || src_ip.family == IpAddr::Family::none) return t;
  t.channel = channel;
  const std::size_t extra = channel != 0 ? nat::stun::kChannelDataHeaderSize : 0;
  std::uint8_t* b = t.bytes.data();
  if (src_ip.is_v4()) {
    put_eth(b, src_mac, dst_mac, spec::kEtherTypeIpv4);
    Ipv4Hdr ip =
        make_ipv4(src_ip.bytes.data(), dst_ip.bytes.data(), spec::kProtoUdp, 0, 0, 0, 0, ttl);
    ip.checksum.set(0);
    write_hdr(b + kEthLen, ip);
    write_hdr(b + kEthLen + sizeof(Ipv4Hdr), make_udp(sport, dport, 0));
    // Sum of everything constant: version/IHL, TTL/protocol, addresses (length, id, TOS are 0).
    t.const_sum = ones_sum(&ip, sizeof ip);
    t.len = static_cast<std::uint8_t>(kOuterV4Len + extra);
  } else {
    put_outer_v6(b, src_mac, dst_mac, src_ip, dst_ip, sport, dport, 0, 0);
    b[kEthLen + 7] = ttl;
    t.const_sum =
        pseudo_header_sum_v6(src_ip.bytes.data(), dst_ip.bytes.data(), spec::kProtoUdp, 0);
    t.v6 = true;
    t.len = static_cast<std::uint8_t>(kOuterV6Len + extra);
  }
  return t;
}

std::size_t OuterTemplate::write(std::uint8_t* buf, std::size_t udp_payload_len,
                                 std::uint16_t ip_id, std::uint8_t tos) const noexcept {
  const std::size_t base = v6 ? kOuterV6Len : kOuterV4Len;
  const auto ulen = static_cast<std::uint16_t>(sizeof(UdpHdr) + (len - base) + udp_payload_len);
  // The ChannelData header first: the IPv6 UDP checksum below covers it.
  if (channel != 0) {
    nat::stun::channel_data_header(buf + base, channel,
                                   static_cast<std::uint16_t>(udp_payload_len));
  }
  if (!v6) {
    std::memcpy(buf, bytes.data(), kOuterV4Len);
    std::uint8_t* ip = buf + kEthLen;
    const auto total = static_cast<std::uint16_t>(sizeof(Ipv4Hdr) + ulen);
    ip[1] = tos;
    store_be16(ip + 2, total);
    store_be16(ip + 4, ip_id);
    // The changed words were zero in const_sum, so adding them is the RFC 1624 update.
    store_be16(ip + 10, static_cast<std::uint16_t>(
                            ~ones_add(const_sum, std::uint32_t{total} + ip_id + tos)));
    store_be16(ip + sizeof(Ipv4Hdr) + 4, ulen);
    return len;
  }
  std::memcpy(buf, bytes.data(), kOuterV6Len);
  std::uint8_t* ip = buf + kEthLen;
  ip[0] = static_cast<std::uint8_t>(0x60 | (tos >> 4));
  ip[1] = static_cast<std::uint8_t>(tos << 4);
  store_be16(ip + 4, ulen);
  std::uint8_t* udp = ip + sizeof(Ipv6Hdr);
  store_be16(udp + 4, ulen);
  const std::uint16_t c = l4_checksum(const_sum + ulen, udp, ulen);
  store_be16(udp + 6, c == 0 ? 0xFFFF : c);
  return len;
}

// --- ARP and NDP ---------------------------------------------------------------------------------

namespace {

std::size_t put_arp(std::uint8_t* buf, std::uint16_t op, const MacAddr& eth_dst, const MacAddr& sha,
                    const IpAddr& spa, const MacAddr& tha, const IpAddr& tpa) {
  put_eth(buf, sha, eth_dst, spec::kEtherTypeArp);
  ArpHdr arp{};
  arp.htype.set(spec::kArpHtypeEthernet);
  arp.ptype.set(spec::kEtherTypeIpv4);
  arp.hlen = 6;
  arp.plen = 4;
  arp.oper.set(op);
  arp.sha = sha;
  std::memcpy(arp.spa, spa.bytes.data(), 4);
  arp.tha = tha;
  std::memcpy(arp.tpa, tpa.bytes.data(), 4);
  write_hdr(buf + kEthLen, arp);
  std::memset(buf + kEthLen + sizeof arp, 0, spec::kEthMinFrame - kEthLen - sizeof arp);
  return spec::kEthMinFrame;
}

// Ethernet + IPv6 + a 24-byte NS/NA body (in `body`, checksum zero) + one link-layer option.
std::size_t put_ndp(std::uint8_t* buf, const MacAddr& src_mac, const MacAddr& dst_mac,
                    const IpAddr& src_ip, const IpAddr& dst_ip, std::uint8_t* body,
                    std::uint8_t opt_type) {
  constexpr std::size_t kMsgLen = sizeof(NdpNsHdr) + sizeof(NdpLlaOption);
  put_eth(buf, src_mac, dst_mac, spec::kEtherTypeIpv6);
  write_hdr(buf + kEthLen, make_ipv6(src_ip.bytes.data(), dst_ip.bytes.data(), spec::kProtoIcmpv6,
                                     kMsgLen, 0, spec::kNdpHopLimit));
  std::uint8_t* msg = buf + kEthLen + sizeof(Ipv6Hdr);
  std::memcpy(msg, body, sizeof(NdpNsHdr));
  write_hdr(msg + sizeof(NdpNsHdr), NdpLlaOption{opt_type, 1, src_mac});
  store_be16(msg + 2, icmp6_checksum(src_ip.bytes.data(), dst_ip.bytes.data(), msg, kMsgLen));
  return kNdpFrameLen;
}

}  // namespace

std::size_t build_arp_request(std::uint8_t* buf, const MacAddr& src_mac, const IpAddr& src_ip,
                              const IpAddr& target_ip, std::optional<MacAddr> unicast_to) noexcept {
  return put_arp(buf, spec::kArpOpRequest, unicast_to.value_or(MacAddr::broadcast()), src_mac,
                 src_ip, MacAddr{}, target_ip);
}

std::size_t build_arp_reply(std::uint8_t* buf, const MacAddr& src_mac, const IpAddr& src_ip,
                            const MacAddr& dst_mac, const IpAddr& dst_ip) noexcept {
  return put_arp(buf, spec::kArpOpReply, dst_mac, src_mac, src_ip, dst_mac, dst_ip);
}

std::size_t build_neighbour_solicitation(std::uint8_t* buf, const MacAddr& src_mac,
                                         const IpAddr& src_ip, const IpAddr& target,
                                         std::optional<MacAddr> unicast_to) noexcept {
  NdpNsHdr ns{};
  ns.type = spec::kNdpNeighbourSolicit;
  std::memcpy(ns.target, target.bytes.data(), 16);
  const IpAddr dst_ip = unicast_to ? target : solicited_node_address(target);
  const MacAddr dst_mac = unicast_to ? *unicast_to : solicited_node_mac(target);
  return put_ndp(buf, src_mac, dst_mac, src_ip, dst_ip, reinterpret_cast<std::uint8_t*>(&ns),
                 spec::kNdpOptSourceLl);
}

std::size_t build_neighbour_advertisement(std::uint8_t* buf, const MacAddr& src_mac,
                                          const IpAddr& src_ip, const MacAddr& dst_mac,
                                          const IpAddr& dst_ip, const IpAddr& target,
                                          NaFlags flags) noexcept {
  NdpNaHdr na{};
  na.type = spec::kNdpNeighbourAdvert;
  na.flags = static_cast<std::uint8_t>((flags.router ? spec::kNaFlagRouter : 0) |
                                       (flags.solicited ? spec::kNaFlagSolicited : 0) |
                                       (flags.override_entry ? spec::kNaFlagOverride : 0));
  std::memcpy(na.target, target.bytes.data(), 16);
  return put_ndp(buf, src_mac, dst_mac, src_ip, dst_ip, reinterpret_cast<std::uint8_t*>(&na),
                 spec::kNdpOptTargetLl);
}

// --- ICMP errors ---------------------------------------------------------------------------------

namespace {

bool is_icmp4_error_type(std::uint8_t t) {
  return t == spec::kIcmpDestUnreach || t == 4 /* source quench */ || t == 5 /* redirect */ ||
         t == spec::kIcmpTimeExceeded || t == spec::kIcmpParamProblem;
}

// RFC 1122 3.2.2 / RFC 1812 4.3.2.7: may an ICMPv4 error be sent about this packet?
bool icmp4_allowed(const std::uint8_t* pkt, std::size_t len) {
  const auto ip = read_hdr<Ipv4Hdr>(pkt);
  if ((ip.frag.get() & spec::kIpv4OffsetMask) != 0) return false;  // not the first fragment
  const std::uint8_t s0 = ip.src[0];
  const std::uint8_t d0 = ip.dst[0];
  const bool src_zero = load_be32(ip.src) == 0;
  if (src_zero || s0 == 127 || s0 >= 224) return false;  // not a unicast host
  if (d0 >= 224) return false;                           // multicast, class E, broadcast
  const std::size_t hlen = ip.header_length();
  if (ip.protocol == spec::kProtoIcmp) {
    if (len < hlen + 1) return false;  // cannot tell: stay silent
    if (is_icmp4_error_type(pkt[hlen])) return false;
  }
  return true;
}

// RFC 4443 2.4(e): may an ICMPv6 error be sent about this packet?
bool icmp6_allowed(const std::uint8_t* pkt, std::size_t len, IcmpError kind) {
  const auto ip = read_hdr<Ipv6Hdr>(pkt);
  const bool src_zero = std::all_of(ip.src, ip.src + 16, [](std::uint8_t b) { return b == 0; });
  if (src_zero || ip.src[0] == 0xff) return false;
  if (ip.dst[0] == 0xff && kind != IcmpError::too_big) return false;
  if (ip.next_header == spec::kProtoIcmpv6) {  // errors about errors: never
    if (len < sizeof(Ipv6Hdr) + 1) return false;
    if (pkt[sizeof(Ipv6Hdr)] < 128) return false;
  }
  return true;
}

std::size_t icmp4_error(std::uint8_t* out, std::size_t cap, IcmpError kind, const std::uint8_t* pkt,
                        std::size_t pkt_len, const IpAddr& from, std::uint32_t mtu) {
  constexpr std::size_t kHdrs = sizeof(Ipv4Hdr) + sizeof(IcmpHdr);
  if (pkt_len < sizeof(Ipv4Hdr) || !from.is_v4() || !icmp4_allowed(pkt, pkt_len)) return 0;
  const std::size_t quote = std::min(pkt_len, spec::kIpv4MinMtu - kHdrs);
  const std::size_t total = kHdrs + quote;
  if (cap < total) return 0;
  std::uint8_t dst[4];
  std::memcpy(dst, pkt + 12, 4);  // before the quote may overwrite it (out may alias pkt)
  IcmpHdr icmp{};
  icmp.type = spec::kIcmpDestUnreach;
  if (kind == IcmpError::too_big) {
    icmp.code = spec::kIcmpCodeFragNeeded;
    icmp.rest.set(std::min<std::uint32_t>(mtu, 0xFFFF));  // RFC 1191: unused16, next-hop MTU16
  } else if (kind == IcmpError::time_exceeded) {
    icmp.type = spec::kIcmpTimeExceeded;  // code 0: TTL exceeded in transit
  } else {
    icmp.code = spec::kIcmpCodeHostUnreach;
  }
  std::memmove(out + kHdrs, pkt, quote);
  write_hdr(out + sizeof(Ipv4Hdr), icmp);
  store_be16(out + sizeof(Ipv4Hdr) + 2, internet_checksum(out + sizeof(Ipv4Hdr), total - 20));
  // TOS: internetwork control precedence, as Linux sends its ICMP errors; DF set, so id 0 is fine
  // (an atomic datagram, RFC 6864).
  write_hdr(out, make_ipv4(from.bytes.data(), dst, spec::kProtoIcmp, total, 0xC0, 0,
                           spec::kIpv4FlagDf, spec::kDefaultTtl));
  return total;
}

std::size_t icmp6_error(std::uint8_t* out, std::size_t cap, IcmpError kind, const std::uint8_t* pkt,
                        std::size_t pkt_len, const IpAddr& from, std::uint32_t mtu) {
  constexpr std::size_t kHdrs = sizeof(Ipv6Hdr) + sizeof(Icmp6Hdr);
  if (pkt_len < sizeof(Ipv6Hdr) || !from.is_v6() || !icmp6_allowed(pkt, pkt_len, kind)) return 0;
  const std::size_t quote = std::min(pkt_len, spec::kIpv6MinMtu - kHdrs);
  const std::size_t total = kHdrs + quote;
  if (cap < total) return 0;
  std::uint8_t dst[16];
  std::memcpy(dst, pkt + 8, 16);  // before the quote may overwrite it (out may alias pkt)
  Icmp6Hdr icmp{};
  if (kind == IcmpError::too_big) {
    icmp.type = spec::kIcmp6PacketTooBig;
    icmp.rest.set(mtu);
  } else if (kind == IcmpError::time_exceeded) {
    icmp.type = spec::kIcmp6TimeExceeded;  // code 0: hop limit exceeded in transit
  } else {
    icmp.type = spec::kIcmp6DestUnreach;
    icmp.code = spec::kIcmp6CodeAddrUnreach;
  }
  std::memmove(out + kHdrs, pkt, quote);
  std::uint8_t* msg = out + sizeof(Ipv6Hdr);
  write_hdr(msg, icmp);
  store_be16(msg + 2, icmp6_checksum(from.bytes.data(), dst, msg, total - sizeof(Ipv6Hdr)));
  write_hdr(out, make_ipv6(from.bytes.data(), dst, spec::kProtoIcmpv6, total - sizeof(Ipv6Hdr), 0,
                           spec::kDefaultTtl));
  return total;
}

}  // namespace

std::size_t build_icmp_error_ip(std::uint8_t* out, std::size_t cap, IcmpError kind,
                                const std::uint8_t* pkt, std::size_t pkt_len, const IpAddr& from,
                                std::uint32_t mtu) noexcept {
  if (pkt_len == 0) return 0;
  switch (pkt[0] >> 4) {
    case 4:
      return icmp4_error(out, cap, kind, pkt, pkt_len, from, mtu);
    case 6:
      return icmp6_error(out, cap, kind, pkt, pkt_len, from, mtu);
    default:
      return 0;
  }
}

std::size_t build_icmp_error_frame(std::uint8_t* out, std::size_t cap, IcmpError kind,
                                   const std::uint8_t* frame, const FrameInfo& info,
                                   const MacAddr& from_mac, const IpAddr& from,
                                   std::uint32_t mtu) noexcept {
  if (!info.ok() || (info.kind != FrameKind::ipv4 && info.kind != FrameKind::ipv6) ||
      cap < kEthLen) {
    return 0;
  }
  const MacAddr to = MacAddr::from(frame + 6);
  if (to.is_multicast()) return 0;  // RFC 1122 3.2.2: not to a link-layer broadcast source
  const std::size_t n = build_icmp_error_ip(out + kEthLen, cap - kEthLen, kind, frame + info.l3_off,
                                            info.l3_len, from, mtu);
  if (n == 0) return 0;
  put_eth(out, from_mac, to,
          info.kind == FrameKind::ipv4 ? spec::kEtherTypeIpv4 : spec::kEtherTypeIpv6);
  return kEthLen + n;
}

}  // namespace meshgate::wire
