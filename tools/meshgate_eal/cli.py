"""Command line of meshgate-eal: show, generate, check."""

import argparse
import shlex
import sys

from . import check as check_mod
from . import profile as profile_mod
from .generate import Options, PlanError, build_plan, render
from .host import read_host
from .show import show_json, show_text

USAGE = """\
meshgate-eal: DPDK EAL profiles for meshgate, from the host they are for.

  meshgate-eal [--root DIR] show [--json]
  meshgate-eal [--root DIR] generate [--workers N] [--inner PORT] [--outer PORT]
                                     [--vdev-driver af_packet|af_xdp] [--file-prefix NAME]
                                     [-o FILE]
  meshgate-eal [--root DIR] check PROFILE

PORT is a PCI address (0000:03:00.0) or an interface name (lan0, a NIC's netdev, a TAP).
--root reads sysfs and procfs under DIR instead of / (recorded hosts, tests).
check exits 1 when the profile has problems on this host, 0 otherwise.
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="meshgate-eal", usage=USAGE, add_help=True)
    p.add_argument("--root", default="/", help="host root holding sys/ and proc/ (default /)")
    sub = p.add_subparsers(dest="verb", required=True)
    s = sub.add_parser("show", help="what the host has")
    s.add_argument("--json", action="store_true")
    g = sub.add_parser("generate", help="write a profile for the host")
    g.add_argument("--workers", type=int)
    g.add_argument("--inner")
    g.add_argument("--outer")
    g.add_argument("--vdev-driver", choices=("af_packet", "af_xdp"), default="af_packet")
    g.add_argument("--file-prefix")
    g.add_argument("-o", "--output", help="write here instead of standard output")
    c = sub.add_parser("check", help="validate a profile against the host")
    c.add_argument("profile")
    return p


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    host = read_host(args.root)
    if args.verb == "show":
        sys.stdout.write(show_json(host) if args.json else show_text(host))
        return 0
    if args.verb == "generate":
        words = [a for a in argv]
        opts = Options(workers=args.workers, inner=args.inner, outer=args.outer,
                       vdev_driver=args.vdev_driver, file_prefix=args.file_prefix,
                       command=" ".join(["meshgate-eal"] + [shlex.quote(w) for w in words]))
        try:
            plan = build_plan(host, opts)
        except PlanError as e:
            print("meshgate-eal: %s" % e, file=sys.stderr)
            return 1
        for w in plan.warnings:
            print("meshgate-eal: warning: %s" % w, file=sys.stderr)
        text = render(plan)
        if args.output:
            with open(args.output, "w", encoding="utf-8") as f:
                f.write(text)
        else:
            sys.stdout.write(text)
        return 0
    try:
        prof = profile_mod.load(args.profile)
    except (OSError, ValueError) as e:
        print("meshgate-eal: %s" % e, file=sys.stderr)
        return 2
    findings = check_mod.check(host, prof)
    sys.stdout.write(check_mod.report(findings, args.profile))
    return 1 if any(f.severity == check_mod.PROBLEM for f in findings) else 0
