#include "meshgate/crypto/random.hpp"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>

namespace meshgate::crypto {

void crypto_init() noexcept {
  static const bool ready = [] {
    if (sodium_init() < 0) {
      std::fputs("meshgate: libsodium failed to initialise\n", stderr);
      std::abort();
    }
    return true;
  }();
  (void)ready;
}

void random_bytes(void* out, std::size_t n) noexcept {
  crypto_init();
  randombytes_buf(out, n);
}

std::uint32_t random_u32() noexcept {
  crypto_init();
  return randombytes_random();
}

std::uint32_t random_uniform(std::uint32_t bound) noexcept {
  crypto_init();
  return randombytes_uniform(bound);
}

}  // namespace meshgate::crypto
