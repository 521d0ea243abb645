# A hand-written profile for ht-isolated.host with three mistakes: lcore 20 does not exist,
# lcore 9 is the control core's (1) SMT sibling, and 4 GiB is more than node 0's hugepages.
[eal]
lcores = 1-3,9,20
main-lcore = 1
socket-memory = 4096
huge-dir = /dev/hugepages
allow = 0000:3b:00.0
allow = 0000:3b:00.1

[meshgate]
inner = 0000:3b:00.0
outer = 0000:3b:00.1
workers = 4
worker-queues = 2:0,3:1,9:2,20:3
