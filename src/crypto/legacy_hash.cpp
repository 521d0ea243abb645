// SHA-1 / HMAC-SHA1 through ipsec-mb, MD5 from RFC 1321 (see legacy_hash.hpp for why).
#include "meshgate/crypto/legacy_hash.hpp"

#include <intel-ipsec-mb.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "meshgate/base/secret.hpp"

namespace meshgate::crypto {

namespace {

constexpr std::size_t kBlock = 64;  // SHA-1 and MD5 block size

// One ipsec-mb manager per thread: the manager holds per-lane state and is not thread-safe.
// STUN runs on the control thread, so this is allocated once there.
struct ThreadMgr {
  IMB_MGR* mgr = nullptr;
  ThreadMgr() {
    mgr = alloc_mb_mgr(0);
    if (mgr == nullptr) {
      std::fputs("meshgate: ipsec-mb manager allocation failed\n", stderr);
      std::abort();
    }
    init_mb_mgr_auto(mgr, nullptr);
  }
  ~ThreadMgr() { free_mb_mgr(mgr); }
  ThreadMgr(const ThreadMgr&) = delete;
  ThreadMgr& operator=(const ThreadMgr&) = delete;
};

IMB_MGR* thread_mgr() {
  thread_local ThreadMgr m;
  return m.mgr;
}

// RFC 2104's two pads: the key (hashed first when longer than a block) XOR 0x36 and 0x5c.
void hmac_pads(IMB_MGR* mgr, ByteSpan key, std::uint8_t* ipad, std::uint8_t* opad) {
  Bytes<kSha1Len> hashed{};
  if (key.size() > kBlock) {
    IMB_SHA1(mgr, key.data(), key.size(), hashed.data());
    key = as_bytes(hashed);
  }
  std::memset(ipad, 0x36, kBlock);
  std::memset(opad, 0x5c, kBlock);
  for (std::size_t i = 0; i < key.size(); ++i) {
    ipad[i] ^= key[i];
    opad[i] ^= key[i];
  }
}

// ipsec-mb's HMAC job refuses an empty message, so that case hashes the pads directly.
Bytes<kSha1Len> hmac_sha1_empty(IMB_MGR* mgr, const std::uint8_t* ipad, const std::uint8_t* opad) {
  std::uint8_t outer[kBlock + kSha1Len];
  std::memcpy(outer, opad, kBlock);
  IMB_SHA1(mgr, ipad, kBlock, outer + kBlock);
  Bytes<kSha1Len> out{};
  IMB_SHA1(mgr, outer, sizeof outer, out.data());
  return out;
}

// --- MD5 (RFC 1321 section 3) -----------------------------------------------------------------

struct Md5Table {
  std::uint32_t k[64];
  Md5Table() {
    // RFC 1321 3.4: T[i] = floor(2^32 * |sin(i)|), i in radians, i = 1..64. A double holds
    // enough bits for all 64 values to come out exact (the test vectors check it).
    for (int i = 0; i < 64; ++i) {
      k[i] = static_cast<std::uint32_t>(std::floor(std::ldexp(std::fabs(std::sin(i + 1.0)), 32)));
    }
  }
};

constexpr int kShift[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

std::uint32_t rotl(std::uint32_t x, int s) {
  return (x << s) | (x >> (32 - s));
}

void md5_block(std::uint32_t st[4], const std::uint8_t* block) {
  static const Md5Table table;
  std::uint32_t x[16];
  for (int i = 0; i < 16; ++i) x[i] = load_le32(block + 4 * i);
  std::uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
  for (int i = 0; i < 64; ++i) {
    const int round = i / 16;
    std::uint32_t f;
    int g;
    switch (round) {
      case 0:
        f = (b & c) | (~b & d), g = i;
        break;
      case 1:
        f = (d & b) | (~d & c), g = (5 * i + 1) % 16;
        break;
      case 2:
        f = b ^ c ^ d, g = (3 * i + 5) % 16;
        break;
      default:
        f = c ^ (b | ~d), g = (7 * i) % 16;
        break;
    }
    const std::uint32_t next = b + rotl(a + f + table.k[i] + x[g], kShift[round][i % 4]);
    a = d;
    d = c;
    c = b;
    b = next;
  }
  st[0] += a;
  st[1] += b;
  st[2] += c;
  st[3] += d;
}

}  // namespace

Bytes<kSha1Len> sha1(ByteSpan data) noexcept {
  Bytes<kSha1Len> out{};
  IMB_SHA1(thread_mgr(), data.data(), data.size(), out.data());
  return out;
}

Bytes<kSha1Len> hmac_sha1(ByteSpan key, ByteSpan data) noexcept {
  IMB_MGR* mgr = thread_mgr();
  alignas(16) std::uint8_t ipad[kBlock];
  alignas(16) std::uint8_t opad[kBlock];
  hmac_pads(mgr, key, ipad, opad);
  if (data.empty()) return hmac_sha1_empty(mgr, ipad, opad);

  // The job takes both pads already run through one SHA-1 block, so a long message is hashed
  // in place rather than copied behind the pad.
  alignas(16) std::uint8_t ipad_state[kSha1Len];
  alignas(16) std::uint8_t opad_state[kSha1Len];
  IMB_SHA1_ONE_BLOCK(mgr, ipad, ipad_state);
  IMB_SHA1_ONE_BLOCK(mgr, opad, opad_state);
  Bytes<kSha1Len> out{};
  IMB_JOB* j = IMB_GET_NEXT_JOB(mgr);
  j->cipher_mode = IMB_CIPHER_NULL;
  j->cipher_direction = IMB_DIR_ENCRYPT;
  j->chain_order = IMB_ORDER_HASH_CIPHER;
  j->hash_alg = IMB_AUTH_HMAC_SHA_1;
  j->src = data.data();
  j->dst = nullptr;
  j->cipher_start_src_offset_in_bytes = 0;
  j->msg_len_to_cipher_in_bytes = 0;
  j->hash_start_src_offset_in_bytes = 0;
  j->msg_len_to_hash_in_bytes = data.size();
  j->auth_tag_output = out.data();
  j->auth_tag_output_len_in_bytes = kSha1Len;
  j->u.HMAC._hashed_auth_key_xor_ipad = ipad_state;
  j->u.HMAC._hashed_auth_key_xor_opad = opad_state;
  // One job in flight: a multi-lane manager may hold it back until flushed.
  IMB_JOB* done = IMB_SUBMIT_JOB(mgr);
  if (done == nullptr) done = IMB_FLUSH_JOB(mgr);
  if (done == nullptr || done->status != IMB_STATUS_COMPLETED) {
    std::fputs("meshgate: ipsec-mb HMAC-SHA1 job failed\n", stderr);
    std::abort();  // a rejected job is a programming error here, never input-dependent
  }
  return out;
}

Bytes<kMd5Len> md5(ByteSpan data) noexcept {
  std::uint32_t st[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
  std::size_t whole = data.size() / kBlock * kBlock;
  for (std::size_t off = 0; off < whole; off += kBlock) md5_block(st, data.data() + off);

  // RFC 1321 3.1-3.2: a 0x80 byte, zeros to 56 mod 64, then the bit length little-endian.
  std::uint8_t tail[2 * kBlock] = {};
  const std::size_t rest = data.size() - whole;
  if (rest != 0) std::memcpy(tail, data.data() + whole, rest);
  tail[rest] = 0x80;
  const std::size_t tail_len = rest < 56 ? kBlock : 2 * kBlock;
  store_le64(tail + tail_len - 8, static_cast<std::uint64_t>(data.size()) * 8);
  for (std::size_t off = 0; off < tail_len; off += kBlock) md5_block(st, tail + off);
  secure_wipe(tail, sizeof tail);  // the input is usually a password

  Bytes<kMd5Len> out{};
  for (int i = 0; i < 4; ++i) store_le32(out.data() + 4 * i, st[i]);
  return out;
}

}  // namespace meshgate::crypto
