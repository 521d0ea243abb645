"""What meshgate-eal knows about a host: CPUs, NUMA nodes, hugepages, NICs and interfaces.

Every read goes through `root`, so the same code reads the running host (root "/") or a
recorded sysfs/procfs tree (tests/data/hosts). Only files that Linux exposes to an
unprivileged reader are used, and a missing file means "not there", never an error: VMs and
containers leave out whole directories (no node*/, no iommu_groups).
"""

import os
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional

# Drivers through which DPDK owns a PCI NIC. vfio-pci is the one we recommend.
DPDK_DRIVERS = ("vfio-pci", "uio_pci_generic", "igb_uio")
# Kernel drivers that DPDK shares the NIC with (bifurcated): no binding needed.
BIFURCATED_DRIVERS = ("mlx5_core", "mlx4_core")

PCI_ADDR = re.compile(r"^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$")
SHORT_PCI_ADDR = re.compile(r"^[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$")

ARPHRD_ETHER = 1
ARPHRD_LOOPBACK = 772
IFF_TUN = 0x0001
IFF_TAP = 0x0002


def parse_cpulist(text: str) -> List[int]:
    """'0-3,8,10-11' -> [0, 1, 2, 3, 8, 10, 11]; '' -> []."""
    out = set()
    for item in text.strip().split(","):
        item = item.strip()
        if not item:
            continue
        lo, _, hi = item.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return sorted(out)


def format_cpulist(cpus) -> str:
    """[0, 1, 2, 5, 7, 8] -> '0-2,5,7-8'."""
    cpus = sorted(set(cpus))
    parts = []
    i = 0
    while i < len(cpus):
        j = i
        while j + 1 < len(cpus) and cpus[j + 1] == cpus[j] + 1:
            j += 1
        parts.append(str(cpus[i]) if i == j else "%d-%d" % (cpus[i], cpus[j]))
        i = j + 1
    return ",".join(parts)


def normalize_pci(addr: str) -> Optional[str]:
    """'03:00.0' or '0000:03:00.0' -> '0000:03:00.0'; anything else -> None."""
    if PCI_ADDR.match(addr):
        return addr.lower()
    if SHORT_PCI_ADDR.match(addr):
        return "0000:" + addr.lower()
    return None


@dataclass
class Cpu:
    id: int
    online: bool
    core: Optional[int] = None  # topology/core_id
    package: Optional[int] = None  # topology/physical_package_id
    node: int = 0
    siblings: List[int] = field(default_factory=list)  # SMT threads of its core, itself included
    isolated: bool = False


@dataclass
class HugePages:
    size_kb: int
    total: int = 0
    free: int = 0
    per_node: Dict[int, int] = field(default_factory=dict)  # node -> nr_hugepages
    free_per_node: Dict[int, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return "hugepages-%dkB" % self.size_kb


@dataclass
class Netdev:
    name: str
    ifindex: int
    iflink: int
    type: int
    kind: str  # nic, veth, tap, tun, loopback, bridge, bond, virtual, or a uevent DEVTYPE
    operstate: str
    queues: int  # RX queues the kernel shows (AF_XDP binds to them)
    addressed: bool  # carries an IPv4 route or a global IPv6 address: the host uses it
    pci: Optional[str] = None

    @property
    def ethernet(self) -> bool:
        return self.type == ARPHRD_ETHER


@dataclass
class Nic:
    addr: str
    vendor: str
    device: str
    driver: Optional[str]
    node: Optional[int]  # None: the kernel does not know (numa_node -1)
    netdevs: List[str]
    link: str  # operstate of its netdev; "unknown" while DPDK owns it
    iommu_group: Optional[str]
    in_use: bool  # its netdev carries the host's addresses: never a candidate

    @property
    def dpdk_ready(self) -> bool:
        return self.driver in DPDK_DRIVERS or self.driver in BIFURCATED_DRIVERS


@dataclass
class Mount:
    path: str
    page_kb: int


@dataclass
class Host:
    root: str
    cpus: Dict[int, Cpu]
    nodes: Dict[int, List[int]]  # node -> online CPUs
    hugepages: Dict[int, HugePages]  # page size in kB -> counts
    default_page_kb: int
    mounts: List[Mount]
    nics: List[Nic]
    netdevs: Dict[str, Netdev]
    iommu: bool
    noiommu: bool  # vfio's enable_unsafe_noiommu_mode
    loaded_pci_drivers: List[str]

    def online(self) -> List[int]:
        return sorted(c for c, cpu in self.cpus.items() if cpu.online)

    def isolated(self) -> List[int]:
        return sorted(c for c, cpu in self.cpus.items() if cpu.isolated)

    def nic(self, addr: str) -> Optional[Nic]:
        return next((n for n in self.nics if n.addr == addr), None)

    def nic_of_netdev(self, name: str) -> Optional[Nic]:
        return next((n for n in self.nics if name in n.netdevs), None)

    def node_of_nic(self, nic: Nic) -> int:
        return nic.node if nic.node is not None else min(self.nodes)

    def mount_for(self, page_kb: int) -> Optional[Mount]:
        return next((m for m in self.mounts if m.page_kb == page_kb), None)


class _Reader:
    def __init__(self, root: str):
        self.root = root

    def path(self, rel: str) -> str:
        return os.path.join(self.root, rel.lstrip("/"))

    def text(self, rel: str, default: Optional[str] = None) -> Optional[str]:
        try:
            with open(self.path(rel), encoding="utf-8", errors="replace") as f:
                return f.read().strip()
        except OSError:
            return default

    def int(self, rel: str, default: Optional[int] = None) -> Optional[int]:
        t = self.text(rel)
        try:
            return int(t, 0) if t is not None else default
        except ValueError:
            return default

    def listdir(self, rel: str) -> List[str]:
        try:
            return sorted(os.listdir(self.path(rel)))
        except OSError:
            return []

    def exists(self, rel: str) -> bool:
        return os.path.lexists(self.path(rel))

    def link_name(self, rel: str) -> Optional[str]:
        """The last component of a symlink's target (a driver's or group's name)."""
        try:
            return os.path.basename(os.readlink(self.path(rel)))
        except OSError:
            return None


def _numbered(names, prefix):
    out = []
    for n in names:
        m = re.fullmatch(re.escape(prefix) + r"(\d+)", n)
        if m:
            out.append(int(m.group(1)))
    return sorted(out)


def _isolcpus(cmdline: str) -> List[int]:
    """isolcpus=[flags,]list from the kernel command line; flags are words, CPUs are numbers."""
    out = []
    for tok in cmdline.split():
        if tok.startswith("isolcpus="):
            items = [i for i in tok[len("isolcpus="):].split(",") if i and i[0].isdigit()]
            out += parse_cpulist(",".join(items))
    return out


def _read_cpus(r: _Reader) -> Dict[int, Cpu]:
    base = "sys/devices/system/cpu"
    ids = set(_numbered(r.listdir(base), "cpu"))
    online_text = r.text(base + "/online")
    online = set(parse_cpulist(online_text)) if online_text is not None else set(ids)
    ids |= online
    isolated = set(parse_cpulist(r.text(base + "/isolated", "")))
    isolated |= set(_isolcpus(r.text("proc/cmdline", "")))
    cpus = {}
    for c in sorted(ids):
        topo = "%s/cpu%d/topology" % (base, c)
        sib = r.text(topo + "/thread_siblings_list")
        cpus[c] = Cpu(id=c, online=c in online, core=r.int(topo + "/core_id"),
                      package=r.int(topo + "/physical_package_id"),
                      siblings=parse_cpulist(sib) if sib else [c], isolated=c in isolated)
    return cpus


def _read_nodes(r: _Reader, cpus: Dict[int, Cpu]) -> Dict[int, List[int]]:
    base = "sys/devices/system/node"
    nodes = {}
    for n in _numbered(r.listdir(base), "node"):
        nodes[n] = [c for c in parse_cpulist(r.text("%s/node%d/cpulist" % (base, n), ""))
                    if c in cpus]
        for c in nodes[n]:
            cpus[c].node = n
    if not nodes:  # no NUMA information: one node holds everything
        nodes[0] = sorted(cpus)
    return {n: [c for c in cs if cpus[c].online] for n, cs in nodes.items()}


def _read_hugepages(r: _Reader, nodes) -> Dict[int, HugePages]:
    out = {}
    for d in r.listdir("sys/kernel/mm/hugepages"):
        m = re.fullmatch(r"hugepages-(\d+)kB", d)
        if not m:
            continue
        hp = HugePages(size_kb=int(m.group(1)))
        hp.total = r.int("sys/kernel/mm/hugepages/%s/nr_hugepages" % d, 0)
        hp.free = r.int("sys/kernel/mm/hugepages/%s/free_hugepages" % d, hp.total)
        for n in nodes:
            rel = "sys/devices/system/node/node%d/hugepages/%s" % (n, d)
            if r.exists(rel):
                hp.per_node[n] = r.int(rel + "/nr_hugepages", 0)
                hp.free_per_node[n] = r.int(rel + "/free_hugepages", hp.per_node[n])
        if not hp.per_node:  # no per-node counts: the only node has them all
            hp.per_node[min(nodes)] = hp.total
            hp.free_per_node[min(nodes)] = hp.free
        out[hp.size_kb] = hp
    return out


def _page_kb(option: str) -> Optional[int]:
    m = re.fullmatch(r"(\d+)([KMG]?)", option.upper())
    if not m:
        return None
    return int(m.group(1)) * {"": 1 / 1024, "K": 1, "M": 1024, "G": 1024 * 1024}[m.group(2)]


def _read_mounts(r: _Reader, default_kb: int) -> List[Mount]:
    out = []
    for line in (r.text("proc/mounts", "") or "").splitlines():
        f = line.split()
        if len(f) >= 4 and f[2] == "hugetlbfs":
            kb = default_kb
            for opt in f[3].split(","):
                if opt.startswith("pagesize="):
                    kb = int(_page_kb(opt[len("pagesize="):]) or default_kb)
            out.append(Mount(path=f[1], page_kb=kb))
    return out


def _addressed_ifaces(r: _Reader) -> set:
    """Interfaces with an IPv4 route or a global IPv6 address: the host's own links."""
    names = set()
    for line in (r.text("proc/net/route", "") or "").splitlines()[1:]:
        f = line.split()
        if f:
            names.add(f[0])
    for line in (r.text("proc/net/if_inet6", "") or "").splitlines():
        f = line.split()
        if len(f) >= 6 and f[3] == "00":  # scope 00: global
            names.add(f[5])
    return names


def _netdev_kind(r: _Reader, d: str, name: str, dtype: int, ifindex: int, iflink: int) -> str:
    if dtype == ARPHRD_LOOPBACK:
        return "loopback"
    flags = r.int(d + "/tun_flags")
    if flags is not None:
        return "tap" if flags & IFF_TAP else "tun"
    if r.exists(d + "/bridge"):
        return "bridge"
    if r.exists(d + "/bonding"):
        return "bond"
    for line in (r.text(d + "/uevent", "") or "").splitlines():
        if line.startswith("DEVTYPE="):
            return line[len("DEVTYPE="):]
    if r.exists(d + "/device"):
        return "nic"
    if dtype == ARPHRD_ETHER and iflink != ifindex:
        return "veth"  # its link is its peer
    # A dummy, or a veth whose peer in another namespace happens to have the same index.
    return "virtual"


def _read_netdevs(r: _Reader) -> Dict[str, Netdev]:
    addressed = _addressed_ifaces(r)
    out = {}
    for name in r.listdir("sys/class/net"):
        d = "sys/class/net/" + name
        ifindex = r.int(d + "/ifindex")
        if ifindex is None:  # bonding_masters and other plain files
            continue
        iflink = r.int(d + "/iflink", ifindex)
        dtype = r.int(d + "/type", 0)
        queues = len([q for q in r.listdir(d + "/queues") if q.startswith("rx-")])
        out[name] = Netdev(name=name, ifindex=ifindex, iflink=iflink, type=dtype,
                           kind=_netdev_kind(r, d, name, dtype, ifindex, iflink),
                           operstate=r.text(d + "/operstate", "unknown"), queues=queues,
                           addressed=name in addressed)
    return out


def _read_nics(r: _Reader, netdevs: Dict[str, Netdev]) -> List[Nic]:
    base = "sys/bus/pci/devices"
    nics = []
    for addr in r.listdir(base):
        d = base + "/" + addr
        if not (r.text(d + "/class", "") or "").lower().startswith("0x0200"):
            continue  # 0x0200xx: Ethernet controller
        names = r.listdir(d + "/net")
        for sub in r.listdir(d):
            if sub.startswith("virtio"):
                names += r.listdir("%s/%s/net" % (d, sub))
        node = r.int(d + "/numa_node", -1)
        for n in names:
            if n in netdevs:
                netdevs[n].pci = addr
        states = [netdevs[n].operstate for n in names if n in netdevs]
        nics.append(Nic(addr=addr, vendor=r.text(d + "/vendor", "?"),
                        device=r.text(d + "/device", "?"), driver=r.link_name(d + "/driver"),
                        node=None if node is None or node < 0 else node, netdevs=names,
                        link=states[0] if states else "unknown",
                        iommu_group=r.link_name(d + "/iommu_group"),
                        in_use=any(netdevs[n].addressed for n in names if n in netdevs)))
    return nics


def read_host(root: str = "/") -> Host:
    r = _Reader(root)
    cpus = _read_cpus(r)
    nodes = _read_nodes(r, cpus)
    default_kb = 2048
    for line in (r.text("proc/meminfo", "") or "").splitlines():
        if line.startswith("Hugepagesize:"):
            default_kb = int(line.split()[1])
    netdevs = _read_netdevs(r)
    return Host(root=root, cpus=cpus, nodes=nodes, hugepages=_read_hugepages(r, nodes),
                default_page_kb=default_kb, mounts=_read_mounts(r, default_kb),
                nics=_read_nics(r, netdevs), netdevs=netdevs,
                iommu=bool(r.listdir("sys/kernel/iommu_groups")),
                noiommu=(r.text("sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "N")
                         or "N").upper().startswith("Y"),
                loaded_pci_drivers=r.listdir("sys/bus/pci/drivers"))
