// LAN neighbour table (see the header for the state machine, the timers and the thread contract).
#include "meshgate/dataplane/neighbour.hpp"

#include <bit>
#include <string>

#include "meshgate/crypto/random.hpp"

namespace meshgate::dataplane {
namespace {

// Slot sequence word: kind in bits 0-1, family in bits 2-3, a generation counter above bit 8 that
// changes on every transition, so a reader can tell that a slot changed while it read the key.
constexpr std::uint64_t kEmpty = 0;
constexpr std::uint64_t kTombstone = 1;
constexpr std::uint64_t kLive = 2;
constexpr std::uint64_t kKindMask = 3;
constexpr std::uint64_t kGenStep = 1ull << 8;
constexpr std::uint64_t kMacValid = 1ull << 48;
constexpr std::size_t npos = ~std::size_t{0};

std::uint64_t family_bits(const IpAddr& ip) noexcept {
  return ip.is_v4() ? 1u << 2 : 2u << 2;
}

struct Key {
  std::uint64_t k0, k1, fam;
};

Key key_of(const IpAddr& ip) noexcept {
  Key k{0, 0, family_bits(ip)};
  if (ip.is_v4()) {
    k.k0 = load_le32(ip.bytes.data());
  } else {
    k.k0 = load_le64(ip.bytes.data());
    k.k1 = load_le64(ip.bytes.data() + 8);
  }
  return k;
}

std::uint64_t next_seq(std::uint64_t old_seq, std::uint64_t kind, std::uint64_t fam) noexcept {
  return ((old_seq & ~(kGenStep - 1)) + kGenStep) | fam | kind;
}

}  // namespace

// Shared with workers: written by the control thread only (except `used`).
struct NeighbourTable::Slot {
  std::atomic<std::uint64_t> seq{kEmpty};
  std::atomic<std::uint64_t> key0{0};
  std::atomic<std::uint64_t> key1{0};
  std::atomic<std::uint64_t> mac{0};          // MAC in the low 48 bits, kMacValid when usable
  mutable std::atomic<std::uint8_t> used{0};  // set by workers' lookups, cleared by tick()
};

// Control-thread bookkeeping, parallel to the slots.
struct NeighbourTable::Meta {
  IpAddr ip;
  wire::MacAddr mac;
  NeighState state = NeighState::incomplete;
  std::uint8_t probes = 0;
  Nanos since = 0;  // time of the last state change or probe
  Nanos last_used = 0;
  std::int8_t unasked_on = -1;  // the segment learn() created it on, until want(); -1: asked
};

NeighbourTable::NeighbourTable(const NeighbourConfig& cfg) : cfg_(cfg) {
  while (cfg_.hash_seed == 0) crypto::random_bytes(&cfg_.hash_seed, sizeof cfg_.hash_seed);
  const std::size_t cap = std::bit_ceil(cfg.capacity < 16 ? std::size_t{16} : cfg.capacity);
  mask_ = cap - 1;
  max_live_ = cap / 4 * 3;
  slots_ = std::make_unique<Slot[]>(cap);
  meta_ = std::make_unique<Meta[]>(cap);
}

NeighbourTable::~NeighbourTable() = default;

std::size_t NeighbourTable::home(const IpAddr& ip) const noexcept {
  const Key k = key_of(ip);
  std::uint64_t h = (k.k0 ^ cfg_.hash_seed) * 0xFF51AFD7ED558CCDull;
  h ^= (k.k1 + k.fam) * 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 33;
  h *= 0x9E3779B97F4A7C15ull;
  h ^= h >> 29;
  return static_cast<std::size_t>(h) & mask_;
}

std::optional<wire::MacAddr> NeighbourTable::lookup(const IpAddr& ip) const noexcept {
  if (!ip.is_v4() && !ip.is_v6()) return std::nullopt;
  const Key k = key_of(ip);
  std::size_t i = home(ip);
  for (std::size_t n = 0; n <= mask_; ++n, i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    const std::uint64_t q = s.seq.load(std::memory_order_acquire);
    const std::uint64_t kind = q & kKindMask;
    if (kind == kEmpty) return std::nullopt;
    if (kind != kLive || (q & (kKindMask << 2)) != k.fam) continue;
    if (s.key0.load(std::memory_order_relaxed) != k.k0 ||
        s.key1.load(std::memory_order_relaxed) != k.k1) {
      continue;
    }
    const std::uint64_t m = s.mac.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    // The slot was reused while we read it: the key we matched may be torn. A miss is always
    // safe (the packet goes the slow way), so no retry loop.
    if (s.seq.load(std::memory_order_relaxed) != q) return std::nullopt;
    if ((m & kMacValid) == 0) return std::nullopt;
    if (s.used.load(std::memory_order_relaxed) == 0) s.used.store(1, std::memory_order_relaxed);
    return wire::MacAddr::from_u64(m);
  }
  return std::nullopt;
}

std::size_t NeighbourTable::find(const IpAddr& ip) const noexcept {
  if (!ip.is_v4() && !ip.is_v6()) return npos;
  const Key k = key_of(ip);
  std::size_t i = home(ip);
  for (std::size_t n = 0; n <= mask_; ++n, i = (i + 1) & mask_) {
    const std::uint64_t q = slots_[i].seq.load(std::memory_order_relaxed);
    if ((q & kKindMask) == kEmpty) return npos;
    if ((q & kKindMask) == kLive && meta_[i].ip == ip && (q & (kKindMask << 2)) == k.fam) return i;
  }
  return npos;
}

Result<std::size_t> NeighbourTable::insert(const IpAddr& ip, Nanos now) {
  if (!ip.is_v4() && !ip.is_v6()) return Error{"neighbour address has no family"};
  if (live_ >= max_live_) {
    return Error{"neighbour table full: " + std::to_string(live_) + " entries (capacity " +
                 std::to_string(capacity()) + ", at most 3/4 used); not adding " + ip.str()};
  }
  std::size_t i = home(ip);
  std::size_t target = npos;
  for (std::size_t n = 0; n <= mask_; ++n, i = (i + 1) & mask_) {
    const std::uint64_t kind = slots_[i].seq.load(std::memory_order_relaxed) & kKindMask;
    if (kind == kLive) continue;
    if (target == npos) target = i;  // first tombstone, or the empty slot ending the chain
    if (kind == kEmpty) break;
  }
  if (target == npos) return Error{"neighbour table has no free slot for " + ip.str()};
  Slot& s = slots_[target];
  const Key k = key_of(ip);
  // Readers that matched this slot's previous key re-check `seq` after reading the key; the
  // fence orders the earlier tombstone store before the key stores below (seqlock protocol).
  std::atomic_thread_fence(std::memory_order_release);
  s.key0.store(k.k0, std::memory_order_relaxed);
  s.key1.store(k.k1, std::memory_order_relaxed);
  s.mac.store(0, std::memory_order_relaxed);
  s.used.store(0, std::memory_order_relaxed);
  s.seq.store(next_seq(s.seq.load(std::memory_order_relaxed), kLive, k.fam),
              std::memory_order_release);
  meta_[target] = Meta{ip, wire::MacAddr{}, NeighState::incomplete, 0, now, now};
  ++live_;
  return target;
}

void NeighbourTable::set_mac(std::size_t i, const wire::MacAddr& mac, bool valid) noexcept {
  meta_[i].mac = mac;
  slots_[i].mac.store(mac.to_u64() | (valid ? kMacValid : 0), std::memory_order_release);
}

void NeighbourTable::remove(std::size_t i) noexcept {
  if (meta_[i].unasked_on >= 0) --unasked_[meta_[i].unasked_on];
  Slot& s = slots_[i];
  s.mac.store(0, std::memory_order_relaxed);
  s.seq.store(next_seq(s.seq.load(std::memory_order_relaxed), kTombstone, 0),
              std::memory_order_release);
  --live_;
  // A tombstone that ends a probe chain can become empty again: no key lies beyond it. Walk back
  // over the tombstones that thereby end the chain too, so churn does not fill the table.
  if ((slots_[(i + 1) & mask_].seq.load(std::memory_order_relaxed) & kKindMask) != kEmpty) return;
  for (std::size_t n = 0; n <= mask_; ++n, i = (i - 1) & mask_) {
    Slot& t = slots_[i];
    const std::uint64_t q = t.seq.load(std::memory_order_relaxed);
    if ((q & kKindMask) != kTombstone) break;
    t.seq.store(next_seq(q, kEmpty, 0), std::memory_order_release);
  }
}

Status NeighbourTable::confirm(const IpAddr& ip, const wire::MacAddr& mac, Nanos now) {
  std::size_t i = find(ip);
  if (i == npos) {
    auto r = insert(ip, now);
    if (!r) return Error{r.error()};
    i = *r;
  }
  Meta& m = meta_[i];
  m.state = NeighState::reachable;
  m.since = now;
  m.probes = 0;
  set_mac(i, mac, true);
  return ok_status();
}

Status NeighbourTable::learn(const IpAddr& ip, const wire::MacAddr& mac, Nanos now,
                             unsigned segment) {
  std::size_t i = find(ip);
  if (i == npos) {
    if (segment >= kNeighbourSegments || unasked_[segment] >= max_live_ / 4) {
      return Error{
          "neighbour table: no room for more unasked entries on this segment; not "
          "adding " +
          ip.str()};
    }
    auto r = insert(ip, now);
    if (!r) return Error{r.error()};
    i = *r;
    meta_[i].unasked_on = static_cast<std::int8_t>(segment);
    ++unasked_[segment];
  } else {
    const Meta& m = meta_[i];
    const bool usable = m.state == NeighState::reachable || m.state == NeighState::stale ||
                        m.state == NeighState::probe;
    if (usable && m.mac == mac) return ok_status();  // nothing new
  }
  Meta& m = meta_[i];
  m.state = NeighState::stale;
  m.since = now;
  m.probes = 0;
  set_mac(i, mac, true);
  return ok_status();
}

Result<bool> NeighbourTable::want(const IpAddr& ip, Nanos now) {
  const std::size_t i = find(ip);
  if (i == npos) {
    auto r = insert(ip, now);
    if (!r) return Error{r.error()};
    meta_[*r].probes = 1;  // the caller sends the first probe now
    return true;
  }
  meta_[i].last_used = now;
  if (meta_[i].unasked_on >= 0) {  // needed now: it counts as asked for
    --unasked_[meta_[i].unasked_on];
    meta_[i].unasked_on = -1;
  }
  if (meta_[i].state == NeighState::stale) slots_[i].used.store(1, std::memory_order_relaxed);
  return false;
}

bool NeighbourTable::erase(const IpAddr& ip) {
  const std::size_t i = find(ip);
  if (i == npos) return false;
  remove(i);
  return true;
}

std::optional<NeighState> NeighbourTable::state(const IpAddr& ip) const {
  const std::size_t i = find(ip);
  if (i == npos) return std::nullopt;
  return meta_[i].state;
}

void NeighbourTable::tick_slot(std::size_t i, Nanos now, std::vector<NeighbourProbe>& out) {
  Meta& m = meta_[i];
  const bool used = slots_[i].used.exchange(0, std::memory_order_relaxed) != 0;
  if (used) m.last_used = now;
  const bool retrans_due = now - m.since >= cfg_.retrans_time;
  switch (m.state) {
    case NeighState::incomplete:
    case NeighState::probe:
      if (!retrans_due) return;
      if (m.probes < cfg_.max_probes) {
        ++m.probes;
        m.since = now;
        out.push_back({m.ip, m.state == NeighState::probe ? std::optional(m.mac) : std::nullopt});
      } else {
        m.state = NeighState::failed;
        m.since = now;
        set_mac(i, m.mac, false);
      }
      return;
    case NeighState::reachable:
      if (now - m.since >= cfg_.reachable_time) {
        m.state = NeighState::stale;
        m.since = now;
      }
      return;
    case NeighState::stale:
      if (used) {  // in use: re-validate with a unicast probe (Linux PROBE)
        m.state = NeighState::probe;
        m.probes = 1;
        m.since = now;
        out.push_back({m.ip, m.mac});
      } else if (now - m.last_used >= cfg_.gc_unused) {
        remove(i);
      }
      return;
    case NeighState::failed:
      if (now - m.since >= cfg_.failed_hold) remove(i);
      return;
  }
}

std::vector<NeighbourProbe> NeighbourTable::tick(Nanos now) {
  std::vector<NeighbourProbe> out;
  for (std::size_t i = 0; i <= mask_; ++i) {
    if ((slots_[i].seq.load(std::memory_order_relaxed) & kKindMask) == kLive)
      tick_slot(i, now, out);
  }
  return out;
}

}  // namespace meshgate::dataplane
