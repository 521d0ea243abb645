// Handshake throughput on one core (control thread): how many initiations a responder can
// consume and answer per second, and full handshake round trips.
//
// Run: build-*/bench/bench_handshake --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <vector>

#include "meshgate/crypto/x25519.hpp"
#include "meshgate/noise/cookie.hpp"
#include "meshgate/noise/handshake.hpp"

namespace meshgate::noise {
namespace {

struct Side {
  StaticIdentity id;
  Handshake hs;
  CookieSender cookie;
  CookieChecker checker;
};

struct Bench {
  Side a;
  Side b;
  Endpoint a_addr;
  WallTime wall{1'700'000'000, 0};
  Nanos now = seconds(1000);

  Bench() {
    a.id.set_private_key(crypto::x25519_generate());
    b.id.set_private_key(crypto::x25519_generate());
    SecretKey psk = crypto::x25519_generate();
    (void)handshake_configure(a.hs, a.id, b.id.public_key, &psk);
    (void)handshake_configure(b.hs, b.id, a.id.public_key, &psk);
    a.cookie.init(b.id.public_key);
    b.cookie.init(a.id.public_key);
    const std::uint8_t ip[4] = {192, 0, 2, 1};
    a_addr = Endpoint{IpAddr::v4_bytes(ip), 51820};
  }

  Handshake* lookup(const Key32& k) { return k == b.hs.remote_static ? &b.hs : nullptr; }
};

// Responder work per initiation: mac1 check, e/es/s, peer lookup, ss/{t}, replay and flood
// checks, then the response (e, ee, se, psk) with its macs. The initiations are made up front
// with increasing timestamps; the monotonic clock advances 20 ms per message so the flood
// guard lets each one through.
void BM_ConsumeInitiationCreateResponse(benchmark::State& state) {
  Bench s;
  constexpr std::size_t kCount = 2048;
  std::vector<wire::MessageInitiation> inits(kCount);
  for (std::size_t i = 0; i < kCount; ++i) {
    s.wall.sec += 1;
    (void)create_initiation(inits[i], s.a.hs, s.a.id, static_cast<std::uint32_t>(i), s.wall);
    s.a.cookie.add_macs(inits[i], s.now);
  }
  std::size_t i = 0;
  std::uint32_t index = 1;
  wire::MessageResponse resp;
  for (auto _ : state) {
    if (i == kCount) {  // start the batch over: forget the replay high-water mark
      i = 0;
      s.b.hs.latest_timestamp = {};
    }
    s.now += wire::spec::kInitiationMinInterval;
    const wire::MessageInitiation& m = inits[i++];
    if (s.b.checker.validate(m, s.b.id, s.a_addr, false, s.now) == MacVerdict::invalid_mac1) {
      state.SkipWithError("mac1");
      break;
    }
    Handshake* peer = nullptr;
    auto find = [&](const Key32& k) { return s.lookup(k); };
    if (consume_initiation(m, s.b.id, find, s.now, &peer) != HandshakeDrop::none ||
        create_response(resp, *peer, s.b.id, index++) != HandshakeDrop::none) {
      state.SkipWithError("handshake refused");
      break;
    }
    s.b.cookie.add_macs(resp, s.now);
    benchmark::DoNotOptimize(resp);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ConsumeInitiationCreateResponse)->Unit(benchmark::kMicrosecond);

// Initiator side alone: e, es, s, ss, {t} and the macs.
void BM_CreateInitiation(benchmark::State& state) {
  Bench s;
  wire::MessageInitiation m;
  std::uint32_t index = 1;
  for (auto _ : state) {
    s.wall.sec += 1;
    (void)create_initiation(m, s.a.hs, s.a.id, index++, s.wall);
    s.a.cookie.add_macs(m, s.now);
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CreateInitiation)->Unit(benchmark::kMicrosecond);

// A whole exchange on one core: both sides' work, both keypairs derived.
void BM_FullHandshake(benchmark::State& state) {
  Bench s;
  std::uint32_t index = 1;
  wire::MessageInitiation init;
  wire::MessageResponse resp;
  SessionKeys ka;
  SessionKeys kb;
  for (auto _ : state) {
    s.wall.sec += 1;
    s.now += wire::spec::kInitiationMinInterval;
    bool ok = create_initiation(init, s.a.hs, s.a.id, index++, s.wall) == HandshakeDrop::none;
    s.a.cookie.add_macs(init, s.now);
    ok = ok &&
         s.b.checker.validate(init, s.b.id, s.a_addr, false, s.now) != MacVerdict::invalid_mac1;
    Handshake* peer = nullptr;
    auto find = [&](const Key32& k) { return s.lookup(k); };
    ok = ok && consume_initiation(init, s.b.id, find, s.now, &peer) == HandshakeDrop::none;
    ok = ok && create_response(resp, *peer, s.b.id, index++) == HandshakeDrop::none;
    s.b.cookie.add_macs(resp, s.now);
    ok = ok &&
         s.a.checker.validate(resp, s.a.id, s.a_addr, false, s.now) != MacVerdict::invalid_mac1;
    ok = ok && consume_response(resp, s.a.hs, s.a.id) == HandshakeDrop::none;
    ok = ok && begin_session(s.a.hs, ka, s.now) == HandshakeDrop::none;
    ok = ok && begin_session(*peer, kb, s.now) == HandshakeDrop::none;
    if (!ok) {
      state.SkipWithError("handshake failed");
      break;
    }
    benchmark::DoNotOptimize(ka);
    benchmark::DoNotOptimize(kb);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FullHandshake)->Unit(benchmark::kMicrosecond);

// Reference point: one X25519 scalar multiplication. A responder does four per initiation
// (es, its ephemeral public key, ee, se), an initiator four per handshake (its ephemeral
// public key, es, ee, se); ss is precomputed.
void BM_X25519(benchmark::State& state) {
  const SecretKey priv = crypto::x25519_generate();
  const Key32 pub = crypto::x25519_public(crypto::x25519_generate());
  SecretKey out;
  for (auto _ : state) {
    benchmark::DoNotOptimize(crypto::x25519(out, priv, pub));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_X25519)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace meshgate::noise

BENCHMARK_MAIN();
