// The fuzzed gateway (fuzz_gateway.hpp).
#include "fuzz_gateway.hpp"

#include <rte_mbuf.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "meshgate/base/bytes.hpp"
#include "meshgate/config/gateway_config.hpp"
#include "meshgate/config/gateway_settings.hpp"
#include "meshgate/crypto/x25519.hpp"
#include "meshgate/dpdk/eal.hpp"
#include "meshgate/dpdk/ring_port.hpp"
#include "meshgate/nat/stun.hpp"
#include "meshgate/wire/build.hpp"
#include "meshgate/wire/classify.hpp"

namespace meshgate::fuzz {

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "fuzz gateway: %s\n", what.c_str());
  std::abort();
}

template <class T>
T must(Result<T> r, const char* what) {
  if (!r) die(std::string(what) + ": " + r.error());
  return std::move(*r);
}

SecretKey fixed_key(std::uint8_t seed) {
  SecretKey k;
  for (std::size_t i = 0; i < k.size(); ++i) k.data()[i] = static_cast<std::uint8_t>(seed + i);
  return k;
}

void start_eal() {
  // Ordinary memory (no hugepages), no PCI scan, a file prefix of this process's own so fuzzers
  // run beside each other and beside the dpdk tests; logs only for errors.
  const Status st =
      dpdk::eal_init({"--no-huge", "--no-pci", "-m", "64", "--file-prefix",
                      "mgfuzz" + std::to_string(getpid()), "-l", "0", "--log-level", "*:error"});
  if (!st) die(st.error());
}

std::string config_text(std::uint16_t inner_port, std::uint16_t outer_port) {
  const auto pub = [](const SecretKey& k) { return to_base64(as_bytes(crypto::x25519_public(k))); };
  return "[Interface]\nPrivateKey = " + to_base64(FuzzGateway::gateway_key().span()) +
         "\nListenPort = 51820\n"
         "[Peer]\nPublicKey = " +
         pub(FuzzGateway::peer_key()) +
         "\nAllowedIPs = 10.2.0.0/24, fd02::/64\nEndpoint = 198.51.100.3:51820\n"
         "[Gateway]\nInnerPort = " +
         std::to_string(inner_port) + "\nOuterPort = " + std::to_string(outer_port) +
         "\nInnerAddress = 10.1.0.1/24, fd01::1/64\n"
         "OuterAddress = 198.51.100.2/24, 2001:db8::2/64\n"
         "Workers = 1\nStunServer = 198.51.100.10\nTurnServer = 198.51.100.10:3478\n"
         "TurnUser = fuzz\nTurnPassword = fuzz-password\n";
}

}  // namespace

SecretKey FuzzGateway::gateway_key() {
  return fixed_key(0x10);
}
SecretKey FuzzGateway::peer_key() {
  return fixed_key(0x60);
}

FuzzGateway& FuzzGateway::get() {
  static FuzzGateway* g = [] {
    start_eal();
    auto* made = new FuzzGateway();  // lives until exit, as the EAL's pools do
    // MESHGATE_FUZZ_STATS=1: the gateway's counters at exit (handshakes, drops by reason), to see
    // how deep a corpus gets, e.g. fuzz_handshake CORPUS -runs=1000.
    // NOLINTNEXTLINE(concurrency-mt-unsafe): read once, before the fuzzer runs any input
    if (std::getenv("MESHGATE_FUZZ_STATS") != nullptr) {
      std::atexit([] { get().gw().print_stats(stderr); });
    }
    return made;
  }();
  return *g;
}

FuzzGateway::FuzzGateway() {
  in_rx_ = must(dpdk::make_ring("fzir", 1024), "ring");
  in_tx_ = must(dpdk::make_ring("fzit", 1024), "ring");
  out_rx_ = must(dpdk::make_ring("fzor", 1024), "ring");
  out_tx_ = must(dpdk::make_ring("fzot", 1024), "ring");
  const std::uint16_t inner = must(dpdk::make_ring_port("fzin", in_rx_, 1, in_tx_, 2), "port");
  const std::uint16_t outer = must(dpdk::make_ring_port("fzout", out_rx_, 1, out_tx_, 2), "port");
  const auto cfg = must(config::parse_config(config_text(inner, outer), "fuzz.conf"), "config");
  const auto settings = must(config::merge_gateway_settings(cfg, config::EalProfile{}), "settings");
  gw_ = must(control::Gateway::create("fuzz", cfg, settings, {.max_peers = 16, .mbufs = 2047}),
             "gateway");
  // The gateway's ports are in-memory rings: give them the fixed MACs the targets address.
  gw_->dataplane().addr.outer_mac = World::kOuterMac;
  gw_->dataplane().addr.inner_mac = World::kInnerMac;
  now_ = monotonic_now();
  start_ = now_;
  wall0_ = wall_now();
  step();
}

bool FuzzGateway::inject(bool outer, const std::uint8_t* frame, std::size_t len) {
  rte_mbuf* m = rte_pktmbuf_alloc(gw_->dataplane().pool);
  if (m == nullptr) die("mbuf pool empty: the gateway leaks mbufs");
  if (len > rte_pktmbuf_tailroom(m)) {
    rte_pktmbuf_free(m);
    return false;
  }
  std::memcpy(rte_pktmbuf_append(m, static_cast<std::uint16_t>(len)), frame, len);
  if (rte_ring_enqueue(outer ? out_rx_ : in_rx_, m) != 0) {
    rte_pktmbuf_free(m);
    return false;
  }
  return true;
}

void FuzzGateway::step(Nanos dt) {
  now_ += dt;
  gw_->poll(now_, wall());
  take_sent(true);
  take_sent(false);
}

WallTime FuzzGateway::wall() const {
  const Nanos t = wall0_.sec * kNsPerSec + wall0_.nsec + (now_ - start_);
  return {t / kNsPerSec, t % kNsPerSec};
}

void FuzzGateway::take_sent(bool outer) {
  void* p;
  while (rte_ring_dequeue(outer ? out_tx_ : in_tx_, &p) == 0) {
    auto* m = static_cast<rte_mbuf*>(p);
    const auto* f = rte_pktmbuf_mtod(m, const std::uint8_t*);
    const wire::FrameInfo info = wire::classify_frame(f, m->data_len);
    if (info.ok() && (info.kind == wire::FrameKind::arp || info.kind == wire::FrameKind::ndp)) {
      answer_neighbour(outer, f, m->data_len);
    } else if (outer && info.ok() && info.l4_proto == wire::spec::kProtoUdp) {
      const std::uint8_t* u = f + info.payload_off;
      if (info.payload_len == sizeof last_initiation_ && load_le32(u) == 1) {
        std::memcpy(&last_initiation_, u, sizeof last_initiation_);
      } else if (nat::stun::demux(u, info.payload_len).kind == nat::stun::PayloadKind::stun) {
        std::memcpy(last_stun_tid_.data(), u + 8, last_stun_tid_.size());
      }
    }
    rte_pktmbuf_free(m);
  }
}

void FuzzGateway::answer_neighbour(bool outer, const std::uint8_t* f, std::size_t len) {
  const wire::FrameInfo info = wire::classify_frame(f, len);
  const wire::MacAddr& mac = outer ? World::kRouterMac : World::kHostMac;
  std::uint8_t out[128];
  std::size_t n = 0;
  if (info.kind == wire::FrameKind::arp) {
    const wire::ArpMessage a = wire::parse_arp(f, info);
    if (a.op != wire::spec::kArpOpRequest || a.tpa == a.spa) return;  // not gratuitous ARP
    n = wire::build_arp_reply(out, mac, a.tpa, a.sha, a.spa);
  } else if (auto nd = wire::parse_ndp(f, info);
             nd && nd->type == wire::spec::kNdpNeighbourSolicit && nd->lla) {
    n = wire::build_neighbour_advertisement(out, mac, nd->target, *nd->lla, nd->src, nd->target,
                                            wire::NaFlags{});
  }
  if (n != 0) inject(outer, out, n);
}

std::vector<std::uint8_t> FuzzGateway::udp_to_us(const Endpoint& from, const std::uint8_t* payload,
                                                 std::size_t len) {
  const auto t = wire::OuterTemplate::make(World::kRouterMac, World::kOuterMac, from.addr,
                                           World::outer_v4(), from.port, World::kListen);
  std::vector<std::uint8_t> f(t.len + len);
  if (len != 0) std::memcpy(f.data() + t.len, payload, len);
  t.write(f.data(), len, 1, 0);
  return f;
}

}  // namespace meshgate::fuzz

// libFuzzer calls this once before the first input: the EAL and the gateway start here, not in
// the middle of the first input's run.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)meshgate::fuzz::FuzzGateway::get();
  return 0;
}
