#include "lane.hpp"

#include <rte_cycles.h>
#include <rte_pause.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "flood.hpp"
#include "meshgate/base/bytes.hpp"
#include "meshgate/wire/build.hpp"
#include "meshgate/wire/checksum.hpp"
#include "meshgate/wire/messages.hpp"

namespace tunbench {

using namespace meshgate;

namespace {

/// Bytes between packets in a buffer of packets of up to `len` bytes: 2048 up to 2032-byte
/// packets and their tag, as in aead-limit.c, whole cache lines above.
unsigned stride_for(unsigned len) {
  return std::max(2048u, (len + 16 + 63) / 64 * 64);
}

/// A flood's frame: Ethernet, IPv4 and UDP from an Internet source, and the initiation.
constexpr std::size_t kFloodFrameLen = wire::kOuterV4Len + sizeof(wire::MessageInitiation);

}  // namespace

std::size_t pick(std::uint64_t& s, std::size_t n) {
  s ^= s >> 12;  // xorshift64*
  s ^= s << 25;
  s ^= s >> 27;
  return static_cast<std::size_t>((static_cast<unsigned __int128>(s * 0x2545F4914F6CDD1Dull) * n) >>
                                  64);
}

std::string drop_names(const dataplane::Worker& w, const char* prefix) {
  std::string names;
  for (std::size_t i = 0; i < dataplane::kDropCount; ++i) {
    if (w.drops().count[i] != 0) {
      names += std::string(" ") + prefix + dataplane::drop_name(i) + "=" +
               std::to_string(w.drops().count[i]);
    }
  }
  return names;
}

bool forwarded_equal(const std::uint8_t* got, const std::uint8_t* ref, unsigned size,
                     unsigned hops) {
  // Each gateway lowers the TTL or hop limit (docs/design.md, "Forwarding rewrites"); no other
  // byte moves.
  if ((ref[0] >> 4) == 6) {
    return got[7] == static_cast<std::uint8_t>(ref[7] - hops) && std::memcmp(got, ref, 7) == 0 &&
           std::memcmp(got + 8, ref + 8, size - 8) == 0;
  }
  std::uint8_t hdr[20];
  std::memcpy(hdr, ref, sizeof hdr);
  hdr[8] = static_cast<std::uint8_t>(hdr[8] - hops);
  store_be16(hdr + 10, 0);
  store_be16(hdr + 10, wire::ipv4_header_checksum(hdr));
  return std::memcmp(got, hdr, sizeof hdr) == 0 &&
         std::memcmp(got + sizeof hdr, ref + sizeof hdr, size - sizeof hdr) == 0;
}

void write_inner_frame(std::uint8_t* r, const wire::MacAddr& mac, unsigned j, unsigned size,
                       bool v6) {
  std::memcpy(r, mac.b.data(), 6);
  std::memcpy(r + 6, mac.b.data(), 6);
  store_be16(r + 12, v6 ? 0x86DD : 0x0800);
  std::uint8_t* ip = r + 14;
  const unsigned ip_len = v6 ? 40 : 20;
  if (v6) {
    ip[0] = 0x60;
    store_be16(ip + 4, static_cast<std::uint16_t>(size - 40));
    ip[6] = 17;
    ip[7] = 64;
  } else {
    ip[0] = 0x45;
    store_be16(ip + 2, static_cast<std::uint16_t>(size));
    store_be16(ip + 4, static_cast<std::uint16_t>(j));
    ip[8] = 64;
    ip[9] = 17;
  }
  // The UDP checksum stays 0: no gateway reads it, and the sequence number changes per feed.
  std::uint8_t* udp = ip + ip_len;
  store_be16(udp, static_cast<std::uint16_t>(40000 + j % 1000));
  store_be16(udp + 2, 5201);
  store_be16(udp + 4, static_cast<std::uint16_t>(size - ip_len));
  for (unsigned k = ip_len + 16; k < size; ++k) ip[k] = static_cast<std::uint8_t>(j * 131 + k * 7);
}

void address_inner_frame(std::uint8_t* ip, PeerId p, std::uint64_t seq, Dest dest) {
  if (dest == Dest::net64) {
    const auto net = peer_net6(p);
    std::memcpy(ip + 8, net.data(), 16);
    std::memcpy(ip + 24, net.data(), 16);
    ip[23] = 1;
    ip[39] = 2;
    store_le64(ip + 48, seq);
    return;
  }
  const std::uint32_t host = peer_host(p);
  store_be32(ip + 12, dest == Dest::host32 ? host : peer_net(p) | 1);
  store_be32(ip + 16, dest == Dest::host32 ? host : peer_net(p) | 2);
  store_be16(ip + 10, 0);
  store_be16(ip + 10, wire::ipv4_header_checksum(ip));
  store_le64(ip + 28, seq);
}

CaseResult result_of(const CaseSpec& spec) {
  CaseResult r;
  r.direction = spec.direction;
  r.size = spec.size;
  r.mtu = spec.mtu;
  r.peers = spec.peers;
  r.workers = spec.workers;
  r.burst = spec.burst;
  return r;
}

// --- raw AEAD ------------------------------------------------------------------------------------

AeadRig::AeadRig(unsigned burst, unsigned len)
    : batch_(crypto::AeadBackend::ipsec_mb),
      burst_(burst),
      len_(len),
      plain_(std::size_t{burst} * stride_for(len)),
      sealed_(std::size_t{burst} * stride_for(len)),
      seal_jobs_(burst),
      open_jobs_(burst) {
  for (std::size_t i = 0; i < plain_.size(); ++i) plain_[i] = static_cast<std::uint8_t>(i * 13);
  for (unsigned i = 0; i < burst; ++i) {
    std::uint8_t* p = &plain_[std::size_t{i} * stride_for(len)];
    std::uint8_t* c = &sealed_[std::size_t{i} * stride_for(len)];
    // One keypair, consecutive counters: a burst as the outbound path builds it.
    seal_jobs_[i] = {.key = key_, .counter = i, .src = p, .dst = c, .len = len, .tag = c + len};
    open_jobs_[i] = {.key = key_, .counter = i, .src = c, .dst = p, .len = len, .tag = c + len};
  }
  batch_.seal(seal_jobs_);
}

bool AeadRig::opens_verify() {
  return batch_.open(open_jobs_) == burst_;
}

std::uint64_t AeadRig::run(bool open, std::uint64_t until, std::uint64_t& cycles) {
  std::uint64_t n = 0;
  const std::uint64_t t0 = rte_rdtsc();
  std::uint64_t t = t0;
  while (n == 0 || t < until) {  // one burst at least
    if (open) {
      batch_.open(open_jobs_);
    } else {
      batch_.seal(seal_jobs_);
    }
    n += burst_;
    t = rte_rdtsc();
  }
  cycles += t - t0;
  return n;
}

AeadPoolRig::AeadPoolRig(unsigned burst, unsigned len)
    : batch_(crypto::AeadBackend::ipsec_mb),
      burst_(burst),
      len_(len),
      stride_(stride_for(len)),
      frames_(kPoolBytes / stride_ / burst * burst),
      pool_(frames_ * stride_),
      jobs_(burst) {}

std::uint64_t AeadPoolRig::batch(bool open, std::size_t first, std::uint64_t& cycles) {
  for (unsigned i = 0; i < burst_; ++i) {
    std::uint8_t* f = frame(first + i);
    jobs_[i] = {
        .key = key_, .counter = first + i, .src = f, .dst = f, .len = len_, .tag = f + len_};
  }
  const std::uint64_t t0 = rte_rdtsc();
  std::uint64_t ok = burst_;
  if (open) {
    ok = batch_.open(jobs_);
  } else {
    batch_.seal(jobs_);
  }
  cycles += rte_rdtsc() - t0;
  return ok;
}

std::uint64_t AeadPoolRig::run(bool open, std::uint64_t until, std::uint64_t& cycles) {
  std::uint64_t n = 0, untimed = 0;
  for (std::size_t at = 0; n == 0 || rte_rdtsc() < until; at = (at + burst_) % frames_) {
    if (open && at == 0) {  // each pass opens what was sealed with the counters it opens with
      for (std::size_t f = 0; f < frames_; f += burst_) batch(false, f, untimed);
    }
    if (batch(open, at, cycles) != burst_) return 0;
    n += burst_;
  }
  return n;
}

// --- the lane ------------------------------------------------------------------------------------

Lane::Lane(unsigned id, const Ports& ports, unsigned chunk)
    : id_(id),
      ports_(ports),
      chunk_(chunk),
      outer_tx_(ports.outer_tx[id]),
      inner_tx_(ports.inner_tx[id]),
      slots_(chunk),
      frames_(chunk),
      sealed_(chunk),
      size_(chunk),
      peer_of_(chunk) {
  for (unsigned j = 0; j < chunk; ++j) {
    slots_[j] = rte_pktmbuf_alloc(ports.pool);
    if (slots_[j] == nullptr) std::abort();  // Ports::create sized the pool for every lane
  }
}

Lane::~Lane() {
  for (rte_mbuf* m : slots_) rte_pktmbuf_free(m);
}

void Lane::prepare_case(Site& sender, Site& receiver, const CaseSpec& spec,
                        std::atomic<unsigned>* barrier) {
  sender_ = &sender;
  receiver_ = &receiver;
  out_ = &sender.worker(id_);
  in_ = &receiver.worker(id_);
  spec_ = spec;
  barrier_ = barrier;
  totals_ = {};
  error_.clear();
  trips_ = 0;
  rng_ = 0x9E3779B97F4A7C15ull * (id_ + 1) + spec.peers;

  // Peers: worker i sends to the peers p with p % workers == i, as RSS keeps each peer's
  // traffic on one queue. (run_inmem() makes sure every worker has at least one.)
  owned_.clear();
  for (PeerId p = id_; p < spec.peers; p += spec.workers) owned_.push_back(p);

  // IMIX: the largest multiple of its 12-packet pattern that fits the lane's slots, so every
  // trip carries the exact mix.
  const auto capacity = static_cast<unsigned>(slots_.size());
  const unsigned pattern = std::size(kImixPattern);
  chunk_ = spec.size == kImix ? capacity - capacity % pattern : capacity;
  slot_bytes_ = (14 + largest_packet(spec.size) + 63) / 64 * 64;
  ref_.assign(std::size_t{chunk_} * slot_bytes_, 0);
  plain_.resize(slot_bytes_ + 16);  // and the padding, to a multiple of 16
  chunk_bytes_ = 0;
  rigs_.clear();
  for (unsigned j = 0; j < chunk_; ++j) {
    const unsigned size = spec.size == kImix ? kImixPattern[j % pattern] : spec.size;
    write_frame(j, size);
    chunk_bytes_ += size;
    if (!rigs_.count(size)) rigs_[size] = std::make_unique<AeadRig>(spec.burst, size);
  }
  drops_before_ = out_->drops().total() + in_->drops().total();
  flood_due_ = 0;
  last_trip_cycles_ = 0;
  if (spec.flood > 0) make_flood_frames(receiver.public_key());
}

void Lane::make_flood_frames(const Key32& target) {
  const std::vector<wire::MessageInitiation> msgs = flood_messages(target);
  flood_frames_.assign(msgs.size() * kFloodFrameLen, 0);
  flood_next_ = 0;
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    // 254 Internet sources of this lane's /24 in 203.0.0.0/16, many source ports, all through
    // the outer router, as a distributed flood arrives.
    const IpAddr src = IpAddr::v4(0xCB000000 | (id_ % 256) << 8 | (1 + i % 254));
    const auto tpl = wire::OuterTemplate::make(kRouterMac, ports_.outer_mac, src, outer_address(),
                                               static_cast<std::uint16_t>(1024 + i), kListenPort);
    std::uint8_t* f = &flood_frames_[i * kFloodFrameLen];
    std::memcpy(f + tpl.len, &msgs[i], sizeof msgs[i]);
    tpl.write(f, sizeof msgs[i], static_cast<std::uint16_t>(i), 0);
  }
}

void Lane::write_frame(unsigned j, unsigned size) {
  // Addresses are filled in per trip.
  size_[j] = static_cast<std::uint16_t>(size);
  std::uint8_t* r = &ref_[std::size_t{j} * slot_bytes_];
  write_inner_frame(r, ports_.inner_mac, j, size);
  rte_mbuf* m = slots_[j];
  rte_pktmbuf_reset(m);
  std::memcpy(rte_pktmbuf_append(m, static_cast<std::uint16_t>(14 + size)), r, 14 + size);
  frames_[j] = m;
}

int Lane::main(void* arg) {
  static_cast<Lane*>(arg)->run();
  return 0;
}

bool Lane::fail(const std::string& what) {
  if (error_.empty()) error_ = "worker " + std::to_string(id_) + ": " + what;
  return false;
}

void Lane::run() {
  for (auto& [size, rig] : rigs_) {
    if (!rig->opens_verify()) {
      fail("the raw AEAD rig does not verify its own ciphertexts");
      return;
    }
  }
  barrier_->fetch_add(1);
  while (barrier_->load() < spec_.workers) rte_pause();

  const double hz = static_cast<double>(rte_get_tsc_hz());
  const unsigned rounds =
      std::max(1u, static_cast<unsigned>(std::lround(spec_.duration / spec_.slice)));
  const auto dp_slice = static_cast<std::uint64_t>(spec_.duration * hz / rounds);
  for (unsigned r = 0; r < rounds; ++r) {
    run_aead(spec_.aead_time / rounds);
    const std::uint64_t target = totals_.cycles + dp_slice;
    while (totals_.cycles < target) {
      if (!trip()) return;
    }
    if (spec_.progress && id_ == 0) {
      const double mpps = totals_.packets / (totals_.cycles / hz) / 1e6;
      std::fprintf(stderr, "\r%s: %u/%u  worker 0 %.3f Mpps   ", spec_.label.c_str(), r + 1, rounds,
                   mpps);
      std::fflush(stderr);
    }
  }
}

void Lane::run_aead(double seconds) {
  const bool seal = spec_.direction != Direction::inbound;
  const bool open = spec_.direction != Direction::outbound;
  const unsigned parts = static_cast<unsigned>(rigs_.size()) * (seal + open);
  const auto each = static_cast<std::uint64_t>(seconds * rte_get_tsc_hz() / parts);
  for (auto& [size, rig] : rigs_) {
    for (int op = 0; op < 2; ++op) {
      if ((op == 0 && !seal) || (op == 1 && !open)) continue;
      std::uint64_t cycles = 0;
      totals_.aead_packets[op][size] += rig->run(op == 1, rte_rdtsc() + each, cycles);
      totals_.aead_cycles[op][size] += cycles;
    }
  }
}

double Lane::aead_cycles_per_packet(Direction d) const {
  // The AEAD time of this lane's exact size mix: the mean over its slots of the per-size cost.
  double sum = 0;
  for (unsigned j = 0; j < chunk_; ++j) {
    for (int op = 0; op < 2; ++op) {
      if ((op == 0 && d == Direction::inbound) || (op == 1 && d == Direction::outbound)) continue;
      const auto pk = totals_.aead_packets[op].at(size_[j]);
      sum += static_cast<double>(totals_.aead_cycles[op].at(size_[j])) / static_cast<double>(pk);
    }
  }
  return sum / chunk_;
}

double Lane::average_size() const {
  return static_cast<double>(chunk_bytes_) / chunk_;
}

void Lane::address_frames() {
  const auto n = static_cast<std::uint64_t>(owned_.size());
  for (unsigned j = 0; j < chunk_; ++j) {
    // Traffic spread uniformly over this lane's peers, in no particular order.
    const PeerId p = n == 1 ? owned_[0] : owned_[pick(rng_, n)];
    peer_of_[j] = p;
    std::uint8_t* r = &ref_[std::size_t{j} * slot_bytes_];
    std::uint8_t* ip = r + 14;
    address_inner_frame(ip, p, ++seq_);
    std::uint8_t* f = rte_pktmbuf_mtod(slots_[j], std::uint8_t*);
    std::memcpy(f + 14, ip, 36);
  }
}

template <bool kOutbound>
void Lane::stage(rte_mbuf** pkts, unsigned n) {
  // What Worker::poll() does with a received burst, minus rte_eth_rx_burst(): the clock once
  // per burst, the stage, the TX flush, an RCU quiescent state.
  dataplane::Dataplane& dp = (kOutbound ? sender_ : receiver_)->dp();
  dataplane::Worker& w = kOutbound ? *out_ : *in_;
  for (unsigned b = 0; b < n; b += spec_.burst) {
    const unsigned k = std::min(spec_.burst, n - b);
    const Nanos now = monotonic_now();
    if constexpr (kOutbound) {
      w.outbound(pkts + b, k, now);
    } else {
      w.inbound(pkts + b, k, now);
    }
    w.flush();
    dp.rcu.quiescent(id_);
  }
  // The last burst waits in the stage's pipeline until a poll finds the port empty, as here.
  const Nanos now = monotonic_now();
  if constexpr (kOutbound) {
    w.finish_outbound(now);
  } else {
    w.finish_inbound(now);
  }
  w.flush();
}

bool Lane::mix_flood() {
  // Initiations a second of data-path time, this lane's share, over the previous trip's time.
  flood_due_ += static_cast<double>(spec_.flood) / spec_.workers *
                static_cast<double>(last_trip_cycles_) / static_cast<double>(rte_get_tsc_hz());
  // At most 4 a data frame: a worker slower than the flood would carry an ever larger debt.
  const auto k = static_cast<unsigned>(std::min(flood_due_, 4.0 * chunk_));
  flood_due_ = std::min(flood_due_ - k, 1.0);
  flood_mbufs_.resize(k);
  rte_mbuf** flood = flood_mbufs_.data();
  if (k != 0 && rte_pktmbuf_alloc_bulk(ports_.pool, flood, k) != 0) {
    return fail("no mbufs for " + std::to_string(k) + " flood frames: the pool is empty");
  }
  for (unsigned i = 0; i < k; ++i) {
    std::memcpy(rte_pktmbuf_append(flood[i], kFloodFrameLen),
                &flood_frames_[flood_next_ * kFloodFrameLen], kFloodFrameLen);
    flood_next_ = (flood_next_ + 1) % kFloodPoolSize;
  }
  // Spread among the trip's frames: initiation i after data frame (i + 1) * chunk / (k + 1).
  inbound_.clear();
  unsigned placed = 0;
  for (unsigned j = 0; j < chunk_; ++j) {
    inbound_.push_back(sealed_[j]);
    while (placed < k && (placed + 1) * std::uint64_t{chunk_} / (k + 1) <= j) {
      inbound_.push_back(flood[placed++]);
    }
  }
  while (placed < k) inbound_.push_back(flood[placed++]);
  totals_.flood_sent += k;
  return true;
}

bool Lane::trip() {
  address_frames();
  const std::uint64_t t0 = rte_rdtsc();
  stage<true>(frames_.data(), chunk_);
  const std::uint64_t t1 = rte_rdtsc();
  unsigned got = rte_ring_sc_dequeue_burst(outer_tx_, reinterpret_cast<void**>(sealed_.data()),
                                           chunk_, nullptr);
  if (got != chunk_ || !std::equal(sealed_.begin(), sealed_.begin() + chunk_, slots_.begin())) {
    check_drops();
    return fail("outbound sent " + std::to_string(got) + " of " + std::to_string(chunk_) +
                " frames, or out of order");
  }
  const unsigned probe = static_cast<unsigned>(trips_ % chunk_);
  if (!check_outer(probe, sealed_[probe])) return false;

  rte_mbuf** in = sealed_.data();
  auto n_in = chunk_;
  if (spec_.flood > 0) {
    if (!mix_flood()) return false;
    in = inbound_.data();
    n_in = static_cast<unsigned>(inbound_.size());
  }
  const std::uint64_t t2 = rte_rdtsc();
  stage<false>(in, n_in);
  const std::uint64_t t3 = rte_rdtsc();
  got = rte_ring_sc_dequeue_burst(inner_tx_, reinterpret_cast<void**>(frames_.data()), chunk_,
                                  nullptr);
  if (got != chunk_ || !std::equal(frames_.begin(), frames_.begin() + chunk_, slots_.begin())) {
    check_drops();
    return fail("inbound delivered " + std::to_string(got) + " of " + std::to_string(chunk_) +
                " frames, or out of order");
  }
  if (!verify_inner()) return false;

  last_trip_cycles_ = (spec_.direction != Direction::inbound ? t1 - t0 : 0) +
                      (spec_.direction != Direction::outbound ? t3 - t2 : 0);
  totals_.cycles += last_trip_cycles_;
  totals_.packets += chunk_;
  totals_.bytes += chunk_bytes_;
  ++trips_;
  return true;
}

bool Lane::check_outer(unsigned j, const rte_mbuf* m) {
  // An encrypted frame as a peer would parse it, opened with libsodium rather than ipsec-mb.
  const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
  const unsigned size = size_[j];
  // The plaintext is padded as the sender's MTU says (WireGuard's rule, as the data path pads).
  const auto padded = static_cast<unsigned>(wire::padded_len(size, spec_.mtu));
  const std::uint8_t* ref = &ref_[std::size_t{j} * slot_bytes_];
  const std::uint8_t* ip = p + 14;
  // Relayed: the ChannelData header (channel, WireGuard message length) after UDP.
  const unsigned hdr = spec_.relayed ? 46 : 42;
  const std::uint8_t* wg = p + hdr;
  const IpAddr self = outer_address();
  if (spec_.relayed &&
      (load_be16(p + 42) != relay_channel(peer_of_[j]) || load_be16(p + 44) != 16 + padded + 16)) {
    return fail("outbound frame " + std::to_string(j) + " has a wrong ChannelData header");
  }
  if (m->data_len != hdr + 16 + padded + 16 || std::memcmp(p, ports_.outer_mac.b.data(), 6) != 0 ||
      load_be16(p + 12) != 0x0800 || ip[0] != 0x45 || ip[9] != 17 ||
      !wire::ipv4_header_checksum_ok(ip, 20) || std::memcmp(ip + 16, self.bytes.data(), 4) != 0 ||
      load_be16(ip + 22) != kListenPort || load_le32(wg) != 4 ||
      load_le32(wg + 4) != receiver_->index(peer_of_[j])) {
    return fail("outbound frame " + std::to_string(j) + " has wrong outer headers");
  }
  std::uint8_t* plain = plain_.data();
  if (!crypto::aead_open(plain, receiver_->key(peer_of_[j]), load_le64(wg + 8), wg + 16, padded,
                         {})) {
    return fail("outbound frame " + std::to_string(j) + " does not open with libsodium");
  }
  if (!forwarded_equal(plain, ref + 14, size, 1) ||
      std::any_of(plain + size, plain + padded, [](std::uint8_t b) { return b != 0; })) {
    return fail("outbound frame " + std::to_string(j) + " decrypts to other bytes");
  }
  ++totals_.checked_outer;
  return true;
}

bool Lane::verify_inner() {
  if (spec_.verify_every == 0) return true;
  for (unsigned j = 0; j < chunk_; j += spec_.verify_every) {
    const rte_mbuf* m = frames_[j];
    const unsigned len = 14u + size_[j];
    const auto* got = rte_pktmbuf_mtod(m, const std::uint8_t*);
    const std::uint8_t* ref = &ref_[std::size_t{j} * slot_bytes_];
    // Through both gateways: two hops.
    if (m->data_len != len || m->pkt_len != len || std::memcmp(got, ref, 14) != 0 ||
        !forwarded_equal(got + 14, ref + 14, size_[j], 2)) {
      return fail("inbound frame " + std::to_string(j) + " differs from what went out");
    }
    ++totals_.verified;
  }
  return true;
}

bool Lane::check_drops() {
  if (out_->drops().total() + in_->drops().total() == drops_before_) return true;
  return fail("the workers dropped packets:" + drop_names(*out_, "outbound:") +
              drop_names(*in_, "inbound:"));
}

}  // namespace tunbench
