// `meshgate --status FILE` (status.hpp). The UAPI that `wg` speaks has no keys for NAT state,
// and DPDK telemetry needs the EAL runtime directory and a JSON client; the Prometheus endpoint
// is plain HTTP on an address the config file names, so the status is read from there and
// printed as a person reads it (control::format_nat_status, control::format_peer_paths).
#include "status.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "meshgate/config/gateway_config.hpp"
#include "meshgate/control/metrics.hpp"

namespace meshgate::app {

namespace {

/// A connected TCP socket to `to`, or -1 (errno set). Reads time out after 2 s: the control
/// thread answers within a timer tick, so a silent socket means something is wrong.
int connect_to(const Endpoint& to) {
  sockaddr_storage sa{};
  socklen_t len = 0;
  if (to.addr.is_v4()) {
    auto* a = reinterpret_cast<sockaddr_in*>(&sa);
    a->sin_family = AF_INET;
    a->sin_port = htons(to.port);
    std::memcpy(&a->sin_addr, to.addr.bytes.data(), 4);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&sa);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(to.port);
    std::memcpy(&a->sin6_addr, to.addr.bytes.data(), 16);
    len = sizeof *a;
  }
  const int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&sa), len) != 0) {
    const int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

/// The body of GET /metrics from `address` ("127.0.0.1:9586").
Result<std::string> fetch_metrics(const std::string& address) {
  const auto to = Endpoint::parse(address);
  if (!to) return Error{"MetricsListen '" + address + "' is not address:port"};
  const int fd = connect_to(*to);
  if (fd < 0) {
    // --status runs on one thread: strerror's shared buffer is safe here.
    // NOLINTNEXTLINE(concurrency-mt-unsafe)
    return Error{"cannot reach the metrics endpoint " + address + ": " + std::strerror(errno) +
                 " (is the gateway running?)"};
  }
  const std::string request = "GET /metrics HTTP/1.0\r\nHost: " + address + "\r\n\r\n";
  std::string reply;
  bool ok = send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(request.size());
  char buf[4096];
  for (ssize_t n; ok && (n = recv(fd, buf, sizeof buf, 0)) != 0;) {
    ok = n > 0;
    if (ok) reply.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  const std::size_t body = reply.find("\r\n\r\n");
  const bool status_200 =
      reply.size() > 13 && reply.starts_with("HTTP/1.") && reply.compare(8, 5, " 200 ") == 0;
  if (!ok || !status_200 || body == std::string::npos) {
    return Error{
        "no metrics from " + address +
        // NOLINTNEXTLINE(concurrency-mt-unsafe): one thread, as above
        (ok ? ": " + reply.substr(0, reply.find('\r')) : ": " + std::string(std::strerror(errno)))};
  }
  return reply.substr(body + 4);
}

int fail(const std::string& msg) {
  std::fprintf(stderr, "meshgate: %s\n", msg.c_str());
  return 1;
}

}  // namespace

int print_status(const std::string& config_path) {
  auto cfg = config::load_config(config_path);
  if (!cfg) return fail(cfg.error());
  cfg->interface.private_key.clear();  // not needed here
  if (!cfg->gateway.metrics_listen) {
    return fail(config_path +
                ": no MetricsListen in [Gateway]: --status reads the gateway's metrics endpoint "
                "(the log has the same news: lines 'meshgate: reflexive address', "
                "'meshgate: NAT:' and 'meshgate: TURN relayed address')");
  }
  auto metrics = fetch_metrics(*cfg->gateway.metrics_listen);
  if (!metrics) return fail(metrics.error());
  // The gateway's NAT view, then each peer's path; a gateway with neither STUN nor TURN still
  // has paths to show.
  auto nat = control::format_nat_status(*metrics);
  const std::string peers = control::format_peer_paths(*metrics);
  if (!nat && peers.empty()) return fail(config_path + ": " + nat.error());
  if (nat) std::fputs(nat->c_str(), stdout);
  std::fputs(peers.c_str(), stdout);
  return 0;
}

}  // namespace meshgate::app
