// mac1, mac2 and cookie replies: WireGuard's DoS mitigation (protocol.md 3.8,
// 3.9; whitepaper section 5.4.7).
//
// Two sides, as in the kernel's cookie.c:
//   - CookieSender, one per peer: puts mac1/mac2 on the handshake messages we send to that
//     peer, remembers the last mac1, and takes the cookie from a cookie reply;
//   - CookieChecker, one per interface: validates mac1 (always, before any DH) and mac2 (only
//     under load), and makes cookie replies from a secret R_m that it renews every 120 s.
// Both are control-thread objects. Time is passed in (monotonic nanoseconds).
#pragma once

#include <cstddef>
#include <cstdint>

#include "meshgate/base/bytes.hpp"
#include "meshgate/base/ip.hpp"
#include "meshgate/base/secret.hpp"
#include "meshgate/base/time.hpp"
#include "meshgate/noise/drop.hpp"
#include "meshgate/noise/identity.hpp"
#include "meshgate/wire/messages.hpp"

namespace meshgate::noise {

using Mac16 = Bytes<wire::spec::kMacLen>;

class CookieSender {
 public:
  /// Derives the peer's mac1 key and cookie-reply key from its public key (protocol.md 3.8, 3.9)
  /// and forgets any cookie.
  void init(const Key32& peer_public) noexcept;

  /// Computes mac1 (and mac2 when we hold a cookie younger than 120 - 5 s) of a message
  /// about to be sent to the peer, and remembers mac1 for the cookie reply (protocol.md 3.8).
  void add_macs(wire::MessageInitiation& msg, Nanos now) noexcept;
  void add_macs(wire::MessageResponse& msg, Nanos now) noexcept;

  /// Decrypts a cookie reply with ad = the last mac1 we sent (protocol.md 3.9). On success the
  /// cookie is stored with birth time `now` and further replies are refused until the next
  /// mac1 goes out. The caller found this peer by msg.receiver_index.
  HandshakeDrop consume_reply(const wire::MessageCookieReply& msg, Nanos now) noexcept;

  /// True when add_macs would fill mac2 at `now`.
  bool has_fresh_cookie(Nanos now) const noexcept;

 private:
  void add_macs(std::uint8_t* msg, std::size_t macs_offset, Nanos now) noexcept;

  Key32 mac1_key_{};
  Key32 cookie_decryption_key_{};
  Secret<wire::spec::kCookieLen> cookie_;
  Nanos cookie_birth_ = 0;
  bool has_cookie_ = false;
  Mac16 last_mac1_sent_{};
  bool have_sent_mac1_ = false;
};

/// What CookieChecker::validate found, in the order protocol.md 3.8 checks them.
enum class MacVerdict : std::uint8_t {
  invalid_mac1,  // drop silently
  valid_mac1,    // mac2 not checked (not under load) or not valid (under load)
  valid_mac1_and_mac2,
};

class CookieChecker {
 public:
  /// mac1 with the interface's mac1 key; then, if check_mac2 (under load), mac2 with the
  /// cookie this source address would get now. Constant-time compares.
  MacVerdict validate(const wire::MessageInitiation& msg, const StaticIdentity& id,
                      const Endpoint& src, bool check_mac2, Nanos now) noexcept;
  MacVerdict validate(const wire::MessageResponse& msg, const StaticIdentity& id,
                      const Endpoint& src, bool check_mac2, Nanos now) noexcept;

  /// A cookie reply to a handshake message that failed mac2 under load (protocol.md 3.9):
  /// receiver = the message's sender index, XAEAD(cookie key, random nonce, cookie,
  /// ad = the message's mac1). Send it to `src`; do not touch any peer's endpoint.
  void create_reply(wire::MessageCookieReply& out, const wire::MessageInitiation& msg,
                    const StaticIdentity& id, const Endpoint& src, Nanos now) noexcept;
  void create_reply(wire::MessageCookieReply& out, const wire::MessageResponse& msg,
                    const StaticIdentity& id, const Endpoint& src, Nanos now) noexcept;

 private:
  MacVerdict validate(const std::uint8_t* msg, std::size_t macs_offset, const StaticIdentity& id,
                      const Endpoint& src, bool check_mac2, Nanos now) noexcept;
  void create_reply(wire::MessageCookieReply& out, const std::uint8_t* msg, std::size_t macs_offset,
                    std::uint32_t sender_index, const StaticIdentity& id, const Endpoint& src,
                    Nanos now) noexcept;
  /// cookie = MAC(R_m, address bytes || port as BE16), renewing R_m when 120 s old.
  void make_cookie(Secret<wire::spec::kCookieLen>& out, const Endpoint& src, Nanos now) noexcept;

  SecretKey secret_;  // R_m
  Nanos secret_birth_ = 0;
  bool has_secret_ = false;
};

}  // namespace meshgate::noise
