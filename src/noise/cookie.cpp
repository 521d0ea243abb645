// mac1 / mac2 and cookie replies (protocol.md 3.8, 3.9; whitepaper 5.4.7).
#include "meshgate/noise/cookie.hpp"

#include <cstring>

#include "meshgate/crypto/aead.hpp"
#include "meshgate/crypto/blake2s.hpp"
#include "meshgate/crypto/random.hpp"

namespace meshgate::noise {

namespace {

using wire::MessageCookieReply;
using wire::MessageInitiation;
using wire::MessageResponse;
namespace spec = wire::spec;

constexpr std::size_t kInitiationMacs = offsetof(MessageInitiation, macs);
constexpr std::size_t kResponseMacs = offsetof(MessageResponse, macs);
constexpr std::size_t kMac2Offset = offsetof(wire::MessageMacs, mac2);

// mac1 = MAC(HASH(LABEL_MAC1 || S_receiver^pub), msg[0 : offset of mac1]).
void compute_mac1(std::uint8_t* out, const Key32& mac1_key, const std::uint8_t* msg,
                  std::size_t macs_offset) noexcept {
  crypto::mac16(std::span<std::uint8_t, spec::kMacLen>(out, spec::kMacLen), mac1_key,
                {ByteSpan(msg, macs_offset)});
}

// mac2 = MAC(cookie, msg[0 : offset of mac2]).
void compute_mac2(std::uint8_t* out, ByteSpan cookie, const std::uint8_t* msg,
                  std::size_t macs_offset) noexcept {
  crypto::mac16(std::span<std::uint8_t, spec::kMacLen>(out, spec::kMacLen), cookie,
                {ByteSpan(msg, macs_offset + kMac2Offset)});
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Sender side (per peer).
// ---------------------------------------------------------------------------------------------

void CookieSender::init(const Key32& peer_public) noexcept {
  mac1_key_ = mac1_key_for(peer_public);
  cookie_decryption_key_ = cookie_key_for(peer_public);
  cookie_.clear();
  has_cookie_ = false;
  cookie_birth_ = 0;
  last_mac1_sent_ = {};
  have_sent_mac1_ = false;
}

bool CookieSender::has_fresh_cookie(Nanos now) const noexcept {
  // The kernel stops using a cookie 5 s before the responder's R_m may rotate.
  return has_cookie_ &&
         now - cookie_birth_ < wire::spec::kCookieRefreshTime - wire::spec::kCookieSecretLatency;
}

void CookieSender::add_macs(std::uint8_t* msg, std::size_t macs_offset, Nanos now) noexcept {
  std::uint8_t* mac1 = msg + macs_offset;
  std::uint8_t* mac2 = mac1 + kMac2Offset;
  compute_mac1(mac1, mac1_key_, msg, macs_offset);
  std::memcpy(last_mac1_sent_.data(), mac1, spec::kMacLen);
  have_sent_mac1_ = true;
  if (has_fresh_cookie(now)) {
    compute_mac2(mac2, cookie_.span(), msg, macs_offset);
  } else {
    std::memset(mac2, 0, spec::kMacLen);
  }
}

void CookieSender::add_macs(MessageInitiation& msg, Nanos now) noexcept {
  add_macs(wire::message_bytes(msg), kInitiationMacs, now);
}

void CookieSender::add_macs(MessageResponse& msg, Nanos now) noexcept {
  add_macs(wire::message_bytes(msg), kResponseMacs, now);
}

HandshakeDrop CookieSender::consume_reply(const MessageCookieReply& msg, Nanos now) noexcept {
  if (!have_sent_mac1_) return HandshakeDrop::unexpected_cookie;
  Secret<spec::kCookieLen> cookie;
  if (!crypto::xaead_open(cookie.data(), cookie_decryption_key_.data(), msg.nonce,
                          msg.encrypted_cookie, spec::kCookieLen, last_mac1_sent_)) {
    return HandshakeDrop::bad_cookie;
  }
  cookie_ = cookie;
  cookie_birth_ = now;
  has_cookie_ = true;
  have_sent_mac1_ = false;  // one reply per mac1, as the kernel does
  return HandshakeDrop::none;
}

// ---------------------------------------------------------------------------------------------
// Checker side (per interface).
// ---------------------------------------------------------------------------------------------

void CookieChecker::make_cookie(Secret<spec::kCookieLen>& out, const Endpoint& src,
                                Nanos now) noexcept {
  if (!has_secret_ || now - secret_birth_ >= wire::spec::kCookieRefreshTime) {
    crypto::random_bytes(secret_.data(), secret_.size());
    secret_birth_ = now;
    has_secret_ = true;
  }
  // The layout is local: only we ever recompute it (protocol.md 3.9). Kernel-style: address
  // bytes, then the port in network order.
  std::uint8_t port_be[2];
  store_be16(port_be, src.port);
  const ByteSpan addr(src.addr.bytes.data(), src.addr.size());
  crypto::mac16(out.span(), secret_.span(), {addr, ByteSpan(port_be, 2)});
}

MacVerdict CookieChecker::validate(const std::uint8_t* msg, std::size_t macs_offset,
                                   const StaticIdentity& id, const Endpoint& src, bool check_mac2,
                                   Nanos now) noexcept {
  Mac16 expected;
  compute_mac1(expected.data(), id.mac1_key, msg, macs_offset);
  if (!ct_equal(expected.data(), msg + macs_offset, spec::kMacLen)) {
    return MacVerdict::invalid_mac1;
  }
  if (!check_mac2) return MacVerdict::valid_mac1;

  Secret<spec::kCookieLen> cookie;
  make_cookie(cookie, src, now);
  compute_mac2(expected.data(), cookie.span(), msg, macs_offset);
  if (!ct_equal(expected.data(), msg + macs_offset + kMac2Offset, spec::kMacLen)) {
    return MacVerdict::valid_mac1;
  }
  return MacVerdict::valid_mac1_and_mac2;
}

MacVerdict CookieChecker::validate(const MessageInitiation& msg, const StaticIdentity& id,
                                   const Endpoint& src, bool check_mac2, Nanos now) noexcept {
  return validate(wire::message_bytes(msg), kInitiationMacs, id, src, check_mac2, now);
}

MacVerdict CookieChecker::validate(const MessageResponse& msg, const StaticIdentity& id,
                                   const Endpoint& src, bool check_mac2, Nanos now) noexcept {
  return validate(wire::message_bytes(msg), kResponseMacs, id, src, check_mac2, now);
}

void CookieChecker::create_reply(MessageCookieReply& out, const std::uint8_t* msg,
                                 std::size_t macs_offset, std::uint32_t sender_index,
                                 const StaticIdentity& id, const Endpoint& src,
                                 Nanos now) noexcept {
  Secret<spec::kCookieLen> cookie;
  make_cookie(cookie, src, now);
  std::memset(&out, 0, sizeof out);
  out.header = wire::make_header(wire::MessageType::cookie_reply);
  out.receiver_index = sender_index;
  crypto::random_bytes(out.nonce, sizeof out.nonce);
  crypto::xaead_seal(out.encrypted_cookie, id.cookie_key.data(), out.nonce, cookie.data(),
                     spec::kCookieLen, ByteSpan(msg + macs_offset, spec::kMacLen));
}

void CookieChecker::create_reply(MessageCookieReply& out, const MessageInitiation& msg,
                                 const StaticIdentity& id, const Endpoint& src,
                                 Nanos now) noexcept {
  create_reply(out, wire::message_bytes(msg), kInitiationMacs, msg.sender_index, id, src, now);
}

void CookieChecker::create_reply(MessageCookieReply& out, const MessageResponse& msg,
                                 const StaticIdentity& id, const Endpoint& src,
                                 Nanos now) noexcept {
  create_reply(out, wire::message_bytes(msg), kResponseMacs, msg.sender_index, id, src, now);
}

}  // namespace meshgate::noise
