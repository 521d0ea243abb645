// The control thread's peer records and their registry (PeerId <-> public key), and the
// publication of a peer's existence to the workers (its active flag and allowed IPs).
//
// One PeerState per configured peer. All of it lives on the control thread; each group of
// fields names the part that writes it, so a reader knows where a field changes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "meshgate/base/ip.hpp"
#include "meshgate/base/result.hpp"
#include "meshgate/base/secret.hpp"
#include "meshgate/base/time.hpp"
#include "meshgate/control/tunables.hpp"
#include "meshgate/dataplane/dataplane.hpp"
#include "meshgate/noise/cookie.hpp"
#include "meshgate/noise/handshake.hpp"
#include "meshgate/peer/timers.hpp"
#include "meshgate/wire/messages.hpp"

namespace meshgate::control {

using peer::PeerId;

/// A peer as configured (config file, UAPI).
struct PeerSettings {
  Key32 public_key{};
  std::optional<SecretKey> preshared_key;
  Endpoint endpoint;  // unknown until configured or learnt from an authenticated packet
  std::uint16_t persistent_keepalive = 0;
  std::vector<Prefix> allowed_ips;
  bool lighthouse = false;  // from the config file only: the UAPI has no such key
};

struct PeerState {
  /// PeerConfig; the endpoint also by Sessions and roaming (the source of an authenticated
  /// message).
  PeerSettings settings;
  // Sessions: the handshake in progress and the cookie we hold from the peer; our latest
  // initiation, which path probing sends to more than one address.
  noise::Handshake hs;
  noise::CookieSender cookie;
  wire::MessageInitiation last_initiation{};
  Nanos last_initiation_at = -1;
  std::uint64_t handshakes = 0;  // sessions derived with this peer (both roles)
  /// Timer hooks: Sessions (messages sent and received) and Timers (worker activity).
  peer::PeerTimers timers;
  // Timers: worker activity time stamps already replayed into `timers`.
  Nanos seen_tx_data = 0;
  Nanos seen_rx_data = 0;
  Nanos seen_rx_auth = 0;
};

/// PeerId -> record and public key -> PeerId. Control thread only.
class Peers {
 public:
  explicit Peers(dataplane::Dataplane& dp) : dp_(dp) {}

  /// Readies a new record before it is published (Sessions::configure); an error undoes the add.
  using Prepare = std::function<Status(PeerId)>;
  /// A new record with a free id, `prepare` run on it, then its allowed IPs inserted and the peer
  /// active for the workers. All or nothing: a failure (duplicate key, table full, an allowed IP
  /// that does not fit, `prepare`) leaves no record, id, allowed IP or key behind, and takes no
  /// prefix from another peer.
  Result<PeerId> add(const PeerSettings& s, const Prepare& prepare = {});
  /// Unpublishes the peer (inactive, allowed IPs gone) and drops its record. The id is handed
  /// out again only after two RCU grace periods: a worker's pipeline carries a routed packet
  /// across one quiescent state, and a reused id could send it to the new peer. The parts that
  /// hold per-peer state of their own release it before (Control::remove_peer).
  void remove(PeerId id);
  /// Frees the allowed-IPs nodes and chunks that inserts and removals unlinked, after a grace
  /// period. Every change of the table calls it.
  void reclaim_allowed_ips();

  PeerState* find(PeerId id) noexcept {
    return id < records_.size() ? records_[id].get() : nullptr;
  }
  const PeerState* find(PeerId id) const noexcept {
    return id < records_.size() ? records_[id].get() : nullptr;
  }
  std::optional<PeerId> find(const Key32& public_key) const;
  /// Peers in PeerId order.
  std::vector<PeerId> ids() const;
  /// The peers whose settings say Lighthouse, in the order they were added: the flag is set at
  /// add() and never changes, and the lighthouse part looks for them every timer tick, which
  /// with a walk over every peer costs a gateway of 100,000 peers most of its control thread.
  const std::vector<PeerId>& lighthouses() const noexcept { return lighthouses_; }
  /// One past the highest id in use or cooling: loops over ids go to here.
  PeerId end() const noexcept { return static_cast<PeerId>(records_.size()); }

 private:
  dataplane::Dataplane& dp_;
  std::vector<std::unique_ptr<PeerState>> records_;  // by PeerId; null = free slot
  /// Ids below end() with no record that may be handed out again: a removed id joins after
  /// its two grace periods (see remove). Ordered, so add() takes the lowest.
  std::set<PeerId> free_ids_;
  std::map<Key32, PeerId> by_key_;
  std::vector<PeerId> lighthouses_;  // lighthouses()
};

/// A walk over the peer ids spread over the timer periods, for the jobs that look at every peer
/// (the timers, the lighthouse requests): a gateway of 100,000 peers cannot read every record
/// every period. Each next() is one period's slice in id order, wrapping around: every id while
/// there are at most impl::kTimerSliceMin, beyond that enough of them that each id comes up at
/// least once every impl::kTimerSweep.
class PeerSweep {
 public:
  /// Calls f(id) for this period's slice of the ids below `end` (records may be null).
  template <class F>
  void next(PeerId end, F&& f) {
    constexpr PeerId kSlices = impl::kTimerSweep / impl::kTimerPeriod;
    const PeerId count =
        std::min(end, std::max(impl::kTimerSliceMin, (end + kSlices - 1) / kSlices));
    PeerId id = cursor_ < end ? cursor_ : 0;
    for (PeerId n = 0; n < count; ++n, id = id + 1 < end ? id + 1 : 0) f(id);
    cursor_ = id;
  }

 private:
  PeerId cursor_ = 0;  // the first id of the next slice
};

}  // namespace meshgate::control
