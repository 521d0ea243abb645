// ChaCha20-Poly1305 (RFC 8439) with WireGuard's nonce: 4 zero bytes || LE64(counter).
//
// Two shapes:
//  - single messages (handshake fields): seal()/open() below, libsodium;
//  - batches (the data path): AeadBatch, one object per thread, one call per burst, with an
//    ipsec-mb backend (jobs for the whole burst) and a libsodium backend (portable fallback).
// The tag is checked in constant time before a job reports ok.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "meshgate/base/bytes.hpp"
#include "meshgate/base/secret.hpp"

namespace meshgate::crypto {

constexpr std::size_t kAeadTagLen = 16;
constexpr std::size_t kAeadKeyLen = 32;

/// AEAD(key, counter, plain, ad): writes len bytes of ciphertext to dst and the tag after it
/// (dst must hold len + 16). dst may equal src.
void aead_seal(std::uint8_t* dst, const SecretKey& key, std::uint64_t counter,
               const std::uint8_t* src, std::size_t len, ByteSpan ad) noexcept;

/// Opens len + 16 bytes of ciphertext||tag at src into dst (len bytes). False on a bad tag;
/// dst is then unspecified and must not be used.
[[nodiscard]] bool aead_open(std::uint8_t* dst, const SecretKey& key, std::uint64_t counter,
                             const std::uint8_t* src, std::size_t len, ByteSpan ad) noexcept;

/// The bare RFC 8439 section 2.8 construction with a caller-built 96-bit nonce. WireGuard code
/// uses aead_seal/aead_open above; these exist for known-answer tests (the RFC's own vectors use
/// nonces that are not of WireGuard's form) and for any protocol that needs another nonce layout.
void chacha20poly1305_seal(std::uint8_t* dst, const std::uint8_t key[32],
                           const std::uint8_t nonce[12], const std::uint8_t* src, std::size_t len,
                           ByteSpan ad) noexcept;
[[nodiscard]] bool chacha20poly1305_open(std::uint8_t* dst, const std::uint8_t key[32],
                                         const std::uint8_t nonce[12], const std::uint8_t* src,
                                         std::size_t len, ByteSpan ad) noexcept;

/// One packet of a batch. The caller owns every buffer until the batch call returns.
struct AeadJob {
  const std::uint8_t* key = nullptr;  // 32 bytes
  std::uint64_t counter = 0;          // nonce = 0^4 || LE64(counter)
  const std::uint8_t* src = nullptr;  // len bytes (plaintext to seal, ciphertext to open)
  std::uint8_t* dst = nullptr;        // len bytes; may equal src (in place)
  std::uint32_t len = 0;
  const std::uint8_t* aad = nullptr;  // WireGuard transport data has none
  std::uint32_t aad_len = 0;
  std::uint8_t* tag = nullptr;  // seal: written; open: the received tag, read
  bool ok = false;              // open: tag verified (seal always sets true)
};

enum class AeadBackend { ipsec_mb, sodium };

std::string_view to_string(AeadBackend b) noexcept;

/// Batch AEAD for one thread. Not thread-safe: each worker owns one.
class AeadBatch {
 public:
  /// Largest batch a caller should hand over at once; any size works, and the backends cut
  /// spans into chunks of at most this size (ipsec-mb: of its own burst limit, 128).
  static constexpr std::size_t kMaxBurst = 256;

  explicit AeadBatch(AeadBackend backend);
  ~AeadBatch();
  AeadBatch(const AeadBatch&) = delete;
  AeadBatch& operator=(const AeadBatch&) = delete;

  AeadBackend backend() const noexcept { return backend_; }
  /// For the ipsec-mb backend, the instruction set the library picked ("avx512", "avx2", ...).
  std::string_view arch() const noexcept;

  /// Encrypts every job; sets ok = true.
  void seal(std::span<AeadJob> jobs) noexcept;
  /// Decrypts every job and verifies its tag in constant time; returns the number that verified.
  std::size_t open(std::span<AeadJob> jobs) noexcept;

 private:
  struct Impl;
  AeadBackend backend_;
  std::unique_ptr<Impl> impl_;
};

/// XAEAD(key, nonce24, plain, ad) (XChaCha20-Poly1305), for the cookie reply only.
void xaead_seal(std::uint8_t* dst, const std::uint8_t key[32], const std::uint8_t nonce[24],
                const std::uint8_t* src, std::size_t len, ByteSpan ad) noexcept;
[[nodiscard]] bool xaead_open(std::uint8_t* dst, const std::uint8_t key[32],
                              const std::uint8_t nonce[24], const std::uint8_t* src,
                              std::size_t len, ByteSpan ad) noexcept;

}  // namespace meshgate::crypto
