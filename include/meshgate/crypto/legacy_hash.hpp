// SHA-1, HMAC-SHA1 and MD5: only for protocols that fix them (STUN MESSAGE-INTEGRITY, RFC 8489
// 14.5, and its long-term credential key, RFC 8489 9.2.2). Never for anything new.
//
// SHA-1 and HMAC-SHA1 come from ipsec-mb (already linked for the AEAD batch path). No linked
// library offers a plain MD5: ipsec-mb 1.3 has only HMAC-MD5 and a single-block compression,
// libsodium, libb2 and DPDK have none. md5() is therefore our own RFC 1321 code, checked against
// the RFC 1321 A.5 test suite. It runs once per configured credential, never per packet.
#pragma once

#include <cstddef>

#include "meshgate/base/bytes.hpp"

namespace meshgate::crypto {

inline constexpr std::size_t kSha1Len = 20;
inline constexpr std::size_t kMd5Len = 16;

/// SHA-1 (FIPS 180-4) of `data`.
Bytes<kSha1Len> sha1(ByteSpan data) noexcept;

/// HMAC-SHA1 (RFC 2104) with a key of any length (hashed first when longer than 64 bytes).
Bytes<kSha1Len> hmac_sha1(ByteSpan key, ByteSpan data) noexcept;

/// MD5 (RFC 1321) of `data`.
Bytes<kMd5Len> md5(ByteSpan data) noexcept;

}  // namespace meshgate::crypto
