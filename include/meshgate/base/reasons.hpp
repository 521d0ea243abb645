// Reason lists: one X-macro list of X(identifier, "description") makes an enum whose first value
// is `none`, its count, and the name and description of each value, so a counter table, its
// names and the operator's text never drift apart (as VPP's error lists do).
//
//   MESHGATE_REASON_ENUM(HandshakeDrop, MESHGATE_HANDSHAKE_DROP_REASONS)  // header
//   constexpr std::size_t kHandshakeDropCount =
//   MESHGATE_REASON_COUNT(MESHGATE_HANDSHAKE_DROP_REASONS); reason_name(kNames, d) with kNames =
//   MESHGATE_REASON_NAMES(LIST)     // .cpp
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>

// X-macro pieces: item macros and lists applied to them, never expressions, so their arguments
// and bodies cannot take parentheses.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define MESHGATE_REASON_ITEM_(id, text) id,
#define MESHGATE_REASON_PLUS_ONE_(id, text) +1
#define MESHGATE_REASON_NAME_(id, text) #id,
#define MESHGATE_REASON_TEXT_(id, text) text,

#define MESHGATE_REASON_ENUM(Enum, LIST) \
  enum class Enum : std::uint8_t { none = 0, LIST(MESHGATE_REASON_ITEM_) };
#define MESHGATE_REASON_COUNT(LIST) (std::size_t{0} LIST(MESHGATE_REASON_PLUS_ONE_))
/// {"none", "id1", ...}: indexable by the enum's value.
#define MESHGATE_REASON_NAMES(LIST) \
  { "none", LIST(MESHGATE_REASON_NAME_) }
/// {none_text, "text1", ...}
#define MESHGATE_REASON_TEXTS(LIST, none_text) \
  { none_text, LIST(MESHGATE_REASON_TEXT_) }
// NOLINTEND(bugprone-macro-parentheses)

namespace meshgate {

/// table[value] when the value is in range, else `fallback`.
template <class Enum, std::size_t N>
constexpr const char* reason_lookup(const char* const (&table)[N], Enum e,
                                    const char* fallback) noexcept {
  const auto i = static_cast<std::size_t>(e);
  return i < N ? table[i] : fallback;
}

}  // namespace meshgate
