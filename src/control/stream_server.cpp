#include "meshgate/control/stream_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "meshgate/base/ip.hpp"
#include "meshgate/base/secret.hpp"

namespace meshgate::control {

namespace {

constexpr std::size_t kReadChunk = 16384;

std::string errno_text(const std::string& what) {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): only the control thread formats these messages
  return what + ": " + std::strerror(errno);
}

}  // namespace

StreamServer::~StreamServer() {
  for (Client& c : clients_) close_client(c);
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void StreamServer::close_client(Client& c) {
  if (c.fd >= 0) ::close(c.fd);
  c.fd = -1;
  secure_wipe(c.out.data(), c.out.size());  // get replies carry the private key
  c.session.reset();
}

void StreamServer::accept_all(Nanos now) {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a client that went away
    if (clients_.size() >= kMaxClients && !evict_idle()) {
      ::close(fd);
      continue;
    }
    clients_.push_back(Client{fd, factory_(), {}, false, now});
  }
}

bool StreamServer::evict_idle() {
  auto oldest = clients_.end();
  for (auto it = clients_.begin(); it != clients_.end(); ++it) {
    if (!it->out.empty() || it->closing) continue;  // a reply is on its way: let it finish
    if (oldest == clients_.end() || it->last_active < oldest->last_active) oldest = it;
  }
  if (oldest == clients_.end()) return false;
  close_client(*oldest);
  clients_.erase(oldest);
  return true;
}

bool StreamServer::serve(Client& c, short revents, Nanos now) {
  if ((revents & POLLIN) != 0 && !c.closing) {
    char buf[kReadChunk];
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      c.closing = true;  // the client is gone or done sending; finish the reply first
    } else if (n > 0) {
      c.last_active = now;
      if (!c.session->on_data(std::string_view(buf, static_cast<std::size_t>(n)), c.out)) {
        c.closing = true;
      }
      secure_wipe(buf, static_cast<std::size_t>(n));
    }
  } else if ((revents & (POLLHUP | POLLERR)) != 0) {
    return false;
  }
  while (!c.out.empty()) {
    const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      return false;
    }
    secure_wipe(c.out.data(), static_cast<std::size_t>(n));
    c.out.erase(0, static_cast<std::size_t>(n));
    c.last_active = now;
  }
  if (c.closing && c.out.empty()) return false;
  return now - c.last_active < kIdleTimeout;
}

unsigned StreamServer::poll(Nanos now) {
  std::vector<pollfd> fds;
  fds.reserve(clients_.size() + 1);
  fds.push_back({listen_fd_, POLLIN, 0});
  for (const Client& c : clients_) {
    fds.push_back({c.fd, static_cast<short>(POLLIN | (c.out.empty() ? 0 : POLLOUT)), 0});
  }
  if (::poll(fds.data(), fds.size(), 0) <= 0) {
    // Nothing ready; still expire idle clients.
    for (Client& c : clients_) {
      if (now - c.last_active >= kIdleTimeout) close_client(c);
    }
    std::erase_if(clients_, [](const Client& c) { return c.fd < 0; });
    return 0;
  }
  unsigned work = 0;
  const std::size_t existing = clients_.size();
  for (std::size_t i = 0; i < existing; ++i) {
    if (fds[i + 1].revents != 0) ++work;
    if (!serve(clients_[i], fds[i + 1].revents, now)) close_client(clients_[i]);
  }
  std::erase_if(clients_, [](const Client& c) { return c.fd < 0; });
  if ((fds[0].revents & POLLIN) != 0) {
    ++work;
    accept_all(now);
  }
  return work;
}

Result<int> listen_unix(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) return Error{path + ": path too long for a socket"};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);

  const std::string dir = path.substr(0, path.find_last_of('/'));
  if (!dir.empty() && ::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Error{errno_text("cannot create " + dir)};
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{errno_text("socket")};

  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      ::close(fd);
      return Error{path + " exists and is not a socket"};
    }
    // A live gateway answers connect(); a dead one's socket refuses it and is replaced.
    const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool live =
        probe >= 0 && ::connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    if (probe >= 0) ::close(probe);
    if (live) {
      ::close(fd);
      return Error{path + " is in use by another process (is this tunnel already running?)"};
    }
    ::unlink(path.c_str());
  }
  const mode_t old = ::umask(077);  // the socket is born 0600: only root may configure
  const int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (rc != 0 || ::chmod(path.c_str(), 0600) != 0 || ::listen(fd, 16) != 0) {
    std::string e = errno_text("cannot listen on " + path);
    ::close(fd);
    return Error{e};
  }
  return fd;
}

socklen_t to_sockaddr(const Endpoint& ep, sockaddr_storage& ss) {
  ss = sockaddr_storage{};
  if (ep.addr.is_v4()) {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(ep.port);
    std::memcpy(&s4->sin_addr, ep.addr.bytes.data(), 4);
    return sizeof *s4;
  }
  auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
  s6->sin6_family = AF_INET6;
  s6->sin6_port = htons(ep.port);
  std::memcpy(&s6->sin6_addr, ep.addr.bytes.data(), 16);
  return sizeof *s6;
}

Result<int> listen_tcp(const std::string& address) {
  auto ep = Endpoint::parse(address);
  if (!ep) return Error{"'" + address + "' is not address:port or [v6]:port"};
  sockaddr_storage ss{};
  const socklen_t len = to_sockaddr(*ep, ss);
  const int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{errno_text("socket")};
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, 16) != 0) {
    std::string e = errno_text("cannot listen on " + address);
    ::close(fd);
    return Error{e};
  }
  return fd;
}

}  // namespace meshgate::control
