// Fixed test keys, and $K<n> / $PUB1 substitution in config texts.
#pragma once

#include <string>

#include "meshgate/base/bytes.hpp"
#include "meshgate/base/secret.hpp"
#include "meshgate/crypto/x25519.hpp"

namespace meshgate::config::test {

/// 32 bytes of `seed`, base64: a syntactically valid key (X25519 accepts any 32 bytes).
inline Key32 key(int seed) {
  Key32 k;
  k.fill(static_cast<std::uint8_t>(seed));
  return k;
}
inline std::string key_b64(int seed) {
  return to_base64(as_bytes(key(seed)));
}

/// The public key that belongs to private key $K1 (clamped, as the gateway will use it).
inline std::string pub1_b64() {
  Key32 raw = key(1);
  SecretKey priv = SecretKey::from(std::span<const std::uint8_t, 32>(raw));
  crypto::x25519_clamp(priv);
  return to_base64(as_bytes(crypto::x25519_public(priv)));
}

/// Replaces $K1..$K9 with key_b64(n) and $PUB1 with pub1_b64().
inline std::string expand(std::string s) {
  for (std::size_t at = s.find('$'); at != std::string::npos; at = s.find('$', at)) {
    if (s.compare(at, 5, "$PUB1") == 0) {
      s.replace(at, 5, pub1_b64());
    } else if (s.compare(at, 2, "$K") == 0 && at + 2 < s.size()) {
      s.replace(at, 3, key_b64(s[at + 2] - '0'));
    } else {
      ++at;
    }
  }
  return s;
}

}  // namespace meshgate::config::test
