// The gateway config file: a wg-quick file plus meshgate's own [Gateway] section.
//
//   [Interface]
//   PrivateKey = <base64>          # required; stored as written (the caller clamps)
//   ListenPort = 51820             # default 51820 (a gateway needs a well-known port; `wg`
//                                  # would pick a random one)
//   Address = 10.99.0.1/24, fd99::1/64   # tunnel addresses; may repeat
//   MTU = 1420                     # inner MTU, 576..9000 (1280.. with an IPv6 Address)
//   FwMark = 0x1234                # number, 0x hex or off; stored for the UAPI (wg show)
//   # DNS, Table, PreUp, PostUp, PreDown, PostDown, SaveConfig: accepted with a warning
//
//   [Peer]                         # repeatable
//   PublicKey = <base64>           # required, unique, not the interface's own
//   PresharedKey = <base64>
//   AllowedIPs = 10.1.0.0/16, 192.0.2.7   # may repeat; bare IP = /32 or /128
//   Endpoint = 203.0.113.5:51820   # or [v6]:port or host:port (resolved once, at load)
//   PersistentKeepalive = 25       # off or 0..65535 seconds
//
//   [Gateway]                      # exactly one
//   InnerPort = 0                  # DPDK port id or device name (LAN side)
//   OuterPort = net_af_packet1     # DPDK port id or device name (Internet side)
//   InnerAddress = 192.168.10.1/24 # required: the gateway's own LAN addresses
//   OuterAddress = 198.51.100.2/24 # required: its Internet-side addresses (the UDP source)
//   OuterGateway = 198.51.100.1    # next hops, at most one per family; absent = on-link
//   InnerGateway = 192.168.10.254  # next hops for LAN destinations off the InnerAddress subnets
//   InnerVlan = 10                 # 802.1Q VLAN id of each port, 1..4094: every frame on it
//   OuterVlan = 20                 # carries that tag; absent = untagged
//   Workers = 2                    # 1..128
//   IdleBackoff = on               # on/off/true/false/yes/no; default off (busy-poll)
//                                  # InnerPort, OuterPort, Workers, IdleBackoff may instead
//                                  # come from the EAL profile; this file wins
//   Role = standby                 # active (default) or standby: one of an HA pair starts as
//                                  # standby, sending nothing, until told otherwise
//   SyncListen = 192.0.2.11:51821  # HA state sync: where this server accepts its partner's
//                                  # state while standby (management network; numeric)
//   SyncPeer = 192.0.2.12:51821    # where the partner listens: this server sends it its state
//                                  # while active. Both servers of a pair set both, mirrored
//   Profile = eal.profile          # EAL profile; relative to this file's directory
//   MetricsListen = 127.0.0.1:9586 # Prometheus text endpoint (HTTP GET /metrics); numeric
//                                  # address:port or [v6]:port; absent = none
//   StunServer = 203.0.113.1:3478  # STUN servers for the reflexive address and NAT class;
//                                  # may repeat, comma list; IP literals, [v6]:port; the port
//                                  # defaults to 3478; tried in order; absent = no STUN
//   TurnServer = 203.0.113.1:3478  # TURN server for a relayed address; one IP literal, the
//                                  # port defaults to 3478; absent = no TURN
//   TurnUser = user                # its long-term credentials: both required with TurnServer
//   TurnPassword = password
//   MssClamp = on                  # on/off: lower the MSS of TCP SYNs through the tunnel to
//                                  # MTU - 40 (IPv4) / MTU - 60 (IPv6); default on
//
// Differences from `wg`, on purpose: an IP prefix in the AllowedIPs of two peers is an error
// (WireGuard silently moves it to the later peer, which in a file is almost always a mistake);
// a single-valued key given twice in one section is an error (wg keeps the last one); a peer may
// not carry the interface's own public key. Every error is "file:line: problem" and names the
// key and the bad value (private and preshared keys are never echoed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meshgate/base/bytes.hpp"
#include "meshgate/base/ip.hpp"
#include "meshgate/base/result.hpp"
#include "meshgate/base/secret.hpp"

namespace meshgate::config {

/// Defaults and limits of the config file (our tunables, not protocol constants).
inline constexpr std::uint16_t kDefaultListenPort = 51820;
inline constexpr unsigned kDefaultMtu = 1420;  // 1500 minus WireGuard's 80-byte IPv6 overhead
inline constexpr unsigned kMinMtu = 576;       // RFC 791 minimum datagram every host accepts
inline constexpr unsigned kMinMtuIpv6 = 1280;  // RFC 8200 section 5
inline constexpr unsigned kMaxMtu = 9000;      // jumbo frames
inline constexpr unsigned kDefaultWorkers = 1;
inline constexpr unsigned kMaxWorkers = 128;
inline constexpr unsigned kMaxVlan = 4094;  // 802.1Q: 0 means "no VLAN" and 4095 is reserved
/// [Gateway] Mbufs: at least one port queue's worth of buffers, at most 16 Mi (about 36 GiB).
inline constexpr unsigned kMinMbufs = 1023;
inline constexpr unsigned kMaxMbufs = 16u << 20;
inline constexpr bool kDefaultIdleBackoff = false;  // busy-poll is the server default
inline constexpr bool kDefaultMssClamp = true;      // as most site-to-site guides set it up
inline constexpr std::uint16_t kDefaultStunPort =
    3478;  // the port IANA registered for STUN (RFC 8489)

/// What a gateway of a high-availability pair is (docs/design.md, "High availability"): active,
/// the default and what a lone gateway is, or standby, which sends nothing and answers nothing.
/// [Gateway] Role sets the role at start; the UAPI's meshgate_role key changes it at run time.
enum class Role : std::uint8_t { active, standby };
/// "active" or "standby"; anything else: nullopt.
std::optional<Role> parse_role(std::string_view s);
const char* role_name(Role r) noexcept;

/// An address assigned to an interface, with its subnet: "192.168.10.1/24". Unlike Prefix, the
/// host bits are the point. A bare address means /32 or /128.
struct InterfaceAddress {
  IpAddr addr;
  std::uint8_t prefix_len = 0;

  static std::optional<InterfaceAddress> parse(std::string_view s);
  /// The on-link subnet, host bits cleared.
  Prefix subnet() const { return Prefix{addr, prefix_len}.masked(); }
  std::string str() const;

  friend bool operator==(const InterfaceAddress&, const InterfaceAddress&) = default;
};

/// [Interface]
struct InterfaceConfig {
  SecretKey private_key;  // raw, as written; callers clamp before use
  std::uint16_t listen_port = kDefaultListenPort;
  std::vector<InterfaceAddress> addresses;  // tunnel addresses (wg-quick Address)
  unsigned mtu = kDefaultMtu;               // inner MTU
  std::uint32_t fwmark = 0;                 // 0 = off; kept only to report it over the UAPI
};

/// One [Peer].
struct PeerConfig {
  Key32 public_key{};
  std::optional<SecretKey> preshared_key;  // absent = WireGuard's all-zero PSK
  std::vector<Prefix> allowed_ips;         // host bits cleared, duplicates removed, file order
  std::optional<Endpoint> endpoint;        // resolved; absent = learn it from the peer
  std::string endpoint_spec;               // as written (a hostname stays re-resolvable)
  std::uint16_t persistent_keepalive = 0;  // seconds; 0 = off
  bool lighthouse = false;  // meshgate's key: reports go to it, introductions come from it
  std::size_t line = 0;     // line of its [Peer] header, for messages
};

/// [Gateway]. Fields that the EAL profile's [meshgate] section may also give are optional;
/// merge_gateway_settings() (gateway_settings.hpp) combines the two.
struct GatewaySection {
  std::optional<std::string> inner_port;  // DPDK port id ("0") or device name
  std::optional<std::string> outer_port;
  std::vector<InterfaceAddress> inner_addresses;             // required, non-empty
  std::vector<InterfaceAddress> outer_addresses;             // required, non-empty
  std::optional<IpAddr> outer_gateway_v4, outer_gateway_v6;  // absent = endpoints on-link
  std::optional<IpAddr> inner_gateway_v4, inner_gateway_v6;  // absent = LAN is on-link only
  std::optional<unsigned> workers;                           // 1..kMaxWorkers
  std::optional<unsigned> mbufs;       // pool size; absent: sized from the gateway (mbuf_budget)
  std::optional<bool> idle_backoff;    // absent: the profile's, else kDefaultIdleBackoff
  bool spread_inbound = true;          // workers open each other's inbound bursts (spread.hpp)
  std::optional<std::string> profile;  // EAL profile path, resolved against the file's dir
  std::optional<std::string> metrics_listen;     // "127.0.0.1:9586": Prometheus endpoint
  std::vector<Endpoint> stun_servers;            // file order, no duplicates; empty: no STUN
  std::optional<Endpoint> turn_server;           // absent: no TURN relay
  std::string turn_user, turn_password;          // long-term credentials; required with a server
  bool lighthouse = false;                       // introduce configured peers to each other
  std::uint16_t inner_vlan = 0, outer_vlan = 0;  // 802.1Q VLAN id of each port; 0 = untagged
  bool mss_clamp = kDefaultMssClamp;             // lower the MSS of TCP SYNs to fit the tunnel MTU
  std::optional<Endpoint> public_endpoint;       // a public or port-forwarded address: a candidate
  Role role = Role::active;                      // the role it starts in
  std::optional<Endpoint> sync_listen;           // HA state sync: accept the partner here
  std::optional<Endpoint> sync_peer;             // HA state sync: the partner's SyncListen
};

struct GatewayConfig {
  std::string source;  // file name used in messages
  InterfaceConfig interface;
  std::vector<PeerConfig> peers;  // file order
  GatewaySection gateway;
  std::vector<std::string> warnings;  // "file:line: ..." (ignored wg-quick keys, masking)
};

/// Reads and parses `path`. An unreadable file gives "path: cannot read: <strerror>".
Result<GatewayConfig> load_config(const std::string& path);

/// Parses config text. `name_for_errors` prefixes every message, and its directory is the base
/// for a relative Profile path. Endpoint host names are resolved here, with getaddrinfo().
Result<GatewayConfig> parse_config(std::string_view text, const std::string& name_for_errors);

/// The interface and peers in `wg setconf` syntax: only keys `wg` knows, keys in base64, the
/// private key as stored. Feeds the stock `wg` tool in interop tests.
std::string to_wg_setconf(const GatewayConfig& config);

}  // namespace meshgate::config
