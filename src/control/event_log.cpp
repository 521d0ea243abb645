// The control thread's log (event_log.hpp).
#include "meshgate/control/event_log.hpp"

#include <cstdarg>

namespace meshgate::control {

void EventLog::peer(const PeerState& ps, const char* what) const {
  if (out_ == nullptr) return;
  std::fprintf(out_, "meshgate: peer %s: %s, endpoint %s\n",
               to_base64(as_bytes(ps.settings.public_key)).c_str(), what,
               ps.settings.endpoint.str().c_str());
  std::fflush(out_);
}

void EventLog::line(const char* fmt, ...) const {
  if (out_ == nullptr) return;
  std::fputs("meshgate: ", out_);
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(out_, fmt, ap);
  va_end(ap);
  std::fputc('\n', out_);
  std::fflush(out_);
}

}  // namespace meshgate::control
