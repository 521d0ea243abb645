#!/usr/bin/env python3
"""The statically linked tunbench that benchmark hosts without a package archive get
(`-Dstatic_tunbench=true`, bench/scaling.sh): it configures and links in a build directory of
its own, is one self-contained file, and runs a stage case and a gateway case with every frame
checked. A library the daemon starts to use but the static link list lacks fails here, not on
the host. TAP output."""
import os
import subprocess
import sys

ROOT = os.environ["MG_ROOT"]
OUT = os.environ["MG_STATIC_BUILD"]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from tap import Tap  # noqa: E402 - after the path it lives on

tap = Tap()
check = tap.check


def sh(*args, timeout=1200):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)


def main():
    # The options bench/RESULTS.md gives for the device runs.
    opts = ["-Dstatic_tunbench=true", "-Dtests=false", "-Dbenchmarks=false", "-Dnative=false",
            "-Dcpp_args=-march=x86-64-v3"]
    if os.path.exists(os.path.join(OUT, "build.ninja")):
        p = sh("meson", "setup", "--reconfigure", *opts, OUT, ROOT)
    else:
        p = sh("meson", "setup", *opts, OUT, ROOT)
    if not check("meson setup -Dstatic_tunbench=true", p.returncode == 0, p.stdout[-1500:]):
        return
    p = sh("ninja", "-C", OUT, "tools/tunbench/tunbench")
    if not check("the static tunbench links", p.returncode == 0, (p.stdout + p.stderr)[-2500:]):
        return
    tb = os.path.join(OUT, "tools", "tunbench", "tunbench")
    p = sh("ldd", tb)
    check("it is one self-contained file (ldd: not a dynamic executable)",
          "not a dynamic executable" in p.stdout + p.stderr, p.stdout + p.stderr)
    p = sh(tb, "inmem", "--sizes", "1420", "--direction", "inbound", "--duration", "0.1",
           "--quiet", timeout=120)
    check("a stage case runs, every frame back",
          p.returncode == 0 and "every frame came back" in p.stdout, (p.stdout + p.stderr)[-1500:])
    p = sh(tb, "inmem", "--gateway", "--one-peer", "--direction", "inbound", "--sizes", "64",
           "--duration", "0.1", "--preload", "4096", "--frames", "8192", "--quiet", timeout=120)
    check("a gateway case runs (one peer, preloaded), every frame back in order",
          p.returncode == 0 and "every frame came back" in p.stdout and "in order" in p.stdout,
          (p.stdout + p.stderr)[-1500:])


main()
tap.finish()
