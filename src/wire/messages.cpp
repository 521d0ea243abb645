// Datagram classification and names for the wire module (protocol.md 2).
#include "meshgate/wire/messages.hpp"

#include "meshgate/base/bytes.hpp"

namespace meshgate::wire {

std::string_view to_string(MessageType t) noexcept {
  switch (t) {
    case MessageType::initiation: return "initiation";
    case MessageType::response: return "response";
    case MessageType::cookie_reply: return "cookie_reply";
    case MessageType::transport: return "transport";
  }
  return "unknown";
}

namespace {
constexpr const char* kDropNames[] = MESHGATE_REASON_NAMES(MESHGATE_WIRE_MESSAGE_DROP_REASONS);
constexpr const char* kDropTexts[] =
    MESHGATE_REASON_TEXTS(MESHGATE_WIRE_MESSAGE_DROP_REASONS, "accepted");
}  // namespace

std::string_view to_string(WireDrop d) noexcept { return reason_lookup(kDropNames, d, "unknown"); }
std::string_view describe(WireDrop d) noexcept { return reason_lookup(kDropTexts, d, "unknown"); }

Classified classify(const std::uint8_t* data, std::size_t len) noexcept {
  if (len < sizeof(MessageHeader)) return {MessageType{}, WireDrop::too_short};
  // The kernel and wireguard-go read the header as one LE32 and compare it with 1..4.
  const std::uint32_t word = load_le32(data);
  if (word < 1 || word > 4) {
    const std::uint8_t type = data[0];
    const bool known_type = type >= 1 && type <= 4;
    return {MessageType{}, known_type ? WireDrop::reserved_nonzero : WireDrop::unknown_type};
  }
  const auto type = static_cast<MessageType>(word);
  const std::size_t exact = message_size(type);
  const bool size_ok = exact != 0 ? len == exact : len >= spec::kTransportMinSize;
  if (!size_ok) return {type, WireDrop::bad_size};
  return {type, WireDrop::none};
}

}  // namespace meshgate::wire
