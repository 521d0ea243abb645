// Fuzz target: the packet parsers on their own, without an EAL, at full speed: the bytes as an
// Ethernet frame (wire::classify_frame, with and without the checksum checks, then parse_arp /
// parse_ndp for neighbour messages and the listen-port rules for UDP: nat::stun::demux,
// dataplane::unwrap_channel_data, wire::classify), and as a bare inner IP packet
// (wire::classify_ip, inner_packet_length).
#include <cstddef>
#include <cstdint>

#include "meshgate/dataplane/dataplane.hpp"
#include "meshgate/nat/stun.hpp"
#include "meshgate/wire/classify.hpp"
#include "meshgate/wire/messages.hpp"

namespace {

void outer(const std::uint8_t* p, std::size_t n, bool checksums) {
  namespace wire = meshgate::wire;
  const wire::FrameInfo f = wire::classify_frame(
      p, n, {.verify_ipv4_checksum = checksums, .verify_udp_checksum = checksums});
  if (!f.ok()) return;
  (void)f.src_addr();
  (void)f.dst_addr();
  if (f.kind == wire::FrameKind::arp) (void)wire::parse_arp(p, f);
  if (f.kind == wire::FrameKind::ndp) (void)wire::parse_ndp(p, f);
  if (f.l4_proto != wire::spec::kProtoUdp || f.fragment) return;
  const std::uint8_t* payload = p + f.payload_off;
  (void)wire::classify(payload, f.payload_len);
  const auto d = meshgate::nat::stun::demux(payload, f.payload_len);
  const meshgate::Endpoint from{f.src_addr(), f.src_port};
  (void)meshgate::dataplane::unwrap_channel_data(d, payload, from, from);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  outer(data, size, false);
  outer(data, size, true);
  (void)meshgate::wire::classify_ip(data, size, {.verify_udp_checksum = true});
  (void)meshgate::wire::inner_packet_length(data, size);
  return 0;
}
