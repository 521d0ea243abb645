# meshgate EAL profile for in-memory benchmarks (tunbench inmem): no NIC and no kernel in the
# path, so what is measured is meshgate's own data-path code. The inner port is a net_ring
# device, whose RX and TX share in-memory rings that the benchmark fills with prepared frames;
# the outer port is net_null, a sink that frees what the workers send. tunbench builds extra
# ring ports itself when it feeds the inbound direction with frames the outbound path produced.

[eal]
# Two lcores, which every machine has: the control thread on 0, the worker on 1. To measure
# scaling on a bigger machine widen this and workers below together (lcores = 0-4 with
# workers = 4), keeping the main lcore off the workers' cores.
lcores = 0-1
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
# Internet side: a sink; copy=0 frees packets without touching their bytes, no-rx=1 stops it
# from handing the workers empty frames (which they would count as bad_ethertype drops).
vdev = net_null0,copy=0,no-rx=1
# Quiet: the benchmark prints its own progress.
log-level = lib.eal:warning

[meshgate]
# Device names, stable whatever the probe order.
inner = net_ring0
outer = net_null0
# One worker, on lcore 1.
workers = 1
# Busy-poll: benchmarks measure the busy-polling data path.
idle-backoff = false
