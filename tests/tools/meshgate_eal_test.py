#!/usr/bin/env python3
"""meshgate-eal on recorded hosts (tests/data/hosts/*.host, built into sysfs/procfs trees by
hosttree.py): the profile each host gets, the findings of `check`, what `show` sees. Every
generated profile is also loaded by meshgate's own parser (`meshgate --check-config`). TAP."""

import base64
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("MG_ROOT", os.path.normpath(os.path.join(HERE, "../..")))
MG_BIN = os.environ.get("MG_BIN")
TOOL = os.path.join(ROOT, "tools", "meshgate-eal")
HOSTS = os.path.join(ROOT, "tests", "data", "hosts")
sys.path.insert(0, HERE)
import hosttree  # noqa: E402

WORK = tempfile.mkdtemp(prefix="meshgate-eal-test.")
n = failed = 0


def tap(ok, name, detail=""):
    global n, failed
    n += 1
    failed += not ok
    print("%s %d - %s" % ("ok" if ok else "not ok", n, name))
    if not ok and detail:
        print("".join("#   %s\n" % line for line in detail.splitlines()), end="")


def root(host):
    d = os.path.join(WORK, host)
    if not os.path.isdir(d):
        hosttree.build(os.path.join(HOSTS, host + ".host"), d)
    return d


def tool(host, *args):
    r = subprocess.run([sys.executable, TOOL, "--root", root(host)] + list(args),
                       capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def key_lines(text):
    """'[section] key = value' for every setting, comments and blank lines dropped."""
    out, section = [], ""
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("["):
            section = line
        elif line:
            out.append("%s %s" % (section, line))
    return out


def meshgate_loads(profile_path, ports=""):
    """meshgate's own parser and settings merge accept the profile. `ports` adds [Gateway]
    lines for a profile that leaves the ports to the config (tunbench's makes its own)."""
    if not MG_BIN:
        return True, "MG_BIN not set: parser check skipped"
    conf = os.path.join(WORK, "check.conf")
    with open(conf, "w") as f:
        f.write("[Interface]\nPrivateKey = %s\nListenPort = 51820\n[Peer]\nPublicKey = %s\n"
                "AllowedIPs = 10.2.0.0/24\n[Gateway]\nInnerAddress = 10.1.0.1/24\n"
                "OuterAddress = 198.51.100.2/24\n%sProfile = %s\n"
                % (base64.b64encode(os.urandom(32)).decode(),
                   base64.b64encode(os.urandom(32)).decode(), ports, profile_path))
    r = subprocess.run([MG_BIN, "--check-config", conf], capture_output=True, text=True)
    return r.returncode == 0 and ": ok (" in r.stdout, r.stdout + r.stderr


# ---- generate: the whole set of settings each recorded host gets ---------------------------

E, M = "[eal]", "[meshgate]"
GENERATE = [
    ("vm-2core", [], [
        E + " lcores = 0-1", E + " main-lcore = 0", E + " no-huge = true", E + " memory = 256",
        E + " iova-mode = va", E + " no-pci = true",
        E + " vdev = net_af_packet0,iface=lan0,qpairs=2",
        E + " vdev = net_af_packet1,iface=wan0,qpairs=2", E + " log-level = lib.eal:notice",
        M + " inner = net_af_packet0", M + " outer = net_af_packet1", M + " workers = 1",
        M + " queues = 1", M + " worker-queues = 1:0", M + " idle-backoff = true"]),
    ("vm-2core", ["--vdev-driver", "af_xdp"], [
        E + " lcores = 0-1", E + " main-lcore = 0", E + " no-huge = true", E + " memory = 256",
        E + " iova-mode = va", E + " no-pci = true",
        E + " vdev = net_af_xdp0,iface=lan0,start_queue=0,queue_count=1",
        E + " vdev = net_af_xdp1,iface=wan0,start_queue=0,queue_count=1",
        E + " log-level = lib.eal:notice", M + " inner = net_af_xdp0", M + " outer = net_af_xdp1",
        M + " workers = 1", M + " queues = 1", M + " worker-queues = 1:0",
        M + " idle-backoff = true"]),
    ("server-2s64c", [], [
        E + " lcores = 32-40", E + " main-lcore = 32", E + " socket-memory = 1024,1024",
        E + " huge-dir = /dev/hugepages1G", E + " file-prefix = mg-0000-17-00.0",
        E + " iova-mode = va", E + " allow = 0000:17:00.0", E + " allow = 0000:b1:00.0",
        E + " log-level = lib.eal:notice", M + " inner = 0000:17:00.0",
        M + " outer = 0000:b1:00.0", M + " workers = 8", M + " queues = 8",
        M + " worker-queues = 33:0,34:1,35:2,36:3,37:4,38:5,39:6,40:7",
        M + " idle-backoff = false"]),
    # The cabling the other way round: workers follow the outer port to node 0, CPU 0 stays
    # with the OS.
    ("server-2s64c", ["--inner", "0000:b1:00.0", "--outer", "17:00.0", "--workers", "4",
                      "--file-prefix", "gw1"], [
        E + " lcores = 1-5", E + " main-lcore = 1", E + " socket-memory = 1024,1024",
        E + " huge-dir = /dev/hugepages1G", E + " file-prefix = gw1", E + " iova-mode = va",
        E + " allow = 0000:b1:00.0", E + " allow = 0000:17:00.0",
        E + " log-level = lib.eal:notice", M + " inner = 0000:b1:00.0",
        M + " outer = 0000:17:00.0", M + " workers = 4", M + " queues = 4",
        M + " worker-queues = 2:0,3:1,4:2,5:3", M + " idle-backoff = false"]),
    ("ht-isolated", [], [
        E + " lcores = 1-7", E + " main-lcore = 1", E + " socket-memory = 768",
        E + " huge-dir = /dev/hugepages", E + " file-prefix = mg-0000-3b-00.0",
        E + " iova-mode = va", E + " allow = 0000:3b:00.0", E + " allow = 0000:3b:00.1",
        E + " log-level = lib.eal:notice", M + " inner = 0000:3b:00.0",
        M + " outer = 0000:3b:00.1", M + " workers = 6", M + " queues = 6",
        M + " worker-queues = 2:0,3:1,4:2,5:3,6:4,7:5", M + " idle-backoff = false"]),
    # AF_XDP on the NICs' kernel netdevs: no binding, 4 channels each; like every virtual
    # device, one worker unless --workers says otherwise.
    ("kernel-driver", ["--vdev-driver", "af_xdp", "--inner", "enp3s0f0", "--outer", "enp3s0f1"], [
        E + " lcores = 1-2", E + " main-lcore = 1", E + " no-huge = true", E + " memory = 256",
        E + " iova-mode = va", E + " no-pci = true",
        E + " vdev = net_af_xdp0,iface=enp3s0f0,start_queue=0,queue_count=2",
        E + " vdev = net_af_xdp1,iface=enp3s0f1,start_queue=0,queue_count=2",
        E + " log-level = lib.eal:notice", M + " inner = net_af_xdp0", M + " outer = net_af_xdp1",
        M + " workers = 1", M + " queues = 1", M + " worker-queues = 2:0",
        M + " idle-backoff = true"]),
    ("kernel-driver", [], [
        E + " lcores = 1-3", E + " main-lcore = 1", E + " socket-memory = 768",
        E + " huge-dir = /dev/hugepages", E + " file-prefix = mg-0000-03-00.0",
        E + " iova-mode = pa", E + " allow = 0000:03:00.0", E + " allow = 0000:03:00.1",
        E + " log-level = lib.eal:notice", M + " inner = 0000:03:00.0",
        M + " outer = 0000:03:00.1", M + " workers = 2", M + " queues = 2",
        M + " worker-queues = 2:0,3:1", M + " idle-backoff = false"]),
]

# Hints that cannot be met: the message says why.
GENERATE_ERRORS = [
    ("vm-2core", ["--workers", "2"], "2 worker(s) and the control thread need 3 physical cores"),
    ("server-2s64c", ["--workers", "32"], "need 33 physical cores on node 1"),
    ("vm-2core", ["--inner", "eth0"], None),  # eth0 is the VM's NIC: allowed when named
    ("vm-2core", ["--inner", "lan9"], "--inner lan9: no NIC or interface of that name"),
    ("vm-2core", ["--inner", "lan0", "--outer", "lan0"], "name the same port"),
    ("kernel-driver", [], None),
]

# ---- check: the findings on hand-written and generated profiles ----------------------------

CHECK = [
    ("ht-isolated", os.path.join(HOSTS, "ht-isolated-bad.profile"), 1, [
        "problem: lcore 20 does not exist on this host (CPUs 0-15)",
        "problem: worker lcore 9 is an SMT sibling of the control thread's lcore 1",
        "fix: move the worker to a core of its own: lcore 4",
        "problem: socket-memory asks for 4096 MiB of hugepages, but node 0 has 1024 free",
        "fix: echo 2048 > /sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages",
        "3 problem(s), 0 warning(s)"]),
    ("kernel-driver", "generated", 1, [
        "problem: NIC 0000:03:00.0 (enp3s0f0, link up) is on its kernel driver ixgbe",
        "fix: ip link set enp3s0f0 down", "fix: modprobe vfio-pci",
        "fix: echo 1 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode",
        "fix: dpdk-devbind.py -b vfio-pci 0000:03:00.0",
        "problem: NIC 0000:03:00.1 (enp3s0f1, link down) is on its kernel driver ixgbe",
        "fix: dpdk-devbind.py -b vfio-pci 0000:03:00.1", "2 problem(s), 0 warning(s)"]),
    ("kernel-driver", os.path.join(ROOT, "dpdk-configs", "veth-af-packet.profile"), 1, [
        "problem: net_af_packet0: interface lan0 does not exist here",
        "fix: ip link add lan0 type veth peer name lan0-peer && ip link set lan0 up",
        "problem: net_af_packet1: interface wan0 does not exist here"]),
    ("vm-2core", os.path.join(ROOT, "dpdk-configs", "veth-af-packet.profile"), 0,
     ["ok: the profile fits this host"]),
    ("vm-2core", "generated --vdev-driver af_xdp", 0, ["ok: the profile fits this host"]),
    ("vm-2core", os.path.join(ROOT, "dpdk-configs", "veth-af-xdp.profile"), 0,
     ["ok: the profile fits this host"]),
    ("server-2s64c", "generated", 0, ["ok: the profile fits this host"]),
    ("ht-isolated", "generated", 0, ["ok: the profile fits this host"]),
    ("vm-2core", "generated", 0, ["ok: the profile fits this host"]),
    ("server-2s64c", os.path.join(ROOT, "dpdk-configs", "server-two-nic.profile"), 0,
     ["ok: the profile fits this host"]),
]

SHOW = [
    ("vm-2core", ["cpus: 2 online (0-1), 2 physical cores, no SMT",
                  "driver virtio-pci, node -, link up, not bound to vfio-pci, netdev eth0, in "
                  "use by the host", "spare nics: none",
                  "veth/tap candidates: lan0 lan0-peer wan0 wan0-peer", "iommu: off"]),
    ("server-2s64c", ["node 1: cpus 32-63", "1G: 8 reserved, 8 free; node 0: 4 (4 free), node "
                      "1: 4 (4 free)", "0000:b1:00.0 0x8086:0x1592 driver vfio-pci, node 1",
                      "spare nics: 0000:17:00.0 0000:b1:00.0", "iommu: on"]),
    ("ht-isolated", ["16 online (0-15), 8 physical cores, SMT: 2 threads per core",
                     "isolated: 2-7,10-15", "core 1: SMT siblings 1,9"]),
    ("kernel-driver", ["0000:03:00.0 0x8086:0x10fb driver ixgbe, node -, link up, not bound "
                       "to vfio-pci, netdev enp3s0f0", "enp3s0f1: nic, down, 4 queue(s)"]),
]


def run_generate():
    for host, args, want in GENERATE:
        name = ("generate %s %s" % (host, " ".join(args))).strip()
        rc, out, err = tool(host, "generate", *args)
        got = key_lines(out)
        tap(rc == 0 and got == want, name, "rc %d\n%s\nwant:\n%s\ngot:\n%s" % (
            rc, err, "\n".join(want), "\n".join(got)))
        path = os.path.join(WORK, "%s-%d.profile" % (host, n))
        with open(path, "w") as f:
            f.write(out)
        ok, detail = meshgate_loads(path)
        tap(ok, name + ": meshgate --check-config loads it", detail)
        setting_lines = [l for l in out.splitlines() if l and not l.startswith(("#", "["))]
        commented = all(out.splitlines()[out.splitlines().index(l) - 1].startswith("#")
                        for l in setting_lines)
        tap(commented, name + ": every setting has a comment above it")
    for host, args, want in GENERATE_ERRORS:
        rc, out, err = tool(host, "generate", *args)
        if want is None:
            tap(rc == 0, "generate %s succeeds" % " ".join([host] + args), err)
        else:
            tap(rc == 1 and want in err, "generate %s %s fails: %s" % (host, " ".join(args), want),
                "rc %d: %s" % (rc, err))


def run_check():
    for host, profile, want_rc, want in CHECK:
        if profile.startswith("generated"):
            args = profile.split()[1:]
            profile = os.path.join(WORK, "%s-generated%s.profile" % (host, "".join(args)))
            tool(host, "generate", "-o", profile, *args)
        rc, out, err = tool(host, "check", profile)
        missing = [w for w in want if w not in out]
        tap(rc == want_rc and not missing, "check %s on %s: exit %d, %s" % (
            os.path.basename(profile), host, want_rc, want[-1]),
            "rc %d, missing %s\n%s%s" % (rc, missing, out, err))


def run_show():
    for host, want in SHOW:
        rc, out, err = tool(host, "show")
        missing = [w for w in want if w not in out]
        tap(rc == 0 and not missing, "show %s" % host, "missing %s\n%s%s" % (missing, out, err))
    rc, out, _ = tool("server-2s64c", "show", "--json")
    tap(rc == 0 and '"spare_nics"' in out, "show --json")


def run_shipped():
    """The two-NIC server example is what the generator writes for the recorded server."""
    shipped = os.path.join(ROOT, "dpdk-configs", "server-two-nic.profile")
    _, out, _ = tool("server-2s64c", "generate")
    with open(shipped) as f:
        text = f.read()
    tap(key_lines(text) == key_lines(out), "server-two-nic.profile is generate's output for "
        "server-2s64c", "\n".join(key_lines(out)))
    for name in sorted(os.listdir(os.path.join(ROOT, "dpdk-configs"))):
        if name.endswith(".profile"):
            path = os.path.join(ROOT, "dpdk-configs", name)
            with open(path) as f:
                names_ports = "\ninner" in f.read().replace(" ", "")
            ports = "" if names_ports else "InnerPort = 0\nOuterPort = 1\n"
            ok, detail = meshgate_loads(path, ports)
            tap(ok, "shipped %s: meshgate --check-config loads it" % name, detail)


try:
    run_generate()
    run_check()
    run_show()
    run_shipped()
finally:
    subprocess.run(["rm", "-rf", WORK])
print("1..%d" % n)
print("# %s: %d of %d passed" % ("PASS" if not failed else "FAIL", n - failed, n))
sys.exit(1 if failed else 0)
