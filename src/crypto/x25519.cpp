#include "meshgate/crypto/x25519.hpp"

#include <sodium.h>

#include "meshgate/crypto/random.hpp"

namespace meshgate::crypto {

void x25519_clamp(SecretKey& priv) noexcept {
  priv.data()[0] &= 248;
  priv.data()[31] = static_cast<std::uint8_t>((priv.data()[31] & 127) | 64);
}

SecretKey x25519_generate() noexcept {
  SecretKey k;
  random_bytes(k.data(), k.size());
  x25519_clamp(k);
  return k;
}

Key32 x25519_public(const SecretKey& priv) noexcept {
  crypto_init();
  Key32 pub{};
  crypto_scalarmult_base(pub.data(), priv.data());
  return pub;
}

bool x25519(SecretKey& out, const SecretKey& priv, const Key32& pub) noexcept {
  crypto_init();
  // libsodium returns -1 when the result is all zero (a small-order point).
  if (crypto_scalarmult(out.data(), priv.data(), pub.data()) != 0 || out.is_zero()) {
    out.clear();
    return false;
  }
  return true;
}

}  // namespace meshgate::crypto
