# meshgate EAL profile: AF_XDP sockets on interfaces that stay with their kernel drivers (eth1
# on the LAN side, eth2 on the Internet side): no vfio-pci binding, the kernel keeps the NICs,
# and XDP hands their frames to meshgate before the kernel's stack sees them.
# AF_XDP binds to an interface's combined channels, two per interface here (one TX queue for
# the worker, one for the control thread): ethtool -L eth1 combined 2; ethtool -L eth2 combined 2
# Not for veth: a veth has no combined channels, so DPDK 22.11's AF_XDP driver gives it a single
# queue pair, fewer than meshgate needs; use veth-af-packet.profile there.
# Needs root (or CAP_NET_ADMIN, CAP_BPF and CAP_SYS_ADMIN) to load the XDP program.

[eal]
# Two lcores: lcore 0 runs the control thread, lcore 1 the single worker.
lcores = 0-1
# Say which lcore is main instead of relying on EAL's "first of the list" default.
main-lcore = 0
# Anonymous memory: AF_XDP copies frames into the mbufs, no device DMAs into them.
no-huge = true
# 256 MiB holds both ports' mbuf pools and the UMEM areas with room to spare.
memory = 256
# No file-prefix: meshgate uses the tunnel name, so several gateways run side by side.
# Without hugepages there are no physical addresses to hand out; use virtual ones as IOVA.
iova-mode = va
# The NICs stay with the kernel: EAL must not probe PCI devices.
no-pci = true
# LAN side: AF_XDP on eth1's channels 0 and 1: the worker's TX queue and the control
# thread's (no TX queue is shared).
vdev = net_af_xdp0,iface=eth1,start_queue=0,queue_count=2
# Internet side: AF_XDP on eth2, the same two channels.
vdev = net_af_xdp1,iface=eth2,start_queue=0,queue_count=2
# Keep EAL's start-up chatter out of the logs; warnings and errors still show.
log-level = lib.eal:notice

[meshgate]
# Ports by device name: port ids follow probe order, names do not.
inner = net_af_xdp0
outer = net_af_xdp1
# One worker, on the non-main lcore.
workers = 1
# One RX queue per port for the one worker.
queues = 1
# Back off when idle; drop this line on a dedicated gateway to busy-poll.
idle-backoff = true
