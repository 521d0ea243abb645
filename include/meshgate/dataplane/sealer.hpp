// Sealing: from bare inner IP packets with their keypair and route to finished outer frames
// (architecture section 2, "Outbound", stages 4-6; protocol.md 4, sending).
//
//   4 nonces     one atomic add per keypair per burst
//   5 seal       pad to 16 (never beyond the MTU), make room for the headers, the outer ECN
//                field from the inner's (RFC 6040), one AEAD batch
//   6 frame      WireGuard header, outer Ethernet/IP/UDP from the peer's route, the peer's
//                activity row, a handshake request when the key wants refreshing
//
// Used by every worker (for routed LAN traffic) and by the control thread (for packets staged
// during a handshake, and keepalives). Thread contract: a Sealer belongs to one thread. It writes
// Keypair::send_counter (atomic add: every sender shares it), its own activity row
// (Dataplane::activity(writer, peer)), Peer::handshake_wanted (atomic exchange) and events on
// Dataplane::events (a multi-producer ring: every worker and the control thread post to it).
#pragma once

#include <rte_config.h>
#include <rte_mbuf.h>

#include <cstdint>

#include "meshgate/base/time.hpp"
#include "meshgate/crypto/aead.hpp"
#include "meshgate/dataplane/dataplane.hpp"
#include "meshgate/dataplane/drops.hpp"
#include "meshgate/dataplane/tunables.hpp"

namespace meshgate::dataplane {

/// The most packets one seal takes (callers size their batches by it).
using impl::kBurst;

/// A packet on its way out, after routing and key lookup: `m` holds the bare inner IP packet
/// (empty: a keepalive) of `inner_len` bytes.
struct OutPacket {
  rte_mbuf* m;
  Keypair* kp;
  const PeerRoute* route;
  PeerId peer;
  std::uint16_t inner_len;
  std::uint64_t counter;  // set by Sealer::seal
  std::uint8_t tos = 0;   // outer TOS / traffic class: set by Sealer::seal (ECN from the inner)
};

class Sealer {
 public:
  /// `writer`: the activity row it writes (a worker id, or dp.workers for the control thread).
  Sealer(Dataplane& dp, unsigned writer, crypto::AeadBackend backend);
  Sealer(const Sealer&) = delete;
  Sealer& operator=(const Sealer&) = delete;

  /// Seals out[0..k) (k <= impl::kBurst) and writes their outer headers. Afterwards each frame
  /// ready for the outer port is in out[i].m; a dropped one (key exhausted, no room in the mbuf)
  /// is null, freed and counted in `drops` under its reason. Returns the number sealed.
  unsigned seal(OutPacket* out, unsigned k, Nanos now, DropCounters& drops) noexcept;

  /// Seals bare IP packets (or empty mbufs: keepalives) for `peer` with its current keypair.
  /// Takes pkts[0..min(n, impl::kBurst)) and returns how many it took: 0 when the peer has no
  /// usable keypair or route yet, and the caller keeps every packet. Afterwards pkts[i], for i
  /// below the returned count, is the finished frame for the outer port, or null when it was
  /// dropped (counted in `drops`).
  unsigned seal_for_peer(PeerId peer, rte_mbuf** pkts, unsigned n, Nanos now,
                         DropCounters& drops) noexcept;
  /// The same framed for `route` instead of the peer's published one (a path being probed):
  /// 0 when the peer has no usable keypair. `route` need only live for the call.
  unsigned seal_for_route(PeerId peer, const PeerRoute& route, rte_mbuf** pkts, unsigned n,
                          Nanos now, DropCounters& drops) noexcept;

  /// The AEAD batch this thread uses (its ipsec-mb manager); a worker opens with it too, so one
  /// thread has one manager.
  crypto::AeadBatch& aead() noexcept { return aead_; }

 private:
  void reserve_nonces(OutPacket* out, unsigned k) noexcept;
  unsigned pad_and_seal(OutPacket* out, unsigned k, DropCounters& drops) noexcept;
  void frame_and_account(OutPacket* out, unsigned k, Nanos now, DropCounters& drops) noexcept;
  void want_handshake(PeerId peer, DropCounters& drops) noexcept;

  Dataplane& dp_;
  unsigned writer_;
  crypto::AeadBatch aead_;
};

}  // namespace meshgate::dataplane
