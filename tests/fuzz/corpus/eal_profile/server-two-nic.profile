# meshgate EAL profile: a two-NIC gateway server, as `meshgate-eal generate` writes it for the
# 2-socket, 64-core server recorded in tests/data/hosts/server-2s64c.host (one E810 port per
# socket on vfio-pci, 1 GiB hugepages, IOMMU on). The unit tests check that the generator still
# writes exactly these settings. On a real server, run meshgate-eal generate there instead.
# Host: 64 CPUs online on 64 cores, NUMA node(s) 0-1, isolated none, hugepages 8 x 1 GiB, IOMMU on.
# Check it on the host it is for with: meshgate-eal check FILE

[eal]
# Control thread on 32, workers on 33-40 on NUMA node 1, the outer port's: the mbuf pool lives
# there. No SMT siblings among them: each lcore has a physical core to itself. The inner port is on
# node 0: its frames cross the interconnect; ports on one node avoid that. CPU 0 stays with the OS.
lcores = 32-40
# The main lcore runs the control thread: handshakes, timers, ARP/ND; not a worker's sibling, so a
# handshake flood does not slow the data path.
main-lcore = 32
# Hugepage memory per NUMA node (node 0: 1024 MiB, node 1: 1024 MiB): 256 MiB per PCI port on its
# node for descriptor rings, 256 MiB on the outer port's node for the mbuf pool; in 1 GiB pages,
# rounded up to whole pages.
socket-memory = 1024,1024
# The hugetlbfs mount with 1 GiB pages.
huge-dir = /dev/hugepages1G
# Runtime files under /var/run/dpdk/mg-0000-17-00.0: named after the NIC, which only one gateway
# can own, so gateways on one host never share them.
file-prefix = mg-0000-17-00.0
# The IOMMU translates: virtual addresses as IOVA, vfio-pci maps them for the NIC.
iova-mode = va
# Inner port: NIC 0000:17:00.0 on NUMA node 0, spare NICs, the lower PCI address inside; name them
# with --inner/--outer if the cabling says otherwise; ready (vfio-pci).
allow = 0000:17:00.0
# Outer port: NIC 0000:b1:00.0 on NUMA node 1, spare NICs, the lower PCI address inside; name them
# with --inner/--outer if the cabling says otherwise; ready (vfio-pci).
allow = 0000:b1:00.0
# EAL notices and worse only.
log-level = lib.eal:notice

[meshgate]
# Inner port by device name: port ids follow the probe order, names do not.
inner = 0000:17:00.0
# Outer port by device name: port ids follow the probe order, names do not.
outer = 0000:b1:00.0
# One worker per physical core chosen above.
workers = 8
# One RX queue per worker on each port (RSS spreads flows over them).
queues = 8
# Worker lcore:queue; worker i polls queue i of both ports.
worker-queues = 33:0,34:1,35:2,36:3,37:4,38:5,39:6,40:7
# Busy-poll: the workers' cores belong to meshgate alone.
idle-backoff = false
