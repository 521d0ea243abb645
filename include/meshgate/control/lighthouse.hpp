// The lighthouse role (docs/nat-traversal.md, "Coordination"), both sides of it:
//
//   gateway     reports its candidates to every configured lighthouse peer, inside the tunnel,
//               every kReportPeriod and when they change; asks the lighthouses to introduce it
//               to the peers it has no working path to (Paths::wants_introduction).
//   lighthouse  (config: [Gateway] Lighthouse = on) keeps the latest report of each peer, with
//               the outer source the report came from; on a request from peer A about peer B,
//               both configured, sends each the other's candidates and a common start.
//
// Every coordination message arrives here first (Control::handle_coordination): decoded, checked
// against who may send it, counted by type and verdict, and only then acted on; pings and pongs
// go on to Paths. Nothing here trusts a message from outside a tunnel: the worker hands over only
// what a session opened, with the peer it belongs to.
#pragma once

#include <rte_config.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>

#include "meshgate/base/ip.hpp"
#include "meshgate/base/reasons.hpp"
#include "meshgate/base/time.hpp"
#include "meshgate/control/paths.hpp"
#include "meshgate/control/peers.hpp"
#include "meshgate/control/sessions.hpp"
#include "meshgate/control/stun.hpp"
#include "meshgate/control/turn.hpp"
#include "meshgate/dataplane/dataplane.hpp"
#include "meshgate/dataplane/drops.hpp"
#include "meshgate/nat/coord.hpp"

namespace meshgate::control {

#define MESHGATE_COORD_VERDICTS(X)                                                       \
  X(accepted, "acted on")                                                                \
  X(malformed, "did not decode (nat::coord::DecodeError)")                               \
  X(not_lighthouse, "an introduction from a peer that is not a configured lighthouse")   \
  X(not_serving, "a report or request, and this gateway is not a lighthouse")            \
  X(unknown_peer, "about a public key that is not a configured peer (or is our own)")    \
  X(not_reported, "a request about a peer with no recent report, or no session with us") \
  X(unexpected, "a pong that answers no ping of ours")

MESHGATE_REASON_ENUM(CoordVerdict, MESHGATE_COORD_VERDICTS)
inline constexpr std::size_t kCoordVerdictCount = MESHGATE_REASON_COUNT(MESHGATE_COORD_VERDICTS);
std::string_view to_string(CoordVerdict v) noexcept;
std::string_view describe(CoordVerdict v) noexcept;

/// Written by the control thread only.
struct LighthouseStats {
  /// [type][verdict]; type 0 collects what did not decode far enough to have one.
  std::uint64_t messages[nat::coord::kTypeCount + 1][kCoordVerdictCount + 1] = {};
  std::uint64_t reports_sent = 0, requests_sent = 0, introductions_sent = 0;
};

/// A peer's latest report, on a lighthouse.
struct Report {
  nat::coord::Candidates candidates;  // as reported, plus the observed source
  Nanos at = 0;
};

class Lighthouse {
 public:
  Lighthouse(dataplane::Dataplane& dp, Peers& peers, Sessions& sessions, Paths& paths,
             const StunDiscovery& stun, const TurnRelay& turn, dataplane::DropCounters& drops,
             const EventLog& log)
      : dp_(dp),
        peers_(peers),
        sessions_(sessions),
        paths_(paths),
        stun_(stun),
        turn_(turn),
        drops_(drops),
        log_(log) {}

  /// The config file's [Gateway] Lighthouse and PublicEndpoint.
  void configure(bool serving, std::optional<Endpoint> public_endpoint) {
    serving_ = serving;
    public_endpoint_ = public_endpoint;
  }
  /// A coordination message a worker opened, from `peer`, by the outer `source`. Frees m.
  void handle(rte_mbuf* m, PeerId peer, const Endpoint& source, Nanos now);
  /// Every timer tick: reports, requests for introductions, sessions with the lighthouses.
  void tick(Nanos now, WallTime wall);
  void forget(PeerId peer);

  /// This gateway's candidates now: outer addresses with the listen port, the reflexive and
  /// relayed addresses, the configured public one.
  nat::coord::Candidates candidates() const;
  bool serving() const noexcept { return serving_; }
  const std::map<PeerId, Report>& reports() const noexcept { return reports_; }
  const LighthouseStats& stats() const noexcept { return stats_; }

 private:
  CoordVerdict dispatch(const nat::coord::Message& msg, PeerId peer, const Endpoint& source,
                        Nanos now);
  CoordVerdict on_report(const nat::coord::Message& msg, PeerId peer, const Endpoint& source,
                         Nanos now);
  CoordVerdict on_request(const nat::coord::Message& msg, PeerId peer, Nanos now);
  CoordVerdict on_introduce(const nat::coord::Message& msg, PeerId peer, Nanos now);
  bool introduce(PeerId to, PeerId about, Nanos now);
  void report_to_lighthouses(Nanos now, WallTime wall);
  void request_introductions(Nanos now);
  bool is_lighthouse(PeerId peer) const;

  dataplane::Dataplane& dp_;
  Peers& peers_;
  Sessions& sessions_;
  Paths& paths_;
  const StunDiscovery& stun_;
  const TurnRelay& turn_;
  dataplane::DropCounters& drops_;
  const EventLog& log_;
  bool serving_ = false;
  std::optional<Endpoint> public_endpoint_;
  std::map<PeerId, Report> reports_;  // lighthouse: the latest report of each peer
  /// Lighthouse: (to, about) for every introduction sent, so that a report with new candidates
  /// (a new TURN allocation, a NAT that rebound) reaches the peers that probe them.
  std::set<std::pair<PeerId, PeerId>> introduced_;
  std::map<PeerId, Nanos> reported_at_;   // gateway: when each lighthouse last got a report
  nat::coord::Candidates last_reported_;  // gateway: what the latest reports said
  LighthouseStats stats_;
  PeerSweep sweep_;  // gateway: request_introductions' slice of the peers each period
};

}  // namespace meshgate::control
