#include "meshgate/noise/drop.hpp"

namespace meshgate::noise {

namespace {
constexpr const char* kNames[] = MESHGATE_REASON_NAMES(MESHGATE_HANDSHAKE_DROP_REASONS);
constexpr const char* kTexts[] = MESHGATE_REASON_TEXTS(MESHGATE_HANDSHAKE_DROP_REASONS, "accepted");
}  // namespace

std::string_view to_string(HandshakeDrop d) noexcept {
  return reason_lookup(kNames, d, "unknown");
}
std::string_view describe(HandshakeDrop d) noexcept {
  return reason_lookup(kTexts, d, "unknown");
}

}  // namespace meshgate::noise
