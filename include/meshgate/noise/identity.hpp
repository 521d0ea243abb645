// The interface's static identity (protocol.md 3, 3.8, 3.9, 3.10): its X25519
// key pair and the two keys derived from its public key that every handshake message needs,
// computed once when the private key is set.
// Owned by the control thread; replaced as a whole when the private key changes (then each
// peer's Handshake must be reconfigured so its static-static DH is recomputed).
#pragma once

#include "meshgate/base/bytes.hpp"
#include "meshgate/base/secret.hpp"

namespace meshgate::noise {

/// HASH(LABEL_MAC1 || pub): the key of mac1 on messages sent *to* the owner of `pub`.
Key32 mac1_key_for(const Key32& pub) noexcept;
/// HASH(LABEL_COOKIE || pub): the XAEAD key of cookie replies sent *by* the owner of `pub`.
Key32 cookie_key_for(const Key32& pub) noexcept;

struct StaticIdentity {
  SecretKey private_key;  // clamped, as WireGuard stores and reports it
  Key32 public_key{};
  Key32 mac1_key{};    // checks mac1 of messages we receive
  Key32 cookie_key{};  // encrypts the cookie replies we send
  bool has_private_key = false;

  /// Clamps the key and derives the public key, mac1 key and cookie key. An all-zero key
  /// (what `wg setconf` sends when the file has none) clears the identity instead.
  void set_private_key(const SecretKey& priv) noexcept;
  void clear() noexcept;
};

}  // namespace meshgate::noise
