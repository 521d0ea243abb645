// Static identity and the mac1 / cookie key derivations (protocol.md 3.8, 3.9).
#include "meshgate/noise/identity.hpp"

#include "meshgate/crypto/blake2s.hpp"
#include "meshgate/crypto/x25519.hpp"
#include "meshgate/wire/messages.hpp"

namespace meshgate::noise {

namespace {

Key32 labelled_hash(std::string_view label, const Key32& pub) noexcept {
  ByteSpan l(reinterpret_cast<const std::uint8_t*>(label.data()), label.size());
  return crypto::blake2s({l, ByteSpan(pub)});
}

}  // namespace

Key32 mac1_key_for(const Key32& pub) noexcept {
  return labelled_hash(wire::spec::kLabelMac1, pub);
}

Key32 cookie_key_for(const Key32& pub) noexcept {
  return labelled_hash(wire::spec::kLabelCookie, pub);
}

void StaticIdentity::set_private_key(const SecretKey& priv) noexcept {
  if (priv.is_zero()) {
    clear();
    return;
  }
  private_key = priv;
  crypto::x25519_clamp(private_key);
  public_key = crypto::x25519_public(private_key);
  mac1_key = mac1_key_for(public_key);
  cookie_key = cookie_key_for(public_key);
  has_private_key = true;
}

void StaticIdentity::clear() noexcept {
  private_key.clear();
  public_key = {};
  mac1_key = {};
  cookie_key = {};
  has_private_key = false;
}

}  // namespace meshgate::noise
