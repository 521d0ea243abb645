// Batch ChaCha20-Poly1305 throughput on one core: AeadBatch with the ipsec-mb and libsodium
// backends, and the bare ipsec-mb loop of tools/aead-limit.c as the ceiling, in one binary so
// that ratios come from one run on one core (performance.md, "How to measure").
//
//   bench_aead --benchmark_min_time=0.2 --benchmark_repetitions=3
//              --benchmark_report_aggregates_only=true
//
// Read off: AeadBatchSeal/ipsec_mb/burst:64/size:S over BareIpsecMbSeal/size:S (target >= 95%),
// and AeadBatchSeal/sodium over AeadBatchSeal/ipsec_mb at the same burst and size.
//
// Jumbo{Seal,Open}/chained_sgl/size:S/room:2048 over Jumbo{Seal,Open}/contiguous/size:S: what
// sealing a packet held in a chain of default 2 KiB mbufs (ipsec-mb's SGL API) costs against the
// one contiguous buffer per frame that meshgate uses (design.md, "MTU and jumbo frames";
// figures in bench/RESULTS.md). room:9216 is the SGL job over one segment, without the chain.
#include <benchmark/benchmark.h>
#include <intel-ipsec-mb.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "meshgate/base/bytes.hpp"
#include "meshgate/config/gateway_config.hpp"
#include "meshgate/crypto/aead.hpp"
#include "meshgate/wire/messages.hpp"

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
  for ([[maybe_unused]] auto _ : state) {
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
  for ([[maybe_unused]] auto _ : state) {
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

IMB_MGR* new_manager() {
  IMB_MGR* m = alloc_mb_mgr(0);
  if (m != nullptr) init_mb_mgr_auto(m, nullptr);
  return m;
}

IMB_MGR* bare_manager(benchmark::State& state) {
  IMB_MGR* m = new_manager();
  if (m == nullptr) state.SkipWithError("alloc_mb_mgr failed");
  return m;
}

// The loop of tools/aead-limit.c: GET_NEXT_JOB, fill, SUBMIT_JOB (checked), 64 jobs, FLUSH;
// one key and one nonce for all. The raw AEAD ceiling that performance.md measures against.
void bare_ipsec_mb_seal(benchmark::State& state) {
  const auto len = static_cast<std::uint64_t>(state.range(0));
  IMB_MGR* m = bare_manager(state);
  if (m == nullptr) return;
  auto b = std::make_unique<BareBuffers>();
  for ([[maybe_unused]] auto _ : state) {
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
  for ([[maybe_unused]] auto _ : state) {
    const std::uint32_t got = IMB_GET_NEXT_BURST(m, kBareJobs, jobs);
    for (std::uint32_t j = 0; j < got; ++j) fill_bare(jobs[j], *b, static_cast<int>(j), len);
    std::uint32_t done = IMB_SUBMIT_BURST_NOCHECK(m, got, jobs);
    while (done < got) done += IMB_FLUSH_BURST(m, got - done, jobs);
    benchmark::ClobberMemory();
  }
  free_mb_mgr(m);
  set_counters(state, kBareJobs, state.range(0));
}

// --- Jumbo frames: one contiguous buffer against a chain of 2 KiB mbufs ---------------------

// A packet of exactly the tunnel MTU is not padded (wire::padded_len), so a 9000-byte packet at
// MTU 9000 seals 9000 bytes, and a 1420-byte one at the default MTU 1420.
constexpr std::int64_t kJumboSizes[] = {1420, 9000};
static_assert(wire::padded_len(config::kMaxMtu, config::kMaxMtu) == 9000);

// Data room per mbuf: DPDK's default (a chain of 5 for 9000 B), and dpdk::data_room_for(9000)
// less its headroom (one segment), which separates the cost of chaining from that of the SGL job.
constexpr std::int64_t kSegRoom = 2048;  // RTE_MBUF_DEFAULT_DATAROOM
constexpr std::int64_t kJumboRoom = 9216;
constexpr std::size_t kMbufOverhead = 256;  // struct rte_mbuf (128) and the headroom (128)
constexpr std::size_t kEthHeader = 14;      // the frame's Ethernet header, before the payload
constexpr std::uint64_t kJumboCounter = 7;  // any counter but 0, so the nonce is not all zeros

// One packet's payload held both ways. Contiguous: after the Ethernet header in one buffer, tag
// behind it, as in meshgate's mbufs. Chained: in consecutive mbufs of one pool, the first
// segment's data room shared with the Ethernet header, the tag kept aside (where a chain would
// put it does not change the AEAD's cost). Sealing reads `*_in` and writes `*_out`; opening
// reads `*_out` and writes `*_in`, so the ciphertext survives every iteration.
struct JumboPacket {
  std::uint32_t len;
  std::uint8_t key[32] = {1, 2, 3};
  std::uint8_t iv[12] = {};
  std::vector<std::uint8_t> flat_in, flat_out;
  std::vector<std::uint8_t> pool_in, pool_out;
  std::vector<IMB_SGL_IOV> seal_segs, open_segs;
  std::uint8_t chain_tag[16] = {};     // written by a chained seal, read by a chained open
  std::uint8_t computed_tag[16] = {};  // what a chained open computes
  chacha20_poly1305_context_data ctx{};

  JumboPacket(std::uint32_t n, std::size_t room)
      : len(n), flat_in(kEthHeader + n + kAeadTagLen), flat_out(flat_in.size()) {
    const std::size_t mbufs = (kEthHeader + n + room - 1) / room;
    pool_in.resize(mbufs * (kMbufOverhead + room));
    pool_out.resize(pool_in.size());
    for (std::size_t off = kEthHeader, done = 0, i = 0; done < n; ++i, off = 0) {
      const std::size_t at = i * (kMbufOverhead + room) + kMbufOverhead + off;
      const std::size_t seg = std::min(room - off, n - done);
      seal_segs.push_back({&pool_in[at], &pool_out[at], seg});
      open_segs.push_back({&pool_out[at], &pool_in[at], seg});
      for (std::size_t k = 0; k < seg; ++k, ++done) {
        pool_in[at + k] = flat_in[kEthHeader + done] = static_cast<std::uint8_t>(done * 7);
      }
    }
    store_le32(iv, 0);  // WireGuard's nonce: 4 zero bytes || LE64(counter)
    store_le64(iv + 4, kJumboCounter);
  }
  AeadJob flat_job(bool seal) {
    std::uint8_t* plain = &flat_in[kEthHeader];
    std::uint8_t* sealed = &flat_out[kEthHeader];
    return AeadJob{.key = key,
                   .counter = kJumboCounter,
                   .src = seal ? plain : sealed,
                   .dst = seal ? sealed : plain,
                   .len = len,
                   .tag = sealed + len};
  }
};

// Seals or opens the chain with one SGL job that covers every segment (IMB_SGL_ALL), done when
// the submit or, at the latest, the flush returns. True when the job completed and, for an open,
// the tag matched.
bool run_chain(IMB_MGR* m, JumboPacket& p, bool seal) {
  IMB_JOB* j = IMB_GET_NEXT_JOB(m);
  const auto& segs = seal ? p.seal_segs : p.open_segs;
  j->cipher_mode = IMB_CIPHER_CHACHA20_POLY1305_SGL;
  j->hash_alg = IMB_AUTH_CHACHA20_POLY1305_SGL;
  j->cipher_direction = seal ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
  j->chain_order = seal ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
  j->sgl_state = IMB_SGL_ALL;
  j->enc_keys = p.key;
  j->dec_keys = p.key;
  j->key_len_in_bytes = kAeadKeyLen;
  j->sgl_io_segs = segs.data();
  j->num_sgl_io_segs = segs.size();
  j->cipher_start_src_offset_in_bytes = 0;
  j->msg_len_to_cipher_in_bytes = p.len;
  j->hash_start_src_offset_in_bytes = 0;
  j->msg_len_to_hash_in_bytes = p.len;
  j->iv = p.iv;
  j->iv_len_in_bytes = sizeof p.iv;
  j->u.CHACHA20_POLY1305.aad = nullptr;
  j->u.CHACHA20_POLY1305.aad_len_in_bytes = 0;
  j->u.CHACHA20_POLY1305.ctx = &p.ctx;
  j->auth_tag_output = seal ? p.chain_tag : p.computed_tag;
  j->auth_tag_output_len_in_bytes = kAeadTagLen;
  IMB_JOB* done = IMB_SUBMIT_JOB_NOCHECK(m);
  if (done == nullptr) done = IMB_FLUSH_JOB(m);
  // A plain memcmp, unlike the data path's constant-time compare: the benchmark's key is public,
  // and the compare is not what is measured.
  return done != nullptr && done->status == IMB_STATUS_COMPLETED &&
         (seal || std::memcmp(p.computed_tag, p.chain_tag, kAeadTagLen) == 0);
}

// The payload bytes of the chain's segments in order: their outputs (true) or inputs (false).
std::vector<std::uint8_t> gather(const std::vector<IMB_SGL_IOV>& segs, bool outputs) {
  std::vector<std::uint8_t> bytes;
  for (const IMB_SGL_IOV& s : segs) {
    const auto* b = static_cast<const std::uint8_t*>(outputs ? s.out : s.in);
    bytes.insert(bytes.end(), b, b + s.len);
  }
  return bytes;
}

[[noreturn]] void fail_check(std::uint32_t len, std::size_t room, const char* what) {
  std::fprintf(stderr, "aead_bench: chained SGL check (%u bytes, %zu-byte mbufs) failed: %s\n", len,
               room, what);
  // NOLINTNEXTLINE(concurrency-mt-unsafe): at start-up, before the benchmarks start any thread
  std::exit(1);
}

// Before anything is timed: the chained SGL seal must give exactly the ciphertext and tag of
// AeadBatch on the contiguous copy and of libsodium, and its open must restore the plaintext
// and reject a wrong tag. A benchmark of wrong output would be worthless.
void check_chain(std::uint32_t len, std::size_t room) {
  JumboPacket p(len, room);
  const std::vector<std::uint8_t> plain = gather(p.seal_segs, false);
  std::vector<std::uint8_t> sodium(len + kAeadTagLen);
  aead_seal(sodium.data(), SecretKey::from(std::span<const std::uint8_t, 32>(p.key)), kJumboCounter,
            plain.data(), len, {});
  AeadJob flat = p.flat_job(true);
  AeadBatch(AeadBackend::ipsec_mb).seal({&flat, 1});
  std::unique_ptr<IMB_MGR, void (*)(IMB_MGR*)> m(new_manager(), free_mb_mgr);
  if (!m || !run_chain(m.get(), p, true)) fail_check(len, room, "seal job did not complete");
  std::vector<std::uint8_t> chained = gather(p.seal_segs, true);
  chained.insert(chained.end(), p.chain_tag, p.chain_tag + kAeadTagLen);
  if (chained != sodium) fail_check(len, room, "ciphertext or tag differs from libsodium");
  if (!std::equal(sodium.begin(), sodium.end(), flat.dst)) {
    fail_check(len, room, "contiguous AeadBatch output differs from libsodium");
  }
  std::fill(p.pool_in.begin(), p.pool_in.end(), 0);
  if (!run_chain(m.get(), p, false)) fail_check(len, room, "open rejected the chain's own output");
  if (gather(p.open_segs, true) != plain)
    fail_check(len, room, "open did not restore the plaintext");
  p.chain_tag[0] ^= 1;
  if (run_chain(m.get(), p, false)) fail_check(len, room, "open accepted a wrong tag");
}

// One packet per call through AeadBatch, as the data path seals and opens a frame.
void jumbo_contiguous(benchmark::State& state, bool seal) {
  JumboPacket p(static_cast<std::uint32_t>(state.range(0)), kSegRoom);
  AeadBatch batch(AeadBackend::ipsec_mb);
  AeadJob sealing = p.flat_job(true);
  AeadJob opening = p.flat_job(false);
  batch.seal({&sealing, 1});
  std::size_t good = 1;
  for ([[maybe_unused]] auto _ : state) {
    if (seal) {
      batch.seal({&sealing, 1});
    } else {
      good = batch.open({&opening, 1});
    }
    benchmark::ClobberMemory();
  }
  if (good != 1) state.SkipWithError("open failed to verify");
  set_counters(state, 1, state.range(0));
}

// One packet per call as one SGL job over its chain of mbufs.
void jumbo_chained(benchmark::State& state, bool seal) {
  JumboPacket p(static_cast<std::uint32_t>(state.range(0)),
                static_cast<std::size_t>(state.range(1)));
  std::unique_ptr<IMB_MGR, void (*)(IMB_MGR*)> m(bare_manager(state), free_mb_mgr);
  if (!m) return;
  bool ok = run_chain(m.get(), p, true);
  for ([[maybe_unused]] auto _ : state) {
    ok = run_chain(m.get(), p, seal);
    benchmark::ClobberMemory();
  }
  if (!ok) state.SkipWithError("chained job failed");
  set_counters(state, 1, state.range(0));
  state.SetLabel(std::to_string(p.seal_segs.size()) + " segments");
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
  for (auto [op, seal] : {std::pair{"Seal", true}, std::pair{"Open", false}}) {
    auto* flat = benchmark::RegisterBenchmark((std::string("Jumbo") + op + "/contiguous").c_str(),
                                              jumbo_contiguous, seal);
    flat->ArgNames({"size"});
    for (std::int64_t size : kJumboSizes) flat->Args({size});
    auto* chained = benchmark::RegisterBenchmark(
        (std::string("Jumbo") + op + "/chained_sgl").c_str(), jumbo_chained, seal);
    chained->ArgNames({"size", "room"});
    for (std::int64_t size : kJumboSizes) chained->Args({size, kSegRoom});
    chained->Args({kJumboSizes[1], kJumboRoom});
  }
}

}  // namespace
}  // namespace meshgate::crypto

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::printf("ipsec-mb %s\n", imb_get_version_str());
  using meshgate::crypto::check_chain;
  for (std::uint32_t size : {1420U, 9000U}) check_chain(size, meshgate::crypto::kSegRoom);
  check_chain(9000, meshgate::crypto::kJumboRoom);
  meshgate::crypto::register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
