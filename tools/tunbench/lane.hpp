// One worker's share of a tunbench inmem case: its frames, its trips around the loop (see
// inmem.hpp), and its raw AEAD baseline, all on its own lcore.
#pragma once

#include <rte_config.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "inmem.hpp"
#include "meshgate/base/huge_array.hpp"
#include "meshgate/crypto/aead.hpp"
#include "site.hpp"

namespace tunbench {

/// One of n (n > 0) uniformly from the xorshift64* state `s`: tunbench's traffic spread over peers.
std::size_t pick(std::uint64_t& s, std::size_t n);
/// " prefix:reason" for every drop reason the worker counted (a failure's detail).
std::string drop_names(const meshgate::dataplane::Worker& w, const char* prefix);

/// True when `got` is the reference IPv4 or IPv6 packet `ref` of `size` bytes as `hops` routers
/// pass it on (each lowers the TTL or hop limit).
bool forwarded_equal(const std::uint8_t* got, const std::uint8_t* ref, unsigned size,
                     unsigned hops);
/// The smallest IPv6 frame tunbench builds: IPv6 40, UDP 8 and the sequence number.
inline constexpr unsigned kMinSizeV6 = 40 + 8 + 8;
/// Where an inner packet's 8-byte sequence number sits: after the IP and UDP headers.
inline unsigned seq_offset(const std::uint8_t* ip) {
  return (ip[0] >> 4) == 6 ? 48 : 28;
}
/// tunbench's inner frame j of `size` IP bytes at r: Ethernet (`mac` both ways, as inbound
/// writes it), IPv4 (or IPv6 when `v6`), UDP to port 5201, an 8-byte sequence number
/// (seq_offset) and a fixed pattern; addresses come from address_inner_frame().
void write_inner_frame(std::uint8_t* r, const meshgate::wire::MacAddr& mac, unsigned j,
                       unsigned size, bool v6 = false);
/// Peer p's addresses in `dest` (site.hpp: .1 to .2 of its /24 or its IPv6 /64, its /32 both
/// ways), the header checksum and the sequence number. The frame's IP version must match.
void address_inner_frame(std::uint8_t* ip, PeerId p, std::uint64_t seq, Dest dest = Dest::net24);

/// The raw AEAD loop of bench/aead_bench.cpp (AeadBatchSeal / AeadBatchOpen): `burst`
/// packets of one size that stay in cache, one batch call per burst.
class AeadRig {
 public:
  AeadRig(unsigned burst, unsigned len);
  /// Runs seal (or open) until the TSC passes `until`; returns packets done, adds cycles.
  std::uint64_t run(bool open, std::uint64_t until, std::uint64_t& cycles);
  bool opens_verify();  // false if the prepared ciphertexts fail to open (a broken rig)

 private:
  meshgate::crypto::AeadBatch batch_;
  unsigned burst_, len_;
  std::vector<std::uint8_t> plain_, sealed_;
  std::vector<meshgate::crypto::AeadJob> seal_jobs_, open_jobs_;
  std::uint8_t key_[32] = {7};
};

/// The same AEAD over packets that are not in any cache: `burst` at a time, in place, in order
/// through a pool of kPoolBytes, far past any last-level cache. A NIC that writes packets to
/// memory without stashing them in a cache delivers them so; AeadRig's packets stay in L1, which
/// no gateway's packets do. The pool's size, not its content, is what it measures.
class AeadPoolRig {
 public:
  static constexpr std::size_t kPoolBytes = std::size_t{256} << 20;

  AeadPoolRig(unsigned burst, unsigned len);
  /// As AeadRig::run; when opening, every frame verifies or run() returns 0 (a broken rig).
  /// The cycles are the batch calls' alone: between passes over the pool, opening seals every
  /// frame again, untimed.
  std::uint64_t run(bool open, std::uint64_t until, std::uint64_t& cycles);

 private:
  std::uint8_t* frame(std::size_t i) noexcept { return &pool_[i * stride_]; }
  /// One batch call on frames [first, first + burst), its cycles added; how many verified.
  std::uint64_t batch(bool open, std::size_t first, std::uint64_t& cycles);

  meshgate::crypto::AeadBatch batch_;
  unsigned burst_, len_, stride_;
  std::size_t frames_;  // a multiple of burst_
  meshgate::HugeArray<std::uint8_t> pool_;
  std::vector<meshgate::crypto::AeadJob> jobs_;
  std::uint8_t key_[32] = {7};
};

struct LaneTotals {
  std::uint64_t packets = 0, bytes = 0, cycles = 0;
  std::uint64_t verified = 0, checked_outer = 0;
  std::uint64_t flood_sent = 0;  // initiations mixed into inbound
  // Raw AEAD by inner size: packets and cycles, seal [0] and open [1].
  std::map<unsigned, std::uint64_t> aead_packets[2], aead_cycles[2];
};

struct CaseSpec {
  Direction direction{};
  unsigned size = 0;      // kImix or a fixed inner size
  std::uint16_t mtu = 0;  // both sites' tunnel MTU (case_mtu)
  unsigned peers = 0, workers = 0, burst = 32;
  double duration = 1, aead_time = 0.5, slice = 0.1;
  unsigned verify_every = 1;
  bool relayed = false;    // frames carry ChannelData (relay_channel) after UDP
  unsigned flood = 0;      // initiations a second into the receiver, all lanes (inmem.hpp)
  unsigned chunk = 256;    // gateway mode: packets in flight per worker at the maximum rate
  unsigned frames = 0;     // gateway mode: distinct frames per feeder
  unsigned train = 1;      // gateway mode: frames in a row to one peer and prefix
  bool one_peer = false;   // gateway mode: one peer over every worker (InmemOptions::one_peer)
  unsigned preload = 0;    // gateway mode: frames a fed queue per round (InmemOptions::preload)
  double rekey_after = 0;  // gateway mode: live handshakes (InmemOptions::rekey_after), or 0
  /// Gateway mode: one feeder a worker, or inbound with one_peer the one of worker 0's queue.
  unsigned feeders() const noexcept {
    return one_peer && direction == Direction::inbound ? 1 : workers;
  }
  std::vector<double> loads;  // gateway mode
  bool progress = false;      // lane 0 redraws a progress line on stderr after each slice
  std::string label;          // for the progress line
};

/// A result with the case's own fields (direction, size, MTU, peers, workers, burst) filled.
CaseResult result_of(const CaseSpec& spec);

class Lane {
 public:
  /// `id` = worker id = TX queue; `frames` of the chunk are allocated from the ports' pool.
  Lane(unsigned id, const Ports& ports, unsigned chunk);
  ~Lane();
  Lane(const Lane&) = delete;
  Lane& operator=(const Lane&) = delete;

  /// Sets up a case: the two sites' workers, the frame sizes, the peers this lane sends to.
  void prepare_case(Site& sender, Site& receiver, const CaseSpec& spec,
                    std::atomic<unsigned>* start_barrier);
  /// Runs the case on the calling lcore (the entry point of rte_eal_remote_launch).
  static int main(void* lane);

  const LaneTotals& totals() const noexcept { return totals_; }
  const std::string& error() const noexcept { return error_; }
  /// Cycles per packet of the raw AEAD for this lane's size mix (seal, open or both).
  double aead_cycles_per_packet(Direction d) const;
  double average_size() const;

 private:
  void run();
  bool trip();
  void write_frame(unsigned j, unsigned size);
  void address_frames();
  bool check_outer(unsigned slot, const rte_mbuf* m);
  bool verify_inner();
  bool check_drops();
  /// The initiations due in this trip, in mbufs placed among the trip's frames: inbound_ holds
  /// both, in the order the worker takes them. Untimed.
  bool mix_flood();
  void make_flood_frames(const meshgate::Key32& target);
  void run_aead(double seconds);
  bool fail(const std::string& what);
  template <bool kOutbound>
  void stage(rte_mbuf** pkts, unsigned n);

  unsigned id_;
  const Ports& ports_;
  unsigned chunk_;           // frames in flight this case: all the slots, or a whole IMIX pattern
  unsigned slot_bytes_ = 0;  // ref_'s bytes per slot, for this case's largest frame
  rte_ring* outer_tx_;
  rte_ring* inner_tx_;
  std::vector<rte_mbuf*> slots_;     // mbuf of slot j, fixed for the lane's life
  std::vector<rte_mbuf*> frames_;    // slot order, inner frames
  std::vector<rte_mbuf*> sealed_;    // outbound's output, in the order it came out
  std::vector<std::uint8_t> ref_;    // the frame each slot should carry (slot_bytes_ each)
  std::vector<std::uint8_t> plain_;  // check_outer()'s decrypted frame
  std::vector<std::uint16_t> size_;
  std::vector<PeerId> peer_of_;             // peer of slot j in the current trip
  std::vector<PeerId> owned_;               // peers this lane sends to
  std::vector<rte_mbuf*> inbound_;          // a flood trip's inbound: sealed_ and initiations
  std::vector<rte_mbuf*> flood_mbufs_;      // this trip's initiations
  std::vector<std::uint8_t> flood_frames_;  // kFloodPoolSize frames of kFloodFrameLen bytes
  std::size_t flood_next_ = 0;              // the next of them
  double flood_due_ = 0;                    // initiations owed, fractions carried over
  std::uint64_t last_trip_cycles_ = 0;      // the previous trip's timed cycles
  std::map<unsigned, std::unique_ptr<AeadRig>> rigs_;
  std::uint64_t chunk_bytes_ = 0;
  std::uint64_t rng_ = 0;
  std::uint64_t seq_ = 0;
  std::uint64_t trips_ = 0;
  std::uint64_t drops_before_ = 0;  // both workers' drop counters at the start

  Site* sender_ = nullptr;    // outbound runs here
  Site* receiver_ = nullptr;  // inbound runs here
  meshgate::dataplane::Worker* out_ = nullptr;
  meshgate::dataplane::Worker* in_ = nullptr;
  CaseSpec spec_;
  std::atomic<unsigned>* barrier_ = nullptr;
  LaneTotals totals_;
  std::string error_;
};

}  // namespace tunbench
