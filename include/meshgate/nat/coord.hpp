// Coordination messages between meshgate gateways and their lighthouses (docs/nat-traversal.md,
// "Coordination"). They travel only inside a tunnel, as the plaintext of a WireGuard transport
// message, so the session authenticates the sender: the worker that opens one hands it to the
// control thread with the peer it came from and the outer source it came by.
//
// Layout: byte 0 kMagic, byte 1 the type, bytes 2-3 the message length (big endian, header
// included), then the type's body. The plaintext is padded to 16 bytes by WireGuard; the length
// field says where the message ends.
//
//   report     gateway -> lighthouse   count(1) zero(3) candidate[count]
//   request    gateway -> lighthouse   public key(32): "introduce me to this peer"
//   introduce  lighthouse -> gateway   public key(32) start_in_ms(2) count(1) zero(1)
//                                      candidate[count]: "probe this peer's candidates"
//   ping       gateway -> gateway      transaction id(8), sent to a candidate path
//   pong       gateway -> gateway      transaction id(8), at most one candidate: the ping's
//                                      outer source
//
// A candidate is 20 bytes: kind(1) family(1: 4 or 6) port(2, big endian) address(16; IPv4 in
// the first 4 bytes, the rest zero).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "meshgate/base/bytes.hpp"
#include "meshgate/base/ip.hpp"
#include "meshgate/base/reasons.hpp"

namespace meshgate::nat::coord {

/// Byte 0 of every coordination message. An inner IP packet starts with its version in the high
/// nibble (4 or 6), so the two can never be confused; a stock WireGuard peer drops a plaintext
/// that is not IP, and is never sent one.
inline constexpr std::uint8_t kMagic = 0xC5;
inline constexpr std::size_t kHeaderSize = 4;
inline constexpr std::size_t kMaxMessageSize = 512;
inline constexpr std::size_t kCandidateSize = 20;
/// More than a gateway has (local, reflexive, configured public, relayed, observed per family).
inline constexpr std::size_t kMaxCandidates = 8;

/// Whether a decrypted plaintext of `len` bytes (padding included) is a coordination message:
/// the magic and a length field that fits. Inline: the worker asks per opened packet whose first
/// byte is not an IP version.
inline bool is_message(const std::uint8_t* p, std::size_t len) noexcept {
  if (len < kHeaderSize || p[0] != kMagic) return false;
  const std::size_t field = load_be16(p + 2);
  return field >= kHeaderSize && field <= len && field <= kMaxMessageSize;
}

enum class Type : std::uint8_t { report = 1, request = 2, introduce = 3, ping = 4, pong = 5 };
std::string_view to_string(Type t) noexcept;
inline constexpr std::size_t kTypeCount = 5;

/// Where a candidate address comes from (docs/nat-traversal.md, "Candidates").
enum class CandidateKind : std::uint8_t {
  local = 1,       // an address of the gateway's own outer port
  reflexive = 2,   // the listen port as a STUN server saw it
  configured = 3,  // PublicEndpoint: a public or port-forwarded address the operator names
  relayed = 4,     // the gateway's TURN relayed address
  observed = 5,    // the source a lighthouse or a peer saw the gateway's packets come from
};
std::string_view to_string(CandidateKind k) noexcept;

struct Candidate {
  Endpoint endpoint;
  CandidateKind kind = CandidateKind::local;
  friend bool operator==(const Candidate&, const Candidate&) = default;
};

struct Candidates {
  std::array<Candidate, kMaxCandidates> items{};
  std::uint8_t n = 0;

  std::span<const Candidate> view() const noexcept { return {items.data(), n}; }
  /// Adds c unless full or its endpoint is already there; false when not added.
  bool add(const Candidate& c) noexcept;
};

/// A decoded message; the fields its type does not use stay empty.
struct Message {
  Type type = Type::report;
  Key32 key{};                    // request, introduce: the peer it is about
  std::uint16_t start_in_ms = 0;  // introduce
  std::uint64_t txid = 0;         // ping, pong
  Candidates candidates;          // report, introduce; pong: one, the observed source
};

#define MESHGATE_COORD_DECODE_ERRORS(X)                                     \
  X(short_message, "shorter than its header or than its type's fixed part") \
  X(bad_magic, "first byte is not the coordination magic")                  \
  X(bad_length, "length field disagrees with the message")                  \
  X(bad_type, "unknown message type")                                       \
  X(bad_count, "candidate count over the limit or not matching the length") \
  X(bad_candidate, "candidate with an unknown kind or family, or port 0")   \
  X(nonzero_reserved, "a reserved byte is not zero")

MESHGATE_REASON_ENUM(DecodeError, MESHGATE_COORD_DECODE_ERRORS)
inline constexpr std::size_t kDecodeErrorCount =
    MESHGATE_REASON_COUNT(MESHGATE_COORD_DECODE_ERRORS);
std::string_view to_string(DecodeError e) noexcept;

/// Parses exactly `len` bytes (the length field must equal len). On failure `why` says which
/// rule broke and `out` is unspecified.
bool decode(const std::uint8_t* p, std::size_t len, Message& out, DecodeError& why) noexcept;

/// Writes m into buf (at least kMaxMessageSize bytes); returns its length.
std::size_t encode(const Message& m, std::uint8_t* buf) noexcept;

}  // namespace meshgate::nat::coord
