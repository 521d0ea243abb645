// State sync of a high-availability pair (docs/design.md, "High availability"): the active
// gateway sends its standby partner, over the management network, what the standby could not
// know from its own config file: endpoints learnt by roaming, handshakes and path selection, and
// every change an operator made with `wg`. A takeover then reaches a peer that roamed.
//
// The stream (TCP, the active connects to the standby's SyncListen):
//   active -> standby  hello: kMagic || 16 random bytes
//   standby -> active  hello: kMagic || 16 random bytes
//   active -> standby  frames: BE32 length n || ChaCha20-Poly1305(payload of n bytes) || tag,
//                      nonce = frame counter from 0, key = connection_key() of both hellos
// Both servers hold the same private key; the key of a connection is derived from it, so only the
// partner can write the standby's tables, and nobody on the management network reads the
// preshared keys a frame carries or replays a frame into another connection.
//
// A payload is the body of a UAPI set request (uapi.hpp): the standby applies it with the same
// code as `wg set`. The first frames of a connection carry the whole state between two marker
// lines (kFullBegin, kFullEnd: peers the standby has and the active does not are removed at the
// end; the others are updated in place, so what only the config file gives, such as a peer's
// Lighthouse flag, stays); the later ones carry what changed, found by comparing each peer with
// what was last sent (Snapshot). An empty frame is a heartbeat. The active goes through its
// peers kPassSlice at a time, one slice per poll of the control thread, so that neither the full
// state nor a period's comparison holds up handshakes for long at many peers.
//
// Thread contract: everything on the control thread (a Control service).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "meshgate/base/ip.hpp"
#include "meshgate/base/result.hpp"
#include "meshgate/base/secret.hpp"
#include "meshgate/base/time.hpp"
#include "meshgate/control/metrics.hpp"
#include "meshgate/control/peers.hpp"
#include "meshgate/control/stream_server.hpp"
#include "meshgate/control/uapi.hpp"

namespace meshgate::control {

class Control;

namespace ha_sync {

inline constexpr std::string_view kMagic = "meshgate-ha-sync-1\n";
/// Lines of a payload that only the sync knows (never a UAPI key): around the full state.
inline constexpr std::string_view kFullBegin = "meshgate_sync=full_begin";
inline constexpr std::string_view kFullEnd = "meshgate_sync=full_end";
inline constexpr std::size_t kRandomLen = 16;
inline constexpr std::size_t kHelloLen = kMagic.size() + kRandomLen;
/// A frame's payload at most; Snapshot cuts a full state into frames below kFrameTarget.
inline constexpr std::size_t kMaxPayload = std::size_t{1} << 20;
inline constexpr std::size_t kFrameTarget = std::size_t{64} << 10;
/// How often the active starts comparing its peers with what it sent, and sends a heartbeat at
/// least.
inline constexpr Nanos kSyncPeriod = millis(500);
/// Peers compared (or formatted, in a full state) per poll of the control thread: about 0.16 ms
/// in a full state, 0.04 ms otherwise (bench/RESULTS.md, "High-availability state sync"); a pass
/// over 100,000 peers takes 391 polls.
inline constexpr std::size_t kPassSlice = 256;
inline constexpr Nanos kHeartbeat = seconds(1);
/// A partner that cannot be reached is tried again after this long; a connection that gets no
/// hello within kConnectTimeout is given up.
inline constexpr Nanos kRetry = seconds(1);
inline constexpr Nanos kConnectTimeout = seconds(3);
/// Sealed bytes waiting for a standby that does not read: past this, the connection is closed
/// and made again (with a full state), rather than memory growing.
inline constexpr std::size_t kMaxBacklog = std::size_t{64} << 20;

/// The key of one connection: keyed BLAKE2s of both hellos' random bytes, with the private key.
SecretKey connection_key(const SecretKey& private_key, ByteSpan active_random,
                         ByteSpan standby_random);

/// Appends one sealed frame of `payload` (at most kMaxPayload) with frame counter `counter`.
void seal_frame(std::string& out, const SecretKey& key, std::uint64_t counter,
                std::string_view payload);

/// The standby's side of the frames: bytes in, payloads out, in order.
class FrameReader {
 public:
  enum class Result { need_more, frame, bad };
  explicit FrameReader(const SecretKey& key) : key_(key) {}
  ~FrameReader();
  FrameReader(const FrameReader&) = delete;
  FrameReader& operator=(const FrameReader&) = delete;
  void append(std::string_view bytes) { buf_.append(bytes); }
  /// The next payload into `payload`, or need_more, or bad (a length over kMaxPayload or a frame
  /// that fails authentication: the stream is over).
  Result next(std::string& payload);

 private:
  SecretKey key_;
  std::uint64_t counter_ = 0;
  std::string buf_;
};

/// What the standby needs of one peer: what `wg set` can set, as the active has it now.
struct PeerRecord {
  Key32 public_key{};
  std::optional<SecretKey> preshared_key;
  Endpoint endpoint;  // unknown, or relayed: not sent (a TURN channel is the allocation's of
                      // the server that made it)
  std::uint16_t persistent_keepalive = 0;
  std::vector<std::string> allowed_ips;  // PeerConfig::allowed_ips(), the live table's
};

/// The peer's section of a set request: every key the standby needs, allowed IPs replaced.
std::string peer_section(const PeerRecord& p);

/// What the active sent its standby, and what changed since, found in passes over the peers: a
/// pass names every peer once (begin, add each, take after each slice), and take(true) ends it.
class Snapshot {
 public:
  struct Interface {
    std::uint16_t listen_port = 0;
    std::uint32_t fwmark = 0;
    friend bool operator==(const Interface&, const Interface&) = default;
  };
  /// Starts a pass. `full`: everything, between kFullBegin and kFullEnd (a new connection; the
  /// standby's state is unknown).
  void begin(const Interface& iface, bool full);
  /// One peer of the pass, as the active has it now: its section is due if it changed.
  void add(PeerRecord p);
  /// Set request bodies (each under kFrameTarget but for one huge peer) of what is due so far,
  /// which bring a standby holding what was taken before up to the peers added. `last`: the
  /// pass ends: peers it did not add are removed, and a full state gets its kFullEnd. Nothing
  /// due: no body.
  std::vector<std::string> take(bool last);
  /// A whole pass at once over `peers`.
  std::vector<std::string> changes(const Interface& iface, std::vector<PeerRecord> peers,
                                   bool full);

 private:
  struct Sent {
    PeerRecord record;
    std::uint64_t round = 0;  // the last pass that added the peer
  };
  std::optional<Interface> iface_;
  std::map<Key32, Sent> sent_;
  std::uint64_t round_ = 0;
  bool full_ = false;                // the pass in progress is a full state
  std::string cur_;                  // the body being filled
  std::vector<std::string> bodies_;  // complete bodies, not taken yet
};

/// The standby's side of the payloads of one connection: each applied as one set request
/// (uapi::SetRequest, as `wg set`), less the role key (keepalived's alone), with the full
/// state's markers handled.
class Applier {
 public:
  explicit Applier(uapi::Device& dev) : dev_(dev) {}
  struct Outcome {
    int rc = 0;               // 0, or the errno of the line that stopped the payload
    std::size_t peers = 0;    // peer sections applied
    std::size_t removed = 0;  // peers removed at a full state's end
  };
  Outcome apply(std::string_view payload);

 private:
  int line(uapi::SetRequest& req, std::string_view text, Outcome& out, bool& full_end);
  /// Removes the peers the full state did not name.
  std::size_t remove_unseen();

  uapi::Device& dev_;
  bool full_ = false;     // between kFullBegin and kFullEnd
  std::set<Key32> seen_;  // peers named since kFullBegin
};

}  // namespace ha_sync

/// Both ends of the sync: a listener for the standby's side (SyncListen) and a client for the
/// active's (SyncPeer). A gateway has either or both; the role of the moment says which works.
class StateSync {
 public:
  /// `listen`: where to accept the partner, or none. `partner`: where it listens, or none.
  /// `dev` applies what arrives (the control thread's UAPI device); both outlive this.
  static Result<std::unique_ptr<StateSync>> open(Control& control, uapi::Device& dev,
                                                 std::optional<Endpoint> listen,
                                                 std::optional<Endpoint> partner);
  ~StateSync();
  StateSync(const StateSync&) = delete;
  StateSync& operator=(const StateSync&) = delete;

  /// Accepts, applies, connects and sends what is due; a Control service.
  unsigned poll(Nanos now);
  const HaSyncStats& stats() const noexcept { return stats_; }
  /// Active: the link to the standby is up (its hello came).
  bool connected() const noexcept { return link_ == Link::up; }

 private:
  class Session;
  StateSync(Control& control, uapi::Device& dev) : control_(control), dev_(dev) {}
  unsigned poll_partner(Nanos now);
  void start_connect(Nanos now);
  /// Completes the connect, sends our hello, reads the standby's; true: work was done.
  bool advance_link(Nanos now);
  /// Sends what changed (everything on a new connection), a slice of the peers at a time, and
  /// heartbeats; true: work was done, or a pass goes on.
  bool send_due(Nanos now);
  /// Writes what the socket takes; false: the connection failed (and is closed).
  bool flush(Nanos now);
  /// Ends the connection (or the attempt) and schedules the next one; logs why.
  void close_partner(Nanos now, const std::string& why);
  /// Applies one payload of a Session's connection (a standby's; an active one ignores it).
  void apply(std::string_view payload, ha_sync::Applier& applier);

  Control& control_;
  uapi::Device& dev_;
  std::unique_ptr<StreamServer> server_;  // SyncListen; null: none
  std::optional<Endpoint> partner_;
  int fd_ = -1;  // the connection to the partner (active only)
  enum class Link { down, connecting, hello_sent, up } link_ = Link::down;
  Nanos next_try_ = 0;
  Nanos connect_started_ = 0;
  Nanos last_compare_ = 0, last_sent_ = 0;
  std::string in_, out_;  // partner connection buffers
  std::uint8_t my_random_[ha_sync::kRandomLen] = {};
  SecretKey key_;
  std::uint64_t counter_ = 0;
  ha_sync::Snapshot snapshot_;
  // The pass over the peers in progress (Snapshot::begin): the ids it goes through, how far.
  std::vector<PeerId> pass_;
  std::size_t pass_at_ = 0;
  bool pass_open_ = false;
  bool logged_unreachable_ = false;  // one line per outage, not one per retry
  HaSyncStats stats_;
};

}  // namespace meshgate::control
