// Building STUN/TURN messages (RFC 8489 5, 14; RFC 8656 18; RFC 5780 7).
#include <cstring>

#include "meshgate/crypto/legacy_hash.hpp"
#include "meshgate/nat/stun.hpp"

namespace meshgate::nat::stun {

namespace {

constexpr std::size_t kMaxBody = 0xFFFF & ~std::size_t{3};  // the length field, a multiple of 4
constexpr std::size_t kMaxReason = 763;                     // RFC 8489 14.8

}  // namespace

Builder::Builder(MutByteSpan buf, Method m, Class c, const TransactionId& tid) noexcept
    : buf_(buf) {
  if (buf_.size() < kHeaderSize) {
    fail("buffer smaller than the STUN header");
    return;
  }
  store_be16(buf_.data(), message_type(m, c));
  store_be16(buf_.data() + 2, 0);
  store_be32(buf_.data() + 4, kMagicCookie);
  std::memcpy(buf_.data() + 8, tid.data(), kTransactionIdSize);
  len_ = kHeaderSize;
}

void Builder::fail(const char* why) noexcept {
  if (error_ == nullptr) error_ = why;
}

// Appends an attribute header and a zeroed, padded value; returns where the value goes.
std::uint8_t* Builder::reserve(std::uint16_t type, std::size_t value_len) noexcept {
  if (error_ != nullptr) return nullptr;
  if (sealed_) {
    fail("attribute after FINGERPRINT");
    return nullptr;
  }
  if (has_integrity_ && type != attr::kFingerprint) {
    fail("attribute after MESSAGE-INTEGRITY other than FINGERPRINT");
    return nullptr;
  }
  const std::size_t total = kAttrHeaderSize + padded4(value_len);
  if (value_len > 0xFFFF || len_ - kHeaderSize + total > kMaxBody) {
    fail("message longer than the 16-bit length field allows");
    return nullptr;
  }
  if (buf_.size() - len_ < total) {
    fail("buffer too small for the message");
    return nullptr;
  }
  std::uint8_t* p = buf_.data() + len_;
  store_be16(p, type);
  store_be16(p + 2, static_cast<std::uint16_t>(value_len));
  std::memset(p + kAttrHeaderSize, 0, padded4(value_len));  // padding is sent as zeros
  len_ += total;
  store_be16(buf_.data() + 2, static_cast<std::uint16_t>(len_ - kHeaderSize));
  return p + kAttrHeaderSize;
}

Builder& Builder::add(std::uint16_t type, ByteSpan value) noexcept {
  if (std::uint8_t* v = reserve(type, value.size())) {
    if (!value.empty()) std::memcpy(v, value.data(), value.size());
  }
  return *this;
}

Builder& Builder::add_string(std::uint16_t type, std::string_view s) noexcept {
  return add(type, ByteSpan(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

Builder& Builder::add_u32(std::uint16_t type, std::uint32_t value) noexcept {
  if (std::uint8_t* v = reserve(type, 4)) store_be32(v, value);
  return *this;
}

// Family byte, port and address of (XOR-)MAPPED-ADDRESS and friends (RFC 8489 14.1, 14.2).
Builder& Builder::add_address(std::uint16_t type, const Endpoint& ep) noexcept {
  const std::size_t n = ep.addr.size();
  if (n == 0) {
    fail("address attribute without an IPv4 or IPv6 address");
    return *this;
  }
  if (std::uint8_t* v = reserve(type, 4 + n)) {
    v[1] = ep.addr.is_v4() ? 0x01 : 0x02;
    store_be16(v + 2, ep.port);
    std::memcpy(v + 4, ep.addr.bytes.data(), n);
  }
  return *this;
}

Builder& Builder::add_xor_address(std::uint16_t type, const Endpoint& ep) noexcept {
  const std::size_t before = len_;
  add_address(type, ep);
  if (error_ != nullptr || len_ == before) return *this;
  // XOR in place: port with the cookie's top half, address with cookie || transaction id.
  std::uint8_t* v = buf_.data() + before + kAttrHeaderSize;
  store_be16(v + 2, static_cast<std::uint16_t>(ep.port ^ (kMagicCookie >> 16)));
  const std::uint8_t* pad = buf_.data() + 4;
  for (std::size_t i = 0; i < ep.addr.size(); ++i) v[4 + i] ^= pad[i];
  return *this;
}

Builder& Builder::add_error_code(std::uint16_t code, std::string_view reason) noexcept {
  if (code < 300 || code > 699) {
    fail("ERROR-CODE outside 300-699");
    return *this;
  }
  if (reason.size() > kMaxReason) {
    fail("ERROR-CODE reason longer than 763 bytes");
    return *this;
  }
  if (std::uint8_t* v = reserve(attr::kErrorCode, 4 + reason.size())) {
    v[2] = static_cast<std::uint8_t>(code / 100);
    v[3] = static_cast<std::uint8_t>(code % 100);
    if (!reason.empty()) std::memcpy(v + 4, reason.data(), reason.size());
  }
  return *this;
}

Builder& Builder::add_unknown_attributes(std::span<const std::uint16_t> types) noexcept {
  if (std::uint8_t* v = reserve(attr::kUnknownAttributes, 2 * types.size())) {
    for (std::size_t i = 0; i < types.size(); ++i) store_be16(v + 2 * i, types[i]);
  }
  return *this;
}

Builder& Builder::add_channel_number(std::uint16_t channel) noexcept {
  if (!valid_channel(channel)) {
    fail("CHANNEL-NUMBER outside 0x4000-0x4FFF");
    return *this;
  }
  return add_u32(attr::kChannelNumber, std::uint32_t{channel} << 16);
}

Builder& Builder::add_requested_transport(std::uint8_t protocol) noexcept {
  return add_u32(attr::kRequestedTransport, std::uint32_t{protocol} << 24);
}

Builder& Builder::add_change_request(ChangeRequest r) noexcept {
  return add_u32(attr::kChangeRequest, (r.change_ip ? 0x4u : 0u) | (r.change_port ? 0x2u : 0u));
}

Builder& Builder::add_integrity(ByteSpan key) noexcept {
  if (has_integrity_) {
    fail("MESSAGE-INTEGRITY added twice");
    return *this;
  }
  // reserve() has already counted the attribute in the length field, as 14.5 requires; the
  // HMAC covers everything before the attribute's own header.
  if (std::uint8_t* v = reserve(attr::kMessageIntegrity, kIntegritySize)) {
    const std::size_t covered = len_ - kAttrHeaderSize - kIntegritySize;
    const auto mac = crypto::hmac_sha1(key, ByteSpan(buf_.data(), covered));
    std::memcpy(v, mac.data(), kIntegritySize);
    has_integrity_ = true;
  }
  return *this;
}

Builder& Builder::add_fingerprint() noexcept {
  if (std::uint8_t* v = reserve(attr::kFingerprint, kFingerprintSize)) {
    const std::size_t covered = len_ - kAttrHeaderSize - kFingerprintSize;
    store_be32(v, crc32(ByteSpan(buf_.data(), covered)) ^ kFingerprintXor);
    sealed_ = true;
  }
  return *this;
}

Result<std::size_t> Builder::finish() const {
  if (error_ != nullptr) return Error{error_};
  return len_;
}

}  // namespace meshgate::nat::stun
