# meshgate EAL profile for CI runners: no hugepages, no PCI, no runtime files, small memory and
# quiet logs. The netns test suite puts each gateway in a namespace of its own, with veth ends
# named lan0 and wan0 there, so one profile serves every gateway of a test.

[eal]
# Two lcores: the control thread on 0 and one worker on 1; CI runners often have two cores.
lcores = 0-1
# The control thread's lcore, stated explicitly.
main-lcore = 0
# CI runners have no hugepages reserved and tests must not need root to reserve them.
no-huge = true
# 128 MiB keeps two gateways and the test tools well inside a small runner's memory.
memory = 128
# No file-prefix: meshgate uses the tunnel name, so parallel test jobs cannot collide.
# Virtual addresses as IOVA, the only choice without hugepages.
iova-mode = va
# Runners may have PCI NICs that must not be probed.
no-pci = true
# LAN side of the gateway's namespace; 256 frames per ring, as veth-af-packet.profile.
vdev = net_af_packet0,iface=lan0,qpairs=2,framecnt=256
# Internet side of the gateway's namespace.
vdev = net_af_packet1,iface=wan0,qpairs=2,framecnt=256
# Test logs show EAL warnings and errors only.
log-level = lib.eal:warning

[meshgate]
# Device names, stable whatever the probe order.
inner = net_af_packet0
outer = net_af_packet1
# One worker: CI measures behaviour, not throughput.
workers = 1
# Do not spin: the runner also hosts the peers and the test driver.
idle-backoff = true
