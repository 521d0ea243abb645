// X25519 (RFC 7748) via libsodium, with WireGuard's rule: an all-zero shared secret is an error.
#pragma once

#include "meshgate/base/bytes.hpp"
#include "meshgate/base/secret.hpp"

namespace meshgate::crypto {

/// Clamps a private scalar in place (clear bits 0-2 of byte 0, clear bit 7 and set bit 6 of
/// byte 31), as WireGuard stores and reports private keys.
void x25519_clamp(SecretKey& priv) noexcept;

/// DH_GENERATE(): 32 random bytes, clamped.
SecretKey x25519_generate() noexcept;

/// Public key for a private key.
Key32 x25519_public(const SecretKey& priv) noexcept;

/// DH(priv, pub). Returns false (and leaves `out` zeroed) when the result is all zero, i.e. the
/// peer's point has small order; callers must abort the handshake then.
[[nodiscard]] bool x25519(SecretKey& out, const SecretKey& priv, const Key32& pub) noexcept;

}  // namespace meshgate::crypto
