#include "meshgate/wire/drop_reasons.hpp"

namespace meshgate::wire {
namespace {

#define MESHGATE_X(id, text) #id,
constexpr const char* kNames[] = {"none", MESHGATE_WIRE_DROP_REASONS(MESHGATE_X)};
#undef MESHGATE_X
#define MESHGATE_X(id, text) text,
constexpr const char* kTexts[] = {"not dropped", MESHGATE_WIRE_DROP_REASONS(MESHGATE_X)};
#undef MESHGATE_X
static_assert(sizeof(kNames) / sizeof(kNames[0]) == kDropReasonCount + 1);

}  // namespace

const char* drop_reason_name(DropReason r) noexcept {
  const auto i = static_cast<std::size_t>(r);
  return i <= kDropReasonCount ? kNames[i] : "unknown";
}

const char* drop_reason_description(DropReason r) noexcept {
  const auto i = static_cast<std::size_t>(r);
  return i <= kDropReasonCount ? kTexts[i] : "unknown drop reason";
}

}  // namespace meshgate::wire
