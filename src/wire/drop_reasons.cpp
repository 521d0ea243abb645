#include "meshgate/wire/drop_reasons.hpp"

namespace meshgate::wire {
namespace {

constexpr const char* kNames[] = MESHGATE_REASON_NAMES(MESHGATE_WIRE_DROP_REASONS);
constexpr const char* kTexts[] = MESHGATE_REASON_TEXTS(MESHGATE_WIRE_DROP_REASONS, "not dropped");
static_assert(std::size(kNames) == kDropReasonCount + 1);

}  // namespace

const char* drop_reason_name(DropReason r) noexcept {
  return reason_lookup(kNames, r, "unknown");
}

const char* drop_reason_description(DropReason r) noexcept {
  return reason_lookup(kTexts, r, "unknown drop reason");
}

}  // namespace meshgate::wire
