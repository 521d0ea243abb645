#!/usr/bin/env python3
"""tunbench inmem as a user runs it: short cases over in-memory ports (real EAL, --no-huge), the
table, the JSON records and the chart it promises, and clear errors for bad options. TAP output.
Figures are not judged (speed lives in bench/RESULTS.md); that every case ran, moved packets and
checked them is."""
import json
import os
import subprocess
import sys
import tempfile

TB = os.environ["MG_TUNBENCH"]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from tap import Tap  # noqa: E402 - after the path it lives on

tap = Tap()
check = tap.check


def run(*args, timeout=120):
    return subprocess.run([TB, *args], capture_output=True, text=True, timeout=timeout)


with tempfile.TemporaryDirectory() as tmp:
    js = os.path.join(tmp, "r.json")
    svg = os.path.join(tmp, "r.svg")
    p = run("inmem", "--sizes", "64,1420", "--peers", "1,1000", "--direction", "outbound,inbound",
            "--duration", "0.05", "--repeat", "2", "--quiet", "--json", js, "--plot", svg)
    check("tunbench inmem exits 0", p.returncode == 0, p.stderr[-2000:])
    check("every frame came back", "every frame came back" in p.stdout, p.stdout[-1000:])
    check("the table has a vs 1 peer column", "vs 1 peer" in p.stdout, p.stdout[-1000:])
    try:
        doc = json.load(open(js))
        recs = doc["records"]
    except Exception as e:  # noqa: BLE001 - reported as a failed check
        doc, recs = {}, []
        check("the JSON file parses", False, repr(e))
    check("one record per case (2 sizes x 2 peer counts x 2 directions)", len(recs) == 8,
          str(len(recs)))
    need = ["mode", "direction", "size", "peers", "workers", "mpps", "gbps", "aead_limit_gbps",
            "ratio"]
    missing = [(r.get("direction"), r.get("size"), k) for r in recs for k in need if k not in r]
    check("each record has " + ", ".join(need), not missing, str(missing[:5]))
    bad = [r for r in recs if not (r.get("mpps", 0) > 0 and r.get("gbps", 0) > 0 and
                                   0 < r.get("ratio", 0) < 2 and r.get("verified", 0) > 0 and
                                   r.get("runs") == 2)]
    check("every case moved packets, compared them and ran twice", not bad,
          json.dumps(bad[:2]))
    many = [r for r in recs if r.get("peers") == 1000]
    check("1000-peer cases are set against the 1-peer ones (vs_fewest_peers > 0)",
          len(many) == 4 and all(r.get("vs_fewest_peers", 0) > 0 for r in many),
          json.dumps(many[:1]))
    check("the machine and command are recorded",
          doc.get("machine", {}).get("command", "").startswith("tunbench") and
          doc.get("machine", {}).get("cpus", 0) > 0, json.dumps(doc.get("machine")))
    check("the chart is an SVG", os.path.exists(svg) and "<svg" in open(svg).read(2000))

    for args, word in ((["--sizes", "63"], "--sizes"), (["--peers", "0"], "--peers"),
                       (["--direction", "sideways"], "--direction"), (["--burst", "33"], "--burst"),
                       (["--chunk", "1"], "--chunk"), (["--repeat", "0"], "--repeat")):
        p = run("inmem", *args)
        check("bad %s %s: exit 2 naming the option" % (args[0], args[1]),
              p.returncode == 2 and word in p.stderr, "rc %d: %s" % (p.returncode, p.stderr[-300:]))

tap.finish()
