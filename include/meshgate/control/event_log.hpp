// The control thread's log: one line per handshake and peer event, for the operator.
#pragma once

#include <cstdio>

#include "meshgate/control/peers.hpp"

namespace meshgate::control {

class EventLog {
 public:
  /// Null: nowhere.
  void set(FILE* out) noexcept { out_ = out; }
  /// "meshgate: peer <key>: <what>, endpoint <endpoint>".
  void peer(const PeerState& ps, const char* what) const;
  void line(const char* fmt, ...) const __attribute__((format(printf, 2, 3)));

 private:
  FILE* out_ = nullptr;
};

}  // namespace meshgate::control
