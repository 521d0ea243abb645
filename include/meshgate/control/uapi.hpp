// The WireGuard cross-platform userspace API (UAPI), protocol side (protocol.md 9):
// framing, `get=1` replies and `set=1` requests, with no sockets and no DPDK, so that the unit
// suite drives it line by line. uapi_server.hpp puts it on /var/run/wireguard/<tunnel>.sock.
//
// Semantics follow wireguard-go (device/uapi.go), which the stock `wg` tool is written against:
//  - a set request is applied line by line, as it arrives; it is not transactional. An error
//    stops the request: earlier lines stay applied, the bad line applies nothing, the rest of
//    the request up to its blank line is read and ignored;
//  - one refinement: `replace_allowed_ips=true` and the allowed_ip lines after it are applied
//    together when the peer's section ends (next public_key, end of request, an error, or the
//    client going away), as one gap-free replacement, so that `wg syncconf` and
//    `wg set allowed-ips` never leave the peer without routes while the workers forward;
//  - interface keys are valid only before the first public_key; unknown keys, get-only keys
//    and bad values are EINVAL; a line without '=' is EPROTO; a line over kMaxLine is EIO and
//    closes the connection; an unknown operation closes the connection without a reply;
//  - meshgate's own interface key, meshgate_role=active|standby (set only; docs/design.md, "High
//    availability"), switches a gateway of an HA pair; `wg` never sends it;
//  - set replies carry a negative errno (`wg` prints strerror(-n)), get replies a positive one
//    (a negative number breaks `wg`'s get parser).
//
// Thread contract: one Connection per client, all on the control thread; the Device it drives
// is the control thread's (Control through uapi_device.cpp, or a fake in tests).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meshgate/base/bytes.hpp"
#include "meshgate/base/ip.hpp"
#include "meshgate/base/secret.hpp"
#include "meshgate/base/time.hpp"
#include "meshgate/config/gateway_config.hpp"

namespace meshgate::control::uapi {

/// errno values of the protocol (positive; the sign is added per operation).
inline constexpr int kEio = 5;
inline constexpr int kEnomem = 12;
inline constexpr int kEinval = 22;
inline constexpr int kEproto = 71;

/// Longest line accepted. The longest legitimate one is an endpoint with an IPv6 scope
/// (< 100 bytes); anything far beyond is garbage or an attack on memory.
inline constexpr std::size_t kMaxLine = 1024;

/// The set-only interface key that switches an HA gateway's role (meshgate's, not WireGuard's).
inline constexpr std::string_view kRoleKey = "meshgate_role";

/// One peer as `get=1` reports it.
struct PeerInfo {
  Key32 public_key{};
  SecretKey preshared_key;  // all zero: none
  Endpoint endpoint;        // unknown: the endpoint line is left out
  WallTime last_handshake;  // {0, 0}: never
  std::uint64_t rx_bytes = 0;
  std::uint64_t tx_bytes = 0;
  std::uint16_t persistent_keepalive = 0;
  std::vector<std::string> allowed_ips;  // "10.0.0.0/24"
};

struct DeviceInfo {
  std::optional<SecretKey> private_key;  // absent: no key configured
  std::uint16_t listen_port = 0;
  std::uint32_t fwmark = 0;
  std::vector<PeerInfo> peers;
};

/// The `get=1` reply, including its final "errno=0\n\n".
std::string format_get(const DeviceInfo& info);

/// What a set request changes. Every call is already validated; each returns 0 or a positive
/// errno (the request then stops). Implemented by the control thread's adapter over Control.
class Device {
 public:
  virtual ~Device() = default;
  virtual DeviceInfo get() = 0;
  /// The interface's public key (all zero without a private key).
  virtual Key32 public_key() = 0;

  virtual int set_private_key(const SecretKey& key) = 0;  // all zero: remove the key
  virtual int set_listen_port(std::uint16_t port) = 0;    // 0: pick one
  virtual int set_fwmark(std::uint32_t mark) = 0;
  virtual int remove_all_peers() = 0;
  /// meshgate_role: a device without high availability refuses it.
  virtual int set_role(config::Role /*role*/) { return kEinval; }

  virtual bool has_peer(const Key32& peer) = 0;
  virtual int add_peer(const Key32& peer) = 0;  // no endpoint, no allowed IPs, no PSK
  virtual int remove_peer(const Key32& peer) = 0;
  virtual int set_preshared_key(const Key32& peer, const SecretKey& psk) = 0;  // zero: none
  virtual int set_endpoint(const Key32& peer, const Endpoint& endpoint) = 0;
  virtual int set_persistent_keepalive(const Key32& peer, std::uint16_t seconds) = 0;
  /// The peer's allowed IPs become exactly `prefixes`, without a moment with none of them.
  virtual int replace_allowed_ips(const Key32& peer, const std::vector<Prefix>& prefixes) = 0;
  virtual int add_allowed_ip(const Key32& peer, const Prefix& prefix) = 0;
  virtual int remove_allowed_ip(const Key32& peer, const Prefix& prefix) = 0;
};

/// The lines of one `set=1` request, applied to a Device in order.
class SetRequest {
 public:
  explicit SetRequest(Device& dev) : dev_(dev) {}
  /// Applies one "key=value" line (without '\n'); returns 0 or a positive errno.
  int line(std::string_view text);
  /// Applies what the current peer's section still holds back (a pending replacement of its
  /// allowed IPs). Called at the end of the request, on an error, and when the client leaves.
  int finish();

 private:
  int interface_key(std::string_view key, std::string_view value);
  int peer_key(std::string_view key, std::string_view value);
  int select_peer(std::string_view value);

  Device& dev_;
  bool in_peers_ = false;   // a public_key line was seen: interface keys are over
  Key32 peer_{};            // the selected peer
  bool dummy_ = false;      // our own key, or removed: lines are checked, not applied
  bool created_ = false;    // this request's public_key line created the peer
  bool replacing_ = false;  // replace_allowed_ips=true seen in this peer's section
  std::vector<Prefix> replacement_;
};

/// One client connection: bytes in, reply bytes out.
class Connection {
 public:
  explicit Connection(Device& dev) : dev_(dev) {}
  /// The client went away: lines it finished stay applied (see SetRequest::finish).
  void close();
  /// Consumes received bytes and appends the replies due to `out`. Returns false when the
  /// connection must be closed once `out` is sent.
  bool feed(std::string_view bytes, std::string& out);

 private:
  enum class State { idle, get, set, skip };
  bool handle_line(std::string_view line, std::string& out);

  Device& dev_;
  State state_ = State::idle;
  std::string partial_;  // an unfinished line
  std::optional<SetRequest> set_;
};

}  // namespace meshgate::control::uapi
