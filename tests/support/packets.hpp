// Inner IP packets for tests: UDP over IPv4 or IPv6 with valid checksums.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "meshgate/base/bytes.hpp"
#include "meshgate/base/ip.hpp"
#include "meshgate/wire/checksum.hpp"

namespace meshgate::test {

inline std::vector<std::uint8_t> udp_packet(const IpAddr& src, const IpAddr& dst,
                                            std::uint16_t sport, std::uint16_t dport,
                                            const std::vector<std::uint8_t>& payload) {
  const bool v6 = src.is_v6();
  const std::size_t ip_len = v6 ? 40 : 20;
  const std::size_t udp_len = 8 + payload.size();
  std::vector<std::uint8_t> p(ip_len + udp_len, 0);
  std::uint8_t* ip = p.data();
  std::uint8_t* udp = ip + ip_len;
  store_be16(udp, sport);
  store_be16(udp + 2, dport);
  store_be16(udp + 4, static_cast<std::uint16_t>(udp_len));
  std::copy(payload.begin(), payload.end(), udp + 8);
  if (v6) {
    store_be32(ip, 0x60000000);
    store_be16(ip + 4, static_cast<std::uint16_t>(udp_len));
    ip[6] = 17;
    ip[7] = 64;
    std::copy(src.bytes.begin(), src.bytes.end(), ip + 8);
    std::copy(dst.bytes.begin(), dst.bytes.end(), ip + 24);
    std::uint16_t c = wire::udp_checksum_v6(ip + 8, ip + 24, udp, udp_len);
    store_be16(udp + 6, c == 0 ? 0xFFFF : c);
  } else {
    ip[0] = 0x45;
    store_be16(ip + 2, static_cast<std::uint16_t>(p.size()));
    ip[8] = 64;
    ip[9] = 17;
    std::copy(src.bytes.begin(), src.bytes.begin() + 4, ip + 12);
    std::copy(dst.bytes.begin(), dst.bytes.begin() + 4, ip + 16);
    store_be16(ip + 10, wire::ipv4_header_checksum(ip));
    store_be16(udp + 6, wire::udp_checksum_v4(ip + 12, ip + 16, udp, udp_len));
  }
  return p;
}

inline std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t seed) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(seed + i * 7);
  return v;
}

/// A TCP segment over IPv4 or IPv6 with the given flags (0x02: SYN) and raw option bytes (a
/// multiple of 4), checksums right.
inline std::vector<std::uint8_t> tcp_packet(const IpAddr& src, const IpAddr& dst,
                                            std::uint8_t flags,
                                            const std::vector<std::uint8_t>& options) {
  const bool v6 = src.is_v6();
  const std::size_t ip_len = v6 ? 40 : 20;
  const std::size_t tcp_len = 20 + options.size();
  std::vector<std::uint8_t> p = udp_packet(src, dst, 1, 2, std::vector<std::uint8_t>(tcp_len - 8));
  std::uint8_t* ip = p.data();
  std::uint8_t* tcp = ip + ip_len;
  std::fill(tcp, tcp + tcp_len, 0);
  store_be16(tcp, 40000);
  store_be16(tcp + 2, 5201);
  store_be32(tcp + 4, 0x01020304);
  tcp[12] = static_cast<std::uint8_t>((tcp_len / 4) << 4);
  tcp[13] = flags;
  store_be16(tcp + 14, 64240);
  std::copy(options.begin(), options.end(), tcp + 20);
  if (v6) {
    ip[6] = 6;
    store_be16(tcp + 16,
               wire::l4_checksum(wire::pseudo_header_sum_v6(ip + 8, ip + 24, 6,
                                                            static_cast<std::uint32_t>(tcp_len)),
                                 tcp, tcp_len));
  } else {
    ip[9] = 6;
    store_be16(ip + 10, 0);
    store_be16(ip + 10, wire::ipv4_header_checksum(ip));
    store_be16(tcp + 16,
               wire::l4_checksum(wire::pseudo_header_sum_v4(ip + 12, ip + 16, 6,
                                                            static_cast<std::uint16_t>(tcp_len)),
                                 tcp, tcp_len));
  }
  return p;
}

/// The IPv4 or IPv6 packet `ip` as it leaves `hops` routers: TTL / hop limit that much lower,
/// the IPv4 header checksum summed again (each meshgate gateway on the path is one router).
inline std::vector<std::uint8_t> forwarded(std::vector<std::uint8_t> ip, unsigned hops = 1) {
  if ((ip[0] >> 4) == 6) {
    ip[7] = static_cast<std::uint8_t>(ip[7] - hops);
    return ip;
  }
  ip[8] = static_cast<std::uint8_t>(ip[8] - hops);
  store_be16(ip.data() + 10, 0);
  store_be16(ip.data() + 10, wire::ipv4_header_checksum(ip.data()));
  return ip;
}

/// The ones'-complement sum of `bytes` the slow, obvious way (RFC 1071 section 1: big-endian
/// 16-bit words, an odd byte padded, carries folded at the end): the reference the fast
/// checksum code is checked against. 0xFFFF over a header or segment whose checksum is right.
inline std::uint16_t reference_sum(const std::uint8_t* p, std::size_t n, std::uint32_t seed = 0) {
  std::uint64_t s = seed;
  for (std::size_t i = 0; i < n; i += 2)
    s += (std::uint32_t{p[i]} << 8) | (i + 1 < n ? p[i + 1] : 0);
  while ((s >> 16) != 0) s = (s & 0xFFFF) + (s >> 16);
  return static_cast<std::uint16_t>(s);
}

/// True when the IPv4 header checksum and the TCP/UDP checksum of `ip` verify by reference_sum.
inline bool reference_checksums_ok(const std::vector<std::uint8_t>& ip) {
  const bool v6 = (ip[0] >> 4) == 6;
  const std::size_t hlen = v6 ? 40 : std::size_t{ip[0] & 0x0Fu} * 4;
  if (!v6 && reference_sum(ip.data(), hlen) != 0xFFFF) return false;
  const std::uint8_t proto = v6 ? ip[6] : ip[9];
  if (proto != 6 && proto != 17) return true;
  const std::size_t l4 = ip.size() - hlen;
  std::uint32_t ph = static_cast<std::uint32_t>(proto + l4);
  const std::size_t a = v6 ? 8 : 12, alen = v6 ? 32 : 8;
  ph += reference_sum(ip.data() + a, alen);
  return reference_sum(ip.data() + hlen, l4, ph) == 0xFFFF;
}

/// Reassembles IPv4 fragments the plain way (RFC 791 3.2, "An Example Reassembly Procedure"):
/// every fragment's header checksum verified by reference_sum, one id, source, destination and
/// protocol, the pieces covering the data exactly. The datagram's header is the first
/// fragment's, offset 0 and MF clear. nullopt on any inconsistency or hole.
inline std::optional<std::vector<std::uint8_t>> reference_reassemble(
    const std::vector<std::vector<std::uint8_t>>& frags) {
  if (frags.empty()) return std::nullopt;
  std::map<std::size_t, std::vector<std::uint8_t>> data;
  std::vector<std::uint8_t> head;
  std::size_t end = 0;
  for (const auto& f : frags) {
    const std::size_t hlen = std::size_t{f[0] & 0x0Fu} * 4;
    if (f.size() != load_be16(f.data() + 2) || reference_sum(f.data(), hlen) != 0xFFFF) {
      return std::nullopt;
    }
    if (!std::equal(f.begin() + 4, f.begin() + 6, frags[0].begin() + 4) || f[9] != frags[0][9] ||
        !std::equal(f.begin() + 12, f.begin() + 20, frags[0].begin() + 12)) {
      return std::nullopt;
    }
    const std::uint16_t fo = load_be16(f.data() + 6);
    const std::size_t off = std::size_t{fo & 0x1FFFu} * 8;
    if ((fo & 0x2000) == 0) end = off + f.size() - hlen;
    if (off == 0) head.assign(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(hlen));
    data[off].assign(f.begin() + static_cast<std::ptrdiff_t>(hlen), f.end());
  }
  if (head.empty() || end == 0) return std::nullopt;
  std::vector<std::uint8_t> out = head;
  for (const auto& [off, bytes] : data) {
    if (off != out.size() - head.size()) return std::nullopt;  // a hole or an overlap
    out.insert(out.end(), bytes.begin(), bytes.end());
  }
  if (out.size() - head.size() != end) return std::nullopt;
  store_be16(out.data() + 2, static_cast<std::uint16_t>(out.size()));
  store_be16(out.data() + 6, 0);
  store_be16(out.data() + 10, 0);
  store_be16(out.data() + 10, static_cast<std::uint16_t>(~reference_sum(out.data(), head.size())));
  return out;
}

}  // namespace meshgate::test
