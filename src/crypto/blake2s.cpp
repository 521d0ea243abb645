// HASH, MAC, HMAC and KDF of WireGuard (protocol.md 0) on top of libb2.
#include "meshgate/crypto/blake2s.hpp"

#include <blake2.h>

#include <cassert>

namespace meshgate::crypto {

namespace {

constexpr std::size_t kBlockLen = 64;

void absorb(blake2s_state& st, Parts parts) {
  for (ByteSpan p : parts) {
    if (!p.empty()) blake2s_update(&st, p.data(), p.size());
  }
}

}  // namespace

void blake2s_keyed(MutByteSpan out, ByteSpan key, Parts parts) noexcept {
  assert(!out.empty() && out.size() <= 32 && key.size() <= 32);
  blake2s_state st;
  if (key.empty()) {
    blake2s_init(&st, out.size());
  } else {
    blake2s_init_key(&st, out.size(), key.data(), key.size());
  }
  absorb(st, parts);
  blake2s_final(&st, out.data(), out.size());
  secure_wipe(&st, sizeof st);
}

void blake2s(std::span<std::uint8_t, kHashLen> out, Parts parts) noexcept {
  blake2s_keyed(out, {}, parts);
}

Key32 blake2s(Parts parts) noexcept {
  Key32 out;
  blake2s(out, parts);
  return out;
}

void mac16(std::span<std::uint8_t, kMacLen> out, ByteSpan key, Parts parts) noexcept {
  blake2s_keyed(out, key, parts);
}

void hmac(std::span<std::uint8_t, kHashLen> out, ByteSpan key, Parts parts) noexcept {
  // RFC 2104 with BLAKE2s-256: keys longer than a block are hashed first.
  std::uint8_t k[kBlockLen] = {};
  if (key.size() > kBlockLen) {
    blake2s(std::span<std::uint8_t, kHashLen>(k, kHashLen), {key});
  } else if (!key.empty()) {
    std::memcpy(k, key.data(), key.size());
  }
  std::uint8_t pad[kBlockLen];
  for (std::size_t i = 0; i < kBlockLen; ++i) pad[i] = k[i] ^ 0x36;

  blake2s_state st;
  blake2s_init(&st, kHashLen);
  blake2s_update(&st, pad, kBlockLen);
  absorb(st, parts);
  std::uint8_t inner[kHashLen];
  blake2s_final(&st, inner, kHashLen);

  for (std::size_t i = 0; i < kBlockLen; ++i) pad[i] = k[i] ^ 0x5c;
  blake2s_init(&st, kHashLen);
  blake2s_update(&st, pad, kBlockLen);
  blake2s_update(&st, inner, kHashLen);
  blake2s_final(&st, out.data(), kHashLen);

  secure_wipe(k, sizeof k);
  secure_wipe(pad, sizeof pad);
  secure_wipe(inner, sizeof inner);
  secure_wipe(&st, sizeof st);
}

void kdf(SecretKey* t1, SecretKey* t2, SecretKey* t3, const SecretKey& key,
         ByteSpan input) noexcept {
  kdf(t1, t2, t3, ByteSpan(key.span()), input);
}

void kdf(SecretKey* t1, SecretKey* t2, SecretKey* t3, ByteSpan key, ByteSpan input) noexcept {
  assert(t1 != nullptr);
  SecretKey prk;
  SecretKey out1;
  SecretKey out2;
  SecretKey out3;
  const std::uint8_t one = 1;
  const std::uint8_t two = 2;
  const std::uint8_t three = 3;
  hmac(prk.span(), key, {input});
  hmac(out1.span(), prk.span(), {ByteSpan(&one, 1)});
  if (t2 != nullptr || t3 != nullptr)
    hmac(out2.span(), prk.span(), {out1.span(), ByteSpan(&two, 1)});
  if (t3 != nullptr) hmac(out3.span(), prk.span(), {out2.span(), ByteSpan(&three, 1)});
  *t1 = out1;
  if (t2 != nullptr) *t2 = out2;
  if (t3 != nullptr) *t3 = out3;
}

}  // namespace meshgate::crypto
