// Batch ChaCha20-Poly1305 for the data path: one call per burst.
//
// ipsec-mb backend: one IMB_MGR per AeadBatch (so per thread); every packet of the burst becomes
// a job, submitted back to back so the multi-buffer code can interleave lanes, then flushed once.
// libsodium backend: the same contract, one packet after another.
#include <intel-ipsec-mb.h>
#include <sodium.h>

#include <array>
#include <cstdio>
#include <cstdlib>

#include "meshgate/crypto/aead.hpp"
#include "meshgate/crypto/random.hpp"

namespace meshgate::crypto {

struct AeadBatch::Impl {
  IMB_MGR* mgr = nullptr;
  alignas(64) std::array<std::array<std::uint8_t, 16>, kMaxBurst> iv{};
  alignas(64) std::array<std::array<std::uint8_t, kAeadTagLen>, kMaxBurst> computed_tag{};

  Impl() {
    mgr = alloc_mb_mgr(0);
    if (mgr == nullptr) {
      std::fputs("meshgate: ipsec-mb manager allocation failed\n", stderr);
      std::abort();
    }
    init_mb_mgr_auto(mgr, nullptr);
  }
  ~Impl() { free_mb_mgr(mgr); }
};

namespace {

void set_nonce(std::uint8_t* iv, std::uint64_t counter) {
  store_le32(iv, 0);
  store_le64(iv + 4, counter);
}

// Fills one ipsec-mb job from an AeadJob. `tag_out` is where the library writes the tag.
void fill_job(IMB_JOB* j, const AeadJob& a, const std::uint8_t* iv, std::uint8_t* tag_out,
              bool encrypt) {
  j->cipher_mode = IMB_CIPHER_CHACHA20_POLY1305;
  j->hash_alg = IMB_AUTH_CHACHA20_POLY1305;
  j->cipher_direction = encrypt ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
  j->chain_order = encrypt ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
  j->enc_keys = a.key;
  j->dec_keys = a.key;
  j->key_len_in_bytes = 32;
  j->src = a.src;
  j->dst = a.dst;
  j->cipher_start_src_offset_in_bytes = 0;
  j->msg_len_to_cipher_in_bytes = a.len;
  j->hash_start_src_offset_in_bytes = 0;
  j->msg_len_to_hash_in_bytes = a.len;
  j->iv = iv;
  j->iv_len_in_bytes = 12;
  j->u.CHACHA20_POLY1305.aad = a.aad;
  j->u.CHACHA20_POLY1305.aad_len_in_bytes = a.aad_len;
  j->auth_tag_output = tag_out;
  j->auth_tag_output_len_in_bytes = kAeadTagLen;
}

}  // namespace

AeadBatch::AeadBatch(AeadBackend backend) : backend_(backend) {
  crypto_init();
  if (backend_ == AeadBackend::ipsec_mb) impl_ = std::make_unique<Impl>();
}

AeadBatch::~AeadBatch() = default;

std::string_view AeadBatch::arch() const noexcept {
  if (!impl_) return "portable";
  switch (impl_->mgr->used_arch) {
    case IMB_ARCH_AVX512: return "avx512";
    case IMB_ARCH_AVX2: return "avx2";
    case IMB_ARCH_AVX: return "avx";
    case IMB_ARCH_SSE: return "sse";
    default: return "other";
  }
}

void AeadBatch::seal(std::span<AeadJob> jobs) noexcept {
  if (backend_ == AeadBackend::sodium) {
    for (AeadJob& a : jobs) {
      std::uint8_t iv[12];
      set_nonce(iv, a.counter);
      crypto_aead_chacha20poly1305_ietf_encrypt_detached(a.dst, a.tag, nullptr, a.src, a.len,
                                                         a.aad, a.aad_len, nullptr, iv, a.key);
      a.ok = true;
    }
    return;
  }
  IMB_MGR* m = impl_->mgr;
  for (std::size_t base = 0; base < jobs.size(); base += kMaxBurst) {
    std::size_t n = std::min(kMaxBurst, jobs.size() - base);
    for (std::size_t i = 0; i < n; ++i) {
      AeadJob& a = jobs[base + i];
      set_nonce(impl_->iv[i].data(), a.counter);
      IMB_JOB* j = IMB_GET_NEXT_JOB(m);
      fill_job(j, a, impl_->iv[i].data(), a.tag, true);
      j->user_data = &a;
      IMB_SUBMIT_JOB_NOCHECK(m);
    }
    while (IMB_FLUSH_JOB(m) != nullptr) {
    }
    for (std::size_t i = 0; i < n; ++i) jobs[base + i].ok = true;
  }
}

std::size_t AeadBatch::open(std::span<AeadJob> jobs) noexcept {
  std::size_t good = 0;
  if (backend_ == AeadBackend::sodium) {
    for (AeadJob& a : jobs) {
      std::uint8_t iv[12];
      set_nonce(iv, a.counter);
      a.ok = crypto_aead_chacha20poly1305_ietf_decrypt_detached(a.dst, nullptr, a.src, a.len,
                                                                a.tag, a.aad, a.aad_len, iv,
                                                                a.key) == 0;
      good += a.ok;
    }
    return good;
  }
  IMB_MGR* m = impl_->mgr;
  for (std::size_t base = 0; base < jobs.size(); base += kMaxBurst) {
    std::size_t n = std::min(kMaxBurst, jobs.size() - base);
    for (std::size_t i = 0; i < n; ++i) {
      AeadJob& a = jobs[base + i];
      set_nonce(impl_->iv[i].data(), a.counter);
      IMB_JOB* j = IMB_GET_NEXT_JOB(m);
      fill_job(j, a, impl_->iv[i].data(), impl_->computed_tag[i].data(), false);
      IMB_SUBMIT_JOB_NOCHECK(m);
    }
    while (IMB_FLUSH_JOB(m) != nullptr) {
    }
    for (std::size_t i = 0; i < n; ++i) {
      AeadJob& a = jobs[base + i];
      a.ok = ct_equal(impl_->computed_tag[i].data(), a.tag, kAeadTagLen);
      good += a.ok;
    }
  }
  return good;
}

}  // namespace meshgate::crypto
