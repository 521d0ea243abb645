"""`generate`: turns the choices of plan.py into profile entries, each with its reason."""

import textwrap
from typing import Dict, List, Optional, Tuple

from .host import Host, format_cpulist
from .plan import (POOL_MIB, PORT_MIB, VIRTUAL_MIB, Entry, Options, Plan, PlanError, Port,
                   choose_lcores, choose_ports)


def _mib(kb: int) -> int:
    return max(1, kb // 1024)


def _size_name(kb: int) -> str:
    return "%d GiB" % (kb // 1048576) if kb >= 1048576 else "%d MiB" % (kb // 1024)


def _summary(host: Host) -> str:
    cores = len({tuple(host.cpus[c].siblings) for c in host.online()})
    hp = ", ".join("%d x %s" % (h.total, _size_name(h.size_kb))
                   for h in sorted(host.hugepages.values(), key=lambda h: h.size_kb) if h.total)
    return ("%d CPUs online on %d cores, NUMA node(s) %s, isolated %s, hugepages %s, IOMMU %s"
            % (len(host.online()), cores, format_cpulist(host.nodes), format_cpulist(
                host.isolated()) or "none", hp or "none", "on" if host.iommu else "off"))


def _memory_need(host: Host, inner: Port, outer: Port, worker_node: int) -> Dict[int, int]:
    need: Dict[int, int] = {}
    for p in (inner, outer):
        if p.nic:
            n = host.node_of_nic(p.nic)
            need[n] = need.get(n, 0) + PORT_MIB
    pool = host.node_of_nic(outer.nic) if outer.nic else worker_node
    need[pool] = need.get(pool, 0) + POOL_MIB
    return need


def _page_size(host: Host, need: Dict[int, int]) -> Tuple[Optional[int], List[str]]:
    """The largest page size whose free pages cover `need` on every node, else the size with
    the most free memory and the commands that reserve the rest."""
    sizes = sorted((h for h in host.hugepages.values() if h.total), key=lambda h: -h.size_kb)
    if not sizes:
        return None, []
    for h in sizes:
        if all(h.free_per_node.get(n, 0) * h.size_kb >= mib * 1024 for n, mib in need.items()):
            return h.size_kb, []
    h = max(sizes, key=lambda h: h.free * h.size_kb)
    fixes = []
    for n, mib in sorted(need.items()):
        pages = -(-mib * 1024 // h.size_kb)
        free = h.free_per_node.get(n, 0)
        if free < pages:
            fixes.append("echo %d > /sys/devices/system/node/node%d/hugepages/%s/nr_hugepages"
                         % (h.per_node.get(n, 0) - free + pages, n, h.label))
    return h.size_kb, fixes


def _memory_entries(host: Host, plan: Plan, inner: Port, outer: Port, worker_node: int):
    """Returns whether hugepages are used."""
    if not (inner.nic or outer.nic):
        plan.eal.append(Entry("no-huge", "true", [
            "Virtual ports only: AF_PACKET/AF_XDP copy every frame, no device DMAs into our",
            "buffers, so hugepages would buy nothing; anonymous memory leaves them to others."]))
        plan.eal.append(Entry("memory", str(VIRTUAL_MIB), [
            "%d MiB holds the mbuf pool (8191 buffers), rings and tables with room to spare."
            % VIRTUAL_MIB]))
        return False
    need = _memory_need(host, inner, outer, worker_node)
    page_kb, fixes = _page_size(host, need)
    if page_kb is None:
        plan.warnings.append("no hugepages reserved: the profile uses --no-huge; reserve them "
                             "(echo 512 > /sys/kernel/mm/hugepages/hugepages-2048kB/"
                             "nr_hugepages) and generate again for full speed")
        plan.eal.append(Entry("no-huge", "true", [
            "No hugepages are reserved on this host, so anonymous memory; NIC DMA then goes",
            "through the IOMMU page by page. Reserve hugepages and generate again for speed."]))
        plan.eal.append(Entry("memory", str(PORT_MIB + POOL_MIB + PORT_MIB),
                              ["Ports' rings, the mbuf pool and tables."]))
        return False
    page_mib = _mib(page_kb)
    per_node = ["0"] * (max(max(need), max(host.nodes)) + 1)
    for n, mib in need.items():
        per_node[n] = str(-(-mib // page_mib) * page_mib)
    used = ", ".join("node %d: %s MiB" % (n, per_node[n]) for n in sorted(need))
    comment = ["Hugepage memory per NUMA node (%s): %d MiB per PCI port on its node for" % (
        used, PORT_MIB), "descriptor rings, %d MiB on the outer port's node for the mbuf pool;"
        % POOL_MIB, "in %s pages, rounded up to whole pages." % _size_name(page_kb)]
    if fixes:
        comment.append("Too few free pages: " + "; ".join(fixes))
        plan.warnings.append("too few free %s hugepages: %s" % (_size_name(page_kb),
                                                               "; ".join(fixes)))
    plan.eal.append(Entry("socket-memory", ",".join(per_node), comment))
    mount = host.mount_for(page_kb)
    if mount:
        plan.eal.append(Entry("huge-dir", mount.path, [
            "The hugetlbfs mount with %s pages." % _size_name(page_kb)]))
    else:
        plan.warnings.append("no hugetlbfs mount with %s pages: mkdir -p /dev/hugepages%s && "
                             "mount -t hugetlbfs -o pagesize=%dM nodev /dev/hugepages%s"
                             % (_size_name(page_kb), page_mib, page_mib, page_mib))
    return True


def _port_entries(host: Host, plan: Plan, ports, workers: int, opts: Options):
    if not any(p.nic for p in ports):
        plan.eal.append(Entry("no-pci", "true", ["Every port is virtual: leave the host's PCI "
                                                 "devices alone."]))
    for p in ports:
        if p.nic:
            nic = p.nic
            state = "ready (%s)" % nic.driver if nic.dpdk_ready else \
                "still on its kernel driver %s: dpdk-devbind.py -b vfio-pci %s" % (
                    nic.driver or "(none)", nic.addr)
            if not nic.dpdk_ready:
                plan.warnings.append("%s is %s" % (nic.addr, state))
            if nic.in_use:
                plan.warnings.append("%s carries this host's addresses: binding it to vfio-pci "
                                     "cuts the host off that network" % p.label)
            plan.eal.append(Entry("allow", nic.addr, [
                "%s port: NIC %s on NUMA node %s, %s; %s." % (
                    p.role.capitalize(), p.label, host.node_of_nic(nic), p.why, state)]))
            continue
        nd = p.netdev
        if opts.vdev_driver == "af_xdp" and nd.kind != "nic":
            value = "%s,iface=%s,start_queue=0,queue_count=1" % (p.device, nd.name)
            why = ["AF_XDP on a %s: it offers one queue pair, so one worker polls it and meshgate" % nd.kind,
                   "relays the control thread's frames through worker 0 (no TX queue to spare)."]
            if workers > 1:
                plan.warnings.append(
                    "%s is a %s: one AF_XDP queue pair feeds one worker, not %d; use "
                    "--workers 1 or --vdev-driver af_packet" % (nd.name, nd.kind, workers))
        elif opts.vdev_driver == "af_xdp":
            value = "%s,iface=%s,start_queue=0,queue_count=%d" % (p.device, nd.name, workers + 1)
            why = ["AF_XDP: queue_count = workers + 1, one TX queue per worker and one for",
                   "the control thread; the interface needs that many queues."]
            if nd.queues < workers + 1:
                fix = "ethtool -L %s rx %d tx %d" % (nd.name, workers + 1, workers + 1)
                why.append("It has %d now: %s." % (nd.queues, fix))
                plan.warnings.append("%s has %d queue(s), AF_XDP needs %d: %s"
                                     % (nd.name, nd.queues, workers + 1, fix))
        else:
            value = "%s,iface=%s,qpairs=%d" % (p.device, nd.name, workers + 1)
            why = ["qpairs = workers + 1: one TX queue per worker and one for the control",
                   "thread (no TX queue is shared); meshgate polls every AF_PACKET socket."]
        plan.eal.append(Entry("vdev", value, ["%s port: %s, %s." % (
            p.role.capitalize(), p.label, p.why)] + why))


def _iova(host: Host, huge: bool, pci: bool) -> Entry:
    if not huge:
        return Entry("iova-mode", "va", ["Without hugepages there are no physical addresses to "
                                         "hand out; virtual ones are IOVA."])
    if not pci:
        return Entry("iova-mode", "va", ["No device DMAs; virtual addresses as IOVA."])
    if host.iommu:
        return Entry("iova-mode", "va", ["The IOMMU translates: virtual addresses as IOVA, "
                                         "vfio-pci maps them for the NIC."])
    return Entry("iova-mode", "pa", [
        "No IOMMU: the NICs DMA to physical addresses (vfio-pci needs",
        "enable_unsafe_noiommu_mode, or use uio_pci_generic)."])


def build_plan(host: Host, opts: Options) -> Plan:
    if opts.workers is not None and not 1 <= opts.workers <= 128:
        raise PlanError("--workers %d: expected 1..128" % opts.workers)
    inner, outer = choose_ports(host, opts)
    ports = (inner, outer)
    pci = any(p.nic for p in ports)
    virtual = not pci
    node = host.node_of_nic(outer.nic) if outer.nic else (
        host.node_of_nic(inner.nic) if inner.nic else None)
    ctl, wk, os_core = choose_lcores(host, node, opts.workers, virtual)
    workers = len(wk)
    worker_cpus = [c.cpus[0] for c in wk]
    shares_os = ctl is os_core
    plan = Plan()
    plan.header = ["meshgate EAL profile for this host, written by: " + opts.command,
                   "Host: " + _summary(host) + ".",
                   "Check it on the host it is for with: meshgate-eal check FILE"]

    lcores = [ctl.cpus[0]] + worker_cpus
    node_txt = " on NUMA node %d, the outer port's: the mbuf pool lives there" % node \
        if node is not None else ""
    left = [c for c in ctl.cpus[1:]] + [t for c in wk for t in c.cpus[1:]]
    comment = ["Control thread on %d, workers on %s%s." % (ctl.cpus[0], format_cpulist(
        worker_cpus), node_txt)]
    if left:
        comment += ["One thread per physical core: the SMT siblings %s stay idle, as a sibling"
                    % format_cpulist(left), "shares its core's execution units with the worker."]
    else:
        comment.append("No SMT siblings among them: each lcore has a physical core to itself.")
    if inner.nic and outer.nic and host.node_of_nic(inner.nic) != node:
        comment.append("The inner port is on node %d: its frames cross the interconnect; ports on "
                       "one node avoid that." % host.node_of_nic(inner.nic))
    if shares_os:
        comment.append("Too few cores to leave CPU 0 to the OS: the control thread shares it.")
    elif os_core.cpus and os_core.cpus[0] not in lcores:
        comment.append("CPU %s stay%s with the OS." % (format_cpulist(os_core.cpus),
                                                       "s" if len(os_core.cpus) == 1 else ""))
    iso = [c for c in worker_cpus if host.cpus[c].isolated]
    if iso:
        comment.append("Workers on isolated CPUs (%s): the scheduler keeps other tasks off them."
                       % format_cpulist(iso))
    plan.eal.append(Entry("lcores", format_cpulist(lcores), comment))
    plan.eal.append(Entry("main-lcore", str(ctl.cpus[0]), [
        "The main lcore runs the control thread: handshakes, timers, ARP/ND; not a worker's",
        "sibling, so a handshake flood does not slow the data path."]))
    huge = _memory_entries(host, plan, inner, outer, node if node is not None else 0)
    if opts.file_prefix:
        plan.eal.append(Entry("file-prefix", opts.file_prefix, [
            "Runtime files under /var/run/dpdk/%s (--file-prefix)." % opts.file_prefix]))
    elif pci:
        prefix = "mg-" + inner.nic.addr.replace(":", "-") if inner.nic else "mg-" + \
            outer.nic.addr.replace(":", "-")
        plan.eal.append(Entry("file-prefix", prefix, [
            "Runtime files under /var/run/dpdk/%s: named after the NIC, which only one" % prefix,
            "gateway can own, so gateways on one host never share them."]))
    else:
        plan.header.append("No file-prefix: meshgate then uses meshgate-<tunnel>, so gateways in "
                           "several namespaces can share this file.")
    plan.eal.append(_iova(host, huge, pci))
    _port_entries(host, plan, ports, workers, opts)
    plan.eal.append(Entry("log-level", "lib.eal:notice", ["EAL notices and worse only."]))

    m = plan.meshgate
    for p in ports:
        m.append(Entry(p.role, p.device, ["%s port by device name: port ids follow the probe "
                                          "order, names do not." % p.role.capitalize()]))
    m.append(Entry("workers", str(workers), [
        "One worker per physical core chosen above%s." % (
            " (--workers)" if opts.workers else "")]))
    m.append(Entry("queues", str(workers), ["One RX queue per worker on each port (RSS spreads "
                                            "flows over them)."]))
    m.append(Entry("worker-queues", ",".join("%d:%d" % (c, i) for i, c in enumerate(worker_cpus)),
                   ["Worker lcore:queue; worker i polls queue i of both ports."]))
    backoff = virtual or shares_os
    m.append(Entry("idle-backoff", "true" if backoff else "false", [
        "Yield the CPU when idle: %s." % ("a development host shares its cores with other "
                                          "processes" if virtual else
                                          "the control thread shares CPU 0 with the OS")
        if backoff else "Busy-poll: the workers' cores belong to meshgate alone."]))
    return plan


def _comment(lines: List[str]) -> List[str]:
    """The comment lines as sentences wrapped at 99 columns."""
    return textwrap.wrap(" ".join(lines), width=99, initial_indent="# ", subsequent_indent="# ",
                         break_on_hyphens=False, break_long_words=False)


def render(plan: Plan) -> str:
    out = []
    for h in plan.header:
        out += _comment([h])
    for section, entries in (("eal", plan.eal), ("meshgate", plan.meshgate)):
        out += ["", "[%s]" % section]
        for e in entries:
            out += _comment(e.comment)
            out.append("%s = %s" % (e.key, e.value))
    return "\n".join(out) + "\n"


__all__ = ["Options", "PlanError", "build_plan", "render"]
