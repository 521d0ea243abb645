// The control thread's cost at many peers, with nothing happening: what one timer tick
// (Control::poll once kTimerPeriod has passed) takes, and what adding the peers took. A gateway
// of 100,000 idle peers should leave its control thread free for handshakes and management.
#include <benchmark/benchmark.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "meshgate/control/control.hpp"
#include "meshgate/control/gateway.hpp"
#include "meshgate/control/tunables.hpp"
#include "meshgate/crypto/random.hpp"
#include "meshgate/crypto/x25519.hpp"
#include "meshgate/dpdk/eal.hpp"

namespace meshgate::control {
namespace {

/// A control thread with `n` peers, each at an endpoint of its own with a /32, none with a
/// session: the state of a gateway right after it read a config file of `n` peers.
struct IdleGateway {
  dataplane::Dataplane dp;
  std::unique_ptr<Control> control;
  double add_seconds = 0;

  explicit IdleGateway(unsigned n) : dp(n, 1) {
    static int serial = 0;
    if (!make_control_rings(dp, "bc" + std::to_string(serial++))) std::abort();
    control = std::make_unique<Control>(dp, 1);
    control->config().set_private_key(crypto::x25519_generate());
    const auto start = std::chrono::steady_clock::now();
    for (std::uint32_t i = 0; i < n; ++i) {
      PeerSettings s;
      crypto::random_bytes(s.public_key.data(), s.public_key.size());
      s.endpoint = {IpAddr::v4(0xC6330000 + i), static_cast<std::uint16_t>(1024 + i % 60000)};
      s.allowed_ips = {Prefix{IpAddr::v4(0x0A000000 + i), 32}};
      if (!control->config().add_peer(s, 0)) std::abort();
    }
    add_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  ~IdleGateway() {
    control.reset();
    free_control_rings(dp);
  }
};

void BM_IdleTimerTick(benchmark::State& state) {
  const auto n = static_cast<unsigned>(state.range(0));
  IdleGateway g(n);
  Nanos now = seconds(1);
  const auto start = std::chrono::steady_clock::now();
  // NOLINTNEXTLINE(clang-analyzer-deadcode.DeadStores): the benchmark's loop variable, unread
  for (auto _ : state) {
    now += impl::kTimerPeriod;
    benchmark::DoNotOptimize(g.control->poll(now, {}));
  }
  const double spent =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  state.counters["peers"] = n;
  state.counters["add_s"] = g.add_seconds;
  // The percentage of one core the ticks take at their period, idle: what an operator sees.
  const double period = static_cast<double>(impl::kTimerPeriod) / 1e9;
  state.counters["core_pct"] = 100 * spent / (static_cast<double>(state.iterations()) * period);
}
BENCHMARK(BM_IdleTimerTick)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMicrosecond);

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

/// The daemon's control loop (Control::run) on an idle gateway, 100 ms of wall time an
/// iteration: the share of a core it takes waking, polling and sleeping (`core_pct`, its
/// thread's CPU time over the wall time). Where it shares a CPU, that is taken from the rest.
void BM_IdleControlLoop(benchmark::State& state) {
  IdleGateway g(static_cast<unsigned>(state.range(0)));
  double cpu = 0, wall = 0;
  // NOLINTNEXTLINE(clang-analyzer-deadcode.DeadStores): the benchmark's loop variable, unread
  for (auto _ : state) {
    std::thread stopper([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      g.dp.stop.store(true);
    });
    const auto start = std::chrono::steady_clock::now();
    const double cpu0 = thread_cpu_seconds();
    g.control->run();
    cpu += thread_cpu_seconds() - cpu0;
    wall += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    stopper.join();
    g.dp.stop.store(false);
  }
  state.counters["core_pct"] = 100 * cpu / wall;
}
BENCHMARK(BM_IdleControlLoop)
    ->Arg(1)
    ->Arg(1000)
    ->Arg(100000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(10);

}  // namespace
}  // namespace meshgate::control

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const std::vector<std::string> eal = {"--no-huge",
                                        "-m",
                                        "2048",
                                        "--no-pci",
                                        "--file-prefix",
                                        "mgbench" + std::to_string(getpid()),
                                        "-l",
                                        "0",
                                        "--log-level",
                                        "*:warning"};
  if (meshgate::Status st = meshgate::dpdk::eal_init(eal); !st) {
    std::fprintf(stderr, "%s\n", st.error().c_str());
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  meshgate::dpdk::eal_cleanup();
  return 0;
}
