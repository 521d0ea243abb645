// IPv4 fragmentation (fragment.hpp).
#include "meshgate/wire/fragment.hpp"

#include <algorithm>
#include <cstring>

#include "meshgate/base/bytes.hpp"
#include "meshgate/wire/checksum.hpp"
#include "meshgate/wire/headers.hpp"

namespace meshgate::wire {

namespace {

// The options of a later fragment: those with the copy flag (RFC 791 3.1, "copied flag"),
// end-of-list padded to a 4-byte multiple. False when an option runs past the header.
bool copied_options(const std::uint8_t* opt, std::size_t n, std::uint8_t* out,
                    std::size_t& out_len) noexcept {
  out_len = 0;
  for (std::size_t off = 0; off < n;) {
    const std::uint8_t kind = opt[off];
    if (kind == 0) break;
    if (kind == 1) {
      ++off;
      continue;
    }
    if (off + 1 >= n || opt[off + 1] < 2 || off + opt[off + 1] > n) return false;
    const std::size_t olen = opt[off + 1];
    if ((kind & 0x80) != 0) {
      std::memcpy(out + out_len, opt + off, olen);
      out_len += olen;
    }
    off += olen;
  }
  while (out_len % 4 != 0) out[out_len++] = 0;
  return true;
}

}  // namespace

Ipv4Fragmenter::Ipv4Fragmenter(const std::uint8_t* pkt, std::size_t len, std::size_t mtu) noexcept
    : pkt_(pkt),
      hlen_(std::size_t{pkt[0] & 0x0Fu} * 4),
      payload_(len - hlen_),
      mtu_(mtu),
      later_hlen_(sizeof(Ipv4Hdr)),
      later_{} {
  std::size_t opt_len = 0;
  ok_ = copied_options(pkt + sizeof(Ipv4Hdr), hlen_ - sizeof(Ipv4Hdr), later_ + sizeof(Ipv4Hdr),
                       opt_len);
  std::memcpy(later_, pkt, sizeof(Ipv4Hdr));
  later_hlen_ += opt_len;
  later_[0] = static_cast<std::uint8_t>(0x40 | (later_hlen_ / 4));
}

std::size_t Ipv4Fragmenter::next(std::uint8_t* out) noexcept {
  const bool first = pos_ == 0;
  const std::size_t h = first ? hlen_ : later_hlen_;
  const std::size_t data = std::min((mtu_ - h) & ~std::size_t{7}, payload_ - pos_);
  const bool last = pos_ + data == payload_;
  std::memcpy(out, first ? pkt_ : later_, h);
  std::memcpy(out + h, pkt_ + hlen_ + pos_, data);
  // Offsets continue the original's (it may be a fragment itself); MF stays set on the last
  // piece of a packet that was not the last fragment of its datagram.
  const std::uint16_t orig = load_be16(pkt_ + 6);
  const auto offset = static_cast<std::uint16_t>((orig & spec::kIpv4OffsetMask) + pos_ / 8);
  const bool mf = !last || (orig & spec::kIpv4FlagMf) != 0;
  store_be16(out + 2, static_cast<std::uint16_t>(h + data));
  store_be16(out + 6, static_cast<std::uint16_t>(offset | (mf ? spec::kIpv4FlagMf : 0)));
  store_be16(out + 10, ipv4_header_checksum(out));
  pos_ += data;
  return h + data;
}

}  // namespace meshgate::wire
