#include "meshgate/crypto/tai64n.hpp"

#include <cstring>

namespace meshgate::crypto {

Tai64n tai64n(WallTime t) noexcept {
  constexpr std::uint64_t kBase = (1ull << 62) + 10;
  constexpr std::uint32_t kWhitenMask = 0xFFFFFF;  // hide sub-16.7 ms timer precision
  Tai64n out;
  store_be64(out.data(), kBase + static_cast<std::uint64_t>(t.sec));
  store_be32(out.data() + 8, static_cast<std::uint32_t>(t.nsec) & ~kWhitenMask);
  return out;
}

bool tai64n_after(const Tai64n& a, const Tai64n& b) noexcept {
  return std::memcmp(a.data(), b.data(), a.size()) > 0;
}

}  // namespace meshgate::crypto
