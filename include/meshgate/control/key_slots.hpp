// A peer's three keypair slots (current, previous, next) and our receiver indices: install a
// new session, confirm `next`, retire and wipe (protocol.md 3.6).
//
// Publication order matters to the workers: a keypair is made live (KeypairTable::publish)
// before a slot names it, and a slot stops naming a keypair before it is unpublished; the memory
// is wiped and reused only after an RCU grace period. The only writer of dataplane::Peer's slots
// and of the keypair table.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>

#include "meshgate/dataplane/dataplane.hpp"
#include "meshgate/noise/session_keys.hpp"

namespace meshgate::control {

using peer::PeerId;

class KeySlots {
 public:
  explicit KeySlots(dataplane::Dataplane& dp) : dp_(dp) {}

  /// A receiver index for a handshake we start or answer; nullopt: the table is full.
  std::optional<std::uint32_t> reserve() { return dp_.keypairs.reserve(); }
  /// Gives back a reserved index that was never published (the handshake failed).
  void release(std::uint32_t index) { dp_.keypairs.free(index); }
  /// Our initiation in flight for `peer`: its index, so that a response finds it.
  void set_pending(PeerId peer, std::uint32_t index);
  /// Forgets the peer's initiation in flight (a newer one, or the peer's own, replaces it).
  void drop_pending(PeerId peer);
  /// The peer whose pending handshake has our index `index`, if any.
  std::optional<PeerId> pending_peer(std::uint32_t index) const;

  /// Makes a derived session live. The initiator sends on it at once (it becomes current); the
  /// responder waits for the first packet on it (it becomes next). `tag`: the endpoint tag of
  /// the peer's route. Wipes `kp`.
  void install(PeerId peer, noise::SessionKeys& kp, bool initiator, std::uint32_t tag);
  /// The first packet arrived on `next` keypair `index`: it becomes current. False if `index`
  /// is not the peer's next keypair (already confirmed, or replaced).
  bool confirm_next(PeerId peer, std::uint32_t index);
  /// Retires every keypair of the peer and its pending handshake index.
  void zero(PeerId peer);
  /// Gives every keypair of the peer the endpoint tag of its new route.
  void tag_all(PeerId peer, std::uint32_t tag);

 private:
  void retire(std::uint32_t index);

  dataplane::Dataplane& dp_;
  /// Our index of each handshake in flight -> its peer (responses and cookie replies name it).
  std::unordered_map<std::uint32_t, PeerId> pending_;
  /// Each peer's pending index (0: none), by PeerId.
  std::unordered_map<PeerId, std::uint32_t> pending_of_;
};

}  // namespace meshgate::control
