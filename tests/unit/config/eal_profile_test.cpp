#include "meshgate/config/eal_profile.hpp"

#include <gtest/gtest.h>

#include "config/config_test_paths.hpp"

namespace meshgate::config {
namespace {

using Args = std::vector<std::string>;

std::string shipped(const char* name) {
  return std::string(MESHGATE_SOURCE_DIR) + "/dpdk-configs/" + name;
}

TEST(EalProfile, EveryKeyAndTheArgumentOrder) {
  auto r = parse_profile(R"(# keys in an order unlike eal_args()
[EAL]
log-level = lib.eal:notice
log-level = pmd.net.af_packet:warning
vdev = net_af_packet0,iface=lan0,qpairs=2   # inline comment
vdev = net_af_packet1,iface=wan0,qpairs=2
allow = 0000:03:00.0
no-pci = yes
iova-mode = VA
in-memory = true
file-prefix = mg-a
huge-dir = /dev/hugepages
no-huge = off
memory = 512
main-lcore = 1
Lcores = 1-3
[Meshgate]
inner = net_af_packet0
outer = 1
workers = 2
queues = 2
worker-queues = 2:0, 3:1
idle-backoff = on
)",
                         "p.profile");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->source, "p.profile");
  EXPECT_EQ(r->lcore_ids, (std::vector<unsigned>{1, 2, 3}));
  EXPECT_EQ(r->effective_main_lcore(), 1u);
  EXPECT_EQ(r->eal_args(), (Args{"-l",
                                 "1-3",
                                 "--main-lcore",
                                 "1",
                                 "-m",
                                 "512",
                                 "--huge-dir",
                                 "/dev/hugepages",
                                 "--file-prefix",
                                 "mg-a",
                                 "--in-memory",
                                 "--iova-mode",
                                 "va",
                                 "--no-pci",
                                 "-a",
                                 "0000:03:00.0",
                                 "--vdev",
                                 "net_af_packet0,iface=lan0,qpairs=2",
                                 "--vdev",
                                 "net_af_packet1,iface=wan0,qpairs=2",
                                 "--log-level",
                                 "lib.eal:notice",
                                 "--log-level",
                                 "pmd.net.af_packet:warning"}));
  EXPECT_EQ(r->inner, "net_af_packet0");
  EXPECT_EQ(r->outer, "1");
  EXPECT_EQ(r->workers, 2u);
  EXPECT_EQ(r->queues, 2u);
  EXPECT_EQ(r->worker_queues, (std::vector<WorkerQueue>{{2, 0}, {3, 1}}));
  EXPECT_EQ(r->idle_backoff, true);
}

TEST(EalProfile, LcoreMapAndSocketMemory) {
  auto r = parse_profile("[eal]\nlcore-map = (0)@0,(1)@1\nsocket-memory = 512,512\n", "p");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(r->lcore_ids.empty());
  EXPECT_FALSE(r->effective_main_lcore().has_value());
  EXPECT_EQ(r->eal_args(), (Args{"--lcores", "(0)@0,(1)@1", "--socket-mem", "512,512"}));
}

TEST(EalProfile, EmptyProfileGivesNoArguments) {
  auto r = parse_profile("# nothing\n", "p");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(r->eal_args().empty());
  EXPECT_FALSE(r->inner.has_value());
  EXPECT_FALSE(r->workers.has_value());
}

TEST(EalProfile, ReadmeWorkedExample) {
  // The example in dpdk-configs/README.md, kept in step with it.
  auto r = parse_profile(R"([eal]
lcores = 2-4              # control thread on 2, workers on 3 and 4 (0-1 stay with the OS)
main-lcore = 2
socket-memory = 1024      # 1 GiB of hugepages on NUMA socket 0, where the NIC is
huge-dir = /dev/hugepages1G
file-prefix = mg-a        # a second gateway on the same host uses mg-b
allow = 0000:03:00.0      # LAN port
allow = 0000:03:00.1      # Internet port
log-level = lib.eal:notice

[meshgate]
inner = 0000:03:00.0
outer = 0000:03:00.1
workers = 2
queues = 2
worker-queues = 3:0,4:1
)",
                         "example.profile");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->eal_args(),
            (Args{"-l", "2-4", "--main-lcore", "2", "--socket-mem", "1024", "--huge-dir",
                  "/dev/hugepages1G", "--file-prefix", "mg-a", "-a", "0000:03:00.0", "-a",
                  "0000:03:00.1", "--log-level", "lib.eal:notice"}));
}

TEST(EalProfile, ShippedVethAfPacket) {
  auto r = load_profile(shipped("veth-af-packet.profile"));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(
      r->eal_args(),
      (Args{"-l", "0-1", "--main-lcore", "0", "-m", "256", "--no-huge", "--iova-mode", "va",
            "--no-pci", "--vdev", "net_af_packet0,iface=lan0,qpairs=2,framecnt=256", "--vdev",
            "net_af_packet1,iface=wan0,qpairs=2,framecnt=256", "--log-level", "lib.eal:notice"}));
  EXPECT_EQ(r->inner, "net_af_packet0");
  EXPECT_EQ(r->outer, "net_af_packet1");
  EXPECT_EQ(r->workers, 1u);
  EXPECT_EQ(r->queues, 1u);
  EXPECT_EQ(r->idle_backoff, true);
}

TEST(EalProfile, ShippedNetTap) {
  auto r = load_profile(shipped("net-tap.profile"));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(
      r->eal_args(),
      (Args{"-l", "0-1", "--main-lcore", "0", "-m", "256", "--no-huge", "--file-prefix", "mg-tap",
            "--iova-mode", "va", "--no-pci", "--vdev", "net_tap0,iface=mg-lan", "--vdev",
            "net_af_packet0,iface=wan0,qpairs=2", "--log-level", "lib.eal:notice"}));
  EXPECT_EQ(r->inner, "net_tap0");
  EXPECT_EQ(r->outer, "net_af_packet0");
  EXPECT_EQ(r->workers, 1u);
  EXPECT_EQ(r->idle_backoff, true);
}

TEST(EalProfile, ShippedCiNoHuge) {
  auto r = load_profile(shipped("ci-nohuge.profile"));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(
      r->eal_args(),
      (Args{"-l", "0-1", "--main-lcore", "0", "-m", "128", "--no-huge", "--iova-mode", "va",
            "--no-pci", "--vdev", "net_af_packet0,iface=lan0,qpairs=2,framecnt=256", "--vdev",
            "net_af_packet1,iface=wan0,qpairs=2,framecnt=256", "--log-level", "lib.eal:warning"}));
  EXPECT_EQ(r->inner, "net_af_packet0");
  EXPECT_EQ(r->outer, "net_af_packet1");
  EXPECT_EQ(r->workers, 1u);
}

TEST(EalProfile, ShippedAfXdp) {
  auto r = load_profile(shipped("af-xdp.profile"));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->eal_args(),
            (Args{"-l", "0-1", "--main-lcore", "0", "-m", "256", "--no-huge", "--iova-mode", "va",
                  "--no-pci", "--vdev", "net_af_xdp0,iface=eth1,start_queue=0,queue_count=2",
                  "--vdev", "net_af_xdp1,iface=eth2,start_queue=0,queue_count=2", "--log-level",
                  "lib.eal:notice"}));
  EXPECT_EQ(r->inner, "net_af_xdp0");
  EXPECT_EQ(r->outer, "net_af_xdp1");
  EXPECT_EQ(r->workers, 1u);
  EXPECT_EQ(r->idle_backoff, true);
}

TEST(EalProfile, ShippedServerTwoNic) {
  // Written by meshgate-eal for tests/data/hosts/server-2s64c.host (tests/tools checks that).
  auto r = load_profile(shipped("server-two-nic.profile"));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->eal_args(),
            (Args{"-l", "32-40", "--main-lcore", "32", "--socket-mem", "1024,1024", "--huge-dir",
                  "/dev/hugepages1G", "--file-prefix", "mg-0000-17-00.0", "--iova-mode", "va", "-a",
                  "0000:17:00.0", "-a", "0000:b1:00.0", "--log-level", "lib.eal:notice"}));
  EXPECT_EQ(r->inner, "0000:17:00.0");
  EXPECT_EQ(r->outer, "0000:b1:00.0");
  EXPECT_EQ(r->workers, 8u);
  EXPECT_EQ(r->queues, 8u);
  EXPECT_EQ(r->worker_queues.size(), 8u);
  EXPECT_EQ(r->worker_queues.front(), (WorkerQueue{33, 0}));
  EXPECT_EQ(r->idle_backoff, false);
}

TEST(EalProfile, ShippedInmemBench) {
  auto r = load_profile(shipped("inmem-bench.profile"));
  ASSERT_TRUE(r.ok()) << r.error();
  // No lcores: tunbench adds one per worker.
  EXPECT_EQ(r->eal_args(),
            (Args{"-m", "1024", "--no-huge", "--file-prefix", "tunbench", "--iova-mode", "va",
                  "--no-pci", "--log-level", "lib.eal:warning"}));
  EXPECT_FALSE(r->lcores.has_value());
}

TEST(EalProfile, ErrorsWithLineNumbers) {
  struct Case {
    const char* text;
    const char* error;
  } cases[] = {
      {"[eal]\n[dpdk]\n", "p.profile:2: unknown section [dpdk]"},
      {"[eal]\nin-memory = true\nno-huge = true\n",
       "p.profile:2: in-memory cannot be combined with no-huge (EAL then uses legacy memory, "
       "which --in-memory refuses); leave both in-memory and file-prefix out and meshgate uses "
       "the tunnel name as the file prefix"},
      {"[eal]\nlcore = 0-1\n", "p.profile:2: unknown key 'lcore' in [eal]"},
      {"[meshgate]\nlcores = 0-1\n", "p.profile:2: unknown key 'lcores' in [meshgate]"},
      {"lcores = 0-1\n", "p.profile:1: key 'lcores' is outside any section"},
      {"[eal]\nno-huge\n", "p.profile:2: malformed line 'no-huge': expected Key = Value"},
      {"[eal]\nmemory =\n", "p.profile:2: memory has an empty value"},
      {"[eal]\nmemory = 1\nmemory = 2\n",
       "p.profile:3: memory is given twice in [eal] (first at line 2)"},
      {"[eal]\nmemory = lots\n", "p.profile:2: invalid memory 'lots': not a number"},
      {"[eal]\nmemory = 0\n", "p.profile:2: invalid memory '0': out of range 1..1048576"},
      {"[eal]\nlcores = 3-1\n",
       "p.profile:2: invalid lcores '3-1': expected lcore ids or ranges such as 0-1,4"},
      {"[eal]\nlcores = 0-1,1\n", "p.profile:2: invalid lcores '0-1,1': lcore 1 listed twice"},
      {"[eal]\nlcores = 0,x\n",
       "p.profile:2: invalid lcores '0,x': expected lcore ids or ranges such as 0-1,4"},
      {"[eal]\nno-huge = maybe\n",
       "p.profile:2: invalid no-huge 'maybe': expected on/off, true/false or yes/no"},
      {"[eal]\niova-mode = auto\n", "p.profile:2: invalid iova-mode 'auto': expected va or pa"},
      {"[eal]\nhuge-dir = hugepages\n",
       "p.profile:2: invalid huge-dir 'hugepages': not an absolute path"},
      {"[eal]\nfile-prefix = mg/a\n",
       "p.profile:2: invalid file-prefix 'mg/a': use letters, digits, '_', '.' and '-' (it names "
       "files)"},
      {"[eal]\nvdev = net_tap0, iface=x\n",
       "p.profile:2: invalid vdev 'net_tap0, iface=x': whitespace inside the value"},
      {"[eal]\nsocket-memory = 512,,512\n",
       "p.profile:2: invalid socket-memory '512,,512': empty list element"},
      {"[eal]\nlcores = 0-1\n# both\nlcore-map = (0)@0\n",
       "p.profile:4: lcore-map cannot be combined with lcores (line 2): give the lcore set one "
       "way"},
      {"[eal]\nsocket-memory = 512\nmemory = 256\n",
       "p.profile:3: memory cannot be combined with socket-memory (line 2): EAL takes -m or "
       "--socket-mem"},
      {"[eal]\nno-huge = true\nsocket-memory = 512\n",
       "p.profile:3: socket-memory cannot be combined with no-huge (line 2): per-socket memory "
       "needs hugepages"},
      {"[eal]\nlcores = 0-1\nmain-lcore = 2\n", "p.profile:3: main-lcore 2 is not in lcores '0-1'"},
      {"[eal]\nlcores = 0-1\n[meshgate]\nworker-queues = 1:0, 2:1\n",
       "p.profile:4: worker-queues lcore 2 is not in lcores '0-1'"},
      {"[eal]\nlcores = 0-1\n[meshgate]\nworker-queues = 0:0\n",
       "p.profile:4: worker-queues lcore 0 is the main lcore, which runs the control thread"},
      {"[meshgate]\nworker-queues = 1:0,1:1\n",
       "p.profile:2: invalid worker-queues '1:0,1:1': lcore 1 listed twice"},
      {"[meshgate]\nworker-queues = 1-0\n",
       "p.profile:2: invalid worker-queues '1-0': expected lcore:queue"},
      {"[meshgate]\nworkers = 129\n", "p.profile:2: invalid workers '129': out of range 1..128"},
      {"[meshgate]\nqueues = 0\n", "p.profile:2: invalid queues '0': out of range 1..1024"},
      {"[meshgate]\ninner = net af\n",
       "p.profile:2: invalid inner 'net af': not a DPDK port id or device name"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    auto r = parse_profile(c.text, "p.profile");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), c.error);
  }
  auto missing = load_profile("/nonexistent-dir/p.profile");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error(), "/nonexistent-dir/p.profile: cannot read: No such file or directory");
}

}  // namespace
}  // namespace meshgate::config
