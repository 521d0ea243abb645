// The STUN client's state machine (RFC 8489 Binding, RFC 5780 behaviour discovery): which
// requests to send when, and what the answers mean. No sockets, no DPDK, no clock of its own:
// the caller hands in the time, sends what poll() returns from the listen port, and feeds every
// STUN message that arrives on that port to on_message(). docs/nat-traversal.md ("Address
// discovery") has the protocol facts and the choices made here.
//
// Two lanes of transactions run side by side, each with at most one request in flight:
//   binding  a Binding request to the active server, repeated every `refresh` to learn the
//            reflexive address and keep the NAT mapping for the listen port alive; a server that
//            times out or answers with an error hands over to the next configured one;
//   probe    the RFC 5780 tests against a server whose answer carried OTHER-ADDRESS, run after
//            the reflexive address is first learnt or changes, and every `reclassify`.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meshgate/base/ip.hpp"
#include "meshgate/base/reasons.hpp"
#include "meshgate/base/time.hpp"
#include "meshgate/nat/stun.hpp"

namespace meshgate::nat {

// ---------------------------------------------------------------------------------------------
// Timing: every tunable of the client, in one place.
// ---------------------------------------------------------------------------------------------

/// Retransmission of one request over UDP (RFC 8489 6.2.1): sent up to `tries` times, the wait
/// doubling from `rto` after each; after the last, the transaction waits `last_wait` * `rto` more
/// and then times out.
struct RetrySchedule {
  Nanos rto = millis(500);
  unsigned tries = 7;       // Rc
  unsigned last_wait = 16;  // Rm

  /// From the first request to the timeout.
  Nanos lifetime() const noexcept {
    return rto * ((Nanos{1} << (tries - 1)) - 1) + rto * last_wait;
  }
};

struct StunClientTunables {
  /// Binding requests: RFC 8489's defaults (500 ms, Rc 7, Rm 16: a timeout after 39.5 s). Loss on
  /// the path to a server should not make us drop to the next one.
  RetrySchedule binding{};
  /// RFC 5780 tests: silence is one of the answers (a filtered CHANGE-REQUEST), so each test
  /// waiting 39.5 s would hold up classification for minutes. Four tries over 7.5 s still need
  /// four losses in a row to mistake loss for filtering.
  RetrySchedule probe{millis(500), 4, 8};
  /// How often the reflexive address is asked again. It is also the keepalive of the NAT mapping
  /// of the listen port: the shortest common UDP mapping timeout is 30 s (Linux conntrack's
  /// default for a flow not yet seen as a stream), so 25 s keeps under it, as WireGuard's own
  /// suggested PersistentKeepalive does.
  Nanos refresh = seconds(25);
  /// How long to wait after an error response before asking the next server: errors come back
  /// at once, and a list of servers that all refuse must not become a request loop.
  Nanos after_error = seconds(25);
  /// RFC 5780 results are upper bounds and NATs change behaviour, so the tests are repeated.
  /// The interval must be well past NAT mapping timeouts (2-5 minutes, RFC 4787 REQ-5): the last
  /// run's requests to the alternate address open the filter of an address-dependent NAT for
  /// that long, which would make the next run see endpoint-independent filtering.
  Nanos reclassify = seconds(std::int64_t{30} * 60);
};

// ---------------------------------------------------------------------------------------------
// What an answer was.
// ---------------------------------------------------------------------------------------------
#define MESHGATE_STUN_VERDICTS(X)                                                         \
  X(malformed, "not a STUN message the codec accepts")                                    \
  X(not_response, "a STUN request or indication, not an answer to one of our requests")   \
  X(bad_fingerprint, "FINGERPRINT does not match the message")                            \
  X(unknown_transaction, "transaction id of no request in flight (late, or not ours)")    \
  X(wrong_source, "answer from another address than the one the request expects it from") \
  X(error_response, "the server answered with an error")                                  \
  X(no_address, "success response without XOR-MAPPED-ADDRESS or MAPPED-ADDRESS")

/// `none` means accepted.
MESHGATE_REASON_ENUM(StunVerdict, MESHGATE_STUN_VERDICTS)
inline constexpr std::size_t kStunVerdictCount = MESHGATE_REASON_COUNT(MESHGATE_STUN_VERDICTS);
/// "accepted", "malformed", ...: the label of a counter.
std::string_view to_string(StunVerdict v) noexcept;
std::string_view describe(StunVerdict v) noexcept;

// ---------------------------------------------------------------------------------------------
// NAT behaviour (RFC 4787 terms, RFC 5780 tests).
// ---------------------------------------------------------------------------------------------
enum class Mapping : std::uint8_t {
  unknown,
  none,  // the reflexive address is our own: no NAT on the path
  endpoint_independent,
  address_dependent,
  address_and_port_dependent,
};
enum class Filtering : std::uint8_t {
  unknown,
  endpoint_independent,
  address_dependent,
  address_and_port_dependent,
};

#define MESHGATE_NAT_UNKNOWN_REASONS(X)                                                          \
  X(not_tested, "no STUN server has answered yet")                                               \
  X(no_other_address, "the server's answer has no OTHER-ADDRESS: it cannot run RFC 5780 tests")  \
  X(same_address, "the server's OTHER-ADDRESS does not differ from it in both address and port") \
  X(no_answer, "the server's alternate address did not answer")                                  \
  X(refused, "the server answered a test request with an error")

/// Why a class is (partly) unknown; `none` when both halves are known.
MESHGATE_REASON_ENUM(NatUnknown, MESHGATE_NAT_UNKNOWN_REASONS)
std::string_view to_string(NatUnknown u) noexcept;
std::string_view describe(NatUnknown u) noexcept;

/// "endpoint_independent": the label of a metric.
std::string_view to_string(Mapping m) noexcept;
std::string_view to_string(Filtering f) noexcept;

struct NatClass {
  Mapping mapping = Mapping::unknown;
  Filtering filtering = Filtering::unknown;
  NatUnknown why = NatUnknown::not_tested;

  /// "endpoint-independent mapping, address-and-port-dependent filtering", "no NAT, ...", or
  /// "unknown (<why>)".
  std::string describe() const;
  /// The old names: "public", "firewalled", "full cone", "restricted cone", "port-restricted
  /// cone", "symmetric", "unknown".
  std::string_view short_name() const noexcept;

  friend bool operator==(const NatClass&, const NatClass&) = default;
};

// ---------------------------------------------------------------------------------------------
// The client.
// ---------------------------------------------------------------------------------------------

/// One request to send from the listen port.
struct StunRequest {
  static constexpr std::size_t kMaxSize = 64;  // header + CHANGE-REQUEST + FINGERPRINT is 36
  Endpoint to;
  std::array<std::uint8_t, kMaxSize> bytes{};
  std::size_t len = 0;
};

/// The reflexive (server-reflexive, RFC 8489 3) address of the listen port.
struct Reflexive {
  Endpoint address;     // unknown until a server answers
  Endpoint server;      // which server said it
  Nanos learnt = 0;     // when this address was first reported
  Nanos confirmed = 0;  // the latest answer that reported it
};

/// What the caller should tell the operator about.
struct StunEvent {
  enum class Kind : std::uint8_t {
    reflexive_changed,  // address, previous (unknown the first time), server
    nat_classified,     // nat: a class different from the last one reported
    timeout,            // server: a request went unanswered; what: which test
    error_response,     // server, error_code: an error answer
  };
  Kind kind{};
  Endpoint server;
  Endpoint address;
  Endpoint previous;
  NatClass nat;
  std::uint16_t error_code = 0;
  const char* what = "";  // "binding", "filtering test II (change address and port)", ...
  bool probe = false;     // an RFC 5780 test, where silence is an expected answer
};

struct StunClientStats {
  std::uint64_t requests_sent = 0;    // first transmissions
  std::uint64_t retransmissions = 0;  // the same request again
  std::uint64_t timeouts = 0;         // transactions that got no answer
  std::uint64_t address_changes = 0;  // a known reflexive address replaced by another
  std::uint64_t verdicts[kStunVerdictCount + 1] = {};  // by StunVerdict; [0]: accepted
};

class StunClient {
 public:
  explicit StunClient(const StunClientTunables& t = {}) : t_(t) {}

  /// The servers, tried in order. A different list starts discovery anew.
  void set_servers(std::vector<Endpoint> servers, Nanos now);
  /// Our own addresses with the listen port (a reflexive address equal to one means no NAT). A
  /// change (a new listen port: a new NAT mapping) starts discovery anew.
  void set_local(std::vector<Endpoint> local, Nanos now);

  /// Requests due at `now`; timeouts are handled here too.
  std::vector<StunRequest> poll(Nanos now);
  /// A STUN message that arrived on the listen port from `from`.
  StunVerdict on_message(const std::uint8_t* data, std::size_t len, const Endpoint& from,
                         Nanos now);
  /// Events since the last call, oldest first.
  std::vector<StunEvent> take_events();

  const std::vector<Endpoint>& servers() const noexcept { return servers_; }
  const Reflexive& reflexive() const noexcept { return reflexive_; }
  /// The latest classification (kept while a new one runs).
  const NatClass& nat() const noexcept { return nat_; }
  bool classifying() const noexcept { return probe_.active; }
  const StunClientStats& stats() const noexcept { return stats_; }

 private:
  enum class Step : std::uint8_t { binding, filter_both, filter_port, map_alt_ip, map_alt_both };
  struct Transaction {
    bool active = false;
    Step step = Step::binding;
    stun::TransactionId tid{};
    Endpoint to, expect_from;
    RetrySchedule schedule;
    unsigned sent = 0;
    Nanos next_at = 0;  // the next (re)transmission; after the last one, the timeout
    StunRequest request;
  };
  /// The RFC 5780 run in progress.
  struct Probe {
    Endpoint server, other;  // primary A1:P1 and alternate A2:P2
    Endpoint m1, m2;         // mappings seen by tests I and II
    Mapping mapping = Mapping::unknown;
    Filtering filtering = Filtering::unknown;
    NatUnknown why = NatUnknown::none;
  };

  void restart(Nanos now);
  void begin(Transaction& t, Step step, const Endpoint& to, const Endpoint& expect_from,
             stun::ChangeRequest change, Nanos now);
  /// A transaction whose last request went unanswered for long enough times out.
  void expire(Transaction& t, Nanos now);
  /// The request, if its (re)transmission is due.
  void transmit(Transaction& t, Nanos now, std::vector<StunRequest>& out);
  void timed_out(Transaction& t, Nanos now);
  Transaction* match(const stun::TransactionId& tid) noexcept;
  /// The verdict; `t` is set when the answer ends a transaction of ours.
  StunVerdict screen(const std::uint8_t* data, std::size_t len, const Endpoint& from,
                     stun::Message& m, Transaction*& t, std::optional<Endpoint>& mapped);
  void error_event(const stun::Message& m, const Transaction& t);
  void binding_answered(const stun::Message& m, const Endpoint& mapped, Nanos now);
  void binding_failed(Nanos next_try);
  void learn(const Endpoint& mapped, const Endpoint& server, Nanos now);
  void start_probe(const stun::Message& m, const Endpoint& server, Nanos now);
  void probe_answered(Step step, const Endpoint& mapped, Nanos now);
  void probe_silent(Step step, Nanos now);
  void probe_failed(Step step, NatUnknown why, Nanos now);
  void mapping_tests(Nanos now);
  void finish_probe();
  bool is_local(const Endpoint& e) const noexcept;

  StunClientTunables t_;
  std::vector<Endpoint> servers_, local_;
  std::size_t active_ = 0;  // index in servers_ of the binding lane's server
  Nanos next_binding_ = 0;
  Nanos next_classify_ = 0;
  bool classify_now_ = true;  // classify on the next answer, whenever it comes
  Transaction binding_, probe_;
  Probe run_;
  Reflexive reflexive_;
  NatClass nat_;
  std::vector<StunEvent> events_;
  StunClientStats stats_;
};

}  // namespace meshgate::nat
