# meshgate EAL profile: the LAN side is a TAP interface on this host (mg-lan), so programs on
# the gateway host itself reach the tunnels; the Internet side is AF_PACKET on a veth.
# net_tap creates a kernel netdev, which needs CAP_NET_ADMIN.

[eal]
# lcore 0: control thread; lcore 1: the worker.
lcores = 0-1
# The control thread's lcore, stated rather than implied.
main-lcore = 0
# No hugepages needed for a host-facing development setup.
no-huge = true
# Plenty for the TAP and AF_PACKET ports' mbuf pools.
memory = 256
# Runtime files under /var/run/dpdk/mg-tap, apart from other DPDK programs' default prefix.
file-prefix = mg-tap
# Virtual addresses as IOVA: there are no physical addresses without hugepages.
iova-mode = va
# Every port is virtual; do not touch the host's PCI devices.
no-pci = true
# LAN side: a TAP device named mg-lan; give it an address with `ip addr` to route into tunnels.
vdev = net_tap0,iface=mg-lan
# Internet side: AF_PACKET on the veth end wan0; two queue pairs: the worker's, and a TX
# queue for the control thread.
vdev = net_af_packet0,iface=wan0,qpairs=2
# Only notices and worse from EAL.
log-level = lib.eal:notice

[meshgate]
# The TAP device is the LAN port.
inner = net_tap0
# AF_PACKET is the Internet port.
outer = net_af_packet0
# One worker on lcore 1.
workers = 1
# Yield the CPU when idle; this profile is for shared development hosts.
idle-backoff = true
