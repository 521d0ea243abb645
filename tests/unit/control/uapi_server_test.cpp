// The UAPI socket (protocol.md 9.1) without a gateway: a StreamServer over a UNIX socket in a
// temporary directory, a fake device behind it, clients on the same thread.
#include "meshgate/control/uapi_server.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

namespace meshgate::control {
namespace {

class CountingDevice : public uapi::Device {
 public:
  std::uint16_t port = 51820;
  uapi::DeviceInfo get() override {
    uapi::DeviceInfo d;
    d.listen_port = port;
    return d;
  }
  Key32 public_key() override { return {}; }
  int set_private_key(const SecretKey&) override { return 0; }
  int set_listen_port(std::uint16_t p) override {
    port = p;
    return 0;
  }
  int set_fwmark(std::uint32_t) override { return 0; }
  int remove_all_peers() override { return 0; }
  bool has_peer(const Key32&) override { return false; }
  int add_peer(const Key32&) override { return 0; }
  int remove_peer(const Key32&) override { return 0; }
  int set_preshared_key(const Key32&, const SecretKey&) override { return 0; }
  int set_endpoint(const Key32&, const Endpoint&) override { return 0; }
  int set_persistent_keepalive(const Key32&, std::uint16_t) override { return 0; }
  int replace_allowed_ips(const Key32&, const std::vector<Prefix>&) override { return 0; }
  int add_allowed_ip(const Key32&, const Prefix&) override { return 0; }
  int remove_allowed_ip(const Key32&, const Prefix&) override { return 0; }
};

class UapiSocket : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/meshgate-uapi-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = UapiServer::socket_path("tun0", dir_ + "/wireguard");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  int connect_client() const {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path_.c_str());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  /// Sends a request, polls the server until the reply's blank line arrives.
  std::string exchange(UapiServer& s, const std::string& req) {
    const int fd = connect_client();
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
    std::string reply;
    for (int i = 0; i < 1000 && !reply.ends_with("\n\n"); ++i) {
      s.poll(monotonic_now());
      char buf[4096];
      const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) reply.append(buf, static_cast<std::size_t>(n));
      usleep(1000);
    }
    ::close(fd);
    return reply;
  }

  std::string dir_;
  std::string path_;
  CountingDevice dev_;
};

TEST_F(UapiSocket, ModesAndRoundTrip) {
  auto s = UapiServer::open(path_, dev_);
  ASSERT_TRUE(s) << s.error();
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir_ + "/wireguard").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);

  EXPECT_EQ(exchange(**s, "set=1\nlisten_port=1234\n\n"), "errno=0\n\n");
  EXPECT_EQ(dev_.port, 1234);
  EXPECT_EQ(exchange(**s, "get=1\n\n"), "listen_port=1234\nerrno=0\n\n");
  // A probe (connect and close, as `wg show interfaces` does) is harmless.
  ::close(connect_client());
  (*s)->poll(monotonic_now());
  EXPECT_EQ(exchange(**s, "get=1\n\n"), "listen_port=1234\nerrno=0\n\n");
}

// Connections that never send a request cannot lock the operator out: with the table full of
// them, `wg` still gets its answer at once, and the longest-idle one is what makes room.
TEST_F(UapiSocket, IdleConnectionsDoNotLockTheOperatorOut) {
  auto s = UapiServer::open(path_, dev_);
  ASSERT_TRUE(s) << s.error();
  std::vector<int> idle;
  for (std::size_t i = 0; i < StreamServer::kMaxClients; ++i) {
    idle.push_back(connect_client());
    ASSERT_GE(idle.back(), 0);
    (*s)->poll(monotonic_now());  // accepted (the listen backlog is shorter than the table)
  }
  EXPECT_EQ(exchange(**s, "get=1\n\n"), "listen_port=51820\nerrno=0\n\n");
  char c = 0;
  EXPECT_EQ(::recv(idle.front(), &c, 1, MSG_DONTWAIT), 0) << "the oldest idle client stays";
  EXPECT_EQ(::recv(idle.back(), &c, 1, MSG_DONTWAIT), -1) << "a newer idle client was closed";
  for (int fd : idle) ::close(fd);
}

TEST_F(UapiSocket, RemovedOnExit) {
  {
    auto s = UapiServer::open(path_, dev_);
    ASSERT_TRUE(s);
  }
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(UapiSocket, LiveSocketIsRefusedStaleOneReplaced) {
  auto s = UapiServer::open(path_, dev_);
  ASSERT_TRUE(s);
  auto second = UapiServer::open(path_, dev_);
  EXPECT_FALSE(second);
  // A socket nobody listens on (a crashed gateway's) is replaced.
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  const std::string stale = UapiServer::socket_path("tun1", dir_ + "/wireguard");
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof a.sun_path, "%s", stale.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ::close(fd);
  auto third = UapiServer::open(stale, dev_);
  EXPECT_TRUE(third) << third.error();
}

}  // namespace
}  // namespace meshgate::control
