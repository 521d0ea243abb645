// Coordination messages between meshgate gateways and their lighthouses (docs/nat-traversal.md,
// "Coordination"). They travel only inside a tunnel, as the plaintext of a WireGuard transport
// message, so the session authenticates the sender: the worker that opens one hands it to the
// control thread with the peer it came from and the outer source it came by.
//
// Layout: byte 0 kMagic, byte 1 the type, bytes 2-3 the message length (big endian, header
// included), then the type's body. The plaintext is padded to 16 bytes by WireGuard; the length
// field says where the message ends.
#pragma once

#include <cstddef>
#include <cstdint>

#include "meshgate/base/bytes.hpp"

namespace meshgate::nat::coord {

/// Byte 0 of every coordination message. An inner IP packet starts with its version in the high
/// nibble (4 or 6), so the two can never be confused; a stock WireGuard peer drops a plaintext
/// that is not IP, and is never sent one.
inline constexpr std::uint8_t kMagic = 0xC5;
inline constexpr std::size_t kHeaderSize = 4;
inline constexpr std::size_t kMaxMessageSize = 512;

/// Whether a decrypted plaintext of `len` bytes (padding included) is a coordination message:
/// the magic and a length field that fits. Inline: the worker asks per opened packet whose first
/// byte is not an IP version.
inline bool is_message(const std::uint8_t* p, std::size_t len) noexcept {
  if (len < kHeaderSize || p[0] != kMagic) return false;
  const std::size_t field = load_be16(p + 2);
  return field >= kHeaderSize && field <= len && field <= kMaxMessageSize;
}

}  // namespace meshgate::nat::coord
