# meshgate EAL profile: development on veth interfaces through AF_XDP sockets instead of
# AF_PACKET. On veth the kernel runs XDP in generic (copy) mode, so this is about exercising the
# AF_XDP code path, not about speed; on a NIC with native XDP it avoids the socket layer.
# AF_XDP binds to the interface's queues: each veth end needs two, one per queue_count below:
#   ip link add lan0 numrxqueues 2 numtxqueues 2 type veth peer name lan0-peer
# Needs root (or CAP_NET_ADMIN, CAP_BPF and CAP_SYS_ADMIN) to load the XDP program.

[eal]
# Two lcores: lcore 0 runs the control thread, lcore 1 the single worker.
lcores = 0-1
# Say which lcore is main instead of relying on EAL's "first of the list" default.
main-lcore = 0
# Anonymous memory: copy-mode AF_XDP gains nothing from hugepages on a development box.
no-huge = true
# 256 MiB holds both ports' mbuf pools and the UMEM areas with room to spare.
memory = 256
# No file-prefix: meshgate uses the tunnel name, so several gateways run side by side.
# Without hugepages there are no physical addresses to hand out; use virtual ones as IOVA.
iova-mode = va
# Leave the host's PCI devices alone: every port here is virtual.
no-pci = true
# LAN side: AF_XDP on lan0's queues 0 and 1: one TX queue for the worker and one for the
# control thread (no TX queue is shared).
vdev = net_af_xdp0,iface=lan0,start_queue=0,queue_count=2
# Internet side: AF_XDP on wan0, the same two queues.
vdev = net_af_xdp1,iface=wan0,start_queue=0,queue_count=2
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
# Back off when idle: a busy-polling worker would take a whole core from the other processes.
idle-backoff = true
