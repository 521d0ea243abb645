// Handshake rate limiter: token bucket per source (kernel ratelimiter.c semantics).
#include "meshgate/peer/ratelimiter.hpp"

#include <sodium.h>

#include <algorithm>

#include "meshgate/crypto/random.hpp"

namespace meshgate::peer {

std::size_t RateLimiter::Hasher::operator()(const Source& s) const noexcept {
  std::uint8_t in[9];
  store_le64(in, s.addr);
  in[8] = s.v6 ? 6 : 4;
  std::uint8_t out[crypto_shorthash_BYTES];
  crypto_shorthash(out, in, sizeof in, key.data());
  return static_cast<std::size_t>(load_le64(out));
}

RateLimiter::RateLimiter(std::size_t max_entries)
    : table_(0, Hasher{[] {
               Bytes<16> k;
               crypto::random_bytes(k.data(), k.size());  // also initialises libsodium
               return k;
             }()}),
      max_entries_(max_entries) {
  static_assert(crypto_shorthash_KEYBYTES == 16);
  table_.reserve(std::min<std::size_t>(max_entries_, 4096));
}

bool RateLimiter::allow(std::uint32_t src_v4, Nanos now) {
  return allow(Source{src_v4, false}, now);
}

bool RateLimiter::allow(const Ip6& src_v6, Nanos now) {
  return allow(Source{src_v6.hi, true}, now);
}

bool RateLimiter::allow(const Source& src, Nanos now) {
  if (now - last_gc_ >= kEntryMaxAge) gc(now);
  auto it = table_.find(src);
  if (it == table_.end()) {
    if (table_.size() >= max_entries_) return false;
    table_.emplace(src, Bucket{now, kTokenMax - kPacketCost});
    return true;
  }
  Bucket& b = it->second;
  // Clamped: a monotonic clock never runs back, and a long idle time must not overflow.
  const Nanos elapsed = std::clamp<Nanos>(now - b.last, 0, kTokenMax);
  b.last = now;
  b.tokens = std::min(b.tokens + elapsed, kTokenMax);
  if (b.tokens < kPacketCost) return false;
  b.tokens -= kPacketCost;
  return true;
}

void RateLimiter::gc(Nanos now) {
  last_gc_ = now;
  std::erase_if(table_, [now](const auto& kv) { return now - kv.second.last >= kEntryMaxAge; });
}

}  // namespace meshgate::peer
