#include "flood.hpp"

#include <getopt.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "meshgate/base/bytes.hpp"
#include "meshgate/base/ip.hpp"
#include "meshgate/base/time.hpp"
#include "meshgate/control/stream_server.hpp"
#include "meshgate/crypto/random.hpp"
#include "meshgate/noise/cookie.hpp"
#include "meshgate/wire/messages.hpp"

namespace tunbench {

namespace {

using meshgate::Nanos;
using meshgate::wire::MessageInitiation;

constexpr unsigned kMaxBatch = 64;  // datagrams per sendmmsg

struct FloodArgs {
  meshgate::Endpoint to;
  meshgate::Key32 target_public{};
  double rate = 0;     // initiations per second
  double seconds = 0;  // how long
};

void usage(FILE* out) {
  std::fputs(
      "usage: tunbench flood --to ADDR:PORT --key PUBLIC_KEY --rate N --seconds S\n"
      "Sends WireGuard handshake initiations (type 1, 148 bytes) by UDP to ADDR:PORT, paced at\n"
      "N per second (suffix k or M: 100k, 1M) for S seconds, in sendmmsg batches. Every other\n"
      "one carries a valid mac1 for PUBLIC_KEY (base64, the target's key) and random bytes\n"
      "elsewhere, so it passes mac1 and fails later; the rest are random after the type field.\n"
      "Prints what it sent and the rate it achieved.\n",
      out);
}

bool set_option(int c, const char* arg, FloodArgs& a) {
  switch (c) {
    case 't': {
      auto ep = meshgate::Endpoint::parse(arg);
      if (ep) a.to = *ep;
      return ep.has_value();
    }
    case 'k':
      return meshgate::from_base64(arg, a.target_public);
    case 'r':
      return parse_rate(arg, a.rate);
    case 's': {
      char* end = nullptr;
      a.seconds = std::strtod(arg, &end);
      return *end == '\0' && a.seconds > 0;
    }
    default:
      return false;
  }
}

// Returns -1 when the arguments are complete, else the exit code.
int parse_args(int argc, char** argv, FloodArgs& a) {
  static const option kOpts[] = {
      {"to", required_argument, nullptr, 't'},   {"key", required_argument, nullptr, 'k'},
      {"rate", required_argument, nullptr, 'r'}, {"seconds", required_argument, nullptr, 's'},
      {"help", no_argument, nullptr, 'h'},       {nullptr, 0, nullptr, 0}};
  int c = 0;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): tunbench's one thread
  while ((c = getopt_long(argc, argv, "h", kOpts, nullptr)) != -1) {
    if (c == 'h') {
      usage(stdout);
      return 0;
    }
    if (!set_option(c, optarg, a)) {
      if (c != '?') std::fprintf(stderr, "tunbench flood: bad value '%s'\n", optarg);
      usage(stderr);
      return 2;
    }
  }
  if (optind != argc || !a.to.known() || a.rate <= 0 || a.seconds <= 0) {
    usage(stderr);
    return 2;
  }
  return -1;
}

void sleep_until(Nanos t) {
  timespec ts{};
  ts.tv_sec = t / meshgate::kNsPerSec;
  ts.tv_nsec = t % meshgate::kNsPerSec;
  clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
}

struct Sender {
  int fd = -1;
  sockaddr_storage dst{};
  socklen_t dst_len = 0;
  std::vector<MessageInitiation>& pool;
  std::size_t next = 0;      // pool slot of the next datagram
  std::uint64_t sent = 0;    // datagrams the kernel took
  std::uint64_t valid = 0;   // of which with a valid mac1
  std::uint64_t errors = 0;  // sendmmsg failures (e.g. ENOBUFS), not retried

  // Sends up to n datagrams in one sendmmsg; returns how many were offered.
  unsigned send_batch(unsigned n) {
    mmsghdr msgs[kMaxBatch]{};
    iovec iov[kMaxBatch]{};
    for (unsigned i = 0; i < n; ++i) {
      iov[i] = {&pool[(next + i) % pool.size()], sizeof(MessageInitiation)};
      msgs[i].msg_hdr.msg_name = &dst;
      msgs[i].msg_hdr.msg_namelen = dst_len;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int r = sendmmsg(fd, msgs, n, 0);
    const unsigned took = r > 0 ? static_cast<unsigned>(r) : 0;
    for (unsigned i = 0; i < took; ++i) valid += (next + i) % pool.size() % 2;
    sent += took;
    if (took < n) ++errors;
    next = (next + n) % pool.size();  // a refused datagram counts as offered: pacing goes on
    return n;
  }
};

// Paced: at time t after the start, rate * t datagrams are due (rate * seconds in all); what
// is due goes out in batches, and the sender sleeps until the next batch (at least one a
// millisecond) is due. A generator that falls behind sends back to back; it stops at the end
// of its time all the same (the flood must not outlast the measurement it loads), so its
// achieved rate shows the shortfall.
void run(Sender& s, double rate, double seconds) {
  const auto batch =
      static_cast<unsigned>(std::clamp(rate / 1000, 1.0, static_cast<double>(kMaxBatch)));
  const Nanos start = meshgate::monotonic_now();
  const auto total = static_cast<std::uint64_t>(rate * seconds);
  std::uint64_t offered = 0;
  const auto end = start + static_cast<Nanos>(seconds * 1e9);
  for (Nanos now = start; offered < total && now < end; now = meshgate::monotonic_now()) {
    const auto due = static_cast<std::uint64_t>(rate * static_cast<double>(now - start) / 1e9);
    if (due > offered) {
      const std::uint64_t n = std::min<std::uint64_t>(std::min(due, total) - offered, batch);
      offered += s.send_batch(static_cast<unsigned>(n));
      continue;
    }
    const auto next_at =
        start + static_cast<Nanos>(static_cast<double>(offered + batch) / rate * 1e9);
    sleep_until(std::min(next_at, end));
  }
}

}  // namespace

bool parse_rate(std::string_view s, double& out) {
  double mult = 1;
  if (!s.empty() && (s.back() == 'k' || s.back() == 'K')) mult = 1e3;
  if (!s.empty() && s.back() == 'M') mult = 1e6;
  if (mult != 1) s.remove_suffix(1);
  const std::string str(s);
  char* end = nullptr;
  const double v = std::strtod(str.c_str(), &end);
  if (str.empty() || end != str.c_str() + str.size() || !(v > 0)) return false;
  out = v * mult;
  return true;
}

std::vector<MessageInitiation> flood_messages(const meshgate::Key32& target_public) {
  std::vector<MessageInitiation> pool(kFloodPoolSize);
  meshgate::noise::CookieSender macs;
  macs.init(target_public);
  for (std::size_t i = 0; i < pool.size(); ++i) {
    MessageInitiation& m = pool[i];
    meshgate::crypto::random_bytes(&m, sizeof m);
    m.header = meshgate::wire::make_header(meshgate::wire::MessageType::initiation);
    if (i % 2 == 1) macs.add_macs(m, meshgate::monotonic_now());
  }
  return pool;
}

int flood_main(int argc, char** argv) {
  FloodArgs a;
  if (const int rc = parse_args(argc, argv, a); rc >= 0) return rc;
  meshgate::crypto::crypto_init();
  std::vector<MessageInitiation> pool = flood_messages(a.target_public);
  Sender s{.pool = pool};
  s.dst_len = meshgate::control::to_sockaddr(a.to, s.dst);
  s.fd = socket(s.dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s.fd < 0) {
    std::perror("tunbench flood: socket");
    return 1;
  }
  const Nanos t0 = meshgate::monotonic_now();
  run(s, a.rate, a.seconds);
  const double took = static_cast<double>(meshgate::monotonic_now() - t0) / 1e9;
  close(s.fd);
  std::printf(
      "tunbench flood: sent %llu initiations to %s (%llu with a valid mac1, %llu random) in "
      "%.3f s: %.0f/s, asked %.0f/s; %llu send errors\n",
      static_cast<unsigned long long>(s.sent), a.to.str().c_str(),
      static_cast<unsigned long long>(s.valid), static_cast<unsigned long long>(s.sent - s.valid),
      took, static_cast<double>(s.sent) / took, a.rate, static_cast<unsigned long long>(s.errors));
  return 0;
}

}  // namespace tunbench
