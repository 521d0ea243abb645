// Address discovery on the control thread: the STUN client (nat::StunClient) wired to the
// gateway. Its requests leave from the listen port, through the control thread's TX queue on the
// Internet port, so the NAT maps the port WireGuard uses; the workers hand every STUN message on
// the listen port to the control thread (ToControl::outer_stun), whatever its source, and the
// answers come here. It writes no shared table: what it learns is for the operator (log,
// metrics) and, later, for the parts that advertise candidates.
#pragma once

#include <rte_config.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <vector>

#include "meshgate/base/ip.hpp"
#include "meshgate/base/time.hpp"
#include "meshgate/control/event_log.hpp"
#include "meshgate/control/neighbours.hpp"
#include "meshgate/control/transmit.hpp"
#include "meshgate/dataplane/dataplane.hpp"
#include "meshgate/dataplane/drops.hpp"
#include "meshgate/nat/stun_client.hpp"

namespace meshgate::control {

/// Written by the control thread only.
struct StunStats {
  /// Requests that never left: no outer address of the server's family, or no mbuf. The
  /// transaction then times out like a lost request.
  std::uint64_t not_sent = 0;
};

class StunDiscovery {
 public:
  StunDiscovery(dataplane::Dataplane& dp, Transmitter& tx, Neighbours& neighbours,
                dataplane::DropCounters& drops, const EventLog& log)
      : dp_(dp), tx_(tx), neighbours_(neighbours), drops_(drops), log_(log) {}

  /// The STUN servers (the config file's StunServer keys); none: the part stays idle.
  void set_servers(std::vector<Endpoint> servers, Nanos now);
  /// Every timer tick: requests and retransmissions due, timeouts, log lines.
  void tick(Nanos now);
  /// A frame a worker classed ToControl::outer_stun that TurnRelay did not claim: STUN to the
  /// client, anything else (TURN ChannelData: nothing relays WireGuard yet) counted as
  /// control_rejected. Frees m.
  void handle(rte_mbuf* m, Nanos now);

  const nat::StunClient& client() const noexcept { return client_; }
  const StunStats& stats() const noexcept { return stats_; }

 private:
  /// Our outer addresses with the listen port: a reflexive address equal to one means no NAT.
  std::vector<Endpoint> local_endpoints() const;
  void send(const nat::StunRequest& r, Nanos now);
  void log_events(Nanos now);

  dataplane::Dataplane& dp_;
  Transmitter& tx_;
  Neighbours& neighbours_;
  dataplane::DropCounters& drops_;
  const EventLog& log_;
  nat::StunClient client_;
  StunStats stats_;
  Nanos timeout_logged_ = -1;  // when a binding timeout was last logged; quiet until an answer
};

}  // namespace meshgate::control
