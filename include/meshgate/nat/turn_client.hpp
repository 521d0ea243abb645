// The TURN client's state machine (RFC 8656 over UDP, long-term credentials, RFC 8489 9.2): one
// allocation on one server, and the permissions and channel bindings on it. No sockets, no DPDK,
// no clock of its own: the caller hands in the time, sends what poll() returns from the listen
// port, and feeds it every STUN message that arrives there from the server. The data path (which
// will wrap WireGuard in ChannelData) reads channel_of(). docs/nat-traversal.md ("TURN client")
// has the choices made here.
//
// Lanes, each with at most one request in flight:
//   allocation  Allocate (first without credentials, to learn REALM and NONCE from the 401),
//               then Refresh before the allocation expires;
//   one per peer  CreatePermission (permission only) or ChannelBind (channel, which also
//               installs the permission), repeated before the permission expires.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "meshgate/base/bytes.hpp"
#include "meshgate/base/ip.hpp"
#include "meshgate/base/reasons.hpp"
#include "meshgate/base/time.hpp"
#include "meshgate/nat/stun.hpp"
#include "meshgate/nat/stun_client.hpp"  // RetrySchedule

namespace meshgate::nat {

/// The error a server answers a request with when it has no allocation for the request's source
/// (RFC 8656 6.2).
inline constexpr std::uint16_t kAllocationMismatch = 437;

struct TurnClientTunables {
  /// RFC 8489's retransmission defaults: a request times out 39.5 s after its first send.
  RetrySchedule request{};
  /// How long before an expiry the refresh is sent. Longer than request.lifetime(), so that a
  /// refresh that needs every retransmission still lands before the server forgets the state;
  /// a lifetime under twice the margin is refreshed at its half instead.
  Nanos refresh_margin = seconds(60);
  /// The wait after a failed allocation (error, wrong credentials, timeout) before trying
  /// again: an error comes back at once, and a refusing server must not become a request loop.
  Nanos after_failure = seconds(60);
  /// A 437 to a request on an allocation at least this old re-allocates at once (our NAT
  /// rebound the port); on a younger one it backs off like a failure, so a server that keeps
  /// answering 437 cannot make a request loop.
  Nanos rebind_guard = seconds(5);
  /// Permissions last 300 s on the server (RFC 8656 9); channel bindings 600 s, but the
  /// permission a ChannelBind installs still lasts only 300 s, so both are renewed on this one.
  Nanos permission_lifetime = seconds(300);
};

#define MESHGATE_TURN_VERDICTS(X)                                                      \
  X(malformed, "not a STUN message the codec accepts")                                 \
  X(not_response, "a request or indication, not an answer to one of our requests")     \
  X(bad_fingerprint, "FINGERPRINT does not match the message")                         \
  X(unknown_transaction, "transaction id of no request in flight (late, or not ours)") \
  X(wrong_source, "answer from another address than the TURN server")                  \
  X(missing_integrity, "answer to an authenticated request without MESSAGE-INTEGRITY") \
  X(bad_integrity, "MESSAGE-INTEGRITY does not match the long-term key")               \
  X(challenge, "401 with REALM and NONCE: the request is repeated with credentials")   \
  X(stale_nonce, "438 with a new NONCE: the request is repeated with it")              \
  X(error_response, "the server refused the request")                                  \
  X(bad_answer, "success response without an attribute it must carry")

/// `none` means accepted (a success answer acted on).
MESHGATE_REASON_ENUM(TurnVerdict, MESHGATE_TURN_VERDICTS)
inline constexpr std::size_t kTurnVerdictCount = MESHGATE_REASON_COUNT(MESHGATE_TURN_VERDICTS);
/// "accepted", "malformed", ...: the label of a counter.
std::string_view to_string(TurnVerdict v) noexcept;
std::string_view describe(TurnVerdict v) noexcept;

enum class TurnState : std::uint8_t {
  idle,        // no server configured
  allocating,  // Allocate in flight (with or without credentials)
  allocated,   // relayed address known; refreshes run
  failed,      // the last attempt failed; the next one waits out after_failure
};
/// "idle", "allocating", "allocated", "failed": the label of a metric.
std::string_view to_string(TurnState s) noexcept;

struct TurnServerConfig {
  Endpoint server;
  std::string username;
  std::string password;
  friend bool operator==(const TurnServerConfig&, const TurnServerConfig&) = default;
};

/// One request to send from the listen port to the server.
struct TurnRequest {
  /// Header, REQUESTED-TRANSPORT, USERNAME, REALM and NONCE at their RFC maxima (513, 763 and
  /// 763 bytes) would not fit any MTU; 600 bytes hold values of 128 bytes each with room to
  /// spare. A request that does not fit fails its lane with a failed event.
  static constexpr std::size_t kMaxSize = 600;
  Endpoint to;
  std::array<std::uint8_t, kMaxSize> bytes{};
  std::size_t len = 0;
};

struct TurnAllocation {
  Endpoint relayed;            // XOR-RELAYED-ADDRESS; unknown unless allocated
  Endpoint mapped;             // XOR-MAPPED-ADDRESS: our address as the server sees it
  std::uint32_t lifetime = 0;  // seconds, from the latest Allocate or Refresh answer
  Nanos expires = 0;
};

struct TurnEvent {
  enum class Kind : std::uint8_t {
    allocated,           // relayed, mapped, lifetime
    refreshed,           // lifetime
    failed,              // what, error_code (0: no answer), reason
    permission_created,  // peer
    channel_bound,       // peer, channel
  };
  Kind kind{};
  Endpoint relayed, mapped, peer;
  std::uint32_t lifetime = 0;
  std::uint16_t channel = 0;
  std::uint16_t error_code = 0;
  std::string reason;     // the ERROR-CODE's reason phrase, or why no answer counts
  const char* what = "";  // "Allocate", "Refresh", "CreatePermission", "ChannelBind"
};

struct TurnClientStats {
  std::uint64_t requests_sent = 0;                     // first transmissions
  std::uint64_t retransmissions = 0;                   // the same request again
  std::uint64_t timeouts = 0;                          // transactions that got no answer
  std::uint64_t allocations = 0;                       // successful Allocates
  std::uint64_t verdicts[kTurnVerdictCount + 1] = {};  // by TurnVerdict; [0]: accepted
};

class TurnClient {
 public:
  explicit TurnClient(const TurnClientTunables& t = {}) : t_(t) {}

  /// The server and credentials; a different one starts over (peers are kept and re-requested
  /// on the new allocation). An unknown server endpoint makes the client idle.
  void configure(TurnServerConfig cfg, Nanos now);
  const TurnServerConfig& config() const noexcept { return cfg_; }

  /// Asks for a permission for the peer's address (the port is not part of a permission).
  void permit(const Endpoint& peer, Nanos now);
  /// Asks for a channel to the peer endpoint; returns its number (0x4000...), the same one on
  /// every call for that peer. 0 when all channel numbers are taken.
  std::uint16_t bind_channel(const Endpoint& peer, Nanos now);
  /// The peer's channel once the server confirmed the binding; 0 otherwise.
  std::uint16_t channel_of(const Endpoint& peer) const noexcept;
  /// Our NAT gave the listen port a new mapping (the STUN client saw the reflexive address
  /// change): the server keeps the allocation for the old one, which nothing reaches any more,
  /// so a new one is made now, with the same peers and channels.
  void rebound(Nanos now) {
    if (state_ == TurnState::allocated) restart(now);
  }
  /// Whether a permission (or a channel) for the address was asked for.
  bool permitted(const IpAddr& addr) const noexcept;

  /// Requests due at `now`; timeouts are handled here too.
  std::vector<TurnRequest> poll(Nanos now);
  /// A STUN message that arrived on the listen port from `from`.
  TurnVerdict on_message(const std::uint8_t* data, std::size_t len, const Endpoint& from,
                         Nanos now);
  std::vector<TurnEvent> take_events();

  TurnState state() const noexcept { return state_; }
  const TurnAllocation& allocation() const noexcept { return alloc_; }
  const TurnClientStats& stats() const noexcept { return stats_; }
  /// Whether `from` is the configured server.
  bool is_server(const Endpoint& from) const noexcept {
    return cfg_.server.known() && from == cfg_.server;
  }
  /// Whether a STUN message (already demuxed as STUN) answers one of our requests in flight, by
  /// its transaction id alone: the caller's rule for which client gets a message when one server
  /// is both the STUN and the TURN server.
  bool expects(const std::uint8_t* data, std::size_t len) const noexcept;

 private:
  enum class Op : std::uint8_t { allocate, refresh, permission, channel };
  struct Transaction {
    bool active = false;
    Op op = Op::allocate;
    bool authenticated = false;  // carries USERNAME ... MESSAGE-INTEGRITY
    unsigned retries = 0;        // 438 retries of this request
    stun::TransactionId tid{};
    unsigned sent = 0;
    Nanos next_at = 0;  // the next (re)transmission; after the last one, the timeout
    TurnRequest request;
  };
  struct Peer {
    Endpoint peer;
    std::uint16_t channel = 0;  // 0: permission only
    bool confirmed = false;     // the server answered success
    Nanos next_at = 0;          // the next CreatePermission / ChannelBind
    Transaction t;
  };

  void restart(Nanos now);
  bool start(Transaction& t, Op op, Peer* p, Nanos now);
  bool build(Transaction& t, const Peer* p);
  void transmit(Transaction& t, Nanos now, std::vector<TurnRequest>& out);
  bool expired(Transaction& t, Nanos now);
  void poll_peers(Nanos now, std::vector<TurnRequest>& out);
  Transaction* match(const stun::TransactionId& tid, Peer*& peer) noexcept;
  TurnVerdict screen(const stun::Message& m, const Endpoint& from, Transaction*& t, Peer*& p);
  TurnVerdict answered(const stun::Message& m, Transaction& t, Peer* p, Nanos now);
  TurnVerdict challenged(const stun::Message& m, Transaction& t, Peer* p, const stun::ErrorCode& ec,
                         Nanos now);
  TurnVerdict allocation_answered(const stun::Message& m, Transaction& t, Nanos now);
  void peer_answered(Peer& p, Nanos now);
  void fail(Transaction& t, Peer* p, std::uint16_t code, std::string reason, Nanos now);
  Nanos refresh_at(Nanos now, Nanos lifetime) const noexcept;

  TurnClientTunables t_;
  TurnServerConfig cfg_;
  TurnState state_ = TurnState::idle;
  std::string realm_, nonce_;
  Bytes<16> key_{};
  Nanos next_allocation_ = 0;  // the next Allocate (not allocated) or Refresh (allocated)
  Transaction alloc_t_;
  Nanos allocated_at_ = 0;  // the latest successful Allocate
  TurnAllocation alloc_;
  std::vector<Peer> peers_;
  std::uint16_t next_channel_ = stun::kChannelMin;
  std::vector<TurnEvent> events_;
  TurnClientStats stats_;
};

}  // namespace meshgate::nat
