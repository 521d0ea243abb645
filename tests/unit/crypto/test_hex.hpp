// Hex helpers for the crypto known-answer tests. Vectors are typed as the standards print them,
// so whitespace inside a hex string is ignored.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "meshgate/base/bytes.hpp"

namespace meshgate::crypto::test {

inline std::vector<std::uint8_t> unhex(std::string_view text) {
  std::string digits;
  for (char c : text) {
    if (c != ' ' && c != '\n' && c != ':') digits.push_back(c);
  }
  std::vector<std::uint8_t> out(digits.size() / 2);
  if (digits.size() % 2 != 0 || !from_hex(digits, out)) {
    ADD_FAILURE() << "bad hex in a test vector: " << text;
    out.clear();
  }
  return out;
}

template <std::size_t N>
Bytes<N> unhex_n(std::string_view text) {
  Bytes<N> out{};
  std::vector<std::uint8_t> v = unhex(text);
  if (v.size() != N) {
    ADD_FAILURE() << "test vector has " << v.size() << " bytes, want " << N;
    return out;
  }
  std::copy(v.begin(), v.end(), out.begin());
  return out;
}

inline std::string hex(ByteSpan b) {
  return to_hex(b);
}
inline std::string hex(const std::uint8_t* p, std::size_t n) {
  return to_hex(ByteSpan(p, n));
}

inline ByteSpan text(std::string_view s) {
  return ByteSpan(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

}  // namespace meshgate::crypto::test
