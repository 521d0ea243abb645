// Neighbours: ARP and IPv6 neighbour discovery on both ports, and frames waiting for a next
// hop's MAC. No kernel stack stands behind the ports, so the gateway answers for its own
// addresses and resolves its next hops itself. The table the workers read
// (dataplane::NeighbourTable) is written here only.
#pragma once

#include <rte_config.h>
#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <utility>

#include "meshgate/base/ip.hpp"
#include "meshgate/control/event_log.hpp"
#include "meshgate/control/transmit.hpp"
#include "meshgate/dataplane/dataplane.hpp"
#include "meshgate/dataplane/drops.hpp"

namespace meshgate::control {

/// The gateway's own address of a family on a port (family none: it has none).
const IpAddr& own_address(const dataplane::GatewayAddresses& a, PortRole port, bool v6) noexcept;

/// Written by the control thread only.
struct NeighbourStats {
  std::uint64_t arp_replies = 0, nd_replies = 0;
  /// ARP replies and neighbour advertisements nobody asked for, and news the table had no room
  /// for (neighbour.hpp's rules against poisoning): not learnt, counted and logged.
  std::uint64_t refused = 0;
  /// Replies and probes not sent for want of an mbuf.
  std::uint64_t not_sent = 0;
  std::uint64_t announcements = 0;  // gratuitous ARP requests and unsolicited NAs sent
};

class Neighbours {
 public:
  /// Told of every next hop whose MAC was learnt or changed (Control updates peer routes).
  using LearntHook = std::function<void(const IpAddr& ip, Nanos now)>;

  Neighbours(dataplane::Dataplane& dp, Transmitter& tx, dataplane::DropCounters& drops,
             const EventLog& log)
      : dp_(dp), tx_(tx), drops_(drops), log_(log) {}
  ~Neighbours();
  Neighbours(const Neighbours&) = delete;
  Neighbours& operator=(const Neighbours&) = delete;

  void on_learnt(LearntHook hook) { learnt_ = std::move(hook); }

  /// An ARP or NDP frame from `port`: learn the sender, answer if it asks for our address.
  /// Frees m.
  void handle(rte_mbuf* m, PortRole port, Nanos now);
  /// Sends a frame whose destination MAC is not written yet: at once if `next_hop` is known,
  /// else it waits (bounded) while the next hop is probed. Takes m.
  void send(rte_mbuf* m, PortRole port, const IpAddr& next_hop, Nanos now);
  /// A worker's frame whose next hop was unknown (port and next hop in its MbufMeta). Takes m.
  void resolve(rte_mbuf* m, Nanos now);
  /// The next hop's MAC; unknown: probes it (once per retry interval) and returns nullopt.
  std::optional<wire::MacAddr> lookup_or_probe(const IpAddr& next_hop, Nanos now);
  /// Tells both segments that the gateway's own addresses are here, at this gateway's MACs: a
  /// gratuitous ARP request for each IPv4 address and an unsolicited neighbour advertisement
  /// (override, to all nodes) for each IPv6 one. An HA standby becoming active sends them, so
  /// the hosts and routers that knew the other gateway's MACs switch at once.
  void announce();
  /// Probes what is due and drops frames whose next hop failed to resolve.
  void tick(Nanos now);

  const NeighbourStats& stats() const noexcept { return stats_; }

 private:
  using HopKey = std::pair<int, std::array<std::uint8_t, 16>>;
  static HopKey key(const IpAddr& ip) { return {static_cast<int>(ip.family), ip.bytes}; }
  void handle_arp(const std::uint8_t* f, const wire::FrameInfo& info, PortRole port, Nanos now);
  void handle_ndp(const std::uint8_t* f, const wire::FrameInfo& info, PortRole port, Nanos now);
  void reply(const std::uint8_t* frame, std::size_t len, PortRole port);
  /// News of `ip` at `mac` from a reply (ARP reply, NA) or a request; `to_us`: a request for
  /// the gateway's own address on `port`. Taken only as neighbour.hpp says.
  void take(const IpAddr& ip, const wire::MacAddr& mac, bool reply, bool to_us, PortRole port,
            Nanos now);
  void learnt(const IpAddr& ip, const wire::MacAddr& mac, Nanos now);
  void probe(const IpAddr& ip);
  /// Counts and logs a frame the mbuf pool had no room for.
  void not_sent(const char* what);

  dataplane::Dataplane& dp_;
  Transmitter& tx_;
  dataplane::DropCounters& drops_;
  const EventLog& log_;
  LearntHook learnt_;
  /// Frames waiting for a next hop's MAC, by next hop (their port is in their MbufMeta).
  std::map<HopKey, std::deque<rte_mbuf*>> unresolved_;
  NeighbourStats stats_;
};

}  // namespace meshgate::control
