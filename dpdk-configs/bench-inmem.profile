# meshgate EAL profile for in-memory benchmarks (tunbench inmem): no NIC and no kernel in the
# path, so what is measured is meshgate's own data-path code. The inner port is a net_ring
# device, whose RX and TX share in-memory rings that the benchmark fills with prepared frames;
# the outer port is net_null, a sink that frees what the workers send (and, with no traffic of
# its own, gives them nothing to receive). tunbench builds extra ring ports itself when it feeds
# the inbound direction with frames the outbound path produced.

[eal]
# Three lcores: the control thread on 0, workers on 1 and 2. On a bigger machine widen this
# (and workers below) to measure scaling; keep the main lcore off the workers' cores.
lcores = 0-2
# The control thread's lcore.
main-lcore = 0
# Hugepages, without runtime files: a benchmark wants the TLB reach of hugepages, and
# in-memory lets several benchmark runs coexist without prefixes. Needs 512 MiB reserved,
# e.g. echo 256 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
in-memory = true
# 512 MiB: the mbuf pool, the rings and a peer table of 100,000 peers.
memory = 512
# No device DMAs: virtual addresses as IOVA.
iova-mode = va
# Benchmarks must not touch the host's PCI devices.
no-pci = true
# LAN side: a ring port (one queue pair per worker, created in memory).
vdev = net_ring0
# Internet side: a sink; copy=0 frees packets without touching their bytes.
vdev = net_null0,copy=0
# Quiet: the benchmark prints its own progress.
log-level = lib.eal:warning

[meshgate]
# Device names, stable whatever the probe order.
inner = net_ring0
outer = net_null0
# Two workers, one per non-main lcore.
workers = 2
# Busy-poll: benchmarks measure the busy-polling data path.
idle-backoff = false
