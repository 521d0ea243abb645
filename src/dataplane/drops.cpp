#include "meshgate/dataplane/drops.hpp"

namespace meshgate::dataplane {

namespace {

constexpr const char* kNames[] = {
#define MESHGATE_X(id, text) #id,
    MESHGATE_DATAPLANE_DROP_REASONS(MESHGATE_X)
#undef MESHGATE_X
};
constexpr const char* kTexts[] = {
#define MESHGATE_X(id, text) text,
    MESHGATE_DATAPLANE_DROP_REASONS(MESHGATE_X)
#undef MESHGATE_X
};

}  // namespace

const char* drop_name(std::size_t i) noexcept {
  if (i < wire::kDropReasonCount)
    return wire::drop_reason_name(static_cast<wire::DropReason>(i + 1));
  i -= wire::kDropReasonCount;
  return i < kDataplaneDropCount ? kNames[i] : "invalid";
}

const char* drop_description(std::size_t i) noexcept {
  if (i < wire::kDropReasonCount) {
    return wire::drop_reason_description(static_cast<wire::DropReason>(i + 1));
  }
  i -= wire::kDropReasonCount;
  return i < kDataplaneDropCount ? kTexts[i] : "invalid";
}

}  // namespace meshgate::dataplane
