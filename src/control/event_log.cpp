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

void EventLog::drop(std::string_view reason, std::string_view why) const {
  if (out_ == nullptr) return;
  Throttle& t = throttle_[reason];
  const Nanos now = monotonic_now();
  if (t.last != 0 && now - t.last < seconds(1)) {
    ++t.unlogged;
    return;
  }
  line("dropped (%.*s): %.*s; %llu more since the last such line", static_cast<int>(reason.size()),
       reason.data(), static_cast<int>(why.size()), why.data(),
       static_cast<unsigned long long>(t.unlogged));
  t.last = now;
  t.unlogged = 0;
}

}  // namespace meshgate::control
