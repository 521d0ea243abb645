// Outer frames cut into IP fragments, as a small-MTU path between two sites cuts them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "meshgate/base/bytes.hpp"
#include "meshgate/wire/checksum.hpp"
#include "meshgate/wire/classify.hpp"
#include "meshgate/wire/headers.hpp"

namespace meshgate::test {

/// One fragment of the IP packet in `frame` (Ethernet, IPv4 without options or IPv6 without
/// extension headers): payload bytes [offset, offset + len), `more` when not the last.
inline std::vector<std::uint8_t> fragment(const std::vector<std::uint8_t>& frame,
                                          std::uint32_t offset, std::uint32_t len, bool more,
                                          std::uint32_t id) {
  const bool v6 = (frame[14] >> 4) == 6;
  const std::size_t hdr = v6 ? 40 : 20;
  std::vector<std::uint8_t> f(frame.begin(), frame.begin() + 14 + hdr);
  std::uint8_t* ip = f.data() + 14;
  if (v6) {
    const std::uint8_t next = ip[6];
    ip[6] = wire::spec::kProtoFragment;
    store_be16(ip + 4, static_cast<std::uint16_t>(8 + len));
    const std::uint8_t fh[8] = {next,
                                0,
                                static_cast<std::uint8_t>(offset >> 8),
                                static_cast<std::uint8_t>((offset & 0xF8) | (more ? 1 : 0)),
                                static_cast<std::uint8_t>(id >> 24),
                                static_cast<std::uint8_t>(id >> 16),
                                static_cast<std::uint8_t>(id >> 8),
                                static_cast<std::uint8_t>(id)};
    f.insert(f.end(), fh, fh + 8);
  } else {
    store_be16(ip + 2, static_cast<std::uint16_t>(hdr + len));
    store_be16(ip + 4, static_cast<std::uint16_t>(id));
    store_be16(ip + 6, static_cast<std::uint16_t>((offset / 8) | (more ? 0x2000 : 0)));
    store_be16(ip + 10, 0);
    store_be16(ip + 10, wire::ipv4_header_checksum(ip));
  }
  const auto* payload = frame.data() + 14 + hdr;
  f.insert(f.end(), payload + offset, payload + offset + len);
  return f;
}

/// The IP packet in `frame` cut into fragments of at most `chunk` payload bytes (a multiple of 8).
inline std::vector<std::vector<std::uint8_t>> fragments(const std::vector<std::uint8_t>& frame,
                                                        std::uint32_t chunk, std::uint32_t id) {
  const wire::FrameInfo fi = wire::classify_frame(frame.data(), frame.size());
  const std::uint32_t total = fi.l3_len - static_cast<std::uint32_t>(fi.l4_off - fi.l3_off);
  std::vector<std::vector<std::uint8_t>> out;
  for (std::uint32_t off = 0; off < total; off += chunk) {
    const std::uint32_t len = std::min(chunk, total - off);
    out.push_back(fragment(frame, off, len, off + len < total, id));
  }
  return out;
}

}  // namespace meshgate::test
