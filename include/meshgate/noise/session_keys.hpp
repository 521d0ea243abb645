// The result of a completed handshake (protocol.md 3.6): a pair of transport keys and the
// two indices that name them on the wire. The data path's dataplane::Keypair is what a session
// becomes once published (with its nonce counter, replay window and slot), so this has a name of
// its own.
#pragma once

#include <cstdint>

#include "meshgate/base/secret.hpp"
#include "meshgate/base/time.hpp"

namespace meshgate::noise {

struct SessionKeys {
  SecretKey send;                  // initiator: T1, responder: T2 (Noise Split)
  SecretKey recv;                  // initiator: T2, responder: T1
  std::uint32_t local_index = 0;   // receiver_index the peer puts on data it sends us
  std::uint32_t remote_index = 0;  // receiver_index we put on data we send
  bool initiator = false;          // only the initiator rekeys on age (protocol.md 3.6, 4)
  Nanos birth = 0;                 // monotonic time of derivation

  void clear() noexcept {
    send.clear();
    recv.clear();
    local_index = remote_index = 0;
    initiator = false;
    birth = 0;
  }
};

}  // namespace meshgate::noise
