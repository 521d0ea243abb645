#!/usr/bin/env python3
"""Builds a sysfs/procfs tree from a compact host description (tests/data/hosts/*.host), laid
out as Linux lays it out, for `meshgate-eal --root`.

    hosttree.py HOST_FILE OUT_DIR

Description lines (`#` starts a comment):
  topology sockets=S cores=C threads=T   CPUs numbered as Linux does: thread t of core c on
                                         socket s is CPU t*S*C + s*C + c; node = socket
  offline LIST                           CPUs present but offline (no topology/ then)
  isolated LIST                          /sys/devices/system/cpu/isolated
  cmdline TEXT                           /proc/cmdline
  hugepages size=KB node=N nr=K [free=F] per-node pools; the global counts are their sums
  default-hugepagesize KB                /proc/meminfo Hugepagesize (2048 if not given)
  mount PATH pagesize=2M|1G              a hugetlbfs mount in /proc/mounts
  iommu groups=N                         /sys/kernel/iommu_groups/0..N-1
  noiommu                                vfio's enable_unsafe_noiommu_mode = Y
  nic ADDR node=N driver=D [netdev=NAME state=up|down queues=Q virtio=virtioK vendor= device=]
  netdev NAME kind=veth|tap|tun|dummy|bridge [peer=NAME|peer-index=I] [state=] [queues=]
  route NAME                             an IPv4 route through NAME (/proc/net/route)
"""

import os
import sys

from typing import Dict


def cpulist(text):
    out = []
    for item in text.split(","):
        if item:
            lo, _, hi = item.partition("-")
            out += range(int(lo), int(hi or lo) + 1)
    return out


def fmt(cpus):
    cpus = sorted(cpus)
    parts, i = [], 0
    while i < len(cpus):
        j = i
        while j + 1 < len(cpus) and cpus[j + 1] == cpus[j] + 1:
            j += 1
        parts.append(str(cpus[i]) if i == j else "%d-%d" % (cpus[i], cpus[j]))
        i = j + 1
    return ",".join(parts)


class Tree:
    def __init__(self, root):
        self.root = root

    def write(self, rel, text):
        p = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(str(text) + "\n")

    def mkdir(self, rel):
        os.makedirs(os.path.join(self.root, rel), exist_ok=True)

    def link(self, rel, target):
        p = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        os.symlink(target, p)


def kv(words):
    return dict(w.split("=", 1) for w in words if "=" in w)


def build(desc_path, out):
    t = Tree(out)
    cpus: Dict[int, dict] = {}
    offline, isolated, routes = set(), [], []
    hugepages = {}  # (size, node) -> (nr, free)
    default_kb, mounts, cmdline = 2048, [], "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet"
    nics, netdevs = [], []
    iommu_groups, noiommu = 0, False
    for raw in open(desc_path):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        word, _, rest = line.partition(" ")
        args = rest.split()
        a = kv(args)
        if word == "topology":
            s, c, th = int(a["sockets"]), int(a["cores"]), int(a["threads"])
            for thread in range(th):
                for sock in range(s):
                    for core in range(c):
                        cid = thread * s * c + sock * c + core
                        sib = [x * s * c + sock * c + core for x in range(th)]
                        cpus[cid] = {"core": core, "pkg": sock, "node": sock, "sib": sib}
        elif word == "offline":
            offline |= set(cpulist(rest))
        elif word == "isolated":
            isolated = cpulist(rest)
        elif word == "cmdline":
            cmdline = rest
        elif word == "hugepages":
            hugepages[(int(a["size"]), int(a["node"]))] = (int(a["nr"]),
                                                            int(a.get("free", a["nr"])))
        elif word == "default-hugepagesize":
            default_kb = int(rest)
        elif word == "mount":
            mounts.append((args[0], a["pagesize"]))
        elif word == "iommu":
            iommu_groups = int(a["groups"])
        elif word == "noiommu":
            noiommu = True
        elif word == "nic":
            nics.append((args[0], a))
        elif word == "netdev":
            netdevs.append((args[0], a))
        elif word == "route":
            routes.append(rest)
        else:
            raise SystemExit("%s: unknown line %r" % (desc_path, line))

    # CPUs and NUMA nodes.
    base = "sys/devices/system/cpu"
    ids = sorted(cpus)
    t.write(base + "/present", fmt(ids))
    t.write(base + "/possible", fmt(ids))
    t.write(base + "/online", fmt([c for c in ids if c not in offline]))
    t.write(base + "/isolated", fmt(isolated))
    for c, info in cpus.items():
        if c in offline:
            t.write("%s/cpu%d/online" % (base, c), 0)
            continue
        topo = "%s/cpu%d/topology/" % (base, c)
        t.write(topo + "core_id", info["core"])
        t.write(topo + "physical_package_id", info["pkg"])
        t.write(topo + "thread_siblings_list", fmt([x for x in info["sib"] if x not in offline]))
        if c:
            t.write("%s/cpu%d/online" % (base, c), 1)
    nodes = sorted({i["node"] for i in cpus.values()})
    t.write("sys/devices/system/node/online", fmt(nodes))
    for n in nodes:
        t.write("sys/devices/system/node/node%d/cpulist" % n,
                fmt([c for c, i in cpus.items() if i["node"] == n and c not in offline]))

    # Hugepages: per node, and the global sums.
    sizes = sorted({s for s, _ in hugepages} | {2048, 1048576})
    for s in sizes:
        total = sum(v[0] for (sz, _), v in hugepages.items() if sz == s)
        free = sum(v[1] for (sz, _), v in hugepages.items() if sz == s)
        t.write("sys/kernel/mm/hugepages/hugepages-%dkB/nr_hugepages" % s, total)
        t.write("sys/kernel/mm/hugepages/hugepages-%dkB/free_hugepages" % s, free)
        for n in nodes:
            nr, fr = hugepages.get((s, n), (0, 0))
            d = "sys/devices/system/node/node%d/hugepages/hugepages-%dkB/" % (n, s)
            t.write(d + "nr_hugepages", nr)
            t.write(d + "free_hugepages", fr)
    t.write("proc/meminfo", "MemTotal:       %d kB\nHugepagesize:       %d kB"
            % (len(cpus) * 4 * 1048576, default_kb))
    t.write("proc/mounts", "\n".join(
        ["sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0",
         "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0"] +
        ["hugetlbfs %s hugetlbfs rw,relatime,pagesize=%s 0 0" % m for m in mounts]))
    t.write("proc/cmdline", cmdline)

    # IOMMU and vfio.
    t.mkdir("sys/kernel/iommu_groups")
    for g in range(iommu_groups):
        t.mkdir("sys/kernel/iommu_groups/%d/devices" % g)
    t.write("sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "Y" if noiommu else "N")

    # Network interfaces: index 1 is lo, then NICs' netdevs, then virtual ones in order.
    ifindex = {"lo": 1}
    for _, a in nics:
        if "netdev" in a:
            ifindex[a["netdev"]] = len(ifindex) + 1
    for name, _ in netdevs:
        ifindex[name] = len(ifindex) + 1

    def netdev_files(d, name, a, iflink, uevent_extra=""):
        t.write(d + "/ifindex", ifindex[name])
        t.write(d + "/iflink", iflink)
        t.write(d + "/type", 772 if name == "lo" else 1)
        t.write(d + "/operstate", a.get("state", "up"))
        t.write(d + "/mtu", 1500)
        t.write(d + "/uevent", "INTERFACE=%s\nIFINDEX=%d%s" % (name, ifindex[name], uevent_extra))
        for q in range(int(a.get("queues", 1))):
            t.mkdir("%s/queues/rx-%d" % (d, q))
            t.mkdir("%s/queues/tx-%d" % (d, q))

    d = "sys/devices/virtual/net/lo"
    netdev_files(d, "lo", {"state": "unknown"}, 1)
    t.link("sys/class/net/lo", "../../devices/virtual/net/lo")

    drivers = set()
    for addr, a in nics:
        d = "sys/devices/pci0000:00/" + addr
        t.write(d + "/class", a.get("class", "0x020000"))
        t.write(d + "/vendor", a.get("vendor", "0x8086"))
        t.write(d + "/device", a.get("device", "0x1592"))
        t.write(d + "/numa_node", a.get("node", "-1"))
        if a.get("driver"):
            drivers.add(a["driver"])
            t.mkdir("sys/bus/pci/drivers/" + a["driver"])
            t.link(d + "/driver", "../../../bus/pci/drivers/" + a["driver"])
        if iommu_groups:
            group = len(drivers) % iommu_groups
            t.link(d + "/iommu_group", "../../../kernel/iommu_groups/%d" % group)
        t.link("sys/bus/pci/devices/" + addr, "../../../devices/pci0000:00/" + addr)
        if "netdev" in a:
            name = a["netdev"]
            parent = d + ("/" + a["virtio"] if "virtio" in a else "")
            nd = parent + "/net/" + name
            netdev_files(nd, name, a, ifindex[name])
            t.link(nd + "/device", "../../../" + (a["virtio"] if "virtio" in a else addr))
            t.link("sys/class/net/" + name, "../../" + nd[len("sys/"):])
    for name, a in netdevs:
        d = "sys/devices/virtual/net/" + name
        kind = a.get("kind", "veth")
        iflink = ifindex[name]
        if kind == "veth":
            iflink = ifindex[a["peer"]] if "peer" in a else int(a.get("peer-index", 99))
        netdev_files(d, name, a, iflink, "\nDEVTYPE=bridge" if kind == "bridge" else "")
        if kind in ("tap", "tun"):
            t.write(d + "/tun_flags", "0x1002" if kind == "tap" else "0x1001")
        if kind == "bridge":
            t.mkdir(d + "/bridge")
        t.link("sys/class/net/" + name, "../../devices/virtual/net/" + name)

    lines = ["Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT"]
    lines += ["%s\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\t0\t0\t0" % r for r in routes]
    t.write("proc/net/route", "\n".join(lines))
    t.write("proc/net/if_inet6", "")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    build(sys.argv[1], sys.argv[2])
