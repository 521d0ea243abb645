"""`generate`: the choices a profile makes for a host, each with the reason written beside it.

The rules, in the order they are applied:
  ports    hints first (--inner/--outer: a PCI address or an interface name); otherwise two
           spare NICs (not carrying the host's addresses; ready for DPDK first; a pair on one
           NUMA node first), else two veth/TAP interfaces (lan*/wan* names first);
  node     the outer port's NUMA node: meshgate takes its mbuf pool from there, so every
           packet a worker touches lives on it; virtual ports have no node;
  lcores   one thread per physical core (SMT siblings share a core's execution units); the
           core of CPU 0 is left to the OS when there is room; isolated cores go to workers
           first; the control thread takes a core of its own, never a worker's sibling;
  memory   hugepages on the nodes of the PCI ports (1 GiB pages when they fit); anonymous
           memory (--no-huge) without hugepages or with virtual ports only, which copy every
           frame anyway;
  IOVA     va with an IOMMU or without hugepages, pa without an IOMMU.
"""

import re
from dataclasses import dataclass, field
from typing import List, Optional

from .host import Host, Netdev, Nic, normalize_pci

DEFAULT_MAX_WORKERS = 8  # without isolated CPUs: about 8 x 25 Gbit/s of ChaCha20-Poly1305
MAX_WORKERS = 128  # the profile parser's bound
PORT_MIB = 256  # per PCI port: descriptor rings and queue buffers on the port's node
POOL_MIB = 256  # the gateway's mbuf pool (8191 buffers) and tables, on the outer port's node
VIRTUAL_MIB = 256  # --no-huge memory for virtual ports: both ports' pools with room to spare


class PlanError(Exception):
    pass


@dataclass
class Options:
    workers: Optional[int] = None
    inner: Optional[str] = None
    outer: Optional[str] = None
    vdev_driver: str = "af_packet"  # or af_xdp
    file_prefix: Optional[str] = None
    command: str = "meshgate-eal generate"


@dataclass
class Port:
    role: str  # inner or outer
    nic: Optional[Nic] = None
    netdev: Optional[Netdev] = None
    why: str = ""
    device: str = ""  # DPDK device name, set once both ports are known

    @property
    def label(self) -> str:
        if self.nic:
            nd = " (%s)" % ", ".join(self.nic.netdevs) if self.nic.netdevs else ""
            return self.nic.addr + nd
        return "%s %s" % (self.netdev.kind, self.netdev.name)


@dataclass
class Entry:
    key: str
    value: str
    comment: List[str]


@dataclass
class Plan:
    header: List[str] = field(default_factory=list)
    eal: List[Entry] = field(default_factory=list)
    meshgate: List[Entry] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)


# ---- ports ----------------------------------------------------------------------------------

def _resolve(host: Host, name: str, role: str, vdev_driver: str) -> Port:
    addr = normalize_pci(name)
    if addr:
        nic = host.nic(addr)
        if nic is None:
            raise PlanError("--%s %s: no Ethernet NIC at %s here (meshgate-eal show lists them)"
                            % (role, name, addr))
        return Port(role, nic=nic, why="named by --%s" % role)
    nd = host.netdevs.get(name)
    if nd is None:
        raise PlanError("--%s %s: no NIC or interface of that name here; for an interface in a "
                        "network namespace run meshgate-eal there (ip netns exec NS "
                        "meshgate-eal ...)" % (role, name))
    nic = host.nic_of_netdev(name)
    if nic and vdev_driver != "af_xdp":
        return Port(role, nic=nic, why="named by --%s as %s" % (role, name))
    if nic:  # AF_XDP on a NIC that stays with its kernel driver
        return Port(role, netdev=nd, why="named by --%s; its NIC %s stays with %s"
                    % (role, nic.addr, nic.driver))
    if not nd.ethernet or nd.kind in ("loopback", "tun"):
        raise PlanError("--%s %s: a %s interface carries no Ethernet frames; use a veth or a TAP"
                        % (role, name, nd.kind))
    return Port(role, netdev=nd, why="named by --%s" % role)


def spare_nics(host: Host) -> List[Nic]:
    return sorted((n for n in host.nics if not n.in_use), key=lambda n: (not n.dpdk_ready, n.addr))


def virtual_candidates(host: Host) -> List[Netdev]:
    """Unaddressed veth and TAP interfaces. Dummies and IFBs look alike in sysfs ("virtual"):
    they are taken only when named."""
    return [d for d in host.netdevs.values()
            if d.kind in ("veth", "tap") and d.ethernet and not d.addressed
            and d.pci is None]


def _is_peer(a: Netdev, b: Netdev) -> bool:
    return a.kind == "veth" and b.kind == "veth" and a.iflink == b.ifindex and b.iflink == a.ifindex


_ROLE_NAMES = {"inner": r"^(lan|in)", "outer": r"^(wan|out|ext|inet)"}


def _pick_virtual(cands: List[Netdev], role: str, other: Optional[Port]) -> Optional[Port]:
    if other and other.netdev:
        cands = [d for d in cands if d.name != other.netdev.name and not _is_peer(d, other.netdev)]
    if not cands:
        return None
    cands = sorted(cands, key=lambda d: (not re.match(_ROLE_NAMES[role], d.name), d.name))
    d = cands[0]
    return Port(role, netdev=d, why="a %s without addresses%s" % (
        d.kind, ", named like a %s port" % role if re.match(_ROLE_NAMES[role], d.name) else ""))


def _pick_nic(nics: List[Nic], role: str, other: Optional[Port], host: Host) -> Optional[Port]:
    if other and other.nic:
        nics = [n for n in nics if n is not other.nic]
        same = [n for n in nics if host.node_of_nic(n) == host.node_of_nic(other.nic)]
        nics = same + [n for n in nics if n not in same]
    if not nics:
        return None
    return Port(role, nic=nics[0], why="a spare NIC (no host addresses on it)")


def _auto_pair(host: Host):
    nics = spare_nics(host)
    if len(nics) >= 2:
        pair = next(((a, b) for i, a in enumerate(nics) for b in nics[i + 1:]
                     if host.node_of_nic(a) == host.node_of_nic(b)), (nics[0], nics[1]))
        a, b = sorted(pair, key=lambda n: n.addr)
        why = "spare NICs%s, the lower PCI address inside; name them with --inner/--outer if " \
              "the cabling says otherwise" % (" on one NUMA node" if host.node_of_nic(a) ==
                                              host.node_of_nic(b) else "")
        return Port("inner", nic=a, why=why), Port("outer", nic=b, why=why)
    cands = virtual_candidates(host)
    inner = _pick_virtual(cands, "inner", None)
    outer = _pick_virtual(cands, "outer", inner) if inner else None
    if inner and outer:
        return inner, outer
    raise PlanError(
        "no ports: %d spare NIC(s) (a NIC that carries this host's addresses is never taken) and "
        "%d unused veth/TAP interface(s); make a veth pair per port (ip link add lan0 type veth "
        "peer name lan0-peer) or name the ports with --inner and --outer"
        % (len(nics), len(cands)))


def choose_ports(host: Host, opts: Options):
    inner = _resolve(host, opts.inner, "inner", opts.vdev_driver) if opts.inner else None
    outer = _resolve(host, opts.outer, "outer", opts.vdev_driver) if opts.outer else None
    if inner is None and outer is None:
        inner, outer = _auto_pair(host)
    for role in ("inner", "outer"):
        given = outer if role == "inner" else inner
        if (inner if role == "inner" else outer) is not None:
            continue
        # One port named: the other comes from the same kind (NIC or interface) when it can.
        pick = [lambda: _pick_nic(spare_nics(host), role, given, host),
                lambda: _pick_virtual(virtual_candidates(host), role, given)]
        if given.netdev:
            pick.reverse()
        port = pick[0]() or pick[1]()
        if port is None:
            raise PlanError("no %s port: name it with --%s" % (role, role))
        inner, outer = (port, outer) if role == "inner" else (inner, port)
    same = (inner.nic is not None and inner.nic is outer.nic) or (
        inner.netdev is not None and outer.netdev is not None
        and inner.netdev.name == outer.netdev.name)
    if same:
        raise PlanError("--inner and --outer name the same port (%s)" % inner.label)
    n = 0
    for p in (inner, outer):
        if p.nic:
            p.device = p.nic.addr
        else:
            p.device = "net_%s%d" % (opts.vdev_driver, n)
            n += 1
    return inner, outer


# ---- lcores ---------------------------------------------------------------------------------

@dataclass
class Core:
    cpus: List[int]  # its online SMT threads, ascending
    node: int
    isolated: bool


def cores_of(host: Host) -> List[Core]:
    seen, out = set(), []
    for c in host.online():
        if c in seen:
            continue
        threads = sorted(set(host.cpus[c].siblings) & set(host.online()) | {c})
        seen.update(threads)
        out.append(Core(threads, host.cpus[c].node, all(host.cpus[t].isolated for t in threads)))
    return out


def _assign(pool: List[Core], os_core: Optional[Core], workers: int, allow_os: bool):
    cand = [c for c in pool if c is not os_core]
    ctl_order = [c for c in cand if not c.isolated]
    if allow_os and os_core in pool:
        ctl_order.append(os_core)
    ctl_order += [c for c in cand if c.isolated]
    for ctl in ctl_order:
        rest = [c for c in cand if c is not ctl]
        wk = [c for c in rest if c.isolated] + [c for c in rest if not c.isolated]
        if len(wk) >= workers:
            return ctl, wk[:workers]
    return None


def choose_lcores(host: Host, node: Optional[int], workers: Optional[int], virtual: bool):
    cores = cores_of(host)
    pool = [c for c in cores if node is None or c.node == node] or cores
    os_core = next((c for c in cores if 0 in c.cpus), cores[0])
    spare = [c for c in pool if c is not os_core]
    iso = [c for c in spare if c.isolated]
    if workers is None:
        if virtual:
            workers = 1
        elif iso:
            workers = len(iso) - (0 if any(not c.isolated for c in spare) else 1)
        else:
            workers = min(DEFAULT_MAX_WORKERS, len(spare) - 1)
        workers = max(1, min(workers, MAX_WORKERS))
    got = _assign(pool, os_core, workers, False) or _assign(pool, os_core, workers, True)
    if got is None:
        where = "on node %d " % node if node is not None else ""
        raise PlanError("%d worker(s) and the control thread need %d physical cores %s; this host "
                        "has %d there (SMT siblings do not count: a worker and its sibling share "
                        "one core); ask for fewer with --workers"
                        % (workers, workers + 1, where, len(pool)))
    ctl, wk = got
    return ctl, wk, os_core
