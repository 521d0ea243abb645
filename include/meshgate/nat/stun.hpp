// STUN (RFC 8489) and TURN (RFC 8656) messages, with the RFC 5780 NAT-behaviour attributes:
// a codec only. No sockets, no timers, no DPDK (no rte_*.h); docs/nat-traversal.md has the
// protocol facts this file relies on, with their RFC sections.
//
//   parse()          checks the header and walks the attributes once, recording where each
//                    value lies; typed getters then read values without re-checking framing.
//   Builder          writes a message into a caller's buffer, attribute by attribute, and ends
//                    it with MESSAGE-INTEGRITY and/or FINGERPRINT.
//   verify_message() MESSAGE-INTEGRITY and FINGERPRINT, one named verdict per rejection.
//   demux()          the data path's rule for a UDP payload on the WireGuard port: STUN,
//                    TURN ChannelData, or junk with a reason. Inline, no allocation.
//
// All multi-byte fields are big-endian on the wire. A parsed Message points into the caller's
// buffer: it is valid as long as that buffer is.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "meshgate/base/bytes.hpp"
#include "meshgate/base/ip.hpp"
#include "meshgate/base/reasons.hpp"
#include "meshgate/base/result.hpp"

namespace meshgate::nat::stun {

// ---------------------------------------------------------------------------------------------
// Layout (RFC 8489 5, 14; RFC 8656 12).
// ---------------------------------------------------------------------------------------------
inline constexpr std::uint32_t kMagicCookie = 0x2112A442;
inline constexpr std::size_t kHeaderSize = 20;
inline constexpr std::size_t kTransactionIdSize = 12;
inline constexpr std::size_t kAttrHeaderSize = 4;
inline constexpr std::size_t kIntegritySize = 20;             // HMAC-SHA1
inline constexpr std::size_t kFingerprintSize = 4;            // CRC-32
inline constexpr std::uint32_t kFingerprintXor = 0x5354554E;  // "STUN"
inline constexpr std::size_t kMaxAttributes = 32;  // recorded per message; more is rejected
inline constexpr std::size_t kMaxUnknown = 8;      // unknown required types kept for a 420

using TransactionId = Bytes<kTransactionIdSize>;

struct [[gnu::packed]] RawHeader {
  std::uint8_t type[2];
  std::uint8_t length[2];  // bytes after the header, a multiple of 4
  std::uint8_t cookie[4];
  std::uint8_t transaction_id[kTransactionIdSize];
};
struct [[gnu::packed]] RawAttrHeader {
  std::uint8_t type[2];
  std::uint8_t length[2];  // value bytes, before padding to 4
};
static_assert(sizeof(RawHeader) == kHeaderSize && alignof(RawHeader) == 1);
static_assert(offsetof(RawHeader, length) == 2 && offsetof(RawHeader, cookie) == 4);
static_assert(offsetof(RawHeader, transaction_id) == 8);
static_assert(sizeof(RawAttrHeader) == kAttrHeaderSize);

constexpr std::size_t padded4(std::size_t n) noexcept {
  return (n + 3) & ~std::size_t{3};
}

/// The 12-bit method. Values outside this list parse too (a server answers them with 400).
enum class Method : std::uint16_t {
  binding = 0x001,
  allocate = 0x003,  // TURN methods, RFC 8656
  refresh = 0x004,
  send = 0x006,  // indication only
  data = 0x007,  // indication only
  create_permission = 0x008,
  channel_bind = 0x009,
};
enum class Class : std::uint8_t { request = 0, indication = 1, success = 2, error = 3 };

std::string_view to_string(Method m) noexcept;
std::string_view to_string(Class c) noexcept;

/// RFC 8489 5: the class bits C1 C0 sit at type bits 8 and 4, the method fills the rest.
constexpr std::uint16_t message_type(Method m, Class c) noexcept {
  const auto mv = static_cast<std::uint16_t>(m);
  const auto cv = static_cast<std::uint16_t>(c);
  return static_cast<std::uint16_t>((mv & 0x000F) | ((mv & 0x0070) << 1) | ((mv & 0x0F80) << 2) |
                                    ((cv & 1) << 4) | ((cv & 2) << 7));
}
constexpr Method type_method(std::uint16_t t) noexcept {
  return static_cast<Method>((t & 0x000F) | ((t >> 1) & 0x0070) | ((t >> 2) & 0x0F80));
}
constexpr Class type_class(std::uint16_t t) noexcept {
  return static_cast<Class>(((t >> 4) & 1) | ((t >> 7) & 2));
}
static_assert(message_type(Method::binding, Class::request) == 0x0001);
static_assert(message_type(Method::binding, Class::success) == 0x0101);
static_assert(message_type(Method::allocate, Class::error) == 0x0113);
static_assert(message_type(Method::data, Class::indication) == 0x0017);

/// Attribute types (IANA "STUN Attributes"). 0x0000-0x7FFF are comprehension-required.
namespace attr {
inline constexpr std::uint16_t kMappedAddress = 0x0001;
inline constexpr std::uint16_t kChangeRequest = 0x0003;  // RFC 5780 7.2
inline constexpr std::uint16_t kUsername = 0x0006;
inline constexpr std::uint16_t kMessageIntegrity = 0x0008;
inline constexpr std::uint16_t kErrorCode = 0x0009;
inline constexpr std::uint16_t kUnknownAttributes = 0x000A;
inline constexpr std::uint16_t kChannelNumber = 0x000C;  // RFC 8656 18
inline constexpr std::uint16_t kLifetime = 0x000D;
inline constexpr std::uint16_t kXorPeerAddress = 0x0012;
inline constexpr std::uint16_t kData = 0x0013;
inline constexpr std::uint16_t kRealm = 0x0014;
inline constexpr std::uint16_t kNonce = 0x0015;
inline constexpr std::uint16_t kXorRelayedAddress = 0x0016;
inline constexpr std::uint16_t kRequestedAddressFamily = 0x0017;
inline constexpr std::uint16_t kEvenPort = 0x0018;
inline constexpr std::uint16_t kRequestedTransport = 0x0019;
inline constexpr std::uint16_t kDontFragment = 0x001A;
inline constexpr std::uint16_t kMessageIntegritySha256 = 0x001C;
inline constexpr std::uint16_t kPasswordAlgorithm = 0x001D;
inline constexpr std::uint16_t kUserhash = 0x001E;
inline constexpr std::uint16_t kXorMappedAddress = 0x0020;
inline constexpr std::uint16_t kReservationToken = 0x0022;
inline constexpr std::uint16_t kPriority = 0x0024;  // ICE, RFC 8445 16.1
inline constexpr std::uint16_t kUseCandidate = 0x0025;
inline constexpr std::uint16_t kPadding = 0x0026;  // RFC 5780 7.6
inline constexpr std::uint16_t kResponsePort = 0x0027;
inline constexpr std::uint16_t kAdditionalAddressFamily = 0x8000;
inline constexpr std::uint16_t kAddressErrorCode = 0x8001;
inline constexpr std::uint16_t kPasswordAlgorithms = 0x8002;
inline constexpr std::uint16_t kAlternateDomain = 0x8003;
inline constexpr std::uint16_t kIcmp = 0x8004;
inline constexpr std::uint16_t kSoftware = 0x8022;
inline constexpr std::uint16_t kAlternateServer = 0x8023;
inline constexpr std::uint16_t kFingerprint = 0x8028;
inline constexpr std::uint16_t kIceControlled = 0x8029;
inline constexpr std::uint16_t kIceControlling = 0x802A;
inline constexpr std::uint16_t kResponseOrigin = 0x802B;  // RFC 5780 7.3
inline constexpr std::uint16_t kOtherAddress = 0x802C;    // RFC 5780 7.4

constexpr bool comprehension_required(std::uint16_t type) noexcept {
  return type < 0x8000;
}
}  // namespace attr

/// Whether parse() knows `type` (unknown comprehension-required types reject the message).
bool known_attribute(std::uint16_t type) noexcept;

// ---------------------------------------------------------------------------------------------
// Parsing.
// ---------------------------------------------------------------------------------------------
#define MESHGATE_STUN_PARSE_ERRORS(X)                                                     \
  X(too_short, "shorter than the 20-byte STUN header")                                    \
  X(not_stun, "top two bits of the message type are not zero")                            \
  X(bad_cookie, "magic cookie is not 0x2112A442")                                         \
  X(bad_length, "length field is not a multiple of 4 or disagrees with the datagram")     \
  X(truncated_attribute, "an attribute header or value runs past the end of the message") \
  X(bad_attribute_length, "a known attribute's value length is not one its type allows")  \
  X(after_fingerprint, "an attribute follows FINGERPRINT, which must be last")            \
  X(too_many_attributes, "more attributes than the parser records")                       \
  X(unknown_required, "an unknown comprehension-required attribute (type below 0x8000)")

MESHGATE_REASON_ENUM(ParseError, MESHGATE_STUN_PARSE_ERRORS)
inline constexpr std::size_t kParseErrorCount = MESHGATE_REASON_COUNT(MESHGATE_STUN_PARSE_ERRORS);
std::string_view to_string(ParseError e) noexcept;
std::string_view describe(ParseError e) noexcept;

/// Where one attribute's value lies: message bytes [offset, offset + length).
struct AttrRef {
  std::uint16_t type = 0;
  std::uint16_t length = 0;
  std::uint16_t offset = 0;
};

struct Message {
  const std::uint8_t* data = nullptr;  // the message, header first
  std::uint16_t size = 0;              // 20 + the length field
  Method method{};
  Class cls{};
  TransactionId transaction_id{};
  // Attributes in wire order. Those after MESSAGE-INTEGRITY other than FINGERPRINT are left
  // out: RFC 8489 14.5 says to ignore them, since nothing authenticates them.
  std::array<AttrRef, kMaxAttributes> attrs{};
  std::uint8_t count = 0;
  std::int8_t integrity = -1;    // index in attrs, -1 when absent
  std::int8_t fingerprint = -1;  // index in attrs, -1 when absent
  // Unknown comprehension-required types, for the UNKNOWN-ATTRIBUTES of a 420 answer.
  std::array<std::uint16_t, kMaxUnknown> unknown{};
  std::uint8_t unknown_count = 0;

  /// The first attribute of `type` (RFC 8489 14: later duplicates may be ignored).
  const AttrRef* find(std::uint16_t type) const noexcept;
  ByteSpan value(const AttrRef& a) const noexcept { return ByteSpan(data + a.offset, a.length); }
  std::uint16_t type() const noexcept;
};

/// Parses one whole STUN message: `len` must be exactly 20 + the header's length field (one
/// message per UDP datagram, or one framed message from a stream). Never reads outside
/// [data, data + len). On unknown_required `out` is filled (with `unknown`), so the caller can
/// answer a request with 420; on every other error `out` is unspecified.
ParseError parse(const std::uint8_t* data, std::size_t len, Message& out) noexcept;

// --- typed getters: absent attribute or bad value -> an error naming it ----------------------

/// XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS (RFC 8489 14.2).
Result<Endpoint> get_xor_address(const Message& m, std::uint16_t type);
/// MAPPED-ADDRESS, RESPONSE-ORIGIN, OTHER-ADDRESS, ALTERNATE-SERVER (RFC 8489 14.1).
Result<Endpoint> get_address(const Message& m, std::uint16_t type);
/// USERNAME, REALM, NONCE, SOFTWARE, ...: the value bytes, padding excluded.
Result<std::string_view> get_string(const Message& m, std::uint16_t type);
/// Any 4-byte integer attribute: LIFETIME, PRIORITY, RESPONSE-PORT (upper 16 bits), ...
Result<std::uint32_t> get_u32(const Message& m, std::uint16_t type);

struct ErrorCode {
  std::uint16_t code = 0;  // 300-699: class * 100 + number
  std::string_view reason;
};
Result<ErrorCode> get_error_code(const Message& m);
/// CHANNEL-NUMBER, checked to be in 0x4000-0x4FFF.
Result<std::uint16_t> get_channel_number(const Message& m);
/// REQUESTED-TRANSPORT's protocol number (17 for UDP, the only one TURN over UDP allows).
Result<std::uint8_t> get_requested_transport(const Message& m);

struct ChangeRequest {
  bool change_ip = false;
  bool change_port = false;
};
Result<ChangeRequest> get_change_request(const Message& m);

// ---------------------------------------------------------------------------------------------
// Building.
// ---------------------------------------------------------------------------------------------

/// Writes a message into `buf`. Each add_* appends one attribute (value zero-padded to 4) and
/// keeps the header's length field current. The first failure (no room, a bad value, an
/// attribute after FINGERPRINT) sticks: later calls do nothing and finish() reports it.
class Builder {
 public:
  Builder(MutByteSpan buf, Method m, Class c, const TransactionId& tid) noexcept;

  Builder& add(std::uint16_t type, ByteSpan value) noexcept;
  Builder& add_string(std::uint16_t type, std::string_view s) noexcept;
  Builder& add_u32(std::uint16_t type, std::uint32_t v) noexcept;
  Builder& add_address(std::uint16_t type, const Endpoint& ep) noexcept;
  Builder& add_xor_address(std::uint16_t type, const Endpoint& ep) noexcept;
  /// code in 300-699; the reason is UTF-8 text of at most 763 bytes (RFC 8489 14.8).
  Builder& add_error_code(std::uint16_t code, std::string_view reason) noexcept;
  Builder& add_unknown_attributes(std::span<const std::uint16_t> types) noexcept;
  Builder& add_lifetime(std::uint32_t seconds) noexcept {
    return add_u32(attr::kLifetime, seconds);
  }
  Builder& add_channel_number(std::uint16_t channel) noexcept;
  Builder& add_requested_transport(std::uint8_t protocol) noexcept;
  Builder& add_change_request(ChangeRequest r) noexcept;
  /// MESSAGE-INTEGRITY over everything so far (RFC 8489 14.5). The key is the short-term
  /// password or long_term_key().
  Builder& add_integrity(ByteSpan key) noexcept;
  /// FINGERPRINT; nothing may follow it.
  Builder& add_fingerprint() noexcept;

  /// The message length, or the first error.
  Result<std::size_t> finish() const;

 private:
  std::uint8_t* reserve(std::uint16_t type, std::size_t value_len) noexcept;
  void fail(const char* why) noexcept;

  MutByteSpan buf_;
  std::size_t len_ = 0;
  const char* error_ = nullptr;
  bool has_integrity_ = false;
  bool sealed_ = false;  // FINGERPRINT written
};

// ---------------------------------------------------------------------------------------------
// Integrity and fingerprint.
// ---------------------------------------------------------------------------------------------

/// Long-term credential key (RFC 8489 9.2.2, MD5 variant): MD5(username ":" realm ":" password).
/// The strings must already be in their prepared form (OpaqueString / SASLprep); this layer
/// does no Unicode processing.
Bytes<16> long_term_key(std::string_view username, std::string_view realm,
                        std::string_view password) noexcept;

/// CRC-32 as zlib and IEEE 802.3 compute it (reflected 0xEDB88320, init and final xor ~0).
std::uint32_t crc32(ByteSpan data) noexcept;

#define MESHGATE_STUN_AUTH_VERDICTS(X)                                     \
  X(missing_integrity, "no MESSAGE-INTEGRITY attribute")                   \
  X(bad_integrity, "MESSAGE-INTEGRITY does not match the key")             \
  X(missing_fingerprint, "no FINGERPRINT attribute where one is required") \
  X(bad_fingerprint, "FINGERPRINT does not match the message's CRC-32")

/// `none` means accepted.
MESHGATE_REASON_ENUM(AuthVerdict, MESHGATE_STUN_AUTH_VERDICTS)
inline constexpr std::size_t kAuthVerdictCount = MESHGATE_REASON_COUNT(MESHGATE_STUN_AUTH_VERDICTS);
std::string_view to_string(AuthVerdict v) noexcept;
std::string_view describe(AuthVerdict v) noexcept;

/// FINGERPRINT alone: missing_fingerprint, bad_fingerprint or none.
AuthVerdict check_fingerprint(const Message& m) noexcept;
/// MESSAGE-INTEGRITY alone: missing_integrity, bad_integrity or none (constant-time compare).
AuthVerdict check_integrity(const Message& m, ByteSpan key);
/// Both, cheapest first: a FINGERPRINT, when present, must match (a mismatch is most likely not
/// STUN at all); then MESSAGE-INTEGRITY must be present and match `key`.
AuthVerdict verify_message(const Message& m, ByteSpan key);

// ---------------------------------------------------------------------------------------------
// TURN ChannelData (RFC 8656 12) and the data path's demultiplexer. Inline: per packet.
// ---------------------------------------------------------------------------------------------
inline constexpr std::uint16_t kChannelMin = 0x4000;
inline constexpr std::uint16_t kChannelMax = 0x4FFF;
inline constexpr std::size_t kChannelDataHeaderSize = 4;

constexpr bool valid_channel(std::uint16_t c) noexcept {
  return c >= kChannelMin && c <= kChannelMax;
}

/// Writes the 4-byte ChannelData header in front of `len` application bytes.
inline void channel_data_header(std::uint8_t* p, std::uint16_t channel,
                                std::uint16_t len) noexcept {
  store_be16(p, channel);
  store_be16(p + 2, len);
}

#define MESHGATE_NAT_DEMUX_DROP_REASONS(X)                                                \
  X(too_short, "shorter than the 4-byte ChannelData header")                              \
  X(not_stun_or_turn, "first byte is neither STUN (0x00-0x3F) nor a channel (0x40-0x4F)") \
  X(stun_too_short, "STUN-looking payload shorter than the 20-byte header")               \
  X(stun_bad_cookie, "STUN-looking payload without the magic cookie")                     \
  X(stun_bad_length, "STUN length field not a multiple of 4 or not the payload length")   \
  X(channel_bad_length, "ChannelData length past the payload or followed by over 3 bytes")

MESHGATE_REASON_ENUM(DemuxDrop, MESHGATE_NAT_DEMUX_DROP_REASONS)
inline constexpr std::size_t kDemuxDropCount =
    MESHGATE_REASON_COUNT(MESHGATE_NAT_DEMUX_DROP_REASONS);
std::string_view to_string(DemuxDrop d) noexcept;
std::string_view describe(DemuxDrop d) noexcept;

enum class PayloadKind : std::uint8_t { junk, stun, channel_data };

struct Demuxed {
  PayloadKind kind = PayloadKind::junk;
  DemuxDrop drop = DemuxDrop::none;
  std::uint16_t channel = 0;   // channel_data: the channel number
  std::uint16_t data_len = 0;  // channel_data: application bytes after the 4-byte header
};

/// The rule for a UDP payload on the WireGuard port that is not a WireGuard message:
///   STUN:        len >= 20, byte 0 in 0x00-0x3F (top two bits 00), bytes 4-7 the magic
///                cookie, length field L a multiple of 4 and 20 + L == len exactly;
///   ChannelData: len >= 4, byte 0 in 0x40-0x4F (channel 0x4000-0x4FFF; 0x5000-0xFFFF are
///                reserved, RFC 8656 12), length field L with 4 + L <= len <= 4 + padded4(L)
///                (UDP may carry up to 3 padding bytes, RFC 8656 12);
///   else junk, with the first reason that applies. A WireGuard message can never pass: its
///   first byte is 1-4 with bytes 2-3 zero, so L = 0 would need a 20-byte datagram, and
///   WireGuard's shortest message is 32 bytes.
/// ChannelData alone: channel in 0x4000-0x4FFF and 4 + L <= len <= 4 + padded4(L).
inline Demuxed parse_channel_data(const std::uint8_t* p, std::size_t len) noexcept {
  if (len < kChannelDataHeaderSize) return {.drop = DemuxDrop::too_short};
  const std::uint16_t channel = load_be16(p);
  if (!valid_channel(channel)) return {.drop = DemuxDrop::not_stun_or_turn};
  const std::uint16_t field = load_be16(p + 2);
  if (kChannelDataHeaderSize + field > len || len > kChannelDataHeaderSize + padded4(field)) {
    return {.drop = DemuxDrop::channel_bad_length};
  }
  return {.kind = PayloadKind::channel_data, .channel = channel, .data_len = field};
}

inline Demuxed demux(const std::uint8_t* p, std::size_t len) noexcept {
  if (len < kChannelDataHeaderSize) return {.drop = DemuxDrop::too_short};
  if ((p[0] & 0xC0) != 0) return parse_channel_data(p, len);
  if (len < kHeaderSize) return {.drop = DemuxDrop::stun_too_short};
  if (load_be32(p + 4) != kMagicCookie) return {.drop = DemuxDrop::stun_bad_cookie};
  const std::uint16_t field = load_be16(p + 2);
  if ((field & 3) != 0 || kHeaderSize + field != len) return {.drop = DemuxDrop::stun_bad_length};
  return {.kind = PayloadKind::stun};
}

}  // namespace meshgate::nat::stun
