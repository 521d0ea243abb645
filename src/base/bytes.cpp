#include "meshgate/base/bytes.hpp"

#include <bit>

namespace meshgate {

static_assert(std::endian::native == std::endian::little,
              "the wire helpers assume a little-endian host");

namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::string to_hex(ByteSpan in) {
  std::string s(in.size() * 2, '0');
  for (std::size_t i = 0; i < in.size(); ++i) {
    s[2 * i] = kHex[in[i] >> 4];
    s[2 * i + 1] = kHex[in[i] & 15];
  }
  return s;
}

bool from_hex(std::string_view in, MutByteSpan out) {
  if (in.size() != out.size() * 2) return false;
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = hex_value(in[2 * i]);
    int lo = hex_value(in[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

std::string to_base64(ByteSpan in) {
  std::string s;
  s.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    std::uint32_t v = in[i] << 16 | in[i + 1] << 8 | in[i + 2];
    s += kB64[v >> 18];
    s += kB64[(v >> 12) & 63];
    s += kB64[(v >> 6) & 63];
    s += kB64[v & 63];
  }
  if (std::size_t rest = in.size() - i; rest > 0) {
    std::uint32_t v = in[i] << 16 | (rest == 2 ? in[i + 1] << 8 : 0);
    s += kB64[v >> 18];
    s += kB64[(v >> 12) & 63];
    s += rest == 2 ? kB64[(v >> 6) & 63] : '=';
    s += '=';
  }
  return s;
}

bool from_base64(std::string_view in, MutByteSpan out) {
  if (in.size() != (out.size() + 2) / 3 * 4) return false;
  std::size_t pad = out.size() % 3 == 0 ? 0 : 3 - out.size() % 3;
  std::size_t o = 0;
  for (std::size_t i = 0; i < in.size(); i += 4) {
    std::uint32_t v = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      char c = in[i + j];
      bool is_pad_slot = i + 4 == in.size() && j >= 4 - pad;
      if (is_pad_slot) {
        if (c != '=') return false;
        v <<= 6;
        continue;
      }
      int d = b64_value(c);
      if (d < 0) return false;
      v = v << 6 | static_cast<std::uint32_t>(d);
    }
    for (std::size_t j = 0; j < 3 && o < out.size(); ++j) {
      out[o++] = static_cast<std::uint8_t>(v >> (16 - 8 * j));
    }
    // Non-canonical encodings (stray bits in the last symbol) are rejected, as `wg` does.
    if (i + 4 == in.size() && pad > 0 && (v & ((1u << (8 * pad)) - 1)) != 0) return false;
  }
  return true;
}

}  // namespace meshgate
