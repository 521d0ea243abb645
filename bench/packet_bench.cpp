// Packet hot paths: outer header build from the per-peer template, classification per burst of
// 32, checksum throughput; header build and parse by burst size (1 to 256 packets, each in a
// buffer of its own as mbufs are, so big bursts leave L1); the forwarding rewrites per packet.
// Run: build/bench/bench_packet --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <array>
#include <cstring>
#include <vector>

#include "meshgate/base/bytes.hpp"
#include "meshgate/wire/build.hpp"
#include "meshgate/wire/classify.hpp"
#include "meshgate/wire/rewrite.hpp"

namespace meshgate::wire {
namespace {

constexpr int kBurst = 32;
constexpr std::size_t kPayload = 1420 + 32;  // a full tunnel-MTU packet plus WireGuard overhead
const MacAddr kMacA{{0x02, 0, 0, 0, 0, 0x0a}};
const MacAddr kMacB{{0x02, 0, 0, 0, 0, 0x0b}};

struct Burst {
  std::array<std::vector<std::uint8_t>, kBurst> pkts;
  explicit Burst(std::size_t size) {
    for (auto& p : pkts) p.assign(size, 0xA5);
  }
};

void BM_OuterV4Template(benchmark::State& st) {
  Burst b(kOuterV4Len + kPayload);
  const OuterTemplate t = OuterTemplate::make(kMacA, kMacB, *IpAddr::parse("192.0.2.1"),
                                              *IpAddr::parse("198.51.100.2"), 51820, 51820);
  std::uint16_t id = 0;
  for ([[maybe_unused]] auto _ : st) {
    for (auto& p : b.pkts) t.write(p.data(), kPayload, id++, 0);
    benchmark::ClobberMemory();
  }
  st.SetItemsProcessed(st.iterations() * kBurst);
}
BENCHMARK(BM_OuterV4Template);

void BM_OuterV6Template(benchmark::State& st) {  // includes the UDP checksum over 1452 bytes
  Burst b(kOuterV6Len + kPayload);
  const OuterTemplate t = OuterTemplate::make(kMacA, kMacB, *IpAddr::parse("2001:db8::1"),
                                              *IpAddr::parse("2001:db8::2"), 51820, 51820);
  for ([[maybe_unused]] auto _ : st) {
    for (auto& p : b.pkts) t.write(p.data(), kPayload, 0, 0);
    benchmark::ClobberMemory();
  }
  st.SetItemsProcessed(st.iterations() * kBurst);
}
BENCHMARK(BM_OuterV6Template);

void BM_ClassifyBurst(benchmark::State& st) {
  const bool v6 = st.range(0) != 0;
  Burst b((v6 ? kOuterV6Len : kOuterV4Len) + kPayload);
  const OuterTemplate t = v6 ? OuterTemplate::make(kMacA, kMacB, *IpAddr::parse("2001:db8::1"),
                                                   *IpAddr::parse("2001:db8::2"), 51820, 51820)
                             : OuterTemplate::make(kMacA, kMacB, *IpAddr::parse("192.0.2.1"),
                                                   *IpAddr::parse("198.51.100.2"), 51820, 51820);
  for (auto& p : b.pkts) t.write(p.data(), kPayload, 0, 0);
  std::array<FrameInfo, kBurst> out{};
  for ([[maybe_unused]] auto _ : st) {
    for (int i = 0; i < kBurst; ++i) {
      out[i] = classify_frame(b.pkts[i].data(), b.pkts[i].size());
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  st.SetItemsProcessed(st.iterations() * kBurst);
}
BENCHMARK(BM_ClassifyBurst)->Arg(0)->Arg(1)->ArgName("v6");

void BM_Checksum(benchmark::State& st) {
  std::vector<std::uint8_t> buf(static_cast<std::size_t>(st.range(0)) + 1, 0x5A);
  std::uint16_t acc = 0;
  for ([[maybe_unused]] auto _ : st) {
    acc ^= ones_sum(buf.data(), static_cast<std::size_t>(st.range(0)));
    benchmark::DoNotOptimize(acc);
  }
  st.SetBytesProcessed(st.iterations() * st.range(0));
}
BENCHMARK(BM_Checksum)->Arg(20)->Arg(64)->Arg(1420);

// --- by burst size ------------------------------------------------------------------------------

constexpr std::size_t kMbufRoom = 2176;  // an mbuf's buffer: 128 headroom + 2048 data

std::vector<std::vector<std::uint8_t>> burst_of(std::size_t n) {
  return std::vector<std::vector<std::uint8_t>>(n, std::vector<std::uint8_t>(kMbufRoom, 0xA5));
}

// Outbound's framing of one packet: the WireGuard transport header, then the outer headers from
// the peer's template.
void BM_FrameBurst(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  auto pkts = burst_of(n);
  const OuterTemplate t = OuterTemplate::make(kMacA, kMacB, *IpAddr::parse("192.0.2.1"),
                                              *IpAddr::parse("198.51.100.2"), 51820, 51820);
  std::uint64_t counter = 0;
  for ([[maybe_unused]] auto _ : st) {
    for (auto& p : pkts) {
      std::uint8_t* wg = p.data() + kOuterV4Len;
      store_le32(wg, 4);
      store_le32(wg + 4, 0x12345678);
      store_le64(wg + 8, counter);
      t.write(p.data(), kPayload, static_cast<std::uint16_t>(counter++), 0);
    }
    benchmark::ClobberMemory();
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * n));
}
BENCHMARK(BM_FrameBurst)->ArgName("burst")->Arg(1)->Arg(8)->Arg(32)->Arg(64)->Arg(256);

// Inbound's parse of one packet: classify (IPv4 header checksum checked), then the transport
// header's type, receiver index and counter.
void BM_ParseBurst(benchmark::State& st) {
  const auto n = static_cast<std::size_t>(st.range(0));
  auto pkts = burst_of(n);
  const OuterTemplate t = OuterTemplate::make(kMacA, kMacB, *IpAddr::parse("192.0.2.1"),
                                              *IpAddr::parse("198.51.100.2"), 51820, 51820);
  for (auto& p : pkts) {
    t.write(p.data(), kPayload, 0, 0);
    store_le32(p.data() + kOuterV4Len, 4);
  }
  std::uint64_t acc = 0;
  for ([[maybe_unused]] auto _ : st) {
    for (auto& p : pkts) {
      const FrameInfo f = classify_frame(p.data(), kOuterV4Len + kPayload);
      const std::uint8_t* wg = p.data() + f.payload_off;
      acc += load_le32(wg) + load_le32(wg + 4) + load_le64(wg + 8) + f.payload_len;
    }
    benchmark::DoNotOptimize(acc);
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * n));
}
BENCHMARK(BM_ParseBurst)->ArgName("burst")->Arg(1)->Arg(8)->Arg(32)->Arg(64)->Arg(256);

// The rewrites a forwarded packet gets (wire/rewrite.hpp) once in each direction: TTL with the
// IPv4 checksum update, ECN, and the MSS option scan of TCP. 0: IPv4 UDP, 1: IPv6 UDP, 2: an
// IPv4 TCP SYN whose MSS 1460 is clamped to 1380. The TTL (and the MSS) are put back before
// each call, one store each, so every call does the full work.
void BM_ForwardIp(benchmark::State& st) {
  const int kind = static_cast<int>(st.range(0));
  const bool v6 = kind == 1;
  Burst b((v6 ? kOuterV6Len : kOuterV4Len) + 64);
  const OuterTemplate t = v6 ? OuterTemplate::make(kMacA, kMacB, *IpAddr::parse("fd01::2"),
                                                   *IpAddr::parse("fd02::2"), 40000, 5201)
                             : OuterTemplate::make(kMacA, kMacB, *IpAddr::parse("10.1.0.2"),
                                                   *IpAddr::parse("10.2.0.2"), 40000, 5201);
  for (auto& p : b.pkts) {
    t.write(p.data(), 64, 1, kEcnEct0);
    if (kind == 2) {  // TCP, data offset 6 words, SYN, MSS option
      std::uint8_t* ip = p.data() + 14;
      ip[9] = 6;
      std::uint8_t* tcp = ip + 20;
      tcp[12] = 6 << 4;
      tcp[13] = kTcpFlagSyn;
      tcp[20] = kTcpOptMss;
      tcp[21] = 4;
    }
  }
  const std::size_t ip_len = v6 ? 40 + 8 + 64 : 20 + 8 + 64;
  const MssLimit mss = mss_limit_for_mtu(1420);
  for ([[maybe_unused]] auto _ : st) {
    for (auto& p : b.pkts) {
      std::uint8_t* ip = p.data() + 14;
      ip[v6 ? 7 : 8] = 64;
      if (kind == 2) store_be16(ip + 20 + 22, 1460);
      benchmark::DoNotOptimize(forward_ip(ip, ip_len, kEcnNotEct, mss));
    }
    benchmark::ClobberMemory();
  }
  st.SetItemsProcessed(st.iterations() * kBurst);
}
BENCHMARK(BM_ForwardIp)->ArgName("udp4_udp6_syn4")->Arg(0)->Arg(1)->Arg(2);

}  // namespace
}  // namespace meshgate::wire

BENCHMARK_MAIN();
