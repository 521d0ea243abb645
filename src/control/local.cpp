// Traffic for the gateway itself (local.hpp).
#include "meshgate/control/local.hpp"

#include <cstring>

#include "meshgate/control/neighbours.hpp"
#include "meshgate/wire/checksum.hpp"
#include "meshgate/wire/classify.hpp"

namespace meshgate::control {

namespace {

void swap_bytes(std::uint8_t* a, std::uint8_t* b, std::size_t len) {
  std::uint8_t tmp[16];
  std::memcpy(tmp, a, len);
  std::memcpy(a, b, len);
  std::memcpy(b, tmp, len);
}

/// Turns the echo request at `p` (classified as `info`, offsets from p) into its reply in place;
/// false, changing nothing, unless it is an unfragmented echo request to `ours`.
bool echo_reply_in_place(std::uint8_t* p, const wire::FrameInfo& info, const IpAddr& ours) {
  const bool v6 = info.is_v6();
  const std::uint8_t echo = v6 ? wire::spec::kIcmp6EchoRequest : wire::spec::kIcmpEchoRequest;
  const std::uint8_t proto = v6 ? wire::spec::kProtoIcmpv6 : wire::spec::kProtoIcmp;
  if (!info.ok() || info.l4_proto != proto || info.icmp_type != echo || info.fragment ||
      ours.family == IpAddr::Family::none || ours.is_v6() != v6 ||
      std::memcmp(info.dst, ours.bytes.data(), v6 ? 16 : 4) != 0) {
    return false;
  }
  std::uint8_t* ip = p + info.l3_off;
  std::uint8_t* icmp = p + info.l4_off;
  const std::size_t alen = v6 ? 16 : 4;
  std::uint8_t* src = ip + (v6 ? 8 : 12);
  swap_bytes(src, src + alen, alen);
  icmp[0] = v6 ? wire::spec::kIcmp6EchoReply : wire::spec::kIcmpEchoReply;
  store_be16(icmp + 2, 0);
  if (v6) {
    ip[7] = wire::spec::kDefaultTtl;
    store_be16(icmp + 2, wire::icmp6_checksum(ip + 8, ip + 24, icmp, info.l4_len));
  } else {
    ip[8] = wire::spec::kDefaultTtl;
    store_be16(ip + 10, 0);
    store_be16(ip + 10, wire::ipv4_header_checksum(ip));
    store_be16(icmp + 2, wire::internet_checksum(icmp, info.l4_len));
  }
  return true;
}

}  // namespace

void LocalTraffic::handle(rte_mbuf* m, PortRole port) {
  auto* f = rte_pktmbuf_mtod(m, std::uint8_t*);
  const wire::FrameInfo info = wire::classify_frame(f, m->data_len);
  if (!echo_reply_in_place(f, info, own_address(dp_.addr, port, info.is_v6()))) {
    ++unserved_;
    rte_pktmbuf_free(m);
    return;
  }
  swap_bytes(f, f + 6, 6);  // back to where it came from
  rte_pktmbuf_trim(m, static_cast<std::uint16_t>(m->data_len - (info.l3_off + info.l3_len)));
  tx_.queue(m, port);
  ++echo_replies_;
}

void LocalTraffic::handle_from_tunnel(rte_mbuf* m, PeerId peer, Nanos now) {
  auto* ip = rte_pktmbuf_mtod(m, std::uint8_t*);
  const wire::FrameInfo info = wire::classify_ip(ip, m->data_len);
  if (!echo_reply_in_place(ip, info, own_address(dp_.addr, PortRole::inner, info.is_v6()))) {
    ++unserved_;
    rte_pktmbuf_free(m);
    return;
  }
  if (tx_.send_to_peer(peer, &m, 1, now) == 0) {
    drops_.add(dataplane::Drop::no_endpoint);  // the session went away meanwhile
    rte_pktmbuf_free(m);
    return;
  }
  ++echo_replies_;
}

}  // namespace meshgate::control
