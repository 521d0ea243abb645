// The TURN relay on the control thread: the TURN client (nat::TurnClient) wired to the gateway.
// Like address discovery (stun.hpp) its requests leave from the listen port through the control
// thread's TX queue on the Internet port, so the relayed address maps to the port WireGuard
// uses. Answers arrive as ToControl::outer_stun; Control hands a message here when it comes
// from the TURN server and answers one of our requests (claims()), to StunDiscovery otherwise,
// so one server may be both. It writes no shared table yet: the relayed address is for the
// operator, and for the data path once it seals into ChannelData.
#pragma once

#include <rte_config.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <optional>

#include "meshgate/base/ip.hpp"
#include "meshgate/base/time.hpp"
#include "meshgate/control/event_log.hpp"
#include "meshgate/control/neighbours.hpp"
#include "meshgate/control/transmit.hpp"
#include "meshgate/dataplane/drops.hpp"
#include "meshgate/nat/turn_client.hpp"

namespace meshgate::control {

/// Written by the control thread only.
struct TurnStats {
  /// Requests that never left: no outer address of the server's family, or no mbuf. The
  /// transaction then times out like a lost request.
  std::uint64_t not_sent = 0;
  /// Data indications: a permitted peer sent to our relayed address before a channel was bound
  /// to it (a stock WireGuard peer whose Endpoint is our relayed address). Its first message is
  /// not delivered; a channel to its address is bound, and its retries arrive as ChannelData.
  std::uint64_t data_indications = 0;
  std::uint64_t data_unpermitted = 0;  // ... from an address we never permitted: dropped
};

class TurnRelay {
 public:
  TurnRelay(Transmitter& tx, Neighbours& neighbours, dataplane::DropCounters& drops,
            const EventLog& log)
      : tx_(tx), neighbours_(neighbours), drops_(drops), log_(log) {}

  /// The server and credentials (the config file's TurnServer, TurnUser, TurnPassword); no
  /// server: the part stays idle.
  void configure(nat::TurnServerConfig cfg, Nanos now);
  /// Every timer tick: requests and retransmissions due, timeouts, log lines.
  void tick(Nanos now);
  /// Whether a frame classed ToControl::outer_stun is for this part: STUN from the server with
  /// the transaction id of a request in flight.
  bool claims(const rte_mbuf* m) const noexcept;
  /// A frame claims() accepted. Frees m.
  void handle(rte_mbuf* m, Nanos now);
  /// Lets a peer with a known direct endpoint send to our relayed address (a permission for
  /// its IP): a stock peer that cannot reach us directly can use the relay.
  void permit(const Endpoint& peer, Nanos now) {
    if (client_.state() != nat::TurnState::idle && !client_.permitted(peer.addr)) {
      client_.permit(peer, now);
    }
  }

  const nat::TurnClient& client() const noexcept { return client_; }
  nat::TurnClient& client() noexcept { return client_; }
  const TurnStats& stats() const noexcept { return stats_; }

 private:
  void send(const nat::TurnRequest& r, Nanos now);
  void on_data_indication(const std::uint8_t* payload, std::size_t len, Nanos now);
  void log_events();

  Transmitter& tx_;
  Neighbours& neighbours_;
  dataplane::DropCounters& drops_;
  const EventLog& log_;
  nat::TurnClient client_;
  TurnStats stats_;
};

}  // namespace meshgate::control
