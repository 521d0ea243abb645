// Why the handshake layer refused a message (protocol.md 3 and 3.8-3.10).
// X(name, description): the same list makes the per-reason counters and their names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "meshgate/base/reasons.hpp"

namespace meshgate::noise {

#define MESHGATE_HANDSHAKE_DROP_REASONS(X)                                                    \
  X(no_identity, "the interface has no private key")                                          \
  X(bad_mac1, "mac1 did not verify (checked before any DH work)")                             \
  X(cookie_required, "under load and mac2 is not valid: answer with a cookie reply")          \
  X(bad_static, "encrypted static key of the initiation did not authenticate")                \
  X(unknown_peer, "initiator's static key belongs to no configured peer")                     \
  X(zero_dh, "an X25519 result was all zero (small-order public key)")                        \
  X(bad_timestamp, "encrypted timestamp of the initiation did not authenticate")              \
  X(replayed_timestamp, "timestamp is not newer than the last one accepted from the peer")    \
  X(initiation_flood, "initiation less than 20 ms after the last one consumed from the peer") \
  X(unknown_index, "receiver index matches no pending handshake")                             \
  X(wrong_state, "the handshake is not in the state this message needs")                      \
  X(bad_response, "encrypted empty payload of the response did not authenticate")             \
  X(unexpected_cookie, "cookie reply while no mac1 is outstanding to that peer")              \
  X(bad_cookie, "cookie reply did not authenticate")                                          \
  X(no_free_index, "the keypair table has no free receiver index for a new session")

MESHGATE_REASON_ENUM(HandshakeDrop, MESHGATE_HANDSHAKE_DROP_REASONS)

inline constexpr std::size_t kHandshakeDropCount =
    MESHGATE_REASON_COUNT(MESHGATE_HANDSHAKE_DROP_REASONS);

std::string_view to_string(HandshakeDrop d) noexcept;
std::string_view describe(HandshakeDrop d) noexcept;

}  // namespace meshgate::noise
