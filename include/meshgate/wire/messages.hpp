// WireGuard message layouts and protocol constants (protocol.md 1 and 2).
//
// The four UDP payloads are plain packed structs with their sizes and offsets checked at
// compile time. A received datagram is classified once by classify(): that checks the
// length, the type word and the exact size for its type, so later code does typed reads
// without re-checking. Indices and the transport counter are little-endian on the wire; the
// supported hosts are little-endian (checked in base/bytes.cpp), so the fields are native
// integers. Pure code: no rte_*.h, no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "meshgate/base/reasons.hpp"
#include "meshgate/base/time.hpp"
#include "meshgate/wire/constants.hpp"

namespace meshgate::wire {

// ---------------------------------------------------------------------------------------------
// Protocol constants, fixed by WireGuard (whitepaper section 6, protocol.md 1). Our own
// tunables (queue sizes, under-load thresholds) are not here: each layer keeps its own.
// ---------------------------------------------------------------------------------------------
namespace spec {

// protocol.md 1.1.
inline constexpr std::string_view kConstruction = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
inline constexpr std::string_view kIdentifier = "WireGuard v1 zx2c4 Jason@zx2c4.com";
inline constexpr std::string_view kLabelMac1 = "mac1----";
inline constexpr std::string_view kLabelCookie = "cookie--";

// Field sizes (protocol.md 0).
inline constexpr std::size_t kKeyLen = 32;        // X25519 keys, chaining key, hash
inline constexpr std::size_t kTagLen = 16;        // Poly1305
inline constexpr std::size_t kMacLen = 16;        // keyed BLAKE2s-128
inline constexpr std::size_t kTimestampLen = 12;  // TAI64N
inline constexpr std::size_t kCookieLen = 16;
inline constexpr std::size_t kCookieNonceLen = 24;  // XChaCha20-Poly1305

// Message sizes (protocol.md 2).
inline constexpr std::size_t kInitiationSize = 148;
inline constexpr std::size_t kResponseSize = 92;
inline constexpr std::size_t kCookieReplySize = 64;
inline constexpr std::size_t kTransportHeaderSize = 16;
inline constexpr std::size_t kTransportMinSize = kTransportHeaderSize + kTagLen;  // 32
inline constexpr std::size_t kKeepaliveSize = kTransportMinSize;                  // empty plaintext
inline constexpr std::size_t kPaddingMultiple = 16;

}  // namespace spec

// ---------------------------------------------------------------------------------------------
// Layouts (protocol.md 2). Byte 0 is the type, bytes 1-3 are reserved and zero.
// ---------------------------------------------------------------------------------------------
enum class MessageType : std::uint8_t {
  initiation = 1,
  response = 2,
  cookie_reply = 3,
  transport = 4,
};

std::string_view to_string(MessageType t) noexcept;

struct [[gnu::packed]] MessageHeader {
  std::uint8_t type;
  std::uint8_t reserved[3];
};

struct [[gnu::packed]] MessageMacs {
  std::uint8_t mac1[spec::kMacLen];
  std::uint8_t mac2[spec::kMacLen];
};

/// Type 1. The bytes from `ephemeral` to the end of `encrypted_timestamp` are exactly Noise
/// message 1 of IKpsk2 with a 12-byte payload.
struct [[gnu::packed]] MessageInitiation {
  MessageHeader header;
  std::uint32_t sender_index;
  std::uint8_t ephemeral[spec::kKeyLen];
  std::uint8_t encrypted_static[spec::kKeyLen + spec::kTagLen];
  std::uint8_t encrypted_timestamp[spec::kTimestampLen + spec::kTagLen];
  MessageMacs macs;
};

/// Type 2. `ephemeral` and `encrypted_nothing` are Noise message 2 with an empty payload.
struct [[gnu::packed]] MessageResponse {
  MessageHeader header;
  std::uint32_t sender_index;
  std::uint32_t receiver_index;
  std::uint8_t ephemeral[spec::kKeyLen];
  std::uint8_t encrypted_nothing[spec::kTagLen];
  MessageMacs macs;
};

/// Type 3.
struct [[gnu::packed]] MessageCookieReply {
  MessageHeader header;
  std::uint32_t receiver_index;
  std::uint8_t nonce[spec::kCookieNonceLen];
  std::uint8_t encrypted_cookie[spec::kCookieLen + spec::kTagLen];
};

// Type 4 has no struct: its 16-byte header (type word, receiver index at 4, counter at 8, all
// little-endian; spec::kTransportHeaderSize) is written and read in place with the load_le /
// store_le helpers by the data path, and the AEAD ciphertext and tag follow it.

// Alignment 1: a message may sit at any offset of a packet buffer.
static_assert(alignof(MessageInitiation) == 1 && alignof(MessageResponse) == 1 &&
              alignof(MessageCookieReply) == 1);
static_assert(sizeof(MessageHeader) == 4);
static_assert(sizeof(MessageMacs) == 32);

static_assert(sizeof(MessageInitiation) == spec::kInitiationSize);
static_assert(offsetof(MessageInitiation, sender_index) == 4);
static_assert(offsetof(MessageInitiation, ephemeral) == 8);
static_assert(offsetof(MessageInitiation, encrypted_static) == 40);
static_assert(offsetof(MessageInitiation, encrypted_timestamp) == 88);
static_assert(offsetof(MessageInitiation, macs) == 116);
static_assert(offsetof(MessageInitiation, macs) + offsetof(MessageMacs, mac2) == 132);

static_assert(sizeof(MessageResponse) == spec::kResponseSize);
static_assert(offsetof(MessageResponse, sender_index) == 4);
static_assert(offsetof(MessageResponse, receiver_index) == 8);
static_assert(offsetof(MessageResponse, ephemeral) == 12);
static_assert(offsetof(MessageResponse, encrypted_nothing) == 44);
static_assert(offsetof(MessageResponse, macs) == 60);
static_assert(offsetof(MessageResponse, macs) + offsetof(MessageMacs, mac2) == 76);

static_assert(sizeof(MessageCookieReply) == spec::kCookieReplySize);
static_assert(offsetof(MessageCookieReply, receiver_index) == 4);
static_assert(offsetof(MessageCookieReply, nonce) == 8);
static_assert(offsetof(MessageCookieReply, encrypted_cookie) == 32);

/// A header with the given type and zero reserved bytes.
constexpr MessageHeader make_header(MessageType t) noexcept {
  return MessageHeader{static_cast<std::uint8_t>(t), {0, 0, 0}};
}

// ---------------------------------------------------------------------------------------------
// Classification of a received datagram.
// ---------------------------------------------------------------------------------------------

/// Why a datagram was not recognised as a WireGuard message. X(name, description): the list
/// also makes the per-reason counters and their operator-visible names.
#define MESHGATE_WIRE_MESSAGE_DROP_REASONS(X)                         \
  X(too_short, "shorter than the 4-byte message header")              \
  X(unknown_type, "first byte is not a WireGuard message type (1-4)") \
  X(reserved_nonzero, "reserved header bytes 1-3 are not zero")       \
  X(bad_size, "length is wrong for the message type (exact for 1-3, >= 32 for 4)")

MESHGATE_REASON_ENUM(WireDrop, MESHGATE_WIRE_MESSAGE_DROP_REASONS)

inline constexpr std::size_t kWireDropCount =
    MESHGATE_REASON_COUNT(MESHGATE_WIRE_MESSAGE_DROP_REASONS);

std::string_view to_string(WireDrop d) noexcept;
std::string_view describe(WireDrop d) noexcept;

/// The outcome of classify(): a message type when `drop == none`, else the reason.
struct Classified {
  MessageType type{};
  WireDrop drop = WireDrop::none;
  constexpr bool ok() const noexcept { return drop == WireDrop::none; }
};

/// Exact size of a handshake message type; 0 for transport (variable).
constexpr std::size_t message_size(MessageType t) noexcept {
  switch (t) {
    case MessageType::initiation:
      return spec::kInitiationSize;
    case MessageType::response:
      return spec::kResponseSize;
    case MessageType::cookie_reply:
      return spec::kCookieReplySize;
    case MessageType::transport:
      return 0;
  }
  return 0;
}

/// Checks the header word and the length for the type, once. A message that passes may be
/// read through the matching struct (copied with load_message(), or the transport header
/// fields with the load_le helpers). Like the reference implementations, the four header
/// bytes are compared as one word, so a non-zero reserved byte makes the packet unknown;
/// we report that case under its own name. `type` is set when the word is 1-4 (also with
/// bad_size). Inline: the receive path calls it per packet.
inline Classified classify(const std::uint8_t* data, std::size_t len) noexcept {
  if (len < sizeof(MessageHeader)) return {MessageType{}, WireDrop::too_short};
  // The kernel and wireguard-go read the header as one LE32 and compare it with 1..4.
  std::uint32_t word;
  std::memcpy(&word, data, 4);  // little-endian hosts only (base/bytes.cpp checks)
  if (word < 1 || word > 4) {
    const bool known_type = data[0] >= 1 && data[0] <= 4;
    return {MessageType{}, known_type ? WireDrop::reserved_nonzero : WireDrop::unknown_type};
  }
  const auto type = static_cast<MessageType>(word);
  const std::size_t exact = message_size(type);
  const bool size_ok = exact != 0 ? len == exact : len >= spec::kTransportMinSize;
  return {type, size_ok ? WireDrop::none : WireDrop::bad_size};
}

/// Whether a UDP payload is a handshake message (type 1, 2 or 3) of exactly its type's size:
/// what the control thread accepts for its handshake and cookie code.
inline bool is_handshake_message(const std::uint8_t* data, std::size_t len) noexcept {
  const Classified c = classify(data, len);
  return c.ok() && c.type != MessageType::transport;
}

/// Copies a classified message into its struct (no aliasing of the packet buffer).
template <class Msg>
Msg load_message(const std::uint8_t* data) noexcept {
  Msg m;  // NOLINT(cppcoreguidelines-pro-type-member-init): the copy below fills every byte
  std::memcpy(&m, data, sizeof m);
  return m;
}

template <class Msg>
const std::uint8_t* message_bytes(const Msg& m) noexcept {
  return reinterpret_cast<const std::uint8_t*>(&m);
}
template <class Msg>
std::uint8_t* message_bytes(Msg& m) noexcept {
  return reinterpret_cast<std::uint8_t*>(&m);
}

// ---------------------------------------------------------------------------------------------
// Transport payload sizing (protocol.md 2, type 4).
// ---------------------------------------------------------------------------------------------

/// Zero bytes of plaintext: a keepalive. It is authenticated but never padded nor delivered.
inline constexpr std::size_t kKeepalivePlaintextLen = 0;
constexpr bool is_keepalive(std::size_t plaintext_len) noexcept {
  return plaintext_len == kKeepalivePlaintextLen;
}

/// Plaintext length after padding (protocol.md 2): round up to a multiple of 16 but never
/// beyond the tunnel MTU, so a packet that fits the MTU still fits once padded; a packet already
/// longer than the MTU (only the control thread could hand one over: the data path drops those
/// as too_big first) is not padded at all. mtu == 0 means "no MTU": just round up. The kernel
/// pads an over-MTU packet by its remainder modulo the MTU instead; padding is invisible to the
/// receiver (it strips by the inner IP length), so both interoperate.
constexpr std::size_t padded_len(std::size_t len, std::size_t mtu) noexcept {
  constexpr std::size_t m = spec::kPaddingMultiple;
  const std::size_t rounded = (len + m - 1) / m * m;
  if (mtu == 0) return rounded;
  if (len >= mtu) return len;
  return rounded < mtu ? rounded : mtu;
}

/// Whole UDP payload of a transport message carrying `padded_plaintext_len` bytes.
constexpr std::size_t transport_message_len(std::size_t padded_plaintext_len) noexcept {
  return spec::kTransportHeaderSize + padded_plaintext_len + spec::kTagLen;
}

}  // namespace meshgate::wire
