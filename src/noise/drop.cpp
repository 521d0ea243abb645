#include "meshgate/noise/drop.hpp"

namespace meshgate::noise {

std::string_view to_string(HandshakeDrop d) noexcept {
  switch (d) {
    case HandshakeDrop::none: return "none";
#define MESHGATE_X(name, desc) \
  case HandshakeDrop::name: return #name;
    MESHGATE_HANDSHAKE_DROP_REASONS(MESHGATE_X)
#undef MESHGATE_X
  }
  return "unknown";
}

std::string_view describe(HandshakeDrop d) noexcept {
  switch (d) {
    case HandshakeDrop::none: return "accepted";
#define MESHGATE_X(name, desc) \
  case HandshakeDrop::name: return desc;
    MESHGATE_HANDSHAKE_DROP_REASONS(MESHGATE_X)
#undef MESHGATE_X
  }
  return "unknown";
}

}  // namespace meshgate::noise
