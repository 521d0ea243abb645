# EAL profile for `tunbench inmem`: the data path on in-memory net_ring ports, no NIC.
# No lcores line: tunbench gives EAL one lcore per worker (--lcores, or the first CPUs it may
# run on), and worker 0 runs on the main lcore.

[eal]
# No hugepages needed: the benchmark touches a few MiB of mbufs, and runs without root setup.
no-huge = true
# 1 GiB holds the mbuf pool for 12 workers with 4096 frames each, the rings and RCU state.
memory = 1024
# Runtime files of its own, so a tunbench run never collides with a gateway on the host.
file-prefix = tunbench
# Virtual addresses as IOVA, the only choice without hugepages.
iova-mode = va
# The ports are net_ring devices created in the process; PCI NICs must not be probed.
no-pci = true
# Benchmark output stays readable: EAL warnings and errors only.
log-level = lib.eal:warning
