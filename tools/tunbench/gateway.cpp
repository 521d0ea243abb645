#include "gateway.hpp"

#include <rte_config.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>
#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "handoff.hpp"
#include "meshgate/base/bytes.hpp"
#include "meshgate/crypto/aead.hpp"
#include "meshgate/wire/build.hpp"
#include "meshgate/wire/messages.hpp"

namespace tunbench {

using namespace meshgate;

namespace {

// The mbuf's RX timestamp field (DPDK's own, for the time a PMD received a packet): the
// feeder's TSC when it put the frame on the worker's RX ring.
int g_stamp_offset = -1;

bool register_stamp() {
  std::uint64_t flag = 0;
  return g_stamp_offset >= 0 || rte_mbuf_dyn_rx_timestamp_register(&g_stamp_offset, &flag) == 0;
}

std::uint64_t& stamp(rte_mbuf* m) {
  return *RTE_MBUF_DYNFIELD(m, g_stamp_offset, std::uint64_t*);
}

// The time in the gateway ends when the worker hands a frame to its TX queue (where a NIC would
// take its transmit timestamp), not when the feeder takes it off the TX ring: the feeder shares
// the machine and may be held up, and a frame waiting for it is on the wire already. So a TX
// callback, in the worker's rte_eth_tx_burst, turns the RX timestamp into the cycles since it,
// marked with the top bit (a TSC reads below 2^63 for a century). The mbuf has no room for a
// field of its own beside the gateway's and the RX timestamp, and after the TX burst nothing
// reads the RX timestamp but the feeder.
constexpr std::uint64_t kInGateway = std::uint64_t{1} << 63;
// Set only while latency is recorded: the maximum-rate phase pays one load a burst, no stores.
std::atomic<bool> g_stamp_sent{false};

std::uint16_t stamp_sent(std::uint16_t /*port*/, std::uint16_t /*queue*/, rte_mbuf** pkts,
                         std::uint16_t n, void* /*arg*/) {
  if (!g_stamp_sent.load(std::memory_order_relaxed)) return n;
  const std::uint64_t now = rte_rdtsc();
  for (std::uint16_t i = 0; i < n; ++i) {
    std::uint64_t& s = stamp(pkts[i]);
    // Marked once: the worker drops what its queue refuses rather than sending it again, and
    // a second pass over a marked frame must not take it for a timestamp.
    if ((s & kInGateway) == 0) s = (now - s) | kInGateway;
  }
  return n;
}

/// stamp_sent on every TX queue of both ports, once a process (the ports live as long).
Status watch_transmits(const Ports& ports) {
  static std::set<std::pair<std::uint16_t, std::uint16_t>> watched;
  for (const std::uint16_t port : {ports.inner, ports.outer}) {
    const auto queues = static_cast<std::uint16_t>(ports.inner_tx.size());
    for (std::uint16_t q = 0; q < queues; ++q) {
      if (watched.contains({port, q})) continue;
      if (rte_eth_add_tx_callback(port, q, stamp_sent, nullptr) == nullptr) {
        return Error{"cannot add a TX callback on port " + std::to_string(port) + " queue " +
                     std::to_string(q) + ": " + rte_strerror(rte_errno)};
      }
      watched.insert({port, q});
    }
  }
  return ok_status();
}

/// The inner size of slot j of a case of size choice `size` (a fixed size, or kImix's pattern).
unsigned slot_size(unsigned size, std::size_t j) {
  return size == kImix ? kImixPattern[j % std::size(kImixPattern)] : size;
}

/// The mean inner size of `slots` slots of size choice `size`.
double mean_size(unsigned size, unsigned slots) {
  double sum = 0;
  for (unsigned j = 0; j < slots; ++j) sum += slot_size(size, j);
  return slots == 0 ? 0 : sum / slots;
}

constexpr unsigned kFeedBurst = 32;
constexpr unsigned kOpenEvery = 64;    // outbound: sealed frames opened with libsodium, 1 in this
constexpr std::size_t kWgHeader = 16;  // type, receiver index, counter

/// What a feeder does for one phase: `rate` packets a second, 0 for as many as the worker
/// takes with `chunk` in flight; with `record`, the time each packet spent in the gateway.
struct Phase {
  double seconds = 0, rate = 0;
  bool record = false;
};

struct PhaseTotals {
  std::uint64_t delivered = 0;  // frames out of the gateway during the phase
  std::uint64_t stalls = 0;     // the feeder's loop held up over 100 us (by the machine)
  // Paced: frames that fell due while the feeder was held up, not offered. Sent late, all at
  // once, they would be a burst that no paced source makes, queued in the gateway behind it.
  std::uint64_t skipped = 0;
  std::uint64_t unstamped = 0;  // recorded frames without the worker's transmit time
  // The worker's RX ring looked at before each feed, and found empty: the worker waited for
  // the feeder (at the maximum rate, a share near 0 means the worker set the rate).
  std::uint64_t looks = 0, empty = 0;
  double seconds = 0;
  std::vector<std::uint64_t> cycles;  // per packet, receive to transmit (record)
};

/// One worker's NIC and network (gateway.hpp).
class Feeder {
 public:
  /// `live`: the peers' side of live handshakes (--rekey-after), which has the keys.
  Feeder(unsigned id, const Ports& ports, const CaseSpec& spec, Site& sender, Site& receiver,
         const PeerSide* live)
      : id_(id),
        ports_(ports),
        spec_(spec),
        sender_(sender),
        receiver_(receiver),
        live_(live),
        inbound_(spec.direction == Direction::inbound),
        rx_(inbound_ ? ports.outer_rx[id] : ports.inner_rx[id]),
        tx_(inbound_ ? ports.inner_tx[id] : ports.outer_tx[id]) {}

  /// The frames, untimed (inbound: sealed by the sender site's worker). False on an error.
  bool prepare();
  static int main(void* self) {
    static_cast<Feeder*>(self)->run_phase();
    return 0;
  }

  /// The next n frames in mbufs, for feed() or a --preload round to put on the RX ring; false
  /// without mbufs.
  bool fill(rte_mbuf** burst, unsigned n);
  /// --preload: takes and checks everything the worker transmitted.
  void sink_all() { sink(rte_rdtsc(), ~std::uint64_t{0}, ~0u); }
  rte_ring* rx() const noexcept { return rx_; }
  bool fail(const std::string& what) {
    if (error.empty()) error = "worker " + std::to_string(id_) + ": " + what;
    return false;
  }
  unsigned transmitted() const noexcept { return rte_ring_count(tx_); }

  Phase phase;
  PhaseTotals totals;
  std::string error;
  std::uint64_t rekeys = 0, verified = 0, checked_outer = 0;
  std::uint64_t in_order = 0;       // frames whose place in their peer's flows was checked
  std::uint64_t keypairs_seen = 0;  // outbound: a peer's frames moved to a newer keypair
  std::uint64_t frame_bytes() const noexcept { return frames_.size(); }
  unsigned slots() const noexcept { return slots_; }
  unsigned v6_frames() const noexcept { return v6_frames_; }

 private:
  void run_phase();
  unsigned feed(unsigned n);
  /// Takes what the worker transmitted, up to `bursts` bursts (`end`: the phase's; later ones
  /// are not counted in it).
  void sink(std::uint64_t now, std::uint64_t end, unsigned bursts = 8);
  void take(rte_mbuf** burst, unsigned n, std::uint64_t now, std::uint64_t end);
  bool check_inbound(const rte_mbuf* m);
  bool check_outbound(const rte_mbuf* m);
  void prefetch_outbound(rte_mbuf** burst, unsigned n) const;
  /// Outbound: the peer and the key of a frame to receiver index `index`; false if none.
  bool session(std::uint32_t index, PeerId& peer, SecretKey& key) const;
  /// Outbound: frame `wg` of `peer` (to `index`, opened with `key`) is the next of its peer's
  /// inner flows, in the order fed.
  bool check_order(const std::uint8_t* wg, unsigned padded, PeerId peer, std::uint32_t index,
                   const SecretKey& key, std::uint64_t counter);
  /// The inner frames of every slot (ref_, len_, peer_of_) for the peers this feeder owns.
  void write_slots(const std::vector<PeerId>& owned);
  bool seal_frames();
  /// A sealed frame `f` of peer p as it arrives from the peer's endpoint (gateway.hpp).
  void turn_around(std::uint8_t* f, PeerId p) const;
  /// The outer headers of an outbound frame of peer p: to its endpoint, via its next hop.
  bool check_outer_headers(const std::uint8_t* f, PeerId p);

  unsigned id_;
  const Ports& ports_;
  CaseSpec spec_;
  Site& sender_;
  Site& receiver_;
  const PeerSide* live_;
  bool inbound_;
  rte_ring* rx_;  // the worker's RX ring this feeds
  rte_ring* tx_;  // the worker's TX ring this sinks
  unsigned slots_ = 0, stride_ = 0;
  unsigned v6_frames_ = 0;            // of the slots, IPv6 ones
  std::vector<std::uint8_t> frames_;  // what is fed, stride_ bytes a slot
  std::vector<std::uint16_t> len_;    // bytes of the frame in each slot
  std::vector<std::uint8_t> ref_;     // the inner frames (stride_ a slot); outbound: fed as is
  std::vector<PeerId> peer_of_;
  std::vector<bool> first_of_peer_;  // inbound: the slot opens its peer's pass: a rekey
  // Outbound, by peer: where its frames stand. One line's worth, so that checking a frame of
  // one of 100,000 peers costs one miss here, not one per field.
  struct PeerOrder {
    std::uint64_t last_counter = 0;  // 0 before its first frame
    std::uint64_t next_seq = 0;      // the least sequence number next
    std::uint32_t last_index = 0;    // the keypair of last_counter
  };
  std::vector<PeerOrder> order_;
  // Outbound: the receiver's keypair slots (its indices name them in their low bits, as the
  // gateway's do) -> the index in the slot and its peer. One miss a frame where a hash map took
  // two and a division.
  struct IndexPeer {
    std::uint32_t index = 0;
    PeerId peer = 0;
  };
  std::vector<IndexPeer> peer_of_slot_;
  std::uint32_t slot_mask_ = 0;
  std::vector<std::uint8_t> plain_;
  std::set<unsigned> padded_sizes_;  // outbound: the case's inner sizes, padded
  std::size_t next_ = 0;             // the slot fed next
  std::size_t expect_ = 0;           // inbound: the slot that must come out next
  std::uint64_t seq_ = 0;            // outbound: the sequence number of the next frame fed
  std::uint64_t sent_ = 0, got_ = 0;
  std::uint64_t outbound_seen_ = 0;  // outbound frames checked, for kOpenEvery
};

bool Feeder::prepare() {
  slots_ = spec_.frames;
  stride_ = feeder_stride(spec_.size);
  frames_.assign(std::size_t{slots_} * stride_, 0);
  ref_.assign(std::size_t{slots_} * stride_, 0);
  len_.assign(slots_, 0);
  peer_of_.assign(slots_, 0);
  order_.assign(spec_.peers, {});
  plain_.resize(stride_);
  padded_sizes_.clear();
  for (unsigned j = 0; j < std::size(kImixPattern); ++j) {
    padded_sizes_.insert(
        static_cast<unsigned>(wire::padded_len(slot_size(spec_.size, j), spec_.mtu)));
  }
  std::vector<PeerId> owned;
  if (spec_.one_peer) {
    owned.push_back(0);  // outbound, every feeder: flows of its own to the one peer
  } else {
    for (PeerId p = id_; p < spec_.peers; p += spec_.feeders()) owned.push_back(p);
  }
  write_slots(owned);
  next_ = expect_ = 0;
  sent_ = got_ = 0;
  if (!inbound_) {
    frames_ = ref_;  // fed as they are; ref_ takes each checked frame's sequence number
    slot_mask_ = receiver_.dp().keypairs.capacity() - 1;
    peer_of_slot_.assign(std::size_t{slot_mask_} + 1, {});
    for (PeerId p : owned) {
      const std::uint32_t idx = sender_.dp().peers[p].current.load();
      const std::uint32_t remote = sender_.dp().keypairs.slot(idx).remote_index;
      peer_of_slot_[remote & slot_mask_] = {remote, p};
    }
    return true;
  }
  first_of_peer_.assign(slots_, false);
  std::vector<bool> seen(spec_.peers, false);
  for (unsigned j = 0; j < slots_; ++j) {
    first_of_peer_[j] = !seen[peer_of_[j]];
    seen[peer_of_[j]] = true;
  }
  return seal_frames();
}

void Feeder::write_slots(const std::vector<PeerId>& owned) {
  std::uint64_t rng = 0x9E3779B97F4A7C15ull * (id_ + 1) + spec_.peers;
  v6_frames_ = 0;
  PeerId peer = 0;
  Dest dest = Dest::net24;
  for (unsigned j = 0; j < slots_; ++j) {
    // Traffic spread uniformly over this feeder's peers, in no particular order, and over
    // their prefixes: half to the IPv6 /64, a quarter each to the /24 and the scattered /32
    // (IPv4 only where the size is too small for IPv6); spec_.train frames in a row go to the
    // same peer and prefix.
    const unsigned size = slot_size(spec_.size, j);
    if (j % spec_.train == 0) {
      peer = owned[pick(rng, owned.size())];
      const std::size_t k = pick(rng, 4);
      dest = k == 0 ? Dest::net24 : k == 1 ? Dest::host32 : Dest::net64;
    }
    const Dest d = dest == Dest::net64 && size < kMinSizeV6 ? Dest::net24 : dest;
    peer_of_[j] = peer;
    std::uint8_t* r = &ref_[std::size_t{j} * stride_];
    write_inner_frame(r, ports_.inner_mac, j, size, d == Dest::net64);
    address_inner_frame(r + 14, peer, j, d);  // inbound: the slot number is its sequence number
    if (spec_.one_peer) {  // a NIC's hash keeps each inner flow on one queue: ports of its own
      const unsigned udp = 14 + (d == Dest::net64 ? 40 : 20);
      store_be16(r + udp, static_cast<std::uint16_t>(20000 + id_ * 1000 + j % 1000));
    }
    len_[j] = static_cast<std::uint16_t>(14 + size);
    v6_frames_ += d == Dest::net64;
  }
}

void Feeder::turn_around(std::uint8_t* f, PeerId p) const {
  // The sender sent it from the common outer address to the peer's endpoint; it arrives from
  // that endpoint, through its next hop, at the receiver's address. The UDP checksum is 0, as
  // the sender wrote it (IPv4 allows that).
  const Endpoint from = peer_endpoint(p);
  std::memcpy(f, ports_.outer_mac.b.data(), 6);
  std::memcpy(f + 6, endpoint_next_hop_mac(p).b.data(), 6);
  std::uint8_t* ip = f + 14;
  std::memcpy(ip + 12, from.addr.bytes.data(), 4);
  std::memcpy(ip + 16, outer_address().bytes.data(), 4);
  store_be16(ip + 10, 0);
  store_be16(ip + 10, wire::ipv4_header_checksum(ip));
  store_be16(ip + 20, from.port);
  store_be16(ip + 22, kListenPort);
  store_be16(ip + 26, 0);
}

bool Feeder::seal_frames() {
  // The sender site's worker seals the inner frames as the peer's gateway would, in bursts on
  // this thread (the workers are not running yet); what it sends is kept as bytes.
  dataplane::Worker& w = sender_.worker(id_);
  rte_mbuf* burst[kFeedBurst];
  for (unsigned j = 0; j < slots_; j += kFeedBurst) {
    const unsigned n = std::min(kFeedBurst, slots_ - j);
    if (rte_pktmbuf_alloc_bulk(ports_.pool, burst, n) != 0) return fail("no mbufs to seal with");
    for (unsigned i = 0; i < n; ++i) {
      std::memcpy(rte_pktmbuf_append(burst[i], len_[j + i]), &ref_[std::size_t{j + i} * stride_],
                  len_[j + i]);
    }
    const Nanos now = monotonic_now();
    w.outbound(burst, n, now);
    w.finish_outbound(now);
    w.flush();
    const unsigned got = rte_ring_sc_dequeue_burst(ports_.outer_tx[id_],
                                                   reinterpret_cast<void**>(burst), n, nullptr);
    if (got != n)
      return fail("the sender sealed " + std::to_string(got) + " of " + std::to_string(n));
    for (unsigned i = 0; i < n; ++i) {
      std::uint8_t* f = &frames_[std::size_t{j + i} * stride_];
      std::memcpy(f, rte_pktmbuf_mtod(burst[i], void*), burst[i]->data_len);
      len_[j + i] = burst[i]->data_len;
      rte_pktmbuf_free(burst[i]);
      turn_around(f, peer_of_[j + i]);
    }
  }
  return true;
}

unsigned Feeder::feed(unsigned n) {
  // As much as the ring takes (this is its one producer).
  n = std::min(n, rte_ring_free_count(rx_));
  rte_mbuf* burst[kFeedBurst];
  if (n == 0 || !fill(burst, n)) return 0;
  // Stamped as they go on the ring, where the worker can first see them: the copies before
  // are the feeder's time, not the gateway's.
  const std::uint64_t now = rte_rdtsc();
  for (unsigned i = 0; i < n; ++i) stamp(burst[i]) = now;
  rte_ring_sp_enqueue_burst(rx_, reinterpret_cast<void**>(burst), n, nullptr);  // room for n
  return n;
}

bool Feeder::fill(rte_mbuf** burst, unsigned n) {
  if (rte_pktmbuf_alloc_bulk(ports_.pool, burst, n) != 0) return false;
  for (unsigned i = 0; i < n; ++i) {
    const std::size_t j = next_;
    // The frame as it is, then what changes per feed written into the mbuf (the pool of frames
    // stays clean in cache, as a NIC's source would).
    auto* dst = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(burst[i], len_[j]));
    std::memcpy(dst, &frames_[j * stride_], len_[j]);
    if (inbound_) {
      const PeerId p = peer_of_[j];
      if (first_of_peer_[j] && sent_ + i >= slots_) {  // the peer's next pass: a fresh keypair
        if (auto st = receiver_.rotate(p, monotonic_now()); !st) {
          fail(st.error());  // the run stops at its next check
        } else {
          ++rekeys;
        }
      }
      store_le32(dst + wire::kOuterV4Len + 4, receiver_.index(p));
    } else {
      store_le64(dst + 14 + seq_offset(dst + 14), seq_++);
    }
    next_ = next_ + 1 == slots_ ? 0 : next_ + 1;
  }
  sent_ += n;
  return true;
}

void Feeder::sink(std::uint64_t now, std::uint64_t end, unsigned bursts) {
  rte_mbuf* burst[kFeedBurst];
  unsigned n = 0;
  for (unsigned b = 0;
       b < bursts && (n = rte_ring_sc_dequeue_burst(tx_, reinterpret_cast<void**>(burst),
                                                    kFeedBurst, nullptr)) != 0;
       ++b) {
    take(burst, n, now, end);
  }
}

void Feeder::take(rte_mbuf** burst, unsigned n, std::uint64_t now, std::uint64_t end) {
  if (!inbound_ && live_ == nullptr) prefetch_outbound(burst, n);
  for (unsigned i = 0; i < n; ++i) {
    if (now < end) {
      ++totals.delivered;
      if (phase.record) {
        // Without the worker's mark (none is expected) the dequeue's time stands in, an upper
        // bound.
        const std::uint64_t s = stamp(burst[i]);
        totals.unstamped += (s & kInGateway) == 0;
        totals.cycles.push_back((s & kInGateway) != 0 ? s & ~kInGateway : now - s);
      }
    }
    if (error.empty()) {
      (void)(inbound_ ? check_inbound(burst[i]) : check_outbound(burst[i]));
    }
    rte_pktmbuf_free(burst[i]);
  }
  got_ += n;
}

// The lines that checking a burst of outbound frames reads, a round for each step of its
// lookups (the frame's header, its slot's entry, its peer's key and order state), so that with
// many peers the burst's misses overlap instead of the feeder waiting on each in turn.
void Feeder::prefetch_outbound(rte_mbuf** burst, unsigned n) const {
  for (unsigned i = 0; i < n; ++i) {
    rte_prefetch0(rte_pktmbuf_mtod_offset(burst[i], const std::uint8_t*, wire::kOuterV4Len));
  }
  std::uint32_t index[kFeedBurst];
  for (unsigned i = 0; i < n; ++i) {
    const auto* wg = rte_pktmbuf_mtod_offset(burst[i], const std::uint8_t*, wire::kOuterV4Len);
    index[i] = burst[i]->data_len >= wire::kOuterV4Len + kWgHeader ? load_le32(wg + 4) : 0;
    rte_prefetch0(&peer_of_slot_[index[i] & slot_mask_]);
  }
  for (unsigned i = 0; i < n; ++i) {
    const IndexPeer& e = peer_of_slot_[index[i] & slot_mask_];
    if (e.index != index[i] || index[i] == 0) continue;
    rte_prefetch0(receiver_.key(e.peer).data());
    rte_prefetch0(&order_[e.peer]);
  }
}

bool Feeder::check_inbound(const rte_mbuf* m) {
  // The next slot fed, decrypted to the frame the sender sealed (two routers on its way).
  const auto* got = rte_pktmbuf_mtod(m, const std::uint8_t*);
  const std::size_t j = expect_;
  expect_ = expect_ + 1 == slots_ ? 0 : expect_ + 1;
  const std::uint8_t* ref = &ref_[j * stride_];
  const unsigned size = slot_size(spec_.size, j);
  if (m->data_len != 14 + size || load_le64(got + 14 + seq_offset(ref + 14)) != j) {
    return fail("inbound: frame " + std::to_string(j) + " lost or out of order");
  }
  ++in_order;
  if (spec_.verify_every != 0 && j % spec_.verify_every == 0) {
    if (std::memcmp(got, ref, 14) != 0 || !forwarded_equal(got + 14, ref + 14, size, 2)) {
      return fail("inbound: frame " + std::to_string(j) + " differs from what was sealed");
    }
    ++verified;
  }
  return true;
}

bool Feeder::check_outbound(const rte_mbuf* m) {
  const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
  const std::uint8_t* wg = p + wire::kOuterV4Len;
  // The padded inner packet: one of the case's sizes padded (checked against the slot's own
  // size where the frame is opened).
  const unsigned padded = m->data_len - (wire::kOuterV4Len + kWgHeader + 16);
  if (m->data_len < wire::kOuterV4Len + kWgHeader + 16 || load_le32(wg) != 4 ||
      !padded_sizes_.contains(padded)) {
    return fail("outbound: a frame of " + std::to_string(m->data_len) + " bytes");
  }
  // Which peer: the receiver index the sender's keypair for it names.
  const std::uint32_t index = load_le32(wg + 4);
  PeerId peer = 0;
  SecretKey key;
  if (!session(index, peer, key)) return fail("outbound: a frame to an unknown receiver index");
  if (!check_outer_headers(p, peer)) return false;
  const std::uint64_t counter = load_le64(wg + 8);
  if (!check_order(wg, padded, peer, index, key, counter)) return false;
  if (++outbound_seen_ % kOpenEvery != 0) return true;
  // Opened with libsodium, an implementation other than the data path's.
  if (!crypto::aead_open(plain_.data(), key, counter, wg + kWgHeader, padded, {})) {
    return fail("outbound: a frame does not open with libsodium");
  }
  // The slot's frame with the sequence number it was fed with.
  const std::uint64_t seq = load_le64(plain_.data() + seq_offset(plain_.data()));
  std::uint8_t* ref = &ref_[(seq % slots_) * stride_];
  store_le64(ref + 14 + seq_offset(ref + 14), seq);
  const unsigned size = slot_size(spec_.size, seq % slots_);
  if (wire::padded_len(size, spec_.mtu) != padded ||
      !forwarded_equal(plain_.data(), ref + 14, size, 1)) {
    return fail("outbound: frame " + std::to_string(seq) + " decrypts to other bytes");
  }
  ++checked_outer;
  return true;
}

bool Feeder::session(std::uint32_t index, PeerId& peer, SecretKey& key) const {
  if (live_ != nullptr) return live_->session(index, peer, key);
  const IndexPeer& e = peer_of_slot_[index & slot_mask_];
  if (index == 0 || e.index != index) return false;
  peer = e.peer;
  key = receiver_.key(peer);
  return true;
}

bool Feeder::check_order(const std::uint8_t* wg, unsigned padded, PeerId peer, std::uint32_t index,
                         const SecretKey& key, std::uint64_t counter) {
  // A rekey: the worker seals with the newest keypair only, so a peer's frames move to a newer
  // one and never back (live handshakes number a peer's sessions in their index), and its
  // counters start again.
  PeerOrder& o = order_[peer];
  if (index != o.last_index) {
    if (o.last_index != 0) {
      if (index < o.last_index) {
        return fail("outbound: peer " + std::to_string(peer) + " back on an older keypair");
      }
      ++keypairs_seen;
    }
    o.last_index = index;
    o.last_counter = 0;
  }
  // This worker's counters for the peer rise by one; they only rise where others take some:
  // with one peer over several workers each reserves runs of them, and with live handshakes
  // the control thread seals a keepalive on a new keypair (the initiator's key confirmation).
  // Nothing fed goes missing either way: every frame must come out (run_phase).
  const std::uint64_t last = o.last_counter;
  const bool shared = (spec_.one_peer && spec_.workers > 1) || live_ != nullptr;
  if (last != 0 && (shared ? counter <= last : counter != last + 1)) {
    return fail("outbound: counter " + std::to_string(counter) + " for peer " +
                std::to_string(peer) + " after " + std::to_string(last));
  }
  o.last_counter = counter;
  // Every frame's sequence number, from its first ChaCha20 block (the tag is checked on the
  // sample opened below): the feeder's frames of a peer are a superset of each inner flow, and
  // they must leave in the order fed.
  std::uint8_t nonce[12] = {};
  store_le64(nonce + 4, counter);
  std::uint8_t head[64];
  const unsigned n = std::min<unsigned>(sizeof head, padded);
  crypto_stream_chacha20_ietf_xor_ic(head, wg + kWgHeader, n, nonce, 1, key.data());
  const unsigned at = seq_offset(head);
  if (at + 8 > n) return fail("outbound: a frame of peer " + std::to_string(peer) + " too short");
  const std::uint64_t seq = load_le64(head + at);
  if (seq < o.next_seq) {
    return fail("outbound: frame " + std::to_string(seq) + " of peer " + std::to_string(peer) +
                " out of order (after " + std::to_string(o.next_seq - 1) + ")");
  }
  o.next_seq = seq + 1;
  ++in_order;
  return true;
}

bool Feeder::check_outer_headers(const std::uint8_t* f, PeerId p) {
  const Endpoint to = peer_endpoint(p);
  const std::uint8_t* ip = f + 14;
  if (std::memcmp(f, endpoint_next_hop_mac(p).b.data(), 6) != 0 ||
      std::memcmp(ip + 16, to.addr.bytes.data(), 4) != 0 || load_be16(ip + 22) != to.port) {
    return fail("outbound: a frame of peer " + std::to_string(p) + " not to " + to.str() +
                " through its next hop");
  }
  return true;
}

void Feeder::run_phase() {
  totals = {};
  const double hz = static_cast<double>(rte_get_tsc_hz());
  // Room for every sample up front: growing the vector mid-phase would hold up the sink, and
  // that time would count as time in the gateway.
  if (phase.record) {
    totals.cycles.reserve(static_cast<std::size_t>(phase.rate * phase.seconds * 1.2) + 4096);
  }
  const std::uint64_t t0 = rte_rdtsc();
  const auto end = t0 + static_cast<std::uint64_t>(phase.seconds * hz);
  std::uint64_t fed = 0;
  const std::uint64_t max_in_flight = rte_ring_get_capacity(tx_) - 2 * kFeedBurst;
  const auto stall = static_cast<std::uint64_t>(hz / 10000);
  std::uint64_t last = t0;
  for (std::uint64_t now = t0; now < end && error.empty(); now = rte_rdtsc()) {
    // An iteration takes a few microseconds; far longer means this thread did not run.
    const std::uint64_t before = last;
    const bool stalled = now - before > stall;
    totals.stalls += stalled;
    last = now;
    sink(now, end);
    ++totals.looks;
    totals.empty += rte_ring_empty(rx_);
    std::uint64_t want = 0;
    if (phase.rate <= 0) {
      const std::uint64_t in_flight = sent_ - got_;
      want = in_flight < spec_.chunk ? spec_.chunk - in_flight : 0;
    } else {
      // Paced, but never more in flight than the TX ring holds: were this feeder held up (it
      // shares the machine), the worker would otherwise fill it and drop at TX, which a wire
      // that drains at line rate never makes it do. Held back, the phase reaches less.
      auto due_at = [&](std::uint64_t t) {
        return static_cast<std::uint64_t>(static_cast<double>(t - t0) / hz * phase.rate);
      };
      const std::uint64_t due = due_at(now);  // fed <= due: it feeds no more than is due
      if (stalled) {  // what fell due while it was held up is not offered (PhaseTotals::skipped)
        const std::uint64_t missed = std::min(due - fed, due - due_at(before));
        totals.skipped += missed;
        fed += missed;
      }
      const std::uint64_t in_flight = sent_ - got_;
      want = due > fed && in_flight < max_in_flight ? std::min(due - fed, max_in_flight - in_flight)
                                                    : 0;
    }
    if (want != 0) fed += feed(static_cast<unsigned>(std::min<std::uint64_t>(want, kFeedBurst)));
  }
  totals.seconds = static_cast<double>(rte_rdtsc() - t0) / hz;
  // What is still in the gateway comes out within a second, or it was lost.
  const auto deadline = rte_rdtsc() + static_cast<std::uint64_t>(hz);
  while (sent_ != got_ && rte_rdtsc() < deadline) sink(rte_rdtsc(), 0);
  if (sent_ != got_) fail(std::to_string(sent_ - got_) + " frames fed never came out");
}

/// The raw AEAD of the case's size choice and direction on a worker's lcore, on packets in
/// cache (lane.hpp's AeadRig, the limit the targets name) and out of every cache (AeadPoolRig,
/// what memory allows): each distinct size for an equal share of the time; cycles() is the mean
/// cost of a packet over the size choice's pattern, as the feeders' frames mix them.
struct AeadRun {
  unsigned burst = 32, size = 0;
  bool open = false;
  double seconds = 0;
  std::map<unsigned, double> cached, uncached;  // cycles a packet by inner size
  bool broken = false;                          // the pool's frames did not all open
  static int main(void* self) {
    auto& a = *static_cast<AeadRun*>(self);
    std::set<unsigned> sizes;
    for (unsigned j = 0; j < std::size(kImixPattern); ++j) sizes.insert(slot_size(a.size, j));
    const double each = a.seconds / static_cast<double>(sizes.size());
    for (unsigned s : sizes) {
      a.cached[s] = a.measure<AeadRig>(s, each);
      a.uncached[s] = a.measure<AeadPoolRig>(s, each);
    }
    return 0;
  }
  template <class Rig>
  double measure(unsigned len, double secs) {
    Rig rig(burst, len);  // the pool's fill is not timed
    std::uint64_t cycles = 0;
    const auto until =
        rte_rdtsc() + static_cast<std::uint64_t>(secs * static_cast<double>(rte_get_tsc_hz()));
    const std::uint64_t packets = rig.run(open, until, cycles);
    broken = broken || packets == 0;
    return packets == 0 ? 0 : static_cast<double>(cycles) / static_cast<double>(packets);
  }
  double cycles(const std::map<unsigned, double>& by_size) const {
    double sum = 0;
    for (unsigned j = 0; j < std::size(kImixPattern); ++j) sum += by_size.at(slot_size(size, j));
    return sum / static_cast<double>(std::size(kImixPattern));
  }
};

/// rte_eal_wait_lcore without its spin: asleep between looks, so that where this lcore shares
/// a CPU with the one it waits for (--preload on a small machine) it takes none of its time.
void wait_lcore(unsigned lcore) {
  while (rte_eal_get_lcore_state(lcore) == RUNNING) rte_delay_us_sleep(100);
  rte_eal_wait_lcore(lcore);
}

int run_worker(void* w) {
  static_cast<dataplane::Worker*>(w)->run();
  return 0;
}

/// Every lcore, workers and feeders, of a case (gateway.hpp's layout).
struct Crew {
  const std::vector<unsigned>& lcores;
  unsigned workers, feeders;
  unsigned worker_lcore(unsigned i) const { return lcores[i]; }
  unsigned feeder_lcore(unsigned i) const { return lcores[workers + i - 1]; }  // i > 0
  unsigned control_lcore() const { return lcores[workers + feeders - 1]; }     // --rekey-after
};

/// line_handoff_ns from the main lcore (which feeds, or fills the preloaded rounds) to the
/// first of the case's lcores on another CPU; 0 when all share its CPU.
double handoff_ns(const Crew& crew) {
  for (unsigned l : crew.lcores) {
    if (!share_cpu(rte_get_main_lcore(), l)) return line_handoff_ns(l);
  }
  return 0;
}

/// --rekey-after: the sending gateway's control thread on an lcore of its own, the daemon's
/// loop, with the peers' side of the wire beyond its TX queue: initiations are answered into
/// worker 0's RX ring of the Internet port (which nothing else feeds outbound).
struct LiveControl {
  control::Control* ctl = nullptr;
  PeerSide* side = nullptr;
  rte_ring* from_gateway[2] = {};  // the control thread's TX rings: outer, inner
  rte_ring* to_gateway = nullptr;
  rte_ring* handshakes = nullptr;  // the workers' ring to the control thread
  rte_mempool* pool = nullptr;
  wire::MacAddr gateway_mac;
  std::atomic<bool> stop{false};
  std::uint64_t inner_frames = 0;  // the control thread sent to the LAN (none expected)
  std::uint64_t requests = 0;      // handshakes the workers asked for (after finish())

  /// Runs `dut`'s control thread with `side` beyond it on `lcore`.
  void launch(Site& dut, PeerSide& peers, const Ports& ports, unsigned lcore) {
    ctl = dut.control();
    side = &peers;
    from_gateway[0] = ports.outer_tx.back();
    from_gateway[1] = ports.inner_tx.back();
    to_gateway = ports.outer_rx[0];
    handshakes = dut.dp().handshakes;
    pool = ports.pool;
    gateway_mac = ports.outer_mac;
    requests = ctl->stats().handshake_requests;  // before its thread runs: no race
    rte_eal_remote_launch(main, this, lcore);
  }
  /// Once the workers stopped: stops it and frees what is left in flight. A response to an
  /// initiation it sent last is left on worker 0's ring: that handshake is retried, as on a
  /// lossy wire.
  void finish(Site& dut, unsigned lcore) {
    stop.store(true);
    wait_lcore(lcore);
    void* m = nullptr;
    while (rte_ring_sc_dequeue(to_gateway, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    (void)dut.drain_control();
    requests = ctl->stats().handshake_requests - requests;
  }

  static int main(void* arg) {
    auto& c = *static_cast<LiveControl*>(arg);
    control::IdleSleep idle;  // the daemon's (Control::run)
    for (;;) {
      const bool stopping = c.stop.load();
      unsigned n = c.ctl->poll(monotonic_now(), wall_now());
      n += c.side->serve(c.from_gateway[0], c.to_gateway, c.pool, c.gateway_mac);
      void* m = nullptr;
      while (rte_ring_sc_dequeue(c.from_gateway[1], &m) == 0) {
        rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
        ++c.inner_frames;
        ++n;
      }
      if (stopping && n == 0 && rte_ring_count(c.handshakes) == 0) return 0;
      idle.after(n);
    }
  }
};

/// --rekey-after: until every peer has a keypair, a packet to each peer without one goes in on
/// the LAN port, as the first packet to a peer does: the worker stages it, the control thread
/// starts the handshake, the peers' side answers, and the control thread sends it sealed. The
/// first packets are spread evenly over rekey_after seconds, so that the keypairs' births, and
/// the rekeys after them, are spread as a running gateway's are: peers / rekey_after handshakes
/// a second from then on. At most kWarmWindow handshakes wait at a time, so that the gateway
/// never sees a backlog (under load it would answer with cookies). What the workers sealed
/// themselves (a peer that had a keypair by then) is taken off their TX rings.
constexpr unsigned kWarmWindow = 64;
Status warm_up(const CaseSpec& spec, const Ports& ports, Site& dut) {
  const dataplane::Dataplane& dp = dut.dp();
  auto waiting = [&](PeerId p) { return dp.peers[p].current.load() == 0; };
  std::vector<PeerId> pending;
  for (PeerId p = 0; p < spec.peers; ++p) {
    if (waiting(p)) pending.push_back(p);
  }
  const double hz = static_cast<double>(rte_get_tsc_hz());
  const double gap =
      pending.empty() ? 0 : spec.rekey_after * hz / static_cast<double>(pending.size());
  const std::uint64_t t0 = rte_rdtsc();
  std::size_t done = 0;  // pending[0, done) have keypairs
  for (std::size_t k = 0; k < pending.size(); ++k) {
    while (rte_rdtsc() < t0 + static_cast<std::uint64_t>(gap * static_cast<double>(k)) ||
           k - done >= kWarmWindow) {
      while (done < k && !waiting(pending[done])) ++done;
      if (rte_rdtsc() > t0 + static_cast<std::uint64_t>(gap * static_cast<double>(k) + 10 * hz)) {
        return Error{"peer " + std::to_string(pending[done]) + " has no keypair 10 s after its " +
                     "first packet: its handshake did not complete"};
      }
      rte_delay_us_sleep(100);
    }
    rte_mbuf* m = rte_pktmbuf_alloc(ports.pool);
    if (m == nullptr) return Error{"no mbufs for the first packets"};
    auto* f = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, 14 + 64));
    write_inner_frame(f, ports.inner_mac, 0, 64, false);
    address_inner_frame(f + 14, pending[k], 0);
    if (rte_ring_sp_enqueue(ports.inner_rx[0], m) != 0) {
      rte_pktmbuf_free(m);
      return Error{"worker 0's LAN RX ring is full"};
    }
  }
  const std::uint64_t deadline = rte_rdtsc() + static_cast<std::uint64_t>(10 * hz);
  for (; done < pending.size(); rte_delay_us_sleep(200)) {
    while (done < pending.size() && !waiting(pending[done])) ++done;
    if (done < pending.size() && rte_rdtsc() > deadline) {
      return Error{"peer " + std::to_string(pending[done]) + " has no keypair 10 s after its " +
                   "first packet: its handshake did not complete"};
    }
  }
  rte_delay_us_sleep(20000);  // what a worker sealed meanwhile is on its TX ring by now
  for (unsigned i = 0; i < spec.workers; ++i) {
    void* m = nullptr;
    while (rte_ring_sc_dequeue(ports.outer_tx[i], &m) == 0) {
      rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    }
  }
  return ok_status();
}

/// One phase on every feeder at once; false when one failed.
bool run_phase(const Crew& crew, std::vector<std::unique_ptr<Feeder>>& feeders) {
  for (unsigned i = 1; i < feeders.size(); ++i) {
    rte_eal_remote_launch(Feeder::main, feeders[i].get(), crew.feeder_lcore(i));
  }
  Feeder::main(feeders[0].get());
  for (unsigned i = 1; i < feeders.size(); ++i) rte_eal_wait_lcore(crew.feeder_lcore(i));
  return std::all_of(feeders.begin(), feeders.end(),
                     [](const auto& f) { return f->error.empty(); });
}

/// The AEAD limits of the workers' lcores, all at once, as packets a second summed.
struct AeadLimits {
  double cached_pps = 0, uncached_pps = 0;
};

Result<AeadLimits> aead_limits(const CaseSpec& spec, const Crew& crew) {
  std::vector<AeadRun> runs(spec.workers);
  for (unsigned i = 0; i < spec.workers; ++i) {
    runs[i] = {.burst = spec.burst,
               .size = spec.size,
               .open = spec.direction == Direction::inbound,
               .seconds = spec.aead_time};
    rte_eal_remote_launch(AeadRun::main, &runs[i], crew.worker_lcore(i));
  }
  AeadLimits l;
  const auto hz = static_cast<double>(rte_get_tsc_hz());
  for (unsigned i = 0; i < spec.workers; ++i) wait_lcore(crew.worker_lcore(i));
  for (unsigned i = 0; i < spec.workers; ++i) {
    if (runs[i].broken) return Error{spec.label + ": the AEAD baseline's frames did not open"};
    l.cached_pps += hz / runs[i].cycles(runs[i].cached);
    l.uncached_pps += hz / runs[i].cycles(runs[i].uncached);
  }
  return l;
}

/// p (0..1) of sorted values, in microseconds.
double percentile_us(const std::vector<std::uint64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size()))) - 1;
  return static_cast<double>(sorted[std::min(k, sorted.size() - 1)]) * 1e6 /
         static_cast<double>(rte_get_tsc_hz());
}

/// The maximum rate, then each load of it with latency; fills r. False when a feeder failed.
/// The workers' stalls so far (dataplane/poll_gaps.hpp), read while they run.
std::uint64_t worker_stalls(Site& dut, unsigned workers) {
  std::uint64_t n = 0;
  for (unsigned i = 0; i < workers; ++i) {
    n += dataplane::peek(dut.worker(i).stats().stalls);
  }
  return n;
}

bool run_phases(const CaseSpec& spec, const Crew& crew, Site& dut,
                std::vector<std::unique_ptr<Feeder>>& feeders, CaseResult& r) {
  for (auto& f : feeders) f->phase = {.seconds = spec.duration, .rate = 0, .record = false};
  if (!run_phase(crew, feeders)) return false;
  std::uint64_t looks = 0, empty = 0;
  for (auto& f : feeders) {
    looks += f->totals.looks;
    empty += f->totals.empty;
  }
  r.starved = looks == 0 ? 0 : static_cast<double>(empty) / static_cast<double>(looks);
  std::vector<double> max_pps;
  for (auto& f : feeders) {
    max_pps.push_back(static_cast<double>(f->totals.delivered) / f->totals.seconds);
    r.mpps += max_pps.back() / 1e6;
    r.packets += f->totals.delivered;
    r.seconds += f->totals.seconds;
  }
  // Before any frame of the phases below is fed; off again however they end.
  struct StampSent {
    StampSent() { g_stamp_sent.store(true); }
    ~StampSent() { g_stamp_sent.store(false); }
    StampSent(const StampSent&) = delete;
    StampSent& operator=(const StampSent&) = delete;
  } stamping;
  for (double load : spec.loads) {
    for (unsigned i = 0; i < feeders.size(); ++i) {
      feeders[i]->phase = {.seconds = spec.duration, .rate = load * max_pps[i], .record = true};
    }
    const std::uint64_t stalls_before = worker_stalls(dut, spec.workers);
    if (!run_phase(crew, feeders)) return false;
    LatencyPoint lp{.load = load};
    lp.worker_stalls = worker_stalls(dut, spec.workers) - stalls_before;
    std::vector<std::uint64_t> all;
    for (auto& f : feeders) {
      lp.mpps += static_cast<double>(f->totals.delivered) / f->totals.seconds / 1e6;
      lp.feeder_stalls += f->totals.stalls;
      lp.skipped += f->totals.skipped;
      lp.unstamped += f->totals.unstamped;
      all.insert(all.end(), f->totals.cycles.begin(), f->totals.cycles.end());
    }
    std::sort(all.begin(), all.end());
    lp.samples = all.size();
    lp.p50_us = percentile_us(all, 0.5);
    lp.p99_us = percentile_us(all, 0.99);
    lp.p999_us = percentile_us(all, 0.999);
    r.latency.push_back(lp);
  }
  return true;
}

/// --preload: rounds of spec.preload frames put on every fed RX ring at once while the workers
/// poll, each timed from the enqueue to the last frame on the TX rings, then checked untimed;
/// fills r's rate. No feeder runs beside the workers: on a small machine the CPUs are theirs.
bool run_preloaded(const CaseSpec& spec, std::vector<std::unique_ptr<Feeder>>& feeders,
                   CaseResult& r) {
  const double hz = static_cast<double>(rte_get_tsc_hz());
  const unsigned n = spec.preload;
  const std::size_t total = std::size_t{n} * feeders.size();
  std::vector<std::vector<rte_mbuf*>> round(feeders.size(), std::vector<rte_mbuf*>(n));
  double timed = 0, last = 0;
  auto transmitted = [&] {
    std::size_t t = 0;
    for (auto& f : feeders) t += f->transmitted();
    return t;
  };
  while (timed < spec.duration) {
    for (unsigned f = 0; f < feeders.size(); ++f) {
      for (unsigned i = 0; i < n; i += kFeedBurst) {
        if (!feeders[f]->fill(&round[f][i], std::min(kFeedBurst, n - i))) {
          return feeders[f]->fail("no mbufs to preload");
        }
      }
    }
    const std::uint64_t t0 = rte_rdtsc();
    for (unsigned f = 0; f < feeders.size(); ++f) {
      rte_ring_sp_enqueue_bulk(feeders[f]->rx(), reinterpret_cast<void**>(round[f].data()), n,
                               nullptr);  // the ring holds twice n
    }
    // Asleep for most of the last round's time, then a look every 20 us: the CPUs stay the
    // workers'.
    if (last > 0) rte_delay_us_sleep(static_cast<unsigned>(last * 0.8 * 1e6));
    while (transmitted() < total) {
      if (rte_rdtsc() - t0 > 2 * static_cast<std::uint64_t>(hz)) {
        return feeders[0]->fail(std::to_string(total - transmitted()) + " preloaded frames of " +
                                std::to_string(total) + " never came out");
      }
      rte_delay_us_sleep(20);
    }
    last = static_cast<double>(rte_rdtsc() - t0) / hz;
    timed += last;
    r.packets += total;
    for (auto& f : feeders) f->sink_all();
    if (!std::all_of(feeders.begin(), feeders.end(), [](auto& f) { return f->error.empty(); })) {
      return false;
    }
  }
  r.mpps = static_cast<double>(r.packets) / timed / 1e6;
  r.seconds = timed * spec.workers;
  return true;
}

/// The feeders' counts into r; the first feeder's error, with the workers' drops, if one failed.
Status add_feeders(const CaseSpec& spec, Site& dut,
                   const std::vector<std::unique_ptr<Feeder>>& feeders, CaseResult& r) {
  std::uint64_t slots = 0, v6 = 0;
  for (const auto& f : feeders) {
    if (!f->error.empty()) {
      std::string drops;
      for (unsigned i = 0; i < spec.workers; ++i) drops += drop_names(dut.worker(i), "");
      return Error{spec.label + ": " + f->error + (drops.empty() ? "" : "; drops:" + drops)};
    }
    r.verified += f->verified;
    r.checked_outer += f->checked_outer;
    r.in_order += f->in_order;
    r.keypairs_seen += f->keypairs_seen;
    r.rekeys += f->rekeys;
    r.frames_bytes += f->frame_bytes();
    slots += f->slots();
    v6 += f->v6_frames();
  }
  r.ipv6_share = slots == 0 ? 0 : static_cast<double>(v6) / slots;
  return ok_status();
}

/// After a case: nothing went to a control thread that should have seen nothing, and the pool
/// has as many mbufs free as before it (`pool_free`).
Status check_leftovers(const CaseSpec& spec, const Ports& ports, Site& sender, Site& receiver,
                       bool live, unsigned pool_free) {
  // Every frame came from its peer's own endpoint and went to known next hops: no roam, no
  // neighbour resolution, nothing for the control thread (but the handshakes of a live one).
  if (unsigned n = (live ? 0 : sender.drain_control()) + receiver.drain_control(); n != 0) {
    return Error{spec.label + ": " + std::to_string(n) +
                 " packets or events went to the control thread"};
  }
  if (const unsigned now_free = rte_mempool_avail_count(ports.pool); now_free != pool_free) {
    return Error{spec.label + ": the pool has " + std::to_string(now_free) + " mbufs free, " +
                 std::to_string(pool_free) + " at the start"};
  }
  return ok_status();
}

/// The case's fields that do not come from the phases: the AEAD limits, the line handoff before.
Result<CaseResult> case_result(const CaseSpec& spec, const Ports& ports, const Crew& crew) {
  const Result<AeadLimits> aead = aead_limits(spec, crew);
  if (!aead) return Error{aead.error()};
  CaseResult r = result_of(spec);
  r.gateway = true;
  r.train = spec.train;
  r.one_peer = spec.one_peer;
  r.preload = spec.preload;
  r.frames = spec.frames;
  r.avg_size = mean_size(spec.size, std::size(kImixPattern));
  r.aead_mpps = aead->cached_pps / 1e6;
  r.aead_gbps = aead->cached_pps * r.avg_size * 8 / 1e9;
  r.aead_uncached_gbps = aead->uncached_pps * r.avg_size * 8 / 1e9;
  r.pool_mbufs = ports.pool->size;
  r.handoff_ns_before = handoff_ns(crew);
  if (!spec.loads.empty() && spec.preload == 0) r.worker_cpu = cpu_gaps(crew.worker_lcore(0), 0.5);
  return r;
}

/// The case's feeders, each with its frames prepared (untimed).
Status make_feeders(const CaseSpec& spec, const Ports& ports, Site& sender, Site& receiver,
                    const PeerSide* live, std::vector<std::unique_ptr<Feeder>>& feeders) {
  for (unsigned i = 0; i < spec.feeders(); ++i) {
    feeders.push_back(std::make_unique<Feeder>(i, ports, spec, sender, receiver, live));
    if (!feeders.back()->prepare()) return Error{spec.label + ": " + feeders.back()->error};
  }
  return ok_status();
}

/// What follows from the maximum rate: bits a second, cycles a packet, the ratios to the AEAD.
void add_rates(const CaseSpec& spec, CaseResult& r) {
  r.gbps = r.mpps * 1e6 * r.avg_size * 8 / 1e9;
  r.cycles_per_packet = static_cast<double>(rte_get_tsc_hz()) * spec.workers / (r.mpps * 1e6);
  r.ratio = r.gbps / r.aead_gbps;
  r.ratio_uncached = r.gbps / r.aead_uncached_gbps;
}

}  // namespace

std::size_t feeder_stride(unsigned size) {
  return (wire::kOuterV6Len + kWgHeader + largest_packet(size) + 16 + 63) / 64 * 64 + 64;
}

Result<CaseResult> run_gateway_case(const CaseSpec& spec, const Ports& ports,
                                    const std::vector<unsigned>& lcores, Site& sender,
                                    Site& receiver, PeerSide* live) {
  if (!register_stamp()) return Error{"cannot register the mbuf RX timestamp field"};
  if (auto st = watch_transmits(ports); !st) return Error{st.error()};
  const Crew crew{lcores, spec.workers, spec.feeders()};
  Site& dut = spec.direction == Direction::inbound ? receiver : sender;
  std::vector<std::unique_ptr<Feeder>> feeders;
  if (auto st = make_feeders(spec, ports, sender, receiver, live, feeders); !st) {
    return Error{st.error()};
  }
  Result<CaseResult> started = case_result(spec, ports, crew);
  if (!started) return Error{started.error()};
  CaseResult& r = *started;
  // Before anything runs: with live handshakes, some mbufs are always in flight once it does.
  const unsigned pool_free = rte_mempool_avail_count(ports.pool);
  // The workers: readers of the RCU only while they run (Worker::run goes online and off).
  for (unsigned i = 0; i < dut.dp().workers; ++i) dut.dp().rcu.reader_offline(i);
  std::uint64_t helped = 0;  // the workers' counts run over the whole process: take the case's
  for (unsigned i = 0; i < spec.workers; ++i) {
    helped -= dut.worker(i).stats().opened_for_others;
    rte_eal_remote_launch(run_worker, &dut.worker(i), crew.worker_lcore(i));
  }
  LiveControl control;
  Status warm = ok_status();
  if (live != nullptr) {
    control.launch(dut, *live, ports, crew.control_lcore());
    warm = warm_up(spec, ports, dut);
  }
  const std::uint64_t answered = live != nullptr ? live->stats().initiations : 0;
  bool ok = false;
  const std::uint64_t phases_start = rte_rdtsc();
  if (warm) {
    ok = spec.preload != 0 ? run_preloaded(spec, feeders, r)
                           : run_phases(spec, crew, dut, feeders, r);
  }
  const double phases_seconds =
      static_cast<double>(rte_rdtsc() - phases_start) / static_cast<double>(rte_get_tsc_hz());
  dut.dp().stop.store(true);
  for (unsigned i = 0; i < spec.workers; ++i) {
    wait_lcore(crew.worker_lcore(i));
    helped += dut.worker(i).stats().opened_for_others;
  }
  r.handoff_ns_after = handoff_ns(crew);
  if (live != nullptr) {
    control.finish(dut, crew.control_lcore());
    r.rekey_after = spec.rekey_after;
    r.handshakes = live->stats().initiations - answered;
    r.handshake_rate = static_cast<double>(r.handshakes) / phases_seconds;
    r.handshake_requests = control.requests;
  }
  dut.dp().stop.store(false);
  if (!warm) return Error{spec.label + ": " + warm.error()};
  r.opened_for_others = helped;
  r.spread = dut.dp().spread;
  receiver.reclaim();
  if (auto st = add_feeders(spec, dut, feeders, r); !st) return Error{st.error()};
  if (!ok) return Error{spec.label + ": a feeder failed"};
  if (auto st = check_leftovers(spec, ports, sender, receiver, live != nullptr, pool_free); !st) {
    return Error{st.error()};
  }
  add_rates(spec, r);
  return r;
}

}  // namespace tunbench
