// The control thread's log: one line per handshake and peer event, for the operator.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string_view>
#include <unordered_map>

#include "meshgate/control/peers.hpp"

namespace meshgate::control {

class EventLog {
 public:
  /// Null: nowhere.
  void set(FILE* out) noexcept { out_ = out; }
  /// "meshgate: peer <key>: <what>, endpoint <endpoint>".
  void peer(const PeerState& ps, const char* what) const;
  void line(const char* fmt, ...) const __attribute__((format(printf, 2, 3)));
  /// A message or packet the control thread dropped and has counted under `reason` (a name with
  /// static storage: a reason enum's to_string). Logged at most once a second per reason, with
  /// how many went unlogged since, so a flood cannot flood the log.
  void drop(std::string_view reason, std::string_view why) const;

 private:
  struct Throttle {
    std::int64_t last = 0;  // monotonic ns of the last line; 0: none yet
    std::uint64_t unlogged = 0;
  };
  FILE* out_ = nullptr;
  // Control thread only, like every caller; mutable: logging is not a change of the log's owner.
  mutable std::unordered_map<std::string_view, Throttle> throttle_;
};

}  // namespace meshgate::control
