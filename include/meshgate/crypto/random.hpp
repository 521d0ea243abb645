// Cryptographically secure randomness (libsodium's randombytes, getrandom underneath).
#pragma once

#include <cstddef>
#include <cstdint>

namespace meshgate::crypto {

void random_bytes(void* out, std::size_t n) noexcept;
std::uint32_t random_u32() noexcept;
/// Uniform in [0, bound).
std::uint32_t random_uniform(std::uint32_t bound) noexcept;

/// Initialises libsodium once; every entry point of the crypto module calls it, so callers
/// need not. Aborts the process if libsodium cannot start (no entropy source).
void crypto_init() noexcept;

}  // namespace meshgate::crypto
