#include "meshgate/config/gateway_settings.hpp"

#include <gtest/gtest.h>

#include "config/config_test_paths.hpp"
#include "test_keys.hpp"

namespace meshgate::config {
namespace {

GatewayConfig config_with(const std::string& gateway_lines) {
  auto r = parse_config(test::expand("[Interface]\nPrivateKey = $K1\n[Gateway]\n"
                                     "InnerAddress = 192.168.10.1/24\n"
                                     "OuterAddress = 198.51.100.2/24\n" +
                                     gateway_lines),
                        "gw.conf");
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? std::move(r).value() : GatewayConfig{};
}

EalProfile profile_with(const std::string& text) {
  auto r = parse_profile(text, "p.profile");
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? std::move(r).value() : EalProfile{};
}

TEST(GatewaySettings, ProfileValuesAndDefaults) {
  auto s = merge_gateway_settings(
      config_with(""),
      profile_with("[meshgate]\ninner = net_af_packet0\nouter = net_af_packet1\n"));
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->inner_port, "net_af_packet0");
  EXPECT_EQ(s->outer_port, "net_af_packet1");
  EXPECT_EQ(s->workers, kDefaultWorkers);
  EXPECT_EQ(s->queues, kDefaultWorkers);
  EXPECT_TRUE(s->worker_queues.empty());
  EXPECT_EQ(s->idle_backoff, kDefaultIdleBackoff);
}

TEST(GatewaySettings, ConfigFileWins) {
  auto s = merge_gateway_settings(
      config_with("InnerPort = 0\nOuterPort = 1\nWorkers = 2\nIdleBackoff = off\n"),
      profile_with("[eal]\nlcores = 0-3\n[meshgate]\ninner = net_af_packet0\n"
                   "outer = net_af_packet1\nworkers = 3\nidle-backoff = on\n"));
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->inner_port, "0");
  EXPECT_EQ(s->outer_port, "1");
  EXPECT_EQ(s->workers, 2u);
  EXPECT_EQ(s->queues, 2u);  // follows the workers
  EXPECT_FALSE(s->idle_backoff);
}

TEST(GatewaySettings, WorkerQueueMap) {
  auto s = merge_gateway_settings(
      config_with("Workers = 2\n"),
      profile_with("[eal]\nlcores = 0-2\n[meshgate]\ninner = 0\nouter = 1\nqueues = 2\n"
                   "worker-queues = 2:0,1:1\n"));
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->worker_queues, (std::vector<WorkerQueue>{{2, 0}, {1, 1}}));
}

TEST(GatewaySettings, Errors) {
  struct Case {
    const char* gateway;
    const char* profile;
    const char* error;
  } cases[] = {
      {"", "[meshgate]\nouter = 1\n",
       "the inner port is set in neither gw.conf ([Gateway] InnerPort) nor p.profile ([meshgate] "
       "inner)"},
      {"InnerPort = 0\n", "",
       "the outer port is set in neither gw.conf ([Gateway] OuterPort) nor p.profile ([meshgate] "
       "outer)"},
      {"InnerPort = 1\n", "[meshgate]\nouter = 1\n",
       "gw.conf, p.profile: the inner and the outer port are both '1'"},
      {"InnerPort = 0\nOuterPort = 1\nWorkers = 2\n", "[meshgate]\nqueues = 1\n",
       "p.profile: queues (1) is less than workers (2): each worker polls an RX queue of its own; "
       "raise queues or set worker-queues"},
      {"InnerPort = 0\nOuterPort = 1\nWorkers = 2\n", "[meshgate]\nworker-queues = 1:0\n",
       "p.profile: the number of worker-queues entries (1) differs from workers (2)"},
      {"InnerPort = 0\nOuterPort = 1\n", "[meshgate]\nqueues = 2\nworker-queues = 1:0\n",
       "p.profile: RX queue 1 of 2 is polled by no worker in worker-queues"},
      {"InnerPort = 0\nOuterPort = 1\n", "[meshgate]\nworker-queues = 1:1\n",
       "p.profile: RX queue 0 of 1 is polled by no worker in worker-queues"},
      {"InnerPort = 0\nOuterPort = 1\nWorkers = 2\n", "[eal]\nlcores = 0-1\n",
       "p.profile: 2 workers need 3 lcores (one more for the control thread) but lcores '0-1' has "
       "2"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.gateway) + " / " + c.profile);
    auto s = merge_gateway_settings(config_with(c.gateway), profile_with(c.profile));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error(), c.error);
  }
}

TEST(GatewaySettings, ShippedProfilesNeedOnlyTheConfig) {
  for (const char* name : {"veth-af-packet.profile", "net-tap.profile", "ci-nohuge.profile"}) {
    SCOPED_TRACE(name);
    auto p = load_profile(std::string(MESHGATE_SOURCE_DIR) + "/dpdk-configs/" + name);
    ASSERT_TRUE(p.ok()) << p.error();
    auto s = merge_gateway_settings(config_with(""), *p);
    ASSERT_TRUE(s.ok()) << s.error();
    EXPECT_EQ(s->workers, 1u);
    EXPECT_TRUE(s->idle_backoff);
  }
}

}  // namespace
}  // namespace meshgate::config
