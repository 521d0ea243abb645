// The UAPI on its UNIX socket (protocol.md 9.1): /var/run/wireguard/<tunnel>.sock, mode 0600, in a
// 0755 directory; a stale socket is replaced, the socket is removed when the server goes.
// Served from the control thread through StreamServer, so every change is made by the single
// writer of the shared tables.
#pragma once

#include <memory>
#include <string>

#include "meshgate/base/result.hpp"
#include "meshgate/control/stream_server.hpp"
#include "meshgate/control/uapi.hpp"

namespace meshgate::control {

class Control;

inline constexpr const char* kUapiDir = "/var/run/wireguard";

class UapiServer {
 public:
  /// "<dir>/<tunnel>.sock"
  static std::string socket_path(const std::string& tunnel, const std::string& dir = kUapiDir);
  /// Listens on `path`; `dev` must outlive the server.
  static Result<std::unique_ptr<UapiServer>> open(const std::string& path, uapi::Device& dev);
  ~UapiServer();

  unsigned poll(Nanos now) { return server_->poll(now); }
  const std::string& path() const noexcept { return path_; }

 private:
  UapiServer() = default;
  std::string path_;
  std::unique_ptr<StreamServer> server_;
  unsigned long inode_ = 0;  // ours: removed on exit only if nobody replaced it
};

/// The UAPI's view of a Control (control thread only).
std::unique_ptr<uapi::Device> make_uapi_device(Control& control);

}  // namespace meshgate::control
