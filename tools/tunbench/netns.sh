#!/usr/bin/env bash
# tunbench netns: end to end between two sites in network namespaces (the topology of
# tests/netns/lib.sh: hostA - gatewayA - Internet router - gatewayB - hostB), measuring back to
# back, in one run, a meshgate pair, a wireguard-go pair and a nebula pair as site-to-site
# tunnels between the two gateways, all three at a tunnel MTU of 1420:
#   iperf3 TCP with 1 and 4 streams, iperf3 UDP at fixed rates (received rate and loss), ping
#   round-trip time idle and under load (a TCP stream running), median and p99; the CPU cost of
#   the 1-stream TCP run; the path MTU host A finds through the pair (once per pair).
# Each pair comes up once and stays up for its --runs rounds of measurements; the table gives
# each figure's median of the rounds and [min-max] beside it.
# CPU-s/GB, over the 1-stream TCP run, per gigabyte (1e9 bytes) iperf3 received:
#   gateways: utime+stime (/proc/PID/stat, all threads) of the pair's two processes (meshgate,
#     wireguard-go, nebula). Not counted: kernel work charged to other tasks or to no task
#     (softirq on veth and the TUN device, the kernel's forwarding), which wireguard-go and
#     nebula lean on and meshgate (AF_PACKET rings, its own forwarding) mostly does not.
#   machine: the whole machine's busy time (/proc/stat user+system+irq+softirq; niced user time
#     left out, so niced background jobs do not count): everything, the softirq work, both hosts'
#     iperf3 and a polling worker's spinning included, but also whatever else runs un-niced on
#     the machine meanwhile. The fairer figure on a quiet machine.
# Everything shares this machine's cores: the figures compare the implementations' efficiency,
# they are not line rates.
#
# usage: tunbench netns [--seconds N] [--runs N] [--udp-rates LIST] [--only LIST] [--flood RATES]
#                       [--workers N] [--json FILE]
#   --seconds N       length of each iperf3 run (default 5)
#   --runs N          rounds of measurements per pair (default 3)
#   --udp-rates LIST  iperf3 -b values (default 200M,500M,1G)
#   --only LIST       meshgate,wireguard-go,nebula (default all three, in that order)
#   --flood RATES     instead: the handshake flood case on the meshgate pair, one row per rate
#                     of initiations a second (e.g. 0,100k,1M; 0 is the no-flood baseline);
#                     one round, --runs does not apply
#   --workers N       meshgate's workers at each gateway (default 1); with more, each port
#                     has N+1 AF_PACKET queue pairs, the fanout hash puts the one peer's
#                     session on one of them, and the record says how many packets gateway B's
#                     workers opened off another worker's queue (docs/design.md, "One peer
#                     over many workers"); the lcores alternate over CPUs 0 and 1
#   --json FILE       one record per implementation (per flood rate). A figure's field (e.g.
#                     tcp1_gbps, udp[i].loss_percent, ping_load_ms.p99) holds the median of the
#                     rounds; FIELD_runs beside it {"min","median","max","runs":[one per round]};
#                     null where a round failed. Also runs, tunnel_mtu and path_mtu.
# Needs root, iperf3, wireguard-go, wireguard-tools, nebula (tools/setup installs them).
# MG_ROOT and MG_BIN (the meshgate binary) come from tunbench.
set -uo pipefail
umask 077  # key files
source "$MG_ROOT/tests/netns/lib.sh"
trap topo_destroy EXIT

SECS=5 RUNS=3 RATES=200M,500M,1G ONLY=meshgate,wireguard-go,nebula JSON= FLOOD= WORKERS=1
TUN_MTU=1420  # every pair's tunnel MTU: meshgate's default and wireguard-go's
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) SECS=$2; shift 2;;
    --runs) RUNS=$2; shift 2;;
    --udp-rates) RATES=$2; shift 2;;
    --only) ONLY=$2; shift 2;;
    --flood) FLOOD=$2; shift 2;;
    --json) JSON=$2; shift 2;;
    --workers) WORKERS=$2; shift 2;;
    -h|--help) sed -n '2,42p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
    *) echo "tunbench netns: unknown argument $1" >&2; exit 2;;
  esac
done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "tunbench netns: --runs takes a count from 1" >&2; exit 2; }
[[ $WORKERS =~ ^[1-8]$ ]] || { echo "tunbench netns: --workers takes a count from 1 to 8" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "tunbench netns: needs root (network namespaces)" >&2; exit 2; }

STARTED=()  # names of the processes of the current pair (stop_pid NAME)
stop_pair() {
  local n
  for n in "${STARTED[@]:-}"; do [ -n "$n" ] && stop_pid "$n"; done
  STARTED=()
  for ns in $NS_HA $NS_GA $NS_INET $NS_GB $NS_HB; do ip netns del "$ns" 2>/dev/null; done
}

# --- the three pairs ----------------------------------------------------------------------------

pair_meshgate() {
  gen_keys a; gen_keys b
  # Two sites, each a server of its own in a real deployment: gateway A's worker runs on CPU 1
  # and its control thread on CPU 0 (the shipped profile), gateway B's the other way round, so
  # that the two workers do not take turns on one core.
  # With --workers N, lcore i of A on CPU i mod 2 and of B on CPU (i+1) mod 2.
  local i map_a= map_b=
  for i in $(seq 0 "$WORKERS"); do map_a+="${map_a:+,}$i@$((i % 2))"; map_b+="${map_b:+,}$i@$(((i + 1) % 2))"; done
  for x in a b; do
    local map=$map_a; [ $x = b ] && map=$map_b
    sed -e "s/^lcores = 0-1$/lcore-map = $map/" -e "s/qpairs=2/qpairs=$((WORKERS + 1))/g" \
      -e "s/^workers = 1$/workers = $WORKERS/" -e "s/^queues = 1$/queues = $WORKERS/" \
      "$MG_ROOT/dpdk-configs/veth-af-packet.profile" >"$WORK/$x.profile"
    grep -q "^lcore-map = $map$" "$WORK/$x.profile" || { echo "tunbench netns: no lcores line in the profile" >&2; return 1; }
  done
  MG_PROFILE=$WORK/a.profile mg_conf "$WORK/a.conf" a b "$SITE_B_LAN" 203.0.113.2:51820 "$SITE_A_INNER" "$SITE_A_OUTER" "$SITE_A_GW"
  MG_PROFILE=$WORK/b.profile mg_conf "$WORK/b.conf" b a "$SITE_A_LAN" "" "$SITE_B_INNER" "$SITE_B_OUTER" "$SITE_B_GW"
  # The default, written out: the tunnel MTU of the comparison is not left to a default.
  sed -i "/^ListenPort = /a MTU = $TUN_MTU" "$WORK/a.conf" "$WORK/b.conf"
  # The flood case reads the gateways' counters (cookies) over Prometheus.
  # The flood case reads the gateways' counters (cookies) over Prometheus, --workers B's
  # opened_for_others.
  [ -n "$FLOOD" ] || [ "$WORKERS" -gt 1 ] &&
    echo "MetricsListen = 127.0.0.1:9586" | tee -a "$WORK/a.conf" >>"$WORK/b.conf"
  STARTED+=(mga mgb)
  start_meshgate $NS_GA mga "$WORK/a.conf" && start_meshgate $NS_GB mgb "$WORK/b.conf"
}

# wg_go_gateway NS NAME KEY PEER PEER_LAN ENDPOINT LAN4 WAN4 WAN_GW4
wg_go_gateway() {
  local ns=$1 name=$2 me=$3 peer=$4 peer_lan=$5 endpoint=$6 lan=$7 wan=$8 gw=$9
  kernel_gateway "$ns" "$lan" "fd0${lan:3:1}::1/64" "$wan" "2001:db8:$name::2/64" "$gw" "2001:db8:$name::1"
  local ifname=$WG_IF$name
  STARTED+=("wg$name")
  bg "$ns" "wg$name" env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 wireguard-go -f "$ifname"
  wait_for 10 in_ns "$ns" ip link show "$ifname" || return 1
  in_ns "$ns" wg set "$ifname" private-key "$WORK/$me.key" listen-port 51820 \
    peer "$(cat "$WORK/$peer.pub")" allowed-ips "$peer_lan" endpoint "$endpoint"
  in_ns "$ns" ip link set "$ifname" mtu "$TUN_MTU" up
  in_ns "$ns" ip route add "$peer_lan" dev "$ifname"
}

pair_wireguard_go() {
  gen_keys a; gen_keys b
  wg_go_gateway $NS_GA a a b 10.2.0.0/24 203.0.113.2:51820 10.1.0.1/24 198.51.100.2/24 198.51.100.1 &&
    wg_go_gateway $NS_GB b b a 10.1.0.0/24 198.51.100.2:51820 10.2.0.1/24 203.0.113.2/24 203.0.113.1
}

# nebula_gateway NS NAME ME_IP PEER_IP PEER_WAN PEER_LAN LAN4 WAN4 WAN_GW4
nebula_gateway() {
  local ns=$1 x=$2 me=$3 other=$4 other_wan=$5 other_lan=$6 lan=$7 wan=$8 gw=$9
  kernel_gateway "$ns" "$lan" "fd0${lan:3:1}::1/64" "$wan" "2001:db8:$x::2/64" "$gw" "2001:db8:$x::1"
  cat >"$WORK/neb$x.yml" <<Y
pki: {ca: $WORK/ca.crt, cert: $WORK/$x.crt, key: $WORK/$x.key}
static_host_map: {"$other": ["$other_wan:4242"]}
lighthouse: {am_lighthouse: false}
listen: {host: 0.0.0.0, port: 4242}
tun: {dev: neb$x$S, mtu: $TUN_MTU, unsafe_routes: [{route: $other_lan, via: $other}]}
firewall: {outbound: [{port: any, proto: any, host: any}], inbound: [{port: any, proto: any, host: any}]}
logging: {level: warning}
Y
  STARTED+=("neb$x")
  bg "$ns" "neb$x" nebula -config "$WORK/neb$x.yml"
  wait_for 10 in_ns "$ns" ip link show "neb$x$S"
}

pair_nebula() {
  (cd "$WORK" && rm -f ca.* a.* b.* &&
    nebula-cert ca -name tunbench >/dev/null &&
    nebula-cert sign -name a -ip 192.168.100.1/24 -subnets 10.1.0.0/24 >/dev/null &&
    nebula-cert sign -name b -ip 192.168.100.2/24 -subnets 10.2.0.0/24 >/dev/null) || return 1
  nebula_gateway $NS_GA a 192.168.100.1 192.168.100.2 203.0.113.2 10.2.0.0/24 10.1.0.1/24 198.51.100.2/24 198.51.100.1 &&
    nebula_gateway $NS_GB b 192.168.100.2 192.168.100.1 198.51.100.2 10.1.0.0/24 10.2.0.1/24 203.0.113.2/24 203.0.113.1
}

# --- measurements (host A sends to host B) ------------------------------------------------------

# ping_stats NS ADDR COUNT: "median p99" of the RTTs in ms
ping_stats() {
  in_ns "$1" ping -n -c "$3" -i 0.01 -W 2 "$2" 2>/dev/null |
    sed -n 's/.*time=\([0-9.]*\) ms/\1/p' | sort -n |
    awk '{v[NR]=$1} END {if (NR == 0) {print "- -"; exit} m=v[int((NR+1)/2)]; p=v[int(NR*0.99+0.999)]; if (p == "") p=v[NR]; print m, p}'
}

iperf_json() {  # iperf_json FIELD...: reads $WORK/iperf.json
  python3 - "$WORK/iperf.json" "$@" <<'P'
import json, sys
d = json.load(open(sys.argv[1]))
e = d["end"]
if sys.argv[2] == "tcp":
    print("%.3f" % (e["sum_received"]["bits_per_second"] / 1e9))
else:
    s = e["sum"]
    print("%.3f %.2f" % (s["bits_per_second"] * (1 - s.get("lost_percent", 0) / 100) / 1e9,
                         s.get("lost_percent", 100)))
P
}

# cpu_snapshot: "GATEWAYS MACHINE" in clock ticks so far: utime+stime of the current pair's
# processes (all threads), and the machine's user+system+irq+softirq time (niced user time left
# out: the header says why)
cpu_snapshot() {
  local n pid t=0
  for n in "${STARTED[@]:-}"; do
    pid=$(cat "$WORK/$n.pid" 2>/dev/null) && [ -r "/proc/$pid/stat" ] || continue
    t=$((t + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
  done
  echo "$t $(awk '$1 == "cpu" {print $2 + $4 + $7 + $8}' /proc/stat)"
}

# cpu_per_gb: "GATEWAYS MACHINE" CPU-seconds per gigabyte iperf3 received in the last TCP run
# (iperf.json), between run_iperf's two snapshots; "- -" where that run failed
cpu_per_gb() {
  python3 - "$WORK" "$(getconf CLK_TCK)" <<'P' 2>/dev/null || echo "- -"
import json, sys
w, hz = sys.argv[1], int(sys.argv[2])
gb = json.load(open(w + "/iperf.json"))["end"]["sum_received"]["bytes"] / 1e9
t0, t1 = ([int(x) for x in open(w + f).read().split()] for f in ("/cpu.before", "/cpu.after"))
print("%.2f %.2f" % ((t1[0] - t0[0]) / hz / gb, (t1[1] - t0[1]) / hz / gb))
P
}

# run_iperf ARGS...: one client run from host A to host B; prints the parsed result or "-".
# The CPU counters are read just before and after the client (cpu.before, cpu.after).
run_iperf() {
  local kind=$1; shift
  bg $NS_HB "iperf3srv" iperf3 -s -1 -B 10.2.0.2
  wait_for 5 in_ns $NS_HB sh -c "ss -ltn | grep -q ':5201'" || { echo "-"; return; }
  rm -f "$WORK/cpu.after"
  cpu_snapshot >"$WORK/cpu.before"
  if in_ns $NS_HA iperf3 -c 10.2.0.2 -J "$@" >"$WORK/iperf.json" 2>&1; then
    cpu_snapshot >"$WORK/cpu.after"
    iperf_json "$kind" 2>/dev/null || echo "-"
  else
    echo "-"
  fi
  stop_pid iperf3srv
}

# path_mtu: the largest IPv4 packet host A gets through to host B with DF set: the MTU the
# "fragmentation needed" answer to a 1500-byte packet names, once a packet of that size has
# made it; "-" otherwise
path_mtu() {
  local m
  m=$(in_ns $NS_HA ping -n -c 1 -W 2 -M do -s 1472 10.2.0.2 2>&1 |
    sed -n 's/.*mtu *= *\([0-9]*\).*/\1/p' | head -1)
  if [ -n "$m" ] && in_ns $NS_HA ping -n -c 1 -W 2 -M do -s $((m - 28)) 10.2.0.2 >/dev/null 2>&1; then
    echo "$m"
  else
    echo -
  fi
}

# ping_load: "median p99" of ping while a TCP stream runs host A -> host B
ping_load() {
  bg $NS_HB iperf3srv iperf3 -s -1 -B 10.2.0.2
  wait_for 5 in_ns $NS_HB sh -c "ss -ltn | grep -q ':5201'"
  in_ns $NS_HA iperf3 -c 10.2.0.2 -t $((SECS + 2)) >/dev/null 2>&1 &
  local cli=$!
  sleep 1
  ping_stats $NS_HA 10.2.0.2 $((SECS * 60))
  wait $cli 2>/dev/null
  stop_pid iperf3srv
}

# measure_run IMPL PATH_MTU: one round of every measurement, one row of RESULTS:
# "impl|path MTU|tcp1|tcp4|udp Gbit/s:loss,...|idle med p99|load med p99|CPU-s/GB gw machine"
measure_run() {
  local idle tcp1 cpu tcp4 udp=() r u joined
  idle=$(ping_stats $NS_HA 10.2.0.2 300)
  tcp1=$(run_iperf tcp -t "$SECS")
  cpu=$(cpu_per_gb)
  tcp4=$(run_iperf tcp -t "$SECS" -P 4)
  for r in ${RATES//,/ }; do
    u=$(run_iperf udp -u -b "$r" -l 1200 -t "$SECS")
    udp+=("${u// /:}")  # received Gbit/s:loss %
  done
  joined=$(IFS=,; echo "${udp[*]}")
  RESULTS+=("$1|$2|$tcp1|$tcp4|$joined|$idle|$(ping_load)|$cpu")
}

# measure IMPL: the path MTU, then --runs rounds on the pair as it is up
measure() {
  local impl=$1 pmtu n
  wait_for 20 in_ns $NS_HA ping -c 1 -W 1 10.2.0.2 || { echo "$impl: no connectivity" >&2; return 1; }
  pmtu=$(path_mtu)
  for n in $(seq "$RUNS"); do
    log "$impl round $n of $RUNS"
    measure_run "$impl" "$pmtu"
  done
}

[ -n "$FLOOD" ] && source "$MG_ROOT/tools/tunbench/netns_flood.sh"

RESULTS=()
for impl in ${ONLY//,/ }; do
  log "$impl pair"
  topo_create
  case $impl in
    meshgate) pair_meshgate;;
    wireguard-go) pair_wireguard_go;;
    nebula) pair_nebula;;
    *) echo "tunbench netns: unknown implementation $impl" >&2; exit 2;;
  esac && measure "$impl" || RESULTS+=("$impl|-|-|-|-|- -|- -|- -")
  if [ "$impl" = meshgate ] && [ "$WORKERS" -gt 1 ]; then
    export TB_OPENED_FOR_OTHERS TB_DECRYPTED
    TB_OPENED_FOR_OTHERS=$(prom_sum $NS_GB meshgate_opened_for_others_packets_total)
    TB_DECRYPTED=$(prom_sum $NS_GB meshgate_decrypted_packets_total)
  fi
  stop_pair
done

# --- report: a figure a line, a column per pair, median [min-max] of the rounds ---------------
CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
ROUNDS="$RUNS rounds per pair: median [min-max]"
[ "$RUNS" = 1 ] && ROUNDS="1 round per pair"
printf '\ntunbench netns: %s, %s CPUs; tunnel MTU %s; iperf3 %s s per run, %s; host A -> host B through each pair\n' \
  "$CPU_MODEL" "$(nproc)" "$TUN_MTU" "$SECS" "$ROUNDS"
TB_WORKERS=$WORKERS python3 - "${JSON:-}" "$RATES" "$TUN_MTU" "${RESULTS[@]}" <<'P'
import json, os, statistics, sys
path, rates, mtu, rows = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3]), sys.argv[4:]
# (key, label, decimals): the figures of one round, in the table's order
FIGS = ([("tcp1_gbps", "TCP 1 stream Gbit/s", 3), ("tcp4_gbps", "TCP 4 streams Gbit/s", 3)]
        + [(f"udp {r} {k}", f"UDP {r} {label}", d) for r in rates
           for k, label, d in (("gbps", "Gbit/s", 3), ("loss_percent", "loss %", 2))]
        + [(f"{p} {s}", f"ping {w} {s} ms", 2) for p, w in (("ping_idle_ms", "idle"),
                                                           ("ping_load_ms", "under load"))
           for s in ("median", "p99")]
        + [("cpu_s_per_gb", "CPU-s/GB gateways", 2),
           ("machine_cpu_s_per_gb", "CPU-s/GB machine", 2)])


def num(x):
    try:
        return float(x)
    except ValueError:
        return None


def figures(tcp1, tcp4, udp, idle, load, cpu):
    """One round's figures by key, from the fields of a row of netns.sh's RESULTS."""
    f = {"tcp1_gbps": num(tcp1), "tcp4_gbps": num(tcp4)}
    u = udp.split(",") if udp not in ("", "-") else []
    for i, rate in enumerate(rates):
        v = (u[i].split(":") + ["-"])[:2] if i < len(u) else ["-", "-"]
        f[f"udp {rate} gbps"], f[f"udp {rate} loss_percent"] = num(v[0]), num(v[1])
    for name, pair in (("ping_idle_ms", idle), ("ping_load_ms", load)):
        f[name + " median"], f[name + " p99"] = two(pair)
    f["cpu_s_per_gb"], f["machine_cpu_s_per_gb"] = two(cpu)
    return f


def two(pair):  # "A B" -> (A, B), None for "-" or a missing one
    return tuple(num(x) for x in (pair.split() + ["-", "-"])[:2])


def stat(runs):
    """A figure over the rounds: min, median and max of those that measured it, and each."""
    ok = sorted(v for v in runs if v is not None)
    if not ok:
        return {"min": None, "median": None, "max": None, "runs": runs}
    return {"min": ok[0], "median": statistics.median(ok), "max": ok[-1], "runs": runs}


def record(impl, pmtu, rounds):
    """The JSON record: each figure's median under its name, FIELD_runs beside it."""
    st = {k: stat([r[k] for r in rounds]) for k, _, _ in FIGS}
    def put(obj, name, key):
        obj[name], obj[name + "_runs"] = st[key]["median"], st[key]
        return obj
    rec = {"mode": "netns", "impl": impl, "runs": len(rounds), "tunnel_mtu": mtu,
           "path_mtu": int(pmtu) if pmtu.isdigit() else None}
    for k in ("tcp1_gbps", "tcp4_gbps", "cpu_s_per_gb", "machine_cpu_s_per_gb"):
        put(rec, k, k)
    rec["udp"] = [put(put({"rate": r}, "gbps", f"udp {r} gbps"),
                      "loss_percent", f"udp {r} loss_percent") for r in rates]
    for p in ("ping_idle_ms", "ping_load_ms"):
        rec[p] = put(put({}, "median", p + " median"), "p99", p + " p99")
    return rec, st


def cell(s, d):
    if s["median"] is None:
        return "-"
    if len(s["runs"]) == 1:
        return f"{s['median']:.{d}f}"
    return f"{s['median']:.{d}f} [{s['min']:.{d}f}-{s['max']:.{d}f}]"


byimpl = {}
for row in rows:
    impl, pmtu, *rest = row.split("|")
    byimpl.setdefault(impl, (pmtu, []))[1].append(figures(*rest))
recs = {impl: record(impl, pmtu, rounds) for impl, (pmtu, rounds) in byimpl.items()}
def line(label, cells):
    print(("%-26s" % label + "".join(" %-24s" % c for c in cells)).rstrip())


line("figure", recs)
for key, label, d in FIGS:
    line(label, (cell(st[key], d) for _, st in recs.values()))
line("path MTU", (byimpl[i][0] for i in recs))
workers = int(os.environ["TB_WORKERS"])
if "meshgate" in recs:
    rec = recs["meshgate"][0]
    rec["workers"] = workers
    if workers > 1 and "TB_DECRYPTED" in os.environ:
        rec["decrypted_b"] = int(os.environ["TB_DECRYPTED"])
        rec["opened_for_others_b"] = int(os.environ["TB_OPENED_FOR_OTHERS"])
        print("meshgate: %d workers a gateway; gateway B opened %d packets, %d of them off "
              "another worker's RX queue" % (workers, rec["decrypted_b"],
                                             rec["opened_for_others_b"]))
if path:
    out = {"tool": "tunbench", "records": [r for r, _ in recs.values()]}
    json.dump(out, open(path, "w"), indent=1)
P
