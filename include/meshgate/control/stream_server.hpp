// A small non-blocking stream-socket server, polled from the control thread: the UAPI on a
// UNIX socket (uapi_server.hpp) and the Prometheus endpoint on TCP (metrics.hpp) use it.
//
// poll() never blocks: one poll(2) with a zero timeout over the listening socket and the
// clients, then accepts, reads and writes what is ready. A client gets at most kMaxClients
// siblings and kIdleTimeout without traffic. A new client is always let in: when the table is
// full, the client that has been waiting on its peer longest (nothing of a reply left to send)
// is closed to make room, so idle connections cannot lock the operator's `wg` out. Each client
// has a Session made by the factory; the session turns bytes in into bytes out and says when to
// close.
//
// Thread contract: everything on one thread (the control thread).
#pragma once

#include <sys/socket.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "meshgate/base/ip.hpp"
#include "meshgate/base/result.hpp"
#include "meshgate/base/time.hpp"

namespace meshgate::control {

class StreamServer {
 public:
  class Session {
   public:
    virtual ~Session() = default;
    /// Bytes received; append the reply to `out`. Return false to close once `out` is sent.
    virtual bool on_data(std::string_view in, std::string& out) = 0;
  };
  using Factory = std::function<std::unique_ptr<Session>()>;

  static constexpr std::size_t kMaxClients = 32;
  /// `wg` sends its whole request at once; a client silent this long is gone or hostile.
  static constexpr Nanos kIdleTimeout = seconds(5);

  /// Takes a listening, non-blocking socket.
  StreamServer(int listen_fd, Factory factory)
      : listen_fd_(listen_fd), factory_(std::move(factory)) {}
  ~StreamServer();
  StreamServer(const StreamServer&) = delete;
  StreamServer& operator=(const StreamServer&) = delete;

  /// Serves what is ready; returns the number of sockets that had work.
  unsigned poll(Nanos now);

 private:
  struct Client {
    int fd = -1;
    std::unique_ptr<Session> session;
    std::string out;
    bool closing = false;  // close once `out` is sent
    Nanos last_active = 0;
  };
  void accept_all(Nanos now);
  /// Closes the longest-silent client with no reply in flight; false if every one has one.
  bool evict_idle();
  bool serve(Client& c, short revents, Nanos now);  // false: close it now
  void close_client(Client& c);

  int listen_fd_;
  Factory factory_;
  std::vector<Client> clients_;
};

/// A listening UNIX stream socket at `path` (mode 0600), after creating its directory (0755)
/// and removing a stale socket left by a dead process. Fails if a live process listens there.
Result<int> listen_unix(const std::string& path);

/// `ep` (a direct endpoint) as a socket address; returns its length.
socklen_t to_sockaddr(const Endpoint& ep, sockaddr_storage& ss);

/// A listening TCP socket on "127.0.0.1:9586" or "[::1]:9586".
Result<int> listen_tcp(const std::string& address);

}  // namespace meshgate::control
