# meshgate EAL profile: development machines and the network-namespace demo.
# Ports are AF_PACKET sockets on veth interfaces (no NIC, no hugepages), and the process is
# idle-friendly so that two gateways and the traffic generators share a 2-core machine.

[eal]
# Two lcores: lcore 0 runs the control thread, lcore 1 the single worker.
lcores = 0-1
# Say which lcore is main instead of relying on EAL's "first of the list" default.
main-lcore = 0
# Anonymous memory instead of hugepages: a development box has none reserved.
no-huge = true
# 256 MiB holds both ports' mbuf pools and rings with room to spare.
memory = 256
# No file-prefix: meshgate uses the tunnel name, so several gateways run side by side.
# Without hugepages there are no physical addresses to hand out; use virtual ones as IOVA.
iova-mode = va
# Leave the host's PCI devices alone: every port here is virtual.
no-pci = true
# LAN side: AF_PACKET on the veth end lan0; two queue pairs: one for the worker, a
# second TX queue for the control thread (no TX queue is shared). 256 frames per ring, not the
# PMD's 512: when a TCP stream fills the tunnel the RX ring is where packets queue, and 512
# frames of 1500 bytes are 6 ms at 1 Gbit/s that every packet behind them waits out
# (bench/RESULTS.md, tunbench netns: p99 ping under load 13.6 -> 5.7 ms; 128 frames cut it
# further but cost a quarter of the single-stream TCP rate).
vdev = net_af_packet0,iface=lan0,qpairs=2,framecnt=256
# Internet side: AF_PACKET on the veth end wan0.
vdev = net_af_packet1,iface=wan0,qpairs=2,framecnt=256
# Keep EAL's start-up chatter out of the logs; warnings and errors still show.
log-level = lib.eal:notice

[meshgate]
# Ports by device name: port ids follow probe order, names do not.
inner = net_af_packet0
outer = net_af_packet1
# One worker, on the non-main lcore.
workers = 1
# One RX queue per port, matching qpairs above.
queues = 1
# Back off when idle: a busy-polling worker would take a whole core from the other processes.
idle-backoff = true
