// The UAPI socket and the adapter that lets it drive the control thread.
#include "meshgate/control/uapi_server.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include "meshgate/control/control.hpp"

namespace meshgate::control {

namespace {

class UapiSession : public StreamServer::Session {
 public:
  explicit UapiSession(uapi::Device& dev) : conn_(dev) {}
  ~UapiSession() override { conn_.close(); }
  bool on_data(std::string_view in, std::string& out) override { return conn_.feed(in, out); }

 private:
  uapi::Connection conn_;
};

/// uapi::Device over Control: every call runs on the control thread (StreamServer::poll is
/// called from Control::poll), so it may change the tables directly, on poll()'s clock.
class ControlDevice : public uapi::Device {
 public:
  explicit ControlDevice(Control& c) : c_(c), cfg_(c.config()), peers_(c.peers()) {}

  uapi::DeviceInfo get() override {
    uapi::DeviceInfo info;
    const noise::StaticIdentity& id = c_.sessions().identity();
    if (id.has_private_key) info.private_key = id.private_key;
    info.listen_port = cfg_.listen_port();
    info.fwmark = cfg_.fwmark();
    for (PeerId p : peers_.ids()) {
      const PeerState& ps = *peers_.find(p);
      const PeerSettings& s = ps.settings;
      const dataplane::PeerTotals pr = c_.dataplane().peer_totals(p);
      uapi::PeerInfo& out = info.peers.emplace_back();
      out.public_key = s.public_key;
      if (s.preshared_key) out.preshared_key = *s.preshared_key;
      out.endpoint = s.endpoint;
      out.last_handshake = ps.timers.last_handshake();
      out.rx_bytes = pr.rx_bytes;
      out.tx_bytes = pr.tx_bytes;
      out.persistent_keepalive = s.persistent_keepalive;
      out.allowed_ips = cfg_.allowed_ips(p);
    }
    return info;
  }
  Key32 public_key() override {
    const noise::StaticIdentity& id = c_.sessions().identity();
    return id.has_private_key ? id.public_key : Key32{};
  }

  int set_private_key(const SecretKey& key) override {
    // The same key again (every `wg syncconf` sends it) must not end the sessions.
    noise::StaticIdentity next;
    next.set_private_key(key);
    const noise::StaticIdentity& cur = c_.sessions().identity();
    if (next.has_private_key == cur.has_private_key && next.public_key == cur.public_key) return 0;
    cfg_.set_private_key(key);
    return 0;
  }
  int set_listen_port(std::uint16_t port) override {
    cfg_.set_listen_port(port, c_.now());
    return 0;
  }
  int set_fwmark(std::uint32_t mark) override {
    cfg_.set_fwmark(mark);
    return 0;
  }
  int remove_all_peers() override {
    cfg_.remove_all_peers();
    return 0;
  }
  int set_role(config::Role role) override {
    c_.set_role(role, c_.now(), wall_now());
    return 0;
  }

  bool has_peer(const Key32& k) override { return peers_.find(k).has_value(); }
  int add_peer(const Key32& k) override {
    if (peers_.ids().size() >= c_.dataplane().peers.capacity()) return uapi::kEnomem;
    PeerSettings s;
    s.public_key = k;
    return cfg_.add_peer(s, c_.now()) ? 0 : uapi::kEinval;  // e.g. a small-order key
  }
  int remove_peer(const Key32& k) override {
    if (auto id = peers_.find(k)) cfg_.remove_peer(*id);
    return 0;
  }
  int set_preshared_key(const Key32& k, const SecretKey& psk) override {
    if (auto id = peers_.find(k)) cfg_.set_preshared_key(*id, psk);
    return 0;
  }
  int set_endpoint(const Key32& k, const Endpoint& ep) override {
    if (auto id = peers_.find(k)) cfg_.set_endpoint(*id, ep, c_.now());
    return 0;
  }
  int set_persistent_keepalive(const Key32& k, std::uint16_t s) override {
    if (auto id = peers_.find(k)) cfg_.set_persistent_keepalive(*id, s, c_.now());
    return 0;
  }
  int replace_allowed_ips(const Key32& k, const std::vector<Prefix>& list) override {
    auto id = peers_.find(k);
    if (!id) return 0;
    return cfg_.replace_allowed_ips(*id, list) ? 0 : uapi::kEinval;
  }
  int add_allowed_ip(const Key32& k, const Prefix& p) override {
    auto id = peers_.find(k);
    if (!id) return 0;
    return cfg_.add_allowed_ip(*id, p) ? 0 : uapi::kEinval;
  }
  int remove_allowed_ip(const Key32& k, const Prefix& p) override {
    if (auto id = peers_.find(k)) cfg_.remove_allowed_ip(*id, p);  // not ours: nothing to do
    return 0;
  }

 private:
  Control& c_;
  PeerConfig& cfg_;
  const Peers& peers_;
};

}  // namespace

std::string UapiServer::socket_path(const std::string& tunnel, const std::string& dir) {
  return dir + "/" + tunnel + ".sock";
}

Result<std::unique_ptr<UapiServer>> UapiServer::open(const std::string& path, uapi::Device& dev) {
  auto fd = listen_unix(path);
  if (!fd) return Error{fd.error()};
  std::unique_ptr<UapiServer> s(new UapiServer());
  s->path_ = path;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) s->inode_ = st.st_ino;
  s->server_ =
      std::make_unique<StreamServer>(*fd, [&dev] { return std::make_unique<UapiSession>(dev); });
  return s;
}

UapiServer::~UapiServer() {
  server_.reset();
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0 && st.st_ino == inode_) ::unlink(path_.c_str());
}

std::unique_ptr<uapi::Device> make_uapi_device(Control& control) {
  return std::make_unique<ControlDevice>(control);
}

}  // namespace meshgate::control
