// The gateway under test for tunbench inmem: a Dataplane on two net_ring ports with N peers
// installed directly into its tables (no handshakes: 100,000 of them would take half a minute
// and measure the control thread, not the data path).
//
// Two of them stand for the two ends of the tunnels: the sender, whose outbound path is
// measured, and the receiver, whose inbound path is. Both have the same addresses and share the
// ports (the same MACs), and every peer p owns 11.0.0.0 + p*256 /24 at both (gateway mode's
// dual-stack tables add a scattered /32 and IPv6 /64 a peer, SiteSpec). The receiver's
// keypair for p is made first; the sender's sends with its key and names its receiver index.
// Each peer's route (a PeerRoute of its own, as the control thread builds) points at the common
// outer address, and the LAN next hop for the peers' prefixes resolves to the inner port's own
// MAC. What the sender's outbound sends, the receiver's inbound accepts, and what that delivers,
// the sender's outbound takes again. Two sets of tables, as two gateways have: neither direction
// finds a peer's rows in cache because the other direction just touched them.
#pragma once

#include <rte_config.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "meshgate/base/ip.hpp"
#include "meshgate/base/result.hpp"
#include "meshgate/base/secret.hpp"
#include "meshgate/control/control.hpp"
#include "meshgate/dataplane/dataplane.hpp"
#include "meshgate/dataplane/worker.hpp"

namespace tunbench {

using meshgate::dataplane::PeerId;

/// The two ports, made once per process: one TX ring per queue, so no two workers share one.
struct Ports {
  std::uint16_t inner = 0, outer = 0;
  std::vector<rte_ring*> inner_tx, outer_tx;  // TX queue q -> ring q (q = worker id)
  std::vector<rte_ring*> inner_rx, outer_rx;  // RX queue q <- ring q (gateway mode feeds them)
  meshgate::wire::MacAddr inner_mac, outer_mac;
  rte_mempool* pool = nullptr;

  /// Ports for up to `workers` workers with `in_flight` frames each, configured as the gateway
  /// configures its own for a tunnel MTU `mtu`, with mbufs that hold such frames whole, and
  /// `extra` more mbufs in the pool (a flood's).
  static meshgate::Result<Ports> create(unsigned workers, unsigned in_flight, std::uint16_t mtu,
                                        unsigned extra = 0);
};

/// Addresses of the test network. The Internet beyond the outer /24 is behind a router at
/// outer_router() (where a flood comes from); the LAN next hop is the gateway itself.
inline constexpr std::uint32_t kPeerNetBase = 0x0B000000;  // 11.0.0.0: peer p is base + p*256 /24
inline constexpr std::uint16_t kListenPort = 51820;
std::uint32_t peer_net(PeerId p);  // host order
/// Gateway mode's more prefixes of peer p (SiteSpec::gateway_tables): a /32 in 100.64.0.0/10
/// and an IPv6 /64 in 2001:db8::/32, both scattered (an odd multiplier: a bijection, no two
/// peers share one) so that neighbouring peers' prefixes are far apart in the tables.
std::uint32_t peer_host(PeerId p);  // host order
std::array<std::uint8_t, 16> peer_net6(PeerId p);
class Site;

/// Gateway mode's endpoint of peer p: one peer in four on the outer /24 itself, at one of
/// kOnLinkEndpoints addresses (each its own next hop, with its own MAC), the rest behind the
/// outer router, scattered over 172.16.0.0/12 (the router's MAC). Distinct ports throughout.
inline constexpr std::uint32_t kOnLinkEndpoints = 200;
meshgate::Endpoint peer_endpoint(PeerId p);
meshgate::wire::MacAddr endpoint_next_hop_mac(PeerId p);

/// Which of its prefixes a packet for peer p is addressed in.
enum class Dest : std::uint8_t { net24, host32, net64 };

struct SiteSpec {
  unsigned peers = 1, workers = 1;
  /// Every peer's endpoint is the TURN server (the common outer address and listen port) on
  /// channel relay_channel(p), and that server is the site's TURN server.
  bool relayed = false;
  const Site* receiver = nullptr;  // null: this is the receiver; else the sender to it
  /// The daemon's control thread too (Site::control), with an identity of its own, for the
  /// flood cases; its peers are the data path's alone (the control thread knows none).
  bool with_control = false;
  /// Gateway mode's tables: every peer owns its /24, its scattered /32 and its IPv6 /64 (the
  /// LAN port has an IPv6 prefix and next hop too), and has an endpoint of its own
  /// (peer_endpoint) behind a next hop of its endpoint's (endpoint_next_hop_mac).
  bool gateway_tables = false;
  bool spread = true;  // Dataplane::spread
  /// Gateway mode's live handshakes (--rekey-after): no peer is installed here; the control
  /// thread (with_control) gets them from configure_peers() and makes their keypairs itself.
  bool live = false;
};
meshgate::IpAddr outer_address();
meshgate::IpAddr inner_address();
meshgate::IpAddr outer_router();
inline const meshgate::wire::MacAddr kRouterMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0xFE}};
/// Peer p's TURN channel when relayed (0x4000-0x4FFF).
inline std::uint16_t relay_channel(PeerId p) {
  return static_cast<std::uint16_t>(0x4000 + p % 0x1000);
}

class Site {
 public:
  static meshgate::Result<std::unique_ptr<Site>> create(const Ports& ports, const SiteSpec& spec);
  ~Site();
  Site(const Site&) = delete;
  Site& operator=(const Site&) = delete;

  meshgate::dataplane::Dataplane& dp() noexcept { return *dp_; }
  meshgate::dataplane::Worker& worker(unsigned i) noexcept { return *workers_[i]; }
  unsigned peers() const noexcept { return peers_; }
  /// The peer's key (the sender's send key is the receiver's receive key) and this site's
  /// receiver index for it: for checking outbound independently.
  const meshgate::SecretKey& key(PeerId p) const noexcept { return keys_[p]; }
  std::uint32_t index(PeerId p) const noexcept { return indices_[p]; }
  /// Keypairs are born now and the next hops confirmed now: keeps them clear of
  /// REJECT_AFTER_TIME and of the neighbour table's expiry across a long run.
  void renew(meshgate::Nanos now);
  /// A rekey of peer p in the receive direction, as the control thread makes one (gateway
  /// mode): a new keypair with the same keys under a fresh index (a fresh replay window) is
  /// published and becomes index(p); the one before it stays live, for the packets still in
  /// flight with it, and the one before that is retired, freed after an RCU grace period with
  /// the next batch (so that a feeder waits for the workers once per batch, not per rekey).
  /// Any thread; the workers must be RCU readers that pass quiescent states or are offline.
  meshgate::Status rotate(PeerId p, meshgate::Nanos now);
  /// Frees what rotate() retired, after a grace period.
  void reclaim();
  /// Packets or events that went to the control thread (none should, without one).
  unsigned drain_control();
  /// Null unless made with_control. Its thread is the caller's to run (Control::poll).
  meshgate::control::Control* control() noexcept { return control_.get(); }
  /// The identity's public key (with_control), what a flood's mac1 is computed for.
  const meshgate::Key32& public_key() const noexcept { return public_key_; }
  /// A live site's peers (SiteSpec::live), through its control thread as `wg set` adds them:
  /// peer p with public key keys[p] at peer_endpoint(p), owning its gateway-mode prefixes.
  /// Before the control thread runs.
  meshgate::Status configure_peers(const std::vector<meshgate::Key32>& keys);

 private:
  Site() = default;
  /// Peers 0..peers-1 with a live keypair each (the receiver's keys when this is the sender),
  /// their routes and allowed IPs.
  meshgate::Status add_peers(const SiteSpec& spec, meshgate::Nanos now);
  /// Peer p's prefixes in the allowed-IPs table.
  meshgate::Status add_prefixes(PeerId p, bool gateway_tables);
  unsigned peers_ = 0;
  void free_retired();  // rotate_lock_ held
  std::unique_ptr<meshgate::dataplane::Dataplane> dp_;
  std::vector<std::unique_ptr<meshgate::dataplane::Worker>> workers_;
  std::vector<std::unique_ptr<meshgate::dataplane::PeerRoute>> routes_;
  std::vector<meshgate::SecretKey> keys_;
  std::vector<std::uint32_t> indices_;
  std::vector<std::uint32_t> previous_;  // rotate(): the index before indices_[p], 0 if none
  std::vector<std::uint32_t> retired_;   // rotate(): unpublished, to free after a grace period
  std::mutex rotate_lock_;  // rotate() and reclaim() from several feeders: one writer at a time
  std::unique_ptr<meshgate::control::Control> control_;
  meshgate::Key32 public_key_{};
};

}  // namespace tunbench
