#!/usr/bin/env python3
"""tunbench netns as a user runs it (root): a meshgate pair and a wireguard-go pair between two
namespaced sites, one short round of each measurement; every figure it reports must be there
and plausible. Speed is not judged here (bench/RESULTS.md). TAP output."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from tap import Tap  # noqa: E402 - after the path it lives on

tap = Tap()
check = tap.check


def namespaces():
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


before = namespaces()
with tempfile.TemporaryDirectory() as tmp:
    js = os.path.join(tmp, "netns.json")
    p = subprocess.run([os.environ["MG_TUNBENCH"], "netns", "--only", "meshgate,wireguard-go",
                        "--seconds", "1", "--udp-rates", "100M", "--json", js],
                       capture_output=True, text=True, timeout=400)
    check("tunbench netns exits 0", p.returncode == 0, (p.stdout + p.stderr)[-2000:])
    check("the table names both pairs",
          "meshgate " in p.stdout and "wireguard-go " in p.stdout, p.stdout[-1500:])
    try:
        recs = {r["impl"]: r for r in json.load(open(js))["records"]}
    except Exception as e:  # noqa: BLE001 - reported as a failed check
        recs = {}
        check("the JSON file parses", False, repr(e))
    for impl in ("meshgate", "wireguard-go"):
        r = recs.get(impl, {})
        tcp = [r.get("tcp1_gbps"), r.get("tcp4_gbps")]
        check(impl + ": TCP with 1 and 4 streams moved data",
              all(isinstance(x, float) and x > 0.01 for x in tcp), json.dumps(r)[:500])
        udp = r.get("udp", [{}])[0]
        check(impl + ": UDP at 100M arrived with a loss figure",
              (udp.get("gbps") or 0) > 0.05 and udp.get("loss_percent") is not None,
              json.dumps(udp))
        pings = [r.get("ping_idle_ms", {}), r.get("ping_load_ms", {})]
        check(impl + ": ping median and p99, idle and under load",
              all((x.get("median") or 0) > 0 and (x.get("p99") or 0) >= (x.get("median") or 0)
                  for x in pings), json.dumps(pings))
    leftover = namespaces() - before
    check("no namespace of the run is left", not leftover, " ".join(sorted(leftover)))

tap.finish()
