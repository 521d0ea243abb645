// BLAKE2s (RFC 7693) as WireGuard uses it: HASH, keyed MAC with 16-byte output, HMAC, and
// the HKDF chain (protocol.md 0). Backed by libb2.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>

#include "meshgate/base/bytes.hpp"
#include "meshgate/base/secret.hpp"

namespace meshgate::crypto {

constexpr std::size_t kHashLen = 32;
constexpr std::size_t kMacLen = 16;

using Parts = std::initializer_list<ByteSpan>;

/// HASH(parts...): unkeyed BLAKE2s-256 over the concatenation.
void blake2s(std::span<std::uint8_t, kHashLen> out, Parts parts) noexcept;
Key32 blake2s(Parts parts) noexcept;

/// Generic BLAKE2s with any output length 1..32 and optional key (0..32 bytes): the native
/// keyed mode, where key and output length are part of the parameter block.
void blake2s_keyed(MutByteSpan out, ByteSpan key, Parts parts) noexcept;

/// MAC(key, parts...): keyed BLAKE2s, 16-byte output. Not HMAC, not a truncated digest.
void mac16(std::span<std::uint8_t, kMacLen> out, ByteSpan key, Parts parts) noexcept;

/// HMAC-BLAKE2s-256 (RFC 2104, 64-byte block).
void hmac(std::span<std::uint8_t, kHashLen> out, ByteSpan key, Parts parts) noexcept;

/// KDF1/2/3 (protocol.md 0): prk = HMAC(key, input); T1 = HMAC(prk, 0x01);
/// T2 = HMAC(prk, T1 || 0x02); T3 = HMAC(prk, T2 || 0x03). Pass nullptr for outputs not
/// wanted (t1 is always required). Outputs may alias `key`.
void kdf(SecretKey* t1, SecretKey* t2, SecretKey* t3, const SecretKey& key,
         ByteSpan input) noexcept;
/// The same chain with a key of any length (HMAC hashes keys longer than a block). WireGuard
/// always keys it with a 32-byte chaining key; other lengths appear in the reference test vectors.
void kdf(SecretKey* t1, SecretKey* t2, SecretKey* t3, ByteSpan key, ByteSpan input) noexcept;

}  // namespace meshgate::crypto
