// Datagram classification and names for the wire module (protocol.md 2).
#include "meshgate/wire/messages.hpp"

namespace meshgate::wire {

std::string_view to_string(MessageType t) noexcept {
  switch (t) {
    case MessageType::initiation:
      return "initiation";
    case MessageType::response:
      return "response";
    case MessageType::cookie_reply:
      return "cookie_reply";
    case MessageType::transport:
      return "transport";
  }
  return "unknown";
}

namespace {
constexpr const char* kDropNames[] = MESHGATE_REASON_NAMES(MESHGATE_WIRE_MESSAGE_DROP_REASONS);
constexpr const char* kDropTexts[] =
    MESHGATE_REASON_TEXTS(MESHGATE_WIRE_MESSAGE_DROP_REASONS, "accepted");
}  // namespace

std::string_view to_string(WireDrop d) noexcept {
  return reason_lookup(kDropNames, d, "unknown");
}
std::string_view describe(WireDrop d) noexcept {
  return reason_lookup(kDropTexts, d, "unknown");
}

}  // namespace meshgate::wire
