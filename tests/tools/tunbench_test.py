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


def records(path, what):
    """The records of a --json file; none, and a failed check, if it does not parse."""
    try:
        return json.load(open(path))["records"]
    except Exception as e:  # noqa: BLE001 - reported as a failed check
        check("the JSON file of the %s run parses" % what, False, repr(e))
        return []


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

    # Jumbo and IMIX: each case at the tunnel MTU its largest packet needs, every frame compared.
    js2 = os.path.join(tmp, "sizes.json")
    p = run("inmem", "--sizes", "9000,imix", "--direction", "both", "--duration", "0.05",
            "--quiet", "--json", js2)
    check("tunbench inmem --sizes 9000,imix exits 0", p.returncode == 0, p.stderr[-2000:])
    rows = [line.split()[:3] for line in p.stdout.splitlines() if line.startswith("both ")]
    check("the table has a 9000 B row at MTU 9000 and an imix row at MTU 1500",
          rows == [["both", "9000", "9000"], ["both", "imix", "1500"]], str(rows))
    recs = records(js2, "9000,imix")
    by_size = {r.get("size"): r for r in recs}
    jumbo, imix = by_size.get(9000, {}), by_size.get("imix", {})
    check("the 9000 B record: size 9000, avg_size 9000, mtu 9000",
          jumbo.get("avg_size") == 9000 and jumbo.get("mtu") == 9000, json.dumps(jumbo))
    check("the imix record: size \"imix\", avg_size 340.33 (7x40, 4x576, 1x1500), mtu 1500",
          abs(imix.get("avg_size", 0) - 4084 / 12) < 0.01 and imix.get("mtu") == 1500,
          json.dumps(imix))
    for name, r in (("9000 B", jumbo), ("imix", imix)):
        check("%s: every frame compared byte for byte (verified == packets > 0), some opened "
              "with libsodium" % name,
              r.get("packets", 0) > 0 and r.get("verified") == r.get("packets") and
              r.get("checked_outer", 0) > 0, json.dumps(r))
        check("%s: Mpps, Gbit/s and the AEAD baseline of the same mix" % name,
              r.get("mpps", 0) > 0 and r.get("aead_limit_gbps", 0) > 0 and
              abs(r.get("gbps", 0) - r.get("mpps", 0) * r.get("avg_size", 0) * 8 / 1000) <
              0.01 * r.get("gbps", 1) and 0 < r.get("ratio", 0) < 2, json.dumps(r))
    p = run("inmem", "--sizes", "9000", "--direction", "both", "--duration", "0.05", "--quiet",
            "--relayed")
    check("9000 B relayed (ChannelData on the Internet port) exits 0, every frame back",
          p.returncode == 0 and "every frame came back" in p.stdout, p.stderr[-2000:])

    # The handshake flood: cases without and with, the control thread beside the worker. At
    # 50k/s the rate reached is checked (a stalled machine can still place that many); 1M/s is
    # a rate no control thread keeps up with (half the initiations carry a valid mac1, each a
    # Diffie-Hellman without cookies), so its handshake queue backs up and it answers with
    # cookies, which at 50k/s a fast core need not do.
    js3 = os.path.join(tmp, "flood.json")
    p = run("inmem", "--sizes", "1420", "--direction", "inbound,both", "--flood", "0,50k,1M",
            "--duration", "0.2", "--quiet", "--json", js3)
    check("tunbench inmem --flood 0,50k,1M exits 0, every frame back",
          p.returncode == 0 and "every frame came back" in p.stdout, p.stderr[-2000:])
    check("the table has the flood columns and where the initiations went",
          "vs no flood" in p.stdout and "handled by the control thread" in p.stdout,
          p.stdout[-1500:])
    recs = records(js3, "flood")
    rows = {(r.get("direction"), r.get("flood")): r for r in recs}
    check("one record per direction and rate, each with the control thread",
          sorted(rows) == [(d, f) for d in ("both", "inbound") for f in (0, 50000, 1000000)] and
          all(r.get("control_thread") is True for r in recs), json.dumps(sorted(rows)))
    for d in ("inbound", "both"):
        base, fl, big = rows.get((d, 0), {}), rows.get((d, 50000), {}), rows.get((d, 1000000), {})
        check(d + ": no initiation without the flood, every frame compared",
              base.get("flood_sent") == 0 and base.get("verified") == base.get("packets", -1) > 0,
              json.dumps(base))
        check(d + ": the flood reached 50k/s of data-path time within 10%, and at both rates every "
              "initiation was handled by the control thread or dropped at its full ring",
              45000 <= fl.get("flood_rate", 0) <= 55000 and
              all(r.get("flood_sent", 0) > 0 and
                  r.get("flood_handled", -1) + r.get("flood_ring_full", -1) == r.get("flood_sent")
                  for r in (fl, big)), json.dumps(fl) + json.dumps(big))
        check(d + ": the control thread answered the 1M/s flood with cookies, none without; the "
              "cost is against the same case without (vs_no_flood), every frame compared",
              big.get("cookies_sent", 0) > 0 and base.get("cookies_sent") == 0 and
              all(0 < r.get("vs_no_flood", 0) < 2 and r.get("verified") == r.get("packets", -1)
                  for r in (fl, big)), json.dumps(big))
    # Gateway mode: the workers' own loop on their RX rings, a feeder each, latency at loads.
    js4 = os.path.join(tmp, "gateway.json")
    p = run("inmem", "--gateway", "--sizes", "1420", "--peers", "1,3", "--duration", "0.2",
            "--frames", "4096", "--loads", "0.1,0.5", "--quiet", "--json", js4)
    # The run fails on a lost frame, a reordered one, an outbound frame not to its peer's own
    # endpoint and next hop (peer 0's on the outer /24, the others' behind the router), anything
    # that went to the control thread (an inbound frame not from its peer's endpoint would be a
    # roam), or a pool not back to its start count.
    check("tunbench inmem --gateway exits 0: every frame back in order, each peer's own "
          "endpoint and next hop, nothing for the control thread, the pool whole",
          p.returncode == 0 and "every frame came back" in p.stdout, p.stderr[-2000:])
    check("the table has the latency block with p50, p99 and p99.9",
          "time in the gateway" in p.stdout and "p99.9" in p.stdout, p.stdout[-1500:])
    check("the table has the uncached AEAD's column and says what it is",
          "uncached" in p.stdout and "out of every cache" in p.stdout and
          "handoff ns" in p.stdout, p.stdout[-1500:])
    recs = records(js4, "gateway")
    check("one gateway record per direction and peer count",
          sorted((r.get("mode"), r.get("direction"), r.get("peers")) for r in recs) ==
          [("gateway", "inbound", 1), ("gateway", "inbound", 3), ("gateway", "outbound", 1),
           ("gateway", "outbound", 3)], json.dumps(recs)[:500])
    for r in recs:
        name = "%s, %d peers" % (r.get("direction"), r.get("peers", 0))
        lat = r.get("latency", [])
        check(name + ": a maximum rate against the AEAD of the same core, on packets in cache "
              "and out of it",
              r.get("mpps", 0) > 0 and 0 < r.get("ratio", 0) < 2 and
              r.get("aead_uncached_gbps", 0) > 0 and
              abs(r.get("ratio_uncached", 0) * r["aead_uncached_gbps"] - r["gbps"]) <
              0.01 * r["gbps"] and 0 <= r.get("rx_empty", -1) <= 1, json.dumps(r)[:600])
        # The default layout puts the feeder and the worker on different CPUs; a round trip
        # that waited for the scheduler would take tens of microseconds.
        check(name + ": a cache line's trip between the feeder's and the worker's CPUs, "
              "before and after",
              len(r.get("handoff_ns", [])) == 2 and all(0 < x < 10000 for x in r["handoff_ns"]),
              json.dumps(r)[:600])
        check(name + ": latency at 10% and 50% of it, p50 <= p99 <= p99.9, from samples",
              [x.get("load") for x in lat] == [0.1, 0.5] and
              all(0 < x["p50_us"] <= x["p99_us"] <= x["p999_us"] and x["samples"] > 0 and
                  x["mpps"] > 0 for x in lat), json.dumps(lat))
        # The time ends where the worker hands the frame to its TX queue (a TX callback marks
        # it), not where the feeder, which may be held up, takes it off the ring.
        check(name + ": every latency sample ends at the worker's transmit",
              all(x.get("unstamped", -1) == 0 and x.get("skipped", -1) >= 0 and
                  x.get("worker_stalls", -1) >= 0 for x in lat),
              json.dumps(lat))
        gaps = r.get("worker_cpu_gaps", {})
        check(name + ": what the machine took from the worker's CPU, measured",
              gaps.get("per_second", -1) >= 0 and 0 <= gaps.get("share", -1) < 1 and
              gaps.get("longest_us", -1) >= 0, json.dumps(r)[:600])
        checked = r.get("verified", 0) if r.get("direction") == "inbound" else \
            r.get("checked_outer", 0)
        check(name + ": frames compared byte for byte (inbound every one, outbound 1 in 64 "
              "opened with libsodium); a pool larger than the frames",
              checked > 0 and r.get("pool_mbufs", 0) >= 4096 and r.get("frames_bytes", 0) > 0,
              json.dumps(r)[:600])
    check("dual-stack tables: 3 prefixes a peer, about half the frames IPv6 (all of them came "
          "back, so the IPv6 ones too), and the table says so",
          len(recs) == 4 and all(r.get("prefixes_per_peer") == 3 and
                                 0.4 <= r.get("ipv6_share", 0) <= 0.6 for r in recs) and
          "IPv6 /64" in p.stdout, json.dumps(recs)[:400])
    inb = [r for r in recs if r.get("direction") == "inbound"]
    check("inbound: every pass over the frames rekeyed its peers (a fresh keypair each)",
          inb and all(r.get("rekeys", 0) > 0 for r in inb), json.dumps(inb)[:400])
    # IMIX and flow locality (trains of frames to one peer and prefix) in one run, both
    # directions, the same checks on every frame.
    js5 = os.path.join(tmp, "train.json")
    p = run("inmem", "--gateway", "--sizes", "imix", "--peers", "3", "--train", "16",
            "--duration", "0.1", "--frames", "4096", "--loads", "0.1", "--quiet", "--json", js5)
    tr = records(js5, "imix and train")
    check("--gateway --sizes imix --train 16: every frame back in order, the records and table "
          "name the trains",
          p.returncode == 0 and "every frame came back" in p.stdout and "trains of 16" in p.stdout
          and sorted(r.get("direction") for r in tr) == ["inbound", "outbound"] and
          all(r.get("train") == 16 for r in tr) and all(r.get("train") == 1 for r in recs),
          p.stderr[-1000:] + json.dumps(tr)[:300])
    inb = [r for r in tr if r.get("direction") == "inbound"]
    outb = [r for r in tr if r.get("direction") == "outbound"]
    check("gateway imix: avg_size 340.33 at MTU 1500 against the AEAD of the same mix; inbound "
          "every frame compared, outbound 1 in 64 opened; IPv6 only among the 576 and 1500 B",
          len(tr) == 2 and
          all(abs(r.get("avg_size", 0) - 4084 / 12) < 0.01 and r.get("mtu") == 1500 and
              0 < r.get("ratio", 0) < 2 and 0.1 <= r.get("ipv6_share", 0) <= 0.3 for r in tr) and
          inb[0].get("verified", 0) >= inb[0].get("packets", 1) > 0 and
          outb[0].get("checked_outer", 0) > 0, json.dumps(tr)[:600])
    # Without --frames, 4 frames a peer where that is more than 65536: 20,000 peers, 131,072;
    # inbound, as many as 256 MiB holds where that is more: 1,048,576 of 64 B.
    js6 = os.path.join(tmp, "frames.json")
    p = run("inmem", "--gateway", "--sizes", "64", "--peers", "20000", "--direction",
            "outbound,inbound", "--duration", "0.05", "--loads", "0.5", "--quiet", "--json", js6)
    fr = {r.get("direction"): r for r in records(js6, "frames")}
    check("gateway mode's frames: outbound 131072 for 20,000 peers (4 a peer, a power of 2), "
          "inbound 1048576 at 64 B (256 MiB of them), 4096 where --frames says so",
          p.returncode == 0 and len(fr) == 2 and fr["outbound"].get("frames") == 131072 and
          fr["inbound"].get("frames") == 1048576 and fr["inbound"].get("frames_bytes") == 1 << 28
          and all(r.get("frames") == 4096 for r in recs), p.stderr[-500:] + json.dumps(fr)[:300])
    # One peer over two workers. Inbound, its frames all enter on worker 0's RX queue: worker 1
    # opens bursts of it and worker 0 sends them on in order. Outbound, its inner flows enter on
    # both workers' queues and both seal with its one keypair. The feeders fail the case on a
    # frame out of order. Four lcores on two CPUs, the two workers on one and the feeders on the
    # other: a check that it works, not of its speed (whether worker 1 opens any of worker 0's
    # bursts then depends on where the scheduler cuts: the --preload case below checks that).
    shipped = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "dpdk-configs",
                           "inmem-bench.profile")

    def mapped_profile(name, lcore_map):
        """The shipped inmem profile with lcores placed by `lcore-map`."""
        path = os.path.join(tmp, name + ".profile")
        with open(path, "w") as f:
            f.write(open(shipped).read() + "lcore-map = " + lcore_map + "\n")
        return path

    js7 = os.path.join(tmp, "one-peer.json")
    p = run("inmem", "--profile", mapped_profile("one-peer", "0@0,1@1,2@1,3@0"), "--gateway", "--one-peer", "--workers", "1,2",
            "--sizes", "1420", "--duration", "0.3", "--frames", "4096", "--loads", "0.5",
            "--quiet", "--json", js7)
    op = records(js7, "one-peer")
    inb = [r for r in op if r.get("direction") == "inbound"]
    outb = [r for r in op if r.get("direction") == "outbound"]
    check("--gateway --one-peer, 1 peer on 1 and 2 workers both ways: every frame back in order, "
          "the table says one peer and sets 2 workers against 1",
          p.returncode == 0 and "every frame came back" in p.stdout and
          "one peer:" in p.stdout and "vs linear" in p.stdout and len(op) == 4 and
          all(r.get("one_peer") is True and r.get("spread") is True and r.get("peers") == 1 and
              r.get("in_order", 0) >= r.get("packets", 1) > 0 for r in op) and
          all(r.get("verified", 0) >= r.get("packets", 1) > 0 for r in inb) and
          len(outb) == 2 and all(r.get("checked_outer", 0) > 0 for r in outb),
          p.stderr[-1500:] + json.dumps(op)[:600])
    # The same without feeder lcores: rounds preloaded on the RX rings, every CPU the workers'
    # (three lcores: the main one, asleep while a round runs, and two workers).
    js8 = os.path.join(tmp, "preload.json")
    p = run("inmem", "--profile", mapped_profile("preload", "0@0,1@0,2@1"), "--gateway", "--one-peer", "--workers", "1,2",
            "--sizes", "1420", "--duration", "0.2", "--preload", "4096", "--frames", "8192",
            "--quiet", "--json", js8)
    pl = records(js8, "preload")
    check("--preload 4096 --one-peer on 1 and 2 workers both ways: every frame back in order, "
          "no latency phases, rounds of 4096",
          p.returncode == 0 and "preloaded" in p.stdout and "time in the gateway" not in p.stdout
          and len(pl) == 4 and
          all(r.get("preload") == 4096 and r.get("latency") == [] and r.get("packets", 0) > 0 and
              r.get("packets", 0) % 4096 == 0 and r.get("in_order", 0) >= r["packets"]
              for r in pl),
          p.stderr[-1500:] + json.dumps(pl)[:600])
    two = [r for r in pl if r.get("direction") == "inbound" and r.get("workers") == 2]
    check("--one-peer inbound with 2 workers on 2 CPUs: worker 1 opened packets of worker 0's "
          "queue",
          len(two) == 1 and two[0].get("opened_for_others", 0) > 0, json.dumps(two)[:600])
    # Live handshakes: the sending gateway's own control thread makes every peer's keypairs with
    # handshakes that the peers' side answers, and rekeys on its own timers (after 1 s here, at
    # most once a peer per REKEY_TIMEOUT, 5 s): eight seconds of phases see every peer rekey,
    # and every frame is still in order and opens with the keys the handshakes derived.
    # Two cases of 10 s phases: the run outlives the neighbour entries of the on-link endpoints
    # (30 s reachable, then probed), so the control thread's ARP probes must be answered as the
    # hosts would, or a next hop fails and its frames stay held (the pool check stops the run).
    js9 = os.path.join(tmp, "live.json")
    p = run("inmem", "--profile", mapped_profile("live", "0@0,1@1,2@0"), "--gateway",
            "--direction", "outbound", "--sizes", "1420,64", "--peers", "8", "--duration", "10",
            "--loads", "0.5", "--frames", "8192", "--rekey-after", "1", "--quiet", "--json", js9)
    lv = records(js9, "live")
    # The workers ask for a rekey a few times at most (once when it is due, once while it is in
    # flight), not once a packet: the request waits out REKEY_TIMEOUT in the control thread.
    check("--rekey-after 1, 8 peers outbound, 1420 and 64 B, past the neighbours' 30 s: the "
          "control thread rekeyed every peer during each case, asked a few times a rekey, every "
          "frame in order and opened with the handshakes' keys, every mbuf back",
          p.returncode == 0 and "live handshakes" in p.stdout and len(lv) == 2 and
          all(r.get("rekey_after") == 1 and r.get("handshakes", 0) >= 8 and
              0 < r.get("handshake_requests", 0) <= 4 * r["handshakes"] + 8 and
              r.get("keypairs_seen", 0) >= 8 and r.get("checked_outer", 0) > 0 and
              r.get("in_order", 0) >= r.get("packets", 1) > 0 for r in lv),
          p.stderr[-1500:] + json.dumps(lv)[:600])
    for args, what, words in (
            (["--gateway", "--preload", "70000"], "--preload past the frames", ["--preload"]),
            (["--rekey-after", "2"], "--rekey-after without --gateway", ["--rekey-after"]),
            (["--gateway", "--rekey-after", "2", "--direction", "inbound"],
             "--rekey-after inbound", ["--rekey-after", "outbound"]),
            (["--gateway", "--one-peer", "--peers", "2"], "--one-peer with 2 peers",
             ["--one-peer", "--peers 1"]),
            (["--no-spread"], "--no-spread without --gateway", ["--no-spread"]),
            (["--train", "4"], "--train without --gateway", ["--train"])):
        p = run("inmem", *args)
        check(what + ": exit 2, naming it",
              p.returncode == 2 and all(w in p.stderr for w in words), p.stderr[-300:])

    p = run("inmem", "--flood", "100k", "--direction", "outbound")
    check("--flood with --direction outbound: exit 2, the directions it needs named",
          p.returncode == 2 and "--flood" in p.stderr and "inbound or both" in p.stderr,
          p.stderr[-300:])

    for args, word in ((["--sizes", "35"], "below 36 B"), (["--sizes", "9001"], "above 9000 B"),
                       (["--sizes", "64,big"], "--sizes"), (["--peers", "0"], "--peers"),
                       (["--direction", "sideways"], "--direction"), (["--burst", "33"], "--burst"),
                       (["--chunk", "1"], "--chunk"), (["--repeat", "0"], "--repeat"),
                       (["--flood", "lots"], "--flood")):
        p = run("inmem", *args)
        check("bad %s %s: exit 2 naming the option (and the limit)" % (args[0], args[1]),
              p.returncode == 2 and args[0] in p.stderr and word in p.stderr,
              "rc %d: %s" % (p.returncode, p.stderr[-300:]))

tap.finish()
