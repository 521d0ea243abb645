// Two gateways in one process, joined back to back by net_ring ports, each with one simulated
// host on its LAN. Everything runs on the test's thread: poll() steps both gateways and both
// hosts with a simulated clock.
#pragma once

#include <gtest/gtest.h>
#include <rte_config.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "lan_host.hpp"
#include "meshgate/base/bytes.hpp"
#include "meshgate/config/gateway_config.hpp"
#include "meshgate/config/gateway_settings.hpp"
#include "meshgate/control/gateway.hpp"
#include "meshgate/crypto/x25519.hpp"
#include "meshgate/dpdk/handoff.hpp"
#include "meshgate/dpdk/ring_port.hpp"

namespace meshgate::test {

struct SiteSpec {
  std::string inner_cidr4, inner_cidr6;  // gateway LAN addresses, e.g. 10.1.0.1/24
  std::string host4, host6;              // the LAN host
  std::string outer4, outer6;            // gateway Internet addresses (cidr)
  std::string lan4, lan6;                // the site's LAN prefixes (the peer's AllowedIPs)
};

inline const SiteSpec kSiteA{"10.1.0.1/24",     "fd01::1/64",     "10.1.0.2",    "fd01::2",
                             "198.51.100.2/24", "2001:db8::2/64", "10.1.0.0/24", "fd01::/64"};
inline const SiteSpec kSiteB{"10.2.0.1/24",     "fd02::1/64",     "10.2.0.2",    "fd02::2",
                             "198.51.100.3/24", "2001:db8::3/64", "10.2.0.0/24", "fd02::/64"};

/// The frames waiting on a wire ring, as byte strings (the mbufs are freed).
inline std::vector<std::vector<std::uint8_t>> drain(rte_ring* r) {
  std::vector<std::vector<std::uint8_t>> out;
  void* v;
  while (rte_ring_dequeue(r, &v) == 0) {
    auto* m = static_cast<rte_mbuf*>(v);
    dpdk::take_over(&m, 1);
    const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
    out.emplace_back(p, p + m->data_len);
    rte_pktmbuf_free(m);
  }
  return out;
}

/// Lines appended to each gateway's config file: `peer[i]` to its [Peer], `gateway[i]` to its
/// [Gateway] and `interface[i]` to its [Interface] section.
struct RingExtra {
  std::string peer[2], gateway[2], interface[2];
  /// Gateway i's workers: its ports get one queue per worker (and a TX queue more).
  unsigned workers[2] = {1, 1};
  /// With several workers: the wire feeds RX queue 0 alone, as a NIC's hash puts all of one
  /// peer's packets on one queue (the others read empty rings); false: every RX queue reads
  /// the wire ring, so consecutive bursts go to different workers.
  bool one_outer_queue[2] = {true, true};
};

class RingGateways {
 public:
  using Extra = RingExtra;

  /// `outer_v6`: peers reach each other over IPv6 instead of IPv4. `limits`: a smaller mbuf
  /// pool lets a test binary create more gateways (pools live as long as the EAL).
  explicit RingGateways(const std::string& tag, bool outer_v6 = false,
                        const control::GatewayLimits& limits = {}, const Extra& extra = {}) {
    static int serial = 0;
    const std::string p = tag + std::to_string(serial++);
    ab_ = must(dpdk::make_ring(p + "ab", 1024));
    ba_ = must(dpdk::make_ring(p + "ba", 1024));
    for (int i = 0; i < 2; ++i) {
      const unsigned w = extra.workers[i];
      in_rx_[i] = must(dpdk::make_ring(p + "ir" + std::to_string(i), 1024));
      in_tx_[i] = must(dpdk::make_ring(p + "it" + std::to_string(i), 1024));
      inner_[i] =
          must(dpdk::make_ring_port(p + "in" + std::to_string(i), in_rx_[i], w, in_tx_[i], w + 1));
      outer_[i] = make_outer(p + "out" + std::to_string(i), i == 0 ? ba_ : ab_, i == 0 ? ab_ : ba_,
                             w, extra.one_outer_queue[i]);
    }
    key_[0] = crypto::x25519_generate();
    key_[1] = crypto::x25519_generate();
    for (int i = 0; i < 2; ++i) {
      const SiteSpec& me = i == 0 ? kSiteA : kSiteB;
      const SiteSpec& other = i == 0 ? kSiteB : kSiteA;
      std::string endpoint;
      if (i == 0) {  // A knows B's endpoint; B learns A's from the handshake
        const std::string host = (outer_v6 ? other.outer6 : other.outer4);
        const std::string addr = host.substr(0, host.find('/'));
        endpoint = "Endpoint = " + (outer_v6 ? "[" + addr + "]" : addr) + ":51820\n";
      }
      const std::string text =
          "[Interface]\nPrivateKey = " + to_base64(key_[i].span()) + "\nListenPort = 51820\n" +
          extra.interface[i] +
          "[Peer]\nPublicKey = " + to_base64(as_bytes(crypto::x25519_public(key_[1 - i]))) +
          "\nAllowedIPs = " + other.lan4 + ", " + other.lan6 + "\n" + endpoint + extra.peer[i] +
          "[Gateway]\nInnerPort = " + std::to_string(inner_[i]) +
          "\nOuterPort = " + std::to_string(outer_[i]) + "\nInnerAddress = " + me.inner_cidr4 +
          ", " + me.inner_cidr6 + "\nOuterAddress = " + me.outer4 + ", " + me.outer6 +
          "\nWorkers = " + std::to_string(extra.workers[i]) + "\n" + extra.gateway[i];
      auto cfg = config::parse_config(text, "site" + std::to_string(i) + ".conf");
      if (!cfg) ADD_FAILURE() << cfg.error();
      auto settings = config::merge_gateway_settings(*cfg, config::EalProfile{});
      if (!settings) ADD_FAILURE() << settings.error();
      // The sized default pool (about 17000 mbufs) would not let a test binary make the many
      // gateways it does in 1 GiB; a test that wants it sets Mbufs in the config.
      control::GatewayLimits l = limits;
      if (l.mbufs == 0) l.mbufs = 8191;
      auto gw = control::Gateway::create(p + "g" + std::to_string(i), *cfg, *settings, l);
      if (!gw) ADD_FAILURE() << gw.error();
      gw_[i] = std::move(*gw);
      LanHost& h = host_[i];
      h.to_gw = in_rx_[i];
      h.from_gw = in_tx_[i];
      h.pool = gw_[i]->dataplane().pool;
      h.mac = wire::MacAddr{{0x02, 0x00, 0x00, 0x00, static_cast<std::uint8_t>(i), 0x02}};
      h.ip4 = *IpAddr::parse(me.host4);
      h.ip6 = *IpAddr::parse(me.host6);
      h.gw_mac = gw_[i]->dataplane().addr.inner_mac;
    }
    now_ = monotonic_now();
    start_ = now_;
    wall0_ = wall_now();
  }

  control::Gateway& gw(int i) { return *gw_[i]; }
  /// Gateway i's private key (a twin of it, as in a high-availability pair, needs the same).
  const SecretKey& private_key(int i) const { return key_[i]; }
  LanHost& host(int i) { return host_[i]; }
  rte_ring* wire_to(int i) { return i == 1 ? ab_ : ba_; }  // ring feeding gateway i's outer RX
  Nanos now() const { return now_; }
  /// Wall-clock time that moves with the simulated clock (TAI64N timestamps in handshakes).
  WallTime wall() const {
    const Nanos t = wall0_.sec * kNsPerSec + wall0_.nsec + (now_ - start_);
    return {t / kNsPerSec, t % kNsPerSec};
  }

  /// One step of everything, advancing the clock by `dt`.
  unsigned poll(Nanos dt = millis(1)) {
    now_ += dt;
    const WallTime wall = this->wall();
    unsigned n = gw_[0]->poll(now_, wall) + gw_[1]->poll(now_, wall);
    n += host_[0].service() + host_[1].service();
    return n;
  }
  /// One step of gateway i alone (and, unless `service_host` is false, its LAN host), advancing
  /// the clock by `dt`. The other gateway does not run, so what gateway i sends stays on the wire
  /// ring (a test can capture it) and nothing the other side would send gets in the way.
  unsigned poll_only(int i, Nanos dt = millis(1), bool service_host = true) {
    now_ += dt;
    unsigned n = gw_[i]->poll(now_, wall());
    if (service_host) n += host_[i].service();
    return n;
  }
  /// Polls until `done()` or `steps` steps; returns done().
  template <class F>
  bool poll_until(F done, int steps = 2000, Nanos dt = millis(1)) {
    for (int i = 0; i < steps && !done(); ++i) poll(dt);
    return done();
  }

 private:
  template <class T>
  static T must(Result<T> r) {
    if (!r) ADD_FAILURE() << r.error();
    return r ? *r : T{};
  }
  /// A gateway's Internet port: RX from `rx`, TX to `tx`, one queue per worker.
  std::uint16_t make_outer(const std::string& name, rte_ring* rx, rte_ring* tx, unsigned workers,
                           bool one_queue) {
    if (workers == 1) return must(dpdk::make_ring_port(name, rx, 1, tx, 2));
    std::vector<rte_ring*> rxs{rx}, txs(workers + 1, tx);
    for (unsigned q = 1; q < workers; ++q) {
      rxs.push_back(one_queue ? must(dpdk::make_ring(name + "e" + std::to_string(q), 64)) : rx);
    }
    return must(dpdk::make_ring_port(name, rxs, txs));
  }

  rte_ring *ab_ = nullptr, *ba_ = nullptr;
  rte_ring* in_rx_[2] = {};
  rte_ring* in_tx_[2] = {};
  std::uint16_t inner_[2] = {}, outer_[2] = {};
  SecretKey key_[2];
  std::unique_ptr<control::Gateway> gw_[2];
  LanHost host_[2];
  Nanos now_ = 0;
  Nanos start_ = 0;
  WallTime wall0_{};
};

/// Everything a gateway's control thread logs while this lives (its EventLog, into memory).
class LogCapture {
 public:
  explicit LogCapture(control::Gateway& g) : g_(g), f_(open_memstream(&buf_, &len_)) {
    g_.control().set_log(f_);
  }
  ~LogCapture() {
    g_.control().set_log(nullptr);
    std::fclose(f_);
    std::free(buf_);  // NOLINT(cppcoreguidelines-no-malloc): open_memstream's buffer
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  /// What was logged so far.
  std::string text() {
    std::fflush(f_);
    return {buf_, len_};
  }
  bool has(const std::string& s) { return text().find(s) != std::string::npos; }

 private:
  control::Gateway& g_;
  char* buf_ = nullptr;
  std::size_t len_ = 0;
  FILE* f_;
};

}  // namespace meshgate::test
