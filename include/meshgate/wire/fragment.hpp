// IPv4 fragmentation of forwarded packets without DF that exceed the tunnel MTU (RFC 791 3.2),
// as a Linux router in front of a WireGuard interface fragments them.
//
// Thread contract: an Ipv4Fragmenter is a short-lived object of the one worker that cuts a
// packet; no allocation. docs/design.md, "Fragmentation".
#pragma once

#include <cstddef>
#include <cstdint>

namespace meshgate::wire {

/// Splits an IPv4 packet (DF clear, larger than `mtu`) into fragments of at most `mtu` bytes,
/// in order (RFC 791 3.2). Each fragment's data is a multiple of 8 bytes except the last's; the
/// offsets and MF continue those of a packet that was a fragment already. The first fragment
/// keeps every option; the others carry only the options whose copy flag is set, padded with
/// end-of-list to a 4-byte multiple. Header checksums are summed afresh.
class Ipv4Fragmenter {
 public:
  /// `pkt`: `len` bytes, a classified IPv4 packet (IHL and total length sane); mtu >= 68.
  Ipv4Fragmenter(const std::uint8_t* pkt, std::size_t len, std::size_t mtu) noexcept;

  /// False when the options are malformed (an option runs past the header): no fragments.
  bool ok() const noexcept { return ok_; }
  bool done() const noexcept { return !ok_ || pos_ == payload_; }
  /// Writes the next fragment at `out` (room for `mtu` bytes); returns its length.
  std::size_t next(std::uint8_t* out) noexcept;

 private:
  const std::uint8_t* pkt_;
  std::size_t hlen_;     // the original header, options included
  std::size_t payload_;  // bytes after it
  std::size_t mtu_;
  std::size_t pos_ = 0;     // payload bytes already in fragments
  std::size_t later_hlen_;  // the header of fragments after the first
  std::uint8_t later_[60];
  bool ok_;
};

}  // namespace meshgate::wire
