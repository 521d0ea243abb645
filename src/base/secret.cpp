#include "meshgate/base/secret.hpp"

#include <sodium.h>

namespace meshgate {

void secure_wipe(void* p, std::size_t n) noexcept {
  sodium_memzero(p, n);
}

bool ct_equal(const void* a, const void* b, std::size_t n) noexcept {
  return sodium_memcmp(a, b, n) == 0;
}

bool ct_is_zero(const void* p, std::size_t n) noexcept {
  return sodium_is_zero(static_cast<const unsigned char*>(p), n) == 1;
}

}  // namespace meshgate
