// Test helper: frames written as hex dumps (whitespace ignored), as copied from a capture.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace meshgate::test {

inline std::vector<std::uint8_t> hex_frame(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::vector<std::uint8_t> out;
  int hi = -1;
  for (char c : hex) {
    if (c == ' ' || c == '\n' || c == '\t') continue;
    const int v = nibble(c);
    if (v < 0) throw std::invalid_argument("bad hex digit in test frame");
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  if (hi >= 0) throw std::invalid_argument("odd number of hex digits in test frame");
  return out;
}

}  // namespace meshgate::test
