// The replay window is header-only so the receive path inlines it; this file instantiates the
// production type once so its code is compiled (and warned about) even before a user exists.
#include "meshgate/peer/replay.hpp"

namespace meshgate::peer {

template class BasicReplayWindow<wire::spec::kRejectAfterMessages>;

static_assert(ReplayWindow::kWindowSize == 8128, "protocol.md 6: usable window");
static_assert(sizeof(ReplayWindow) <= 1152, "one window per receiving keypair");

}  // namespace meshgate::peer
