// `meshgate --set-role` (role.hpp): a UAPI client for one set request.
#include "role.hpp"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "meshgate/config/gateway_config.hpp"
#include "meshgate/control/uapi.hpp"
#include "meshgate/control/uapi_server.hpp"

namespace meshgate::app {

namespace {

/// A connected stream socket to the UNIX socket at `path`, or -1 (errno set). Reads time out
/// after 2 s: the control thread answers within a timer tick.
int connect_unix(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    const int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

/// The request, then the reply up to its blank line ("errno=N\n\n"); empty on a socket error.
std::string request_reply(int fd, const std::string& request) {
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) return {};
  std::string reply;
  char buf[256];
  while (reply.find("\n\n") == std::string::npos) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return {};
    reply.append(buf, static_cast<std::size_t>(n));
  }
  return reply;
}

}  // namespace

int set_role(const std::string& tunnel, const std::string& role) {
  if (!config::parse_role(role)) {
    std::fprintf(stderr, "meshgate: --set-role '%s': expected active or standby\n", role.c_str());
    return 2;
  }
  const std::string path = control::UapiServer::socket_path(tunnel);
  const int fd = connect_unix(path);
  if (fd < 0) {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): --set-role runs on one thread
    std::fprintf(stderr, "meshgate: %s: %s\n", path.c_str(), std::strerror(errno));
    return 1;
  }
  const std::string reply =
      request_reply(fd, "set=1\n" + std::string(control::uapi::kRoleKey) + "=" + role + "\n\n");
  close(fd);
  if (reply != "errno=0\n\n") {
    std::fprintf(stderr, "meshgate: %s: role %s refused (reply '%s')\n", path.c_str(), role.c_str(),
                 reply.empty() ? "none" : reply.c_str());
    return 1;
  }
  std::printf("%s: %s\n", tunnel.c_str(), role.c_str());
  return 0;
}

}  // namespace meshgate::app
