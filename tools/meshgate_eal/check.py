"""`check PROFILE`: does this profile fit this host? Each finding says what is wrong and the
command (or the profile line) that fixes it. Problems stop meshgate or break a rule of the
profile (workers apart from the control thread, one worker per core); warnings cost speed."""

import re
from dataclasses import dataclass, field
from typing import List, Optional

from .host import Host, format_cpulist, normalize_pci
from .plan import cores_of
from .profile import Profile

PROBLEM, WARNING = "problem", "warning"


@dataclass
class Finding:
    severity: str
    what: str
    fixes: List[str] = field(default_factory=list)


class _Check:
    def __init__(self, host: Host, prof: Profile):
        self.host, self.p, self.out = host, prof, []

    def add(self, severity, what, *fixes):
        self.out.append(Finding(severity, what, list(fixes)))

    # -- lcores --------------------------------------------------------------------------------
    def free_cpu(self, used: List[int], node: Optional[int]) -> Optional[int]:
        """A CPU on a core that no used lcore sits on, on `node` when possible."""
        busy = {t for c in used if c in self.host.cpus for t in self.host.cpus[c].siblings}
        free = [c for c in cores_of(self.host) if not busy & set(c.cpus) and 0 not in c.cpus]
        pick = [c for c in free if node is None or c.node == node] or free
        return pick[0].cpus[0] if pick else None

    def lcores(self):
        h, p = self.host, self.p
        if p.get("eal.lcore-map"):
            self.add(WARNING, "lcore-map is passed to EAL as it is; its CPUs are not checked")
            return
        lcores, main, workers = p.lcores(), p.main_lcore(), p.worker_lcores()
        online = h.online()
        for c in lcores:
            if c not in h.cpus:
                self.add(PROBLEM, "lcore %d does not exist on this host (CPUs %s)"
                         % (c, format_cpulist(online)),
                         "use CPUs from %s in lcores and worker-queues, or write a fitting "
                         "profile: meshgate-eal generate > %s" % (format_cpulist(online), p.path))
            elif not h.cpus[c].online:
                self.add(PROBLEM, "lcore %d is offline" % c,
                         "echo 1 > /sys/devices/system/cpu/cpu%d/online" % c)
        if main is None or main not in h.cpus:
            return
        node = self.nic_node()
        for w in workers:
            if w not in h.cpus or w == main:
                continue
            if w in h.cpus[main].siblings:
                alt = self.free_cpu(lcores, node)
                self.add(PROBLEM, "worker lcore %d is an SMT sibling of the control thread's lcore "
                         "%d (core threads %s): they share one core" % (
                             w, main, format_cpulist(h.cpus[main].siblings)),
                         "move the worker to a core of its own%s" % (
                             ": lcore %d (replace %d in lcores and worker-queues)" % (alt, w)
                             if alt is not None else ""))
        for i, a in enumerate(workers):
            for b in workers[i + 1:]:
                if a in h.cpus and b in h.cpus[a].siblings:
                    alt = self.free_cpu(lcores, node)
                    self.add(PROBLEM, "worker lcores %d and %d are SMT siblings: two workers on "
                             "one core" % (a, b), "move one to a core of its own%s" % (
                                 ": lcore %d" % alt if alt is not None else ""))
        if node is not None:
            far = [w for w in workers if w in h.cpus and h.cpus[w].node != node]
            if far:
                self.add(WARNING, "worker lcore(s) %s are not on NUMA node %d, where the outer "
                         "port and the mbuf pool are" % (format_cpulist(far), node),
                         "use CPUs from node %d: %s" % (node, format_cpulist(h.nodes.get(node,
                                                                                   []))))

    # -- ports ---------------------------------------------------------------------------------
    def allowed(self):
        heads = [a.split(",")[0] for a in self.p.all("eal.allow")]  # address before devargs
        return [normalize_pci(h) or h for h in heads]

    def nic_node(self) -> Optional[int]:
        outer = normalize_pci(self.p.get("meshgate.outer") or "")
        nic = self.host.nic(outer) if outer else None
        return self.host.node_of_nic(nic) if nic else None

    def pci(self):
        h, allowed = self.host, self.allowed()
        if allowed and self.p.flag("eal.no-pci"):
            self.add(PROBLEM, "no-pci is set, so EAL ignores the allow lines",
                     "remove no-pci = true from the profile")
        for addr in allowed:
            nic = h.nic(addr)
            if nic is None:
                self.add(PROBLEM, "no NIC at %s on this host" % addr,
                         "meshgate-eal show lists the NICs; put one of them in allow")
                continue
            if not nic.dpdk_ready:
                fixes = []
                if nic.in_use:
                    self.add(WARNING, "%s (%s) carries this host's addresses: binding it to "
                             "vfio-pci cuts the host off that network" % (addr, ", ".join(
                                 nic.netdevs)))
                fixes += ["ip link set %s down" % n for n in nic.netdevs if
                          h.netdevs.get(n) and h.netdevs[n].operstate == "up"]
                if "vfio-pci" not in h.loaded_pci_drivers:
                    fixes.append("modprobe vfio-pci")
                if not h.iommu and not h.noiommu:
                    fixes.append("echo 1 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode")
                fixes.append("dpdk-devbind.py -b vfio-pci %s" % addr)
                self.add(PROBLEM, "NIC %s%s is on its kernel driver %s, not vfio-pci: DPDK "
                         "cannot drive it" % (addr, " (%s, link %s)" % (", ".join(nic.netdevs),
                                                                       nic.link)
                                              if nic.netdevs else "", nic.driver or "(none)"),
                         *fixes)
            elif nic.driver == "vfio-pci" and not h.iommu and not h.noiommu:
                self.add(PROBLEM, "%s is on vfio-pci, but there is no IOMMU and vfio's no-IOMMU "
                         "mode is off" % addr,
                         "echo 1 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode")
        if allowed and not h.iommu and (self.p.get("eal.iova-mode") or "") == "va" \
                and not self.p.flag("eal.no-huge"):
            self.add(PROBLEM, "iova-mode va without an IOMMU: the NICs would DMA to virtual "
                     "addresses", "set iova-mode = pa in the profile")

    def vdevs(self):
        h, need = self.host, self.p.workers() + 1
        for v in self.p.all("eal.vdev"):
            name, _, args = v.partition(",")
            kv = dict(a.partition("=")[::2] for a in args.split(",") if a)
            driver = re.sub(r"\d+$", "", name)
            iface = kv.get("iface")
            if driver not in ("net_af_packet", "net_af_xdp") or not iface:
                continue
            nd = h.netdevs.get(iface)
            if nd is None:
                self.add(PROBLEM, "%s: interface %s does not exist here" % (name, iface),
                         "ip link add %s type veth peer name %s-peer && ip link set %s up" % (
                             iface, iface[:9], iface),
                         "or run meshgate (and this check) in the namespace that holds %s: "
                         "ip netns exec NS ..." % iface)
                continue
            if nd.operstate == "down":
                self.add(WARNING, "%s: interface %s is down" % (name, iface),
                         "ip link set %s up" % iface)
            if nd.addressed:
                self.add(WARNING, "%s: interface %s carries this host's addresses; the kernel "
                         "also answers its traffic" % (name, iface))
            key = "qpairs" if driver == "net_af_packet" else "queue_count"
            have = int(kv.get(key, "1"))
            single_queue = driver == "net_af_xdp" and nd.kind in ("veth", "virtual", "tap")
            if single_queue:
                # A veth offers one AF_XDP queue pair: one worker, and meshgate relays the
                # control thread's frames through worker 0.
                if int(kv.get("start_queue", "0")) + have > 1:
                    self.add(PROBLEM, "%s: %s is a %s, which offers a single AF_XDP queue pair"
                             % (name, iface, nd.kind),
                             "set start_queue=0,queue_count=1 in the vdev line")
                if need - 1 > 1:
                    self.add(PROBLEM, "%s: one AF_XDP queue pair on %s feeds one worker, the "
                             "profile asks for %d" % (name, iface, need - 1),
                             "set workers = 1, or use net_af_packet (qpairs = workers + 1)")
                continue
            if have < need:
                self.add(PROBLEM, "%s: %s=%d, but %d workers and the control thread need %d TX "
                         "queues" % (name, key, have, need - 1, need),
                         "set %s=%d in the vdev line" % (key, need))
            if driver == "net_af_xdp" and nd.queues < int(kv.get("start_queue", "0")) + have:
                want = int(kv.get("start_queue", "0")) + have
                self.add(PROBLEM, "%s: %s has %d queue(s), AF_XDP asks for %d"
                         % (name, iface, nd.queues, want),
                         "ethtool -L %s rx %d tx %d" % (iface, want, want))

    def ports(self):
        devices = self.allowed() + [v.split(",")[0] for v in self.p.all("eal.vdev")]
        for role in ("inner", "outer"):
            ref = self.p.get("meshgate." + role)
            if ref is None or ref.isdigit():
                continue
            if (normalize_pci(ref) or ref) not in devices:
                self.add(PROBLEM, "%s = %s names no device of the profile (%s)" % (
                    role, ref, ", ".join(devices) or "none"),
                         "use one of the allow or vdev devices")

    # -- memory --------------------------------------------------------------------------------
    def page_kb(self) -> int:
        d = self.p.get("eal.huge-dir")
        m = next((m for m in self.host.mounts if m.path == d), None) if d else None
        return m.page_kb if m else self.host.default_page_kb

    def hugepages(self):
        h, p = self.host, self.p
        if p.flag("eal.no-huge"):
            return
        kb = self.page_kb()
        hp = h.hugepages.get(kb)
        label = "hugepages-%dkB" % kb
        d = p.get("eal.huge-dir")
        if d and not any(m.path == d for m in h.mounts):
            self.add(PROBLEM, "huge-dir %s is not a hugetlbfs mount" % d,
                     "mkdir -p %s && mount -t hugetlbfs -o pagesize=%dM nodev %s" % (
                         d, kb // 1024, d))
        elif not d and not h.mount_for(kb):
            self.add(PROBLEM, "no hugetlbfs mount with %d kB pages" % kb,
                     "mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages")
        want = {}
        if p.get("eal.socket-memory"):
            for n, v in enumerate(p.get("eal.socket-memory").split(",")):
                if int(v or 0):
                    want[n] = int(v)
        elif p.get("eal.memory"):
            want[None] = int(p.get("eal.memory"))
        if not want and (hp is None or hp.total == 0):
            self.add(PROBLEM, "no %d kB hugepages reserved and the profile does not say no-huge"
                     % kb, "echo 512 > /sys/kernel/mm/hugepages/%s/nr_hugepages" % label,
                     "or set no-huge = true in the profile")
        for n, mib in sorted(want.items(), key=lambda x: -1 if x[0] is None else x[0]):
            pages = -(-mib * 1024 // kb)
            if n is not None and n not in h.nodes:
                self.add(PROBLEM, "socket-memory asks for %d MiB on node %d; this host has "
                         "node(s) %s" % (mib, n, format_cpulist(h.nodes)),
                         "give one value per node in socket-memory")
                continue
            free = (hp.free if n is None else hp.free_per_node.get(n, 0)) if hp else 0
            if free >= pages:
                continue
            node = n if n is not None else min(h.nodes)
            total = hp.per_node.get(node, 0) if hp else 0
            self.add(PROBLEM, "%s %d MiB of hugepages, but %s has %d free %d kB pages (%d MiB); "
                     "%d are needed" % ("socket-memory asks for" if n is not None else
                                        "memory asks for", mib, "node %d" % n if n is not None
                                        else "the host", free, kb, free * kb // 1024, pages),
                     "echo %d > /sys/devices/system/node/node%d/hugepages/%s/nr_hugepages"
                     % (total + pages - free, node, label))


def check(host: Host, prof: Profile) -> List[Finding]:
    c = _Check(host, prof)
    c.lcores()
    c.pci()
    c.vdevs()
    c.ports()
    c.hugepages()
    return c.out


def report(findings: List[Finding], path: str) -> str:
    lines = []
    for f in findings:
        lines.append("%s: %s: %s" % (path, f.severity, f.what))
        lines += ["    fix: " + x for x in f.fixes]
    problems = sum(f.severity == PROBLEM for f in findings)
    warnings = len(findings) - problems
    if findings:
        lines.append("%s: %d problem(s), %d warning(s)" % (path, problems, warnings))
    else:
        lines.append("%s: ok: the profile fits this host" % path)
    return "\n".join(lines) + "\n"
