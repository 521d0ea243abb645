// STUN/TURN parsing and typed attribute reads (RFC 8489 5, 14; RFC 8656 18; RFC 5780 7).
#include "meshgate/nat/stun.hpp"

#include <cstring>

namespace meshgate::nat::stun {

namespace {

constexpr const char* kParseNames[] = MESHGATE_REASON_NAMES(MESHGATE_STUN_PARSE_ERRORS);
constexpr const char* kParseTexts[] = MESHGATE_REASON_TEXTS(MESHGATE_STUN_PARSE_ERRORS, "ok");
constexpr const char* kDemuxNames[] = MESHGATE_REASON_NAMES(MESHGATE_NAT_DEMUX_DROP_REASONS);
constexpr const char* kDemuxTexts[] =
    MESHGATE_REASON_TEXTS(MESHGATE_NAT_DEMUX_DROP_REASONS, "STUN or ChannelData");

constexpr std::uint8_t kFamilyV4 = 0x01;
constexpr std::uint8_t kFamilyV6 = 0x02;

// Value lengths a known attribute may have; `known` false for types this codec does not know.
struct LengthRule {
  bool known = false;
  std::uint16_t min = 0;
  std::uint16_t max = 0xFFFF;
};

constexpr LengthRule exactly(std::uint16_t n) {
  return {true, n, n};
}
constexpr LengthRule at_least(std::uint16_t n) {
  return {true, n, 0xFFFF};
}

// Only the lengths the RFCs fix are enforced; string lengths are left to the caller.
LengthRule length_rule(std::uint16_t type) noexcept {
  using namespace attr;
  switch (type) {
    case kMappedAddress:
    case kXorMappedAddress:
    case kXorPeerAddress:
    case kXorRelayedAddress:
    case kResponseOrigin:
    case kOtherAddress:
    case kAlternateServer:
      return {true, 8, 20};  // 4 + 4-byte IPv4 or 4 + 16-byte IPv6
    case kChangeRequest:
    case kChannelNumber:
    case kLifetime:
    case kRequestedAddressFamily:
    case kRequestedTransport:
    case kPriority:
    case kResponsePort:
    case kFingerprint:
    case kAdditionalAddressFamily:
      return exactly(4);
    case kMessageIntegrity:
      return exactly(kIntegritySize);
    case kMessageIntegritySha256:
      return {true, 16, 32};
    case kUserhash:
      return exactly(32);
    case kErrorCode:
    case kAddressErrorCode:
    case kPasswordAlgorithm:
      return at_least(4);
    case kEvenPort:
      return exactly(1);
    case kDontFragment:
    case kUseCandidate:
      return exactly(0);
    case kReservationToken:
    case kIceControlled:
    case kIceControlling:
    case kIcmp:
      return exactly(8);
    case kUsername:
    case kUnknownAttributes:
    case kData:
    case kRealm:
    case kNonce:
    case kPadding:
    case kPasswordAlgorithms:
    case kAlternateDomain:
    case kSoftware:
      return at_least(0);
    default:
      return {};
  }
}

// Records one attribute; false when the message has more than we keep.
bool record(Message& m, const AttrRef& a) noexcept {
  if (m.count == kMaxAttributes) return false;
  if (a.type == attr::kMessageIntegrity && m.integrity < 0) m.integrity = std::int8_t(m.count);
  if (a.type == attr::kFingerprint) m.fingerprint = std::int8_t(m.count);
  m.attrs[m.count++] = a;
  return true;
}

// Walks the attributes of a message whose header has been checked.
ParseError parse_attributes(Message& m) noexcept {
  std::size_t off = kHeaderSize;
  while (off < m.size) {
    if (m.fingerprint >= 0) return ParseError::after_fingerprint;
    if (m.size - off < kAttrHeaderSize) return ParseError::truncated_attribute;
    const AttrRef a{load_be16(m.data + off), load_be16(m.data + off + 2),
                    static_cast<std::uint16_t>(off + kAttrHeaderSize)};
    // Padding to 4 is part of the message, so the padded value must fit too.
    if (padded4(a.length) > std::size_t{m.size} - a.offset) return ParseError::truncated_attribute;
    off = a.offset + padded4(a.length);

    // After MESSAGE-INTEGRITY only FINGERPRINT and MESSAGE-INTEGRITY-SHA256 count (14.5):
    // the rest is not authenticated, so it is skipped unread, unknown types included.
    if (m.integrity >= 0 && a.type != attr::kFingerprint &&
        a.type != attr::kMessageIntegritySha256) {
      continue;
    }
    const LengthRule rule = length_rule(a.type);
    if (rule.known && (a.length < rule.min || a.length > rule.max)) {
      return ParseError::bad_attribute_length;
    }
    if (!rule.known && attr::comprehension_required(a.type) && m.unknown_count < kMaxUnknown) {
      m.unknown[m.unknown_count++] = a.type;
    }
    if (!record(m, a)) return ParseError::too_many_attributes;
  }
  return m.unknown_count != 0 ? ParseError::unknown_required : ParseError::none;
}

// Reads the common part of the (XOR-)address attributes: family and port. The value length is
// already 8..20 (parse()), so only the family decides.
Result<Endpoint> read_address(const Message& m, std::uint16_t type, bool xored) {
  const AttrRef* a = m.find(type);
  if (a == nullptr) return Error{"no address attribute of that type"};
  const std::uint8_t* v = m.data + a->offset;
  const std::uint8_t family = v[1];
  std::uint8_t addr[16];
  const std::size_t addr_len = family == kFamilyV4 ? 4 : family == kFamilyV6 ? 16 : 0;
  if (addr_len == 0) return Error{"address family is neither IPv4 (1) nor IPv6 (2)"};
  if (a->length != 4 + addr_len) return Error{"address length does not match its family"};
  std::memcpy(addr, v + 4, addr_len);
  std::uint16_t port = load_be16(v + 2);
  if (xored) {
    // RFC 8489 14.2: port ^ top 16 bits of the cookie; address ^ (cookie || transaction id).
    port ^= static_cast<std::uint16_t>(kMagicCookie >> 16);
    const std::uint8_t* pad = m.data + 4;  // the cookie and transaction id, contiguous
    for (std::size_t i = 0; i < addr_len; ++i) addr[i] ^= pad[i];
  }
  Endpoint ep;
  ep.addr = addr_len == 4 ? IpAddr::v4_bytes(addr) : IpAddr::v6_bytes(addr);
  ep.port = port;
  return ep;
}

}  // namespace

std::string_view to_string(ParseError e) noexcept {
  return reason_lookup(kParseNames, e, "?");
}
std::string_view describe(ParseError e) noexcept {
  return reason_lookup(kParseTexts, e, "?");
}
std::string_view to_string(DemuxDrop d) noexcept {
  return reason_lookup(kDemuxNames, d, "?");
}
std::string_view describe(DemuxDrop d) noexcept {
  return reason_lookup(kDemuxTexts, d, "?");
}

std::string_view to_string(Method m) noexcept {
  switch (m) {
    case Method::binding:
      return "Binding";
    case Method::allocate:
      return "Allocate";
    case Method::refresh:
      return "Refresh";
    case Method::send:
      return "Send";
    case Method::data:
      return "Data";
    case Method::create_permission:
      return "CreatePermission";
    case Method::channel_bind:
      return "ChannelBind";
  }
  return "unknown";
}

std::string_view to_string(Class c) noexcept {
  switch (c) {
    case Class::request:
      return "request";
    case Class::indication:
      return "indication";
    case Class::success:
      return "success response";
    case Class::error:
      return "error response";
  }
  return "?";
}

bool known_attribute(std::uint16_t type) noexcept {
  return length_rule(type).known;
}

const AttrRef* Message::find(std::uint16_t t) const noexcept {
  for (std::size_t i = 0; i < count; ++i) {
    if (attrs[i].type == t) return &attrs[i];
  }
  return nullptr;
}

std::uint16_t Message::type() const noexcept {
  return message_type(method, cls);
}

ParseError parse(const std::uint8_t* data, std::size_t len, Message& out) noexcept {
  if (len < kHeaderSize) return ParseError::too_short;
  if ((data[0] & 0xC0) != 0) return ParseError::not_stun;
  if (load_be32(data + 4) != kMagicCookie) return ParseError::bad_cookie;
  const std::uint16_t body = load_be16(data + 2);
  if ((body & 3) != 0 || kHeaderSize + body != len) return ParseError::bad_length;

  out = Message{};
  out.data = data;
  out.size = static_cast<std::uint16_t>(len);
  const std::uint16_t type = load_be16(data);
  out.method = type_method(type);
  out.cls = type_class(type);
  std::memcpy(out.transaction_id.data(), data + 8, kTransactionIdSize);
  return parse_attributes(out);
}

Result<Endpoint> get_xor_address(const Message& m, std::uint16_t type) {
  return read_address(m, type, true);
}
Result<Endpoint> get_address(const Message& m, std::uint16_t type) {
  return read_address(m, type, false);
}

Result<std::string_view> get_string(const Message& m, std::uint16_t type) {
  const AttrRef* a = m.find(type);
  if (a == nullptr) return Error{"attribute absent"};
  return std::string_view(reinterpret_cast<const char*>(m.data + a->offset), a->length);
}

Result<std::uint32_t> get_u32(const Message& m, std::uint16_t type) {
  const AttrRef* a = m.find(type);
  if (a == nullptr) return Error{"attribute absent"};
  if (a->length != 4) return Error{"attribute is not 4 bytes"};
  return load_be32(m.data + a->offset);
}

Result<ErrorCode> get_error_code(const Message& m) {
  const AttrRef* a = m.find(attr::kErrorCode);
  if (a == nullptr) return Error{"no ERROR-CODE"};
  const std::uint8_t* v = m.data + a->offset;
  // RFC 8489 14.8: 21 reserved bits, a 3-bit class (3-6), an 8-bit number (0-99).
  const unsigned cls = v[2] & 0x07;
  const unsigned number = v[3];
  if (cls < 3 || cls > 6 || number > 99) return Error{"ERROR-CODE class or number out of range"};
  return ErrorCode{static_cast<std::uint16_t>(cls * 100 + number),
                   std::string_view(reinterpret_cast<const char*>(v + 4), a->length - 4u)};
}

Result<std::uint16_t> get_channel_number(const Message& m) {
  auto v = get_u32(m, attr::kChannelNumber);
  if (!v) return Error{"no CHANNEL-NUMBER"};
  const auto channel = static_cast<std::uint16_t>(*v >> 16);  // low 16 bits are RFFU
  if (!valid_channel(channel)) return Error{"CHANNEL-NUMBER outside 0x4000-0x4FFF"};
  return channel;
}

Result<std::uint8_t> get_requested_transport(const Message& m) {
  auto v = get_u32(m, attr::kRequestedTransport);
  if (!v) return Error{"no REQUESTED-TRANSPORT"};
  return static_cast<std::uint8_t>(*v >> 24);  // protocol, then 24 RFFU bits
}

Result<ChangeRequest> get_change_request(const Message& m) {
  auto v = get_u32(m, attr::kChangeRequest);
  if (!v) return Error{"no CHANGE-REQUEST"};
  // RFC 5780 7.2: flag A (change IP) is 0x4, flag B (change port) is 0x2.
  return ChangeRequest{(*v & 0x4) != 0, (*v & 0x2) != 0};
}

}  // namespace meshgate::nat::stun
