// Handshakes and sessions (protocol.md 3, 3.8-3.10, 5): our identity, the messages of types 1-3,
// cookies under load, the rate limiter, initiations and keepalives we send, and the confirmation of
// a responder's session. Sessions derived here go live through KeySlots.
#pragma once

#include <rte_config.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <vector>

#include "meshgate/base/result.hpp"
#include "meshgate/control/event_log.hpp"
#include "meshgate/control/key_slots.hpp"
#include "meshgate/control/neighbours.hpp"
#include "meshgate/control/peers.hpp"
#include "meshgate/control/routes.hpp"
#include "meshgate/control/staging.hpp"
#include "meshgate/control/transmit.hpp"
#include "meshgate/noise/cookie.hpp"
#include "meshgate/noise/drop.hpp"
#include "meshgate/noise/identity.hpp"
#include "meshgate/peer/ratelimiter.hpp"

namespace meshgate::control {

/// Written by the control thread only.
struct HandshakeStats {
  std::uint64_t initiations_sent = 0, initiations_received = 0;
  std::uint64_t responses_sent = 0, responses_received = 0;
  std::uint64_t cookies_sent = 0, cookies_received = 0;
  std::uint64_t keepalives_sent = 0;
  std::uint64_t handshake_drops[noise::kHandshakeDropCount + 1] = {};  // by HandshakeDrop
  std::uint64_t rate_limited = 0;
};

/// The parts a Sessions object works with (all owned by Control).
struct SessionParts {
  dataplane::Dataplane& dp;
  Peers& peers;
  KeySlots& keys;
  Routes& routes;
  Staging& staging;
  Neighbours& neighbours;
  Transmitter& tx;
  dataplane::DropCounters& drops;
  const EventLog& log;
};

class Sessions {
 public:
  explicit Sessions(const SessionParts& parts) : p_(parts) {}

  const noise::StaticIdentity& identity() const noexcept { return identity_; }
  /// Every peer's static-static DH depends on our key (protocol.md 3.10): each peer's
  /// handshake is set up anew and its sessions end, so new handshakes follow. Returns the peers
  /// whose public key is now ours (the caller removes them).
  std::vector<PeerId> set_private_key(const SecretKey& key);
  /// Sets up the peer's handshake with our identity and its preshared key (no key yet: later,
  /// by set_private_key).
  Status configure(PeerId peer);

  /// A handshake message (types 1-3) from the Internet port. Frees m.
  void handle(rte_mbuf* m, Nanos now, WallTime wall);
  /// Starts (or retries) a handshake unless the timers say it is too soon.
  void send_initiation(PeerId peer, Nanos now, WallTime wall, bool retry);
  /// Sends the peer's latest initiation again, to `to` instead of its endpoint (probing a
  /// candidate path), while it is current (younger than REKEY_TIMEOUT); else nothing.
  void copy_initiation_to(PeerId peer, const Endpoint& to, Nanos now);
  /// An empty transport message; with no session it asks for a handshake instead.
  void send_keepalive(PeerId peer, Nanos now);
  /// The peer's endpoint is now `src` (an authenticated message came from it, or path
  /// selection chose it): its route follows, and packets staged for it go.
  void learn_endpoint(PeerId peer, const Endpoint& src, Nanos now);
  /// The first packet arrived on the responder's `next` keypair `index`.
  void confirm(PeerId peer, std::uint32_t index, Nanos now, WallTime wall);
  /// Wipes every session and the handshake state of the peer.
  void zero(PeerId peer);

  const HandshakeStats& stats() const noexcept { return stats_; }

 private:
  bool under_load(Nanos now);
  /// mac1, then (under load) mac2 or a cookie reply, then the rate limiter: true to go on.
  template <class Msg>
  bool admit(const Msg& msg, const Endpoint& src, Nanos now);
  void handle_initiation(const std::uint8_t* msg, const Endpoint& src, Nanos now);
  void handle_response(const std::uint8_t* msg, const Endpoint& src, Nanos now, WallTime wall);
  void handle_cookie_reply(const std::uint8_t* msg, Nanos now);
  /// Sends a handshake message; false when no frame could be made (no mbuf, no outer address
  /// of the endpoint's family).
  bool send_udp(const Endpoint& to, const void* payload, std::size_t len, Nanos now);
  /// Handshake bytes in the peer's transfer counters, as the kernel counts them: initiations
  /// and responses sent to the peer, and those received from it that authenticated (cookie
  /// replies in neither). The control thread's own activity row (Dataplane::activity).
  void count_bytes(PeerId peer, std::size_t len, bool sent) noexcept;
  /// Every refused handshake message: counted (metrics, print_stats) and logged, rate-limited.
  void count(noise::HandshakeDrop d);

  SessionParts p_;
  noise::StaticIdentity identity_;
  noise::CookieChecker cookie_checker_;
  peer::RateLimiter rate_limiter_;
  Nanos under_load_until_ = 0;
  HandshakeStats stats_;
};

}  // namespace meshgate::control
