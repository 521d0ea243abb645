// Coordination messages: the codec (coord.hpp).
#include "meshgate/nat/coord.hpp"

#include <algorithm>
#include <cstring>

namespace meshgate::nat::coord {

namespace {

constexpr const char* kDecodeNames[] = MESHGATE_REASON_NAMES(MESHGATE_COORD_DECODE_ERRORS);

/// The fixed part of each type's body (before any candidates), by Type value.
constexpr std::size_t kFixedBody[] = {0, 4, 32, 36, 8, 8};

bool valid_kind(std::uint8_t k) noexcept {
  return k >= static_cast<std::uint8_t>(CandidateKind::local) &&
         k <= static_cast<std::uint8_t>(CandidateKind::observed);
}

bool read_candidate(const std::uint8_t* p, Candidate& c) noexcept {
  const std::uint8_t family = p[1];
  const std::uint16_t port = load_be16(p + 2);
  if (!valid_kind(p[0]) || (family != 4 && family != 6) || port == 0) return false;
  if (family == 4) {
    for (std::size_t i = 8; i < kCandidateSize; ++i) {
      if (p[i] != 0) return false;  // the IPv4 form has one spelling
    }
  }
  c.kind = static_cast<CandidateKind>(p[0]);
  c.endpoint = {family == 4 ? IpAddr::v4_bytes(p + 4) : IpAddr::v6_bytes(p + 4), port};
  return true;
}

void write_candidate(const Candidate& c, std::uint8_t* p) noexcept {
  std::memset(p, 0, kCandidateSize);
  p[0] = static_cast<std::uint8_t>(c.kind);
  p[1] = c.endpoint.addr.is_v6() ? 6 : 4;
  store_be16(p + 2, c.endpoint.port);
  std::memcpy(p + 4, c.endpoint.addr.bytes.data(), c.endpoint.addr.is_v6() ? 16 : 4);
}

/// `count` candidates at p, which must be exactly `room` bytes.
bool read_candidates(const std::uint8_t* p, std::size_t room, std::size_t count, Candidates& out,
                     DecodeError& why) noexcept {
  if (count > kMaxCandidates || count * kCandidateSize != room) {
    why = DecodeError::bad_count;
    return false;
  }
  for (std::size_t i = 0; i < count; ++i) {
    Candidate c;
    if (!read_candidate(p + i * kCandidateSize, c)) {
      why = DecodeError::bad_candidate;
      return false;
    }
    out.items[out.n++] = c;
  }
  return true;
}

bool decode_body(const std::uint8_t* b, std::size_t len, Message& m, DecodeError& why) noexcept {
  const std::size_t rest = len - kFixedBody[static_cast<std::size_t>(m.type)];
  switch (m.type) {
    case Type::report:
      if (b[1] != 0 || b[2] != 0 || b[3] != 0) break;
      return read_candidates(b + 4, rest, b[0], m.candidates, why);
    case Type::request:
      std::memcpy(m.key.data(), b, 32);
      if (rest == 0) return true;
      why = DecodeError::bad_length;
      return false;
    case Type::introduce:
      std::memcpy(m.key.data(), b, 32);
      m.start_in_ms = load_be16(b + 32);
      if (b[35] != 0) break;
      return read_candidates(b + 36, rest, b[34], m.candidates, why);
    case Type::ping:
    case Type::pong:
      std::memcpy(&m.txid, b, 8);
      // A pong carries the ping's outer source when the sender knew it: zero or one candidate.
      return read_candidates(b + 8, rest, m.type == Type::ping ? 0 : rest / kCandidateSize,
                             m.candidates, why) &&
             m.candidates.n <= 1;
  }
  why = DecodeError::nonzero_reserved;
  return false;
}

}  // namespace

std::string_view to_string(Type t) noexcept {
  static constexpr const char* kNames[] = {"?", "report", "request", "introduce", "ping", "pong"};
  const auto i = static_cast<std::size_t>(t);
  return i < std::size(kNames) ? kNames[i] : "?";
}

std::string_view to_string(CandidateKind k) noexcept {
  static constexpr const char* kNames[] = {"?",          "local",   "reflexive",
                                           "configured", "relayed", "observed"};
  const auto i = static_cast<std::size_t>(k);
  return i < std::size(kNames) ? kNames[i] : "?";
}

std::string_view to_string(DecodeError e) noexcept {
  return reason_lookup(kDecodeNames, e, "?");
}

bool Candidates::add(const Candidate& c) noexcept {
  if (n == kMaxCandidates) return false;
  for (const Candidate& have : view()) {
    if (have.endpoint == c.endpoint) return false;
  }
  items[n++] = c;
  return true;
}

bool decode(const std::uint8_t* p, std::size_t len, Message& out, DecodeError& why) noexcept {
  out = Message{};
  if (len < kHeaderSize) {
    why = DecodeError::short_message;
    return false;
  }
  if (p[0] != kMagic) {
    why = DecodeError::bad_magic;
    return false;
  }
  if (load_be16(p + 2) != len || len > kMaxMessageSize) {
    why = DecodeError::bad_length;
    return false;
  }
  if (p[1] < 1 || p[1] > kTypeCount) {
    why = DecodeError::bad_type;
    return false;
  }
  out.type = static_cast<Type>(p[1]);
  if (len - kHeaderSize < kFixedBody[p[1]]) {
    why = DecodeError::short_message;
    return false;
  }
  return decode_body(p + kHeaderSize, len - kHeaderSize, out, why);
}

std::size_t encode(const Message& m, std::uint8_t* buf) noexcept {
  std::uint8_t* b = buf + kHeaderSize;
  const auto cand = m.candidates.view();
  std::size_t n_cand = cand.size();
  switch (m.type) {
    case Type::report:
      std::memset(b, 0, 4);
      b[0] = static_cast<std::uint8_t>(n_cand);
      b += 4;
      break;
    case Type::request:
      std::memcpy(b, m.key.data(), 32);
      b += 32;
      n_cand = 0;
      break;
    case Type::introduce:
      std::memcpy(b, m.key.data(), 32);
      store_be16(b + 32, m.start_in_ms);
      b[34] = static_cast<std::uint8_t>(n_cand);
      b[35] = 0;
      b += 36;
      break;
    case Type::ping:
    case Type::pong:
      std::memcpy(b, &m.txid, 8);
      b += 8;
      n_cand = m.type == Type::ping ? 0 : std::min<std::size_t>(n_cand, 1);
      break;
  }
  for (std::size_t i = 0; i < n_cand; ++i, b += kCandidateSize) write_candidate(cand[i], b);
  const auto len = static_cast<std::size_t>(b - buf);
  buf[0] = kMagic;
  buf[1] = static_cast<std::uint8_t>(m.type);
  store_be16(buf + 2, static_cast<std::uint16_t>(len));
  return len;
}

}  // namespace meshgate::nat::coord
