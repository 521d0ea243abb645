# meshgate EAL profile: development on veth with AF_XDP sockets instead of AF_PACKET.
# A veth offers one AF_XDP queue pair; meshgate then relays the control thread's frames through
# worker 0, since there is no TX queue to spare for it.

[eal]
# Two lcores: lcore 0 runs the control thread, lcore 1 the single worker.
lcores = 0-1
# Say which lcore is main instead of relying on EAL's "first of the list" default.
main-lcore = 0
# Anonymous memory instead of hugepages: a development box has none reserved.
no-huge = true
# 256 MiB holds both ports' mbuf pools, the AF_XDP UMEMs and rings.
memory = 256
# Without hugepages there are no physical addresses to hand out; use virtual ones as IOVA.
iova-mode = va
# Leave the host's PCI devices alone: every port here is virtual.
no-pci = true
# LAN side: an AF_XDP socket on queue 0 of the veth end lan0.
vdev = net_af_xdp0,iface=lan0,start_queue=0,queue_count=1
# Internet side: an AF_XDP socket on queue 0 of the veth end wan0.
vdev = net_af_xdp1,iface=wan0,start_queue=0,queue_count=1
# Keep EAL's start-up chatter out of the logs; warnings and errors still show.
log-level = lib.eal:notice

[meshgate]
# Ports by device name: port ids follow probe order, names do not.
inner = net_af_xdp0
outer = net_af_xdp1
# One worker, on the non-main lcore.
workers = 1
# One RX queue per port: the one AF_XDP queue.
queues = 1
# Back off when idle: a busy-polling worker would take a whole core from the other processes.
idle-backoff = true
