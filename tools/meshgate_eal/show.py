"""`show`: what meshgate-eal sees on a host, as text or JSON."""

import json
from dataclasses import asdict

from .host import Host, format_cpulist
from .plan import spare_nics, virtual_candidates, cores_of


def as_dict(host: Host) -> dict:
    d = asdict(host)
    d["cpus"] = {str(k): v for k, v in d["cpus"].items()}
    d["nodes"] = {str(k): v for k, v in d["nodes"].items()}
    d["hugepages"] = {str(k): v for k, v in d["hugepages"].items()}
    d["spare_nics"] = [n.addr for n in spare_nics(host)]
    d["virtual_candidates"] = sorted(n.name for n in virtual_candidates(host))
    return d


def show_json(host: Host) -> str:
    return json.dumps(as_dict(host), indent=2, sort_keys=True) + "\n"


def _size(kb: int) -> str:
    return "%dG" % (kb // 1048576) if kb >= 1048576 else "%dM" % (kb // 1024)


def show_text(host: Host) -> str:
    o = []
    online = host.online()
    cores = cores_of(host)
    smt = [c for c in cores if len(c.cpus) > 1]
    o.append("host root: %s" % host.root)
    o.append("cpus: %d online (%s), %d physical cores%s" % (
        len(online), format_cpulist(online), len(cores),
        ", SMT: %d threads per core" % max(len(c.cpus) for c in smt) if smt else ", no SMT"))
    offline = sorted(c for c, cpu in host.cpus.items() if not cpu.online)
    if offline:
        o.append("  offline: %s" % format_cpulist(offline))
    o.append("  isolated: %s" % (format_cpulist(host.isolated()) or "none"))
    for n, cpus in sorted(host.nodes.items()):
        o.append("node %d: cpus %s" % (n, format_cpulist(cpus)))
        for c in cores:
            if c.node == n and len(c.cpus) > 1 and len(o) < 200:
                o.append("  core %s: SMT siblings %s" % (
                    host.cpus[c.cpus[0]].core, format_cpulist(c.cpus)))
    o.append("hugepages (default %s):" % _size(host.default_page_kb))
    for kb, hp in sorted(host.hugepages.items()):
        nodes = ", ".join("node %d: %d (%d free)" % (n, hp.per_node[n], hp.free_per_node.get(n, 0))
                          for n in sorted(hp.per_node))
        o.append("  %s: %d reserved, %d free; %s" % (_size(kb), hp.total, hp.free, nodes))
    for m in host.mounts:
        o.append("  hugetlbfs %s: %s pages" % (m.path, _size(m.page_kb)))
    o.append("iommu: %s%s" % ("on" if host.iommu else "off",
                              ", vfio no-IOMMU mode on" if host.noiommu else ""))
    o.append("nics:")
    for n in host.nics:
        o.append("  %s %s:%s driver %s, node %s, link %s, %s%s%s" % (
            n.addr, n.vendor, n.device, n.driver or "(none)",
            n.node if n.node is not None else "-", n.link,
            "bound to %s" % n.driver if n.dpdk_ready else "not bound to vfio-pci",
            ", netdev %s" % ",".join(n.netdevs) if n.netdevs else "",
            ", in use by the host" if n.in_use else ""))
    if not host.nics:
        o.append("  none")
    spare = spare_nics(host)
    o.append("spare nics: %s" % (" ".join(n.addr for n in spare) or "none"))
    o.append("interfaces:")
    for d in sorted(host.netdevs.values(), key=lambda d: d.ifindex):
        o.append("  %s: %s, %s, %d queue(s)%s%s" % (
            d.name, d.kind, d.operstate, d.queues, ", pci %s" % d.pci if d.pci else "",
            ", has host addresses" if d.addressed else ""))
    cands = sorted(d.name for d in virtual_candidates(host))
    o.append("veth/tap candidates: %s" % (" ".join(cands) or "none"))
    return "\n".join(o) + "\n"
