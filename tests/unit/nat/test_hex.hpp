// Hex as the RFCs print it (spaces and line breaks ignored) for the NAT tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "meshgate/base/bytes.hpp"

namespace meshgate::nat::test {

inline std::vector<std::uint8_t> unhex(std::string_view text) {
  std::string digits;
  for (char c : text) {
    if (c != ' ' && c != '\n') digits.push_back(c);
  }
  std::vector<std::uint8_t> out(digits.size() / 2);
  if (digits.size() % 2 != 0 || !from_hex(digits, out)) {
    ADD_FAILURE() << "bad hex in a test vector: " << text;
    out.clear();
  }
  return out;
}

/// The bytes of a string (usernames, realms, passwords in the vectors).
inline ByteSpan text(std::string_view s) {
  return ByteSpan(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

inline std::string hex(ByteSpan b) {
  return to_hex(b);
}

}  // namespace meshgate::nat::test
