// Single-message ChaCha20-Poly1305 and XChaCha20-Poly1305 (handshake and cookie fields).
#include "meshgate/crypto/aead.hpp"

#include <sodium.h>

#include "meshgate/crypto/random.hpp"

namespace meshgate::crypto {

namespace {

void wg_nonce(std::uint8_t nonce[12], std::uint64_t counter) {
  store_le32(nonce, 0);
  store_le64(nonce + 4, counter);
}

}  // namespace

void chacha20poly1305_seal(std::uint8_t* dst, const std::uint8_t key[32],
                           const std::uint8_t nonce[12], const std::uint8_t* src, std::size_t len,
                           ByteSpan ad) noexcept {
  crypto_init();
  crypto_aead_chacha20poly1305_ietf_encrypt_detached(dst, dst + len, nullptr, src, len, ad.data(),
                                                     ad.size(), nullptr, nonce, key);
}

bool chacha20poly1305_open(std::uint8_t* dst, const std::uint8_t key[32],
                           const std::uint8_t nonce[12], const std::uint8_t* src, std::size_t len,
                           ByteSpan ad) noexcept {
  crypto_init();
  return crypto_aead_chacha20poly1305_ietf_decrypt_detached(dst, nullptr, src, len, src + len,
                                                            ad.data(), ad.size(), nonce, key) == 0;
}

void aead_seal(std::uint8_t* dst, const SecretKey& key, std::uint64_t counter,
               const std::uint8_t* src, std::size_t len, ByteSpan ad) noexcept {
  std::uint8_t nonce[12];
  wg_nonce(nonce, counter);
  chacha20poly1305_seal(dst, key.data(), nonce, src, len, ad);
}

bool aead_open(std::uint8_t* dst, const SecretKey& key, std::uint64_t counter,
               const std::uint8_t* src, std::size_t len, ByteSpan ad) noexcept {
  std::uint8_t nonce[12];
  wg_nonce(nonce, counter);
  return chacha20poly1305_open(dst, key.data(), nonce, src, len, ad);
}

void xaead_seal(std::uint8_t* dst, const std::uint8_t key[32], const std::uint8_t nonce[24],
                const std::uint8_t* src, std::size_t len, ByteSpan ad) noexcept {
  crypto_init();
  crypto_aead_xchacha20poly1305_ietf_encrypt_detached(dst, dst + len, nullptr, src, len, ad.data(),
                                                      ad.size(), nullptr, nonce, key);
}

bool xaead_open(std::uint8_t* dst, const std::uint8_t key[32], const std::uint8_t nonce[24],
                const std::uint8_t* src, std::size_t len, ByteSpan ad) noexcept {
  crypto_init();
  return crypto_aead_xchacha20poly1305_ietf_decrypt_detached(dst, nullptr, src, len, src + len,
                                                             ad.data(), ad.size(), nonce, key) == 0;
}

std::string_view to_string(AeadBackend b) noexcept {
  return b == AeadBackend::ipsec_mb ? "ipsec-mb" : "libsodium";
}

}  // namespace meshgate::crypto
