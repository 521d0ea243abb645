// tunbench inmem --gateway: the gateway as it runs, not its stages. Each worker runs the
// daemon's own loop (Worker::run: rte_eth_rx_burst on its queues of both net_ring ports, the
// stages, the TX flush, RCU, idle back-off as configured) on an lcore of its own; a feeder on
// another lcore plays the NIC and the network beyond it:
//
//   feed   allocate mbufs from the pool, copy the next of its distinct frames in (more than
//          the last-level cache holds), stamp the receive time (the mbuf's RX timestamp field,
//          in TSC cycles), enqueue on the worker's RX ring of the port the direction names
//   sink   dequeue what the worker transmitted on the other port, take the time it spent in
//          the gateway, check it (below), free it to the pool
//
// The tables are dual-stack (SiteSpec::gateway_tables): every peer owns a /24, a /32 and an IPv6
// /64, the last two scattered over their ranges; half the frames are IPv6 and a quarter go to each
// of the others, spread uniformly over the feeder's peers (or in trains, --train). Every peer
// has an endpoint of its own: one in four on the outer /24 behind 200 next hops (MACs) of
// their own, the rest behind the router. Inbound frames arrive from their peer's endpoint
// (the feeder turns the sender's frames around), outbound ones must leave to it through its
// next hop, and nothing may reach the control thread (a frame from elsewhere would be a roam).
//
// Outbound: plaintext frames to the peers' prefixes go in on the LAN port; every sealed frame's
// nonce counter must be its peer's previous plus one (nothing lost or reordered), and every
// verify-th one is opened with libsodium and compared byte for byte. Inbound: the frames are
// sealed ahead (untimed) by the peer site's worker, so the receiver index, which the AEAD does
// not cover, is written at feed time: each pass over the frames starts on a fresh keypair of
// the same keys (Site::rotate, as a rekey), which gives fresh replay windows, while the one
// before stays live for the frames still in flight, as WireGuard's previous keypair does.
// Every delivered frame must be the next one fed and equal to its original, byte for byte.
//
// --rekey-after (outbound): the sending site is the daemon's control thread with its peers
// configured, no keypair installed; it runs on an lcore of its own beside the peers' side
// (peer_side.hpp), which answers its handshakes. Before the phases, the first packet to each
// peer goes in (spread over rekey_after seconds) and is staged until its handshake completes;
// during them, the workers ask for rekeys and the control thread makes them. Counters then
// need only rise (the control thread's keepalives take some), and the keys come from the
// peers' side.
//
// A case measures, on the worker's lcore, the raw AEAD of the same sizes; then the maximum rate
// (the feeder keeps `chunk` packets in flight); then, paced at each share of that maximum in
// `loads`, the time each packet spent from its receive to its transmit (p50, p99, p99.9). The
// pool's free count must be back to its start at the end of the case.
#pragma once

#include "inmem.hpp"
#include "lane.hpp"
#include "meshgate/base/result.hpp"
#include "peer_side.hpp"
#include "site.hpp"

namespace tunbench {

/// Bytes a feeder keeps for each of its frames of size choice `size` (twice: the frame and the
/// reference it is checked against).
std::size_t feeder_stride(unsigned size);

/// One run of one gateway-mode case: `spec.workers` workers on lcores[0..workers-1] and their
/// feeders on the calling lcore and lcores[workers..2*workers-2]; with `live` (--rekey-after,
/// outbound), the sender's control thread on the lcore after the feeders', answered by `live`.
meshgate::Result<CaseResult> run_gateway_case(const CaseSpec& spec, const Ports& ports,
                                              const std::vector<unsigned>& lcores, Site& sender,
                                              Site& receiver, PeerSide* live);

}  // namespace tunbench
