// Batch ChaCha20-Poly1305 throughput on one core: AeadBatch with the ipsec-mb and libsodium
// backends, and the bare ipsec-mb loop of tools/aead-limit.c as the ceiling, in one binary so
// that ratios come from one run on one core (performance.md, "How to measure").
//
//   bench_aead --benchmark_min_time=0.2 --benchmark_repetitions=3
//              --benchmark_report_aggregates_only=true
//
// Read off: AeadBatchSeal/ipsec_mb/burst:64/size:S over BareIpsecMbSeal/size:S (target >= 95%),
// and AeadBatchSeal/sodium over AeadBatchSeal/ipsec_mb at the same burst and size.
#include <benchmark/benchmark.h>
#include <intel-ipsec-mb.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "meshgate/crypto/aead.hpp"

namespace meshgate::crypto {
namespace {

constexpr std::int64_t kBursts[] = {1, 8, 32, 64, 128};
constexpr std::int64_t kSizes[] = {64, 256, 512, 1420};
constexpr std::size_t kSlot = 2048;  // buffer per packet, as in aead-limit.c

// A burst's worth of packets that stay in cache between iterations, as a worker's mbufs would.
struct Burst {
  std::vector<std::uint8_t> plain;
  std::vector<std::uint8_t> sealed;
  std::vector<AeadJob> jobs;
  std::uint8_t key[32] = {1};

  Burst(std::size_t n, std::uint32_t len) : plain(n * kSlot), sealed(n * kSlot), jobs(n) {
    for (std::size_t i = 0; i < plain.size(); ++i) plain[i] = static_cast<std::uint8_t>(i);
    for (std::size_t i = 0; i < n; ++i) {
      // One peer's keypair, consecutive counters: a burst as the outbound path builds it.
      jobs[i] = AeadJob{.key = key,
                        .counter = i,
                        .src = &plain[i * kSlot],
                        .dst = &sealed[i * kSlot],
                        .len = len,
                        .tag = &sealed[i * kSlot + len]};
    }
  }
  // Turns the jobs around so that open() reads what seal() wrote.
  void point_at_sealed(std::uint32_t len) {
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      jobs[i].src = &sealed[i * kSlot];
      jobs[i].dst = &plain[i * kSlot];
      jobs[i].tag = &sealed[i * kSlot + len];
    }
  }
};

void set_counters(benchmark::State& state, std::int64_t packets, std::int64_t size) {
  state.SetItemsProcessed(state.iterations() * packets);
  state.SetBytesProcessed(state.iterations() * packets * size);
}

void aead_batch_seal(benchmark::State& state, AeadBackend backend) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto len = static_cast<std::uint32_t>(state.range(1));
  AeadBatch batch(backend);
  Burst b(n, len);
  for (auto _ : state) {
    batch.seal(b.jobs);
    benchmark::ClobberMemory();
  }
  set_counters(state, state.range(0), state.range(1));
  state.SetLabel(std::string(batch.arch()));
}

void aead_batch_open(benchmark::State& state, AeadBackend backend) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto len = static_cast<std::uint32_t>(state.range(1));
  AeadBatch batch(backend);
  Burst b(n, len);
  batch.seal(b.jobs);
  b.point_at_sealed(len);
  std::size_t good = 0;
  for (auto _ : state) {
    good = batch.open(b.jobs);
    benchmark::DoNotOptimize(good);
  }
  if (good != n) state.SkipWithError("open failed to verify");
  set_counters(state, state.range(0), state.range(1));
}

// Scratch buffers of the bare loops: 64 packets, as in aead-limit.c.
constexpr int kBareJobs = 64;
struct BareBuffers {
  std::uint8_t buf[kBareJobs][kSlot]{};
  std::uint8_t out[kBareJobs][kSlot]{};
  std::uint8_t tag[kBareJobs][16]{};
  std::uint8_t key[32] = {1};
  std::uint8_t iv[12] = {0};
};

void fill_bare(IMB_JOB* job, BareBuffers& b, int j, std::uint64_t len) {
  job->cipher_mode = IMB_CIPHER_CHACHA20_POLY1305;
  job->hash_alg = IMB_AUTH_CHACHA20_POLY1305;
  job->cipher_direction = IMB_DIR_ENCRYPT;
  job->chain_order = IMB_ORDER_CIPHER_HASH;
  job->enc_keys = b.key;
  job->dec_keys = b.key;
  job->key_len_in_bytes = 32;
  job->src = b.buf[j];
  job->dst = b.out[j];
  job->cipher_start_src_offset_in_bytes = 0;
  job->msg_len_to_cipher_in_bytes = len;
  job->hash_start_src_offset_in_bytes = 0;
  job->msg_len_to_hash_in_bytes = len;
  job->iv = b.iv;
  job->iv_len_in_bytes = 12;
  job->u.CHACHA20_POLY1305.aad = nullptr;
  job->u.CHACHA20_POLY1305.aad_len_in_bytes = 0;
  job->auth_tag_output = b.tag[j];
  job->auth_tag_output_len_in_bytes = 16;
}

IMB_MGR* bare_manager(benchmark::State& state) {
  IMB_MGR* m = alloc_mb_mgr(0);
  if (m == nullptr) {
    state.SkipWithError("alloc_mb_mgr failed");
    return nullptr;
  }
  init_mb_mgr_auto(m, nullptr);
  return m;
}

// The loop of tools/aead-limit.c: GET_NEXT_JOB, fill, SUBMIT_JOB (checked), 64 jobs, FLUSH;
// one key and one nonce for all. The raw AEAD ceiling that performance.md measures against.
void bare_ipsec_mb_seal(benchmark::State& state) {
  const auto len = static_cast<std::uint64_t>(state.range(0));
  IMB_MGR* m = bare_manager(state);
  if (m == nullptr) return;
  auto b = std::make_unique<BareBuffers>();
  for (auto _ : state) {
    for (int j = 0; j < kBareJobs; ++j) {
      fill_bare(IMB_GET_NEXT_JOB(m), *b, j, len);
      IMB_SUBMIT_JOB(m);
    }
    while (IMB_FLUSH_JOB(m) != nullptr) {
    }
    benchmark::ClobberMemory();
  }
  free_mb_mgr(m);
  set_counters(state, kBareJobs, state.range(0));
}

// The tightest loop the library allows, as AeadBatch drives it: one GET_NEXT_BURST, fill,
// SUBMIT_BURST_NOCHECK, FLUSH_BURST for 64 jobs. AeadBatch over this is the cost of its own
// bookkeeping (nonces, the AeadJob indirection, status and ok flags).
void bare_ipsec_mb_burst_seal(benchmark::State& state) {
  const auto len = static_cast<std::uint64_t>(state.range(0));
  IMB_MGR* m = bare_manager(state);
  if (m == nullptr) return;
  auto b = std::make_unique<BareBuffers>();
  IMB_JOB* jobs[kBareJobs];
  for (auto _ : state) {
    const std::uint32_t got = IMB_GET_NEXT_BURST(m, kBareJobs, jobs);
    for (std::uint32_t j = 0; j < got; ++j) fill_bare(jobs[j], *b, static_cast<int>(j), len);
    std::uint32_t done = IMB_SUBMIT_BURST_NOCHECK(m, got, jobs);
    while (done < got) done += IMB_FLUSH_BURST(m, got - done, jobs);
    benchmark::ClobberMemory();
  }
  free_mb_mgr(m);
  set_counters(state, kBareJobs, state.range(0));
}

void register_all() {
  for (auto [name, backend] : {std::pair{"AeadBatchSeal/ipsec_mb", AeadBackend::ipsec_mb},
                               std::pair{"AeadBatchSeal/sodium", AeadBackend::sodium}}) {
    auto* b = benchmark::RegisterBenchmark(name, aead_batch_seal, backend);
    b->ArgNames({"burst", "size"});
    for (std::int64_t burst : kBursts) {
      for (std::int64_t size : kSizes) b->Args({burst, size});
    }
  }
  for (auto [name, backend] : {std::pair{"AeadBatchOpen/ipsec_mb", AeadBackend::ipsec_mb},
                               std::pair{"AeadBatchOpen/sodium", AeadBackend::sodium}}) {
    auto* b = benchmark::RegisterBenchmark(name, aead_batch_open, backend);
    b->ArgNames({"burst", "size"});
    for (std::int64_t size : kSizes) b->Args({64, size});
  }
  using Fn = void (*)(benchmark::State&);
  for (auto [name, fn] :
       {std::pair<const char*, Fn>{"BareIpsecMbSeal", bare_ipsec_mb_seal},
        std::pair<const char*, Fn>{"BareIpsecMbBurstSeal", bare_ipsec_mb_burst_seal}}) {
    auto* bare = benchmark::RegisterBenchmark(name, fn);
    bare->ArgNames({"size"});
    for (std::int64_t size : kSizes) bare->Args({size});
  }
}

}  // namespace
}  // namespace meshgate::crypto

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::printf("ipsec-mb %s\n", imb_get_version_str());
  meshgate::crypto::register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
