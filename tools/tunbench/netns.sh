#!/usr/bin/env bash
# tunbench netns: end to end between two sites in network namespaces (the topology of
# tests/netns/lib.sh: hostA - gatewayA - Internet router - gatewayB - hostB), measuring back to
# back, in one run, a meshgate pair, a wireguard-go pair and a nebula pair as site-to-site
# tunnels between the two gateways:
#   iperf3 TCP with 1 and 4 streams, iperf3 UDP at fixed rates (received rate and loss), and
#   ping round-trip time idle and under load (a TCP stream running), median and p99.
# Everything shares this machine's cores: the figures compare the implementations' efficiency,
# they are not line rates.
#
# usage: tunbench netns [--seconds N] [--udp-rates LIST] [--only LIST] [--flood RATES] [--json FILE]
#   --seconds N       length of each iperf3 run (default 5)
#   --udp-rates LIST  iperf3 -b values (default 200M,500M,1G)
#   --only LIST       meshgate,wireguard-go,nebula (default all three, in that order)
#   --flood RATES     instead: the handshake flood case on the meshgate pair, one row per rate
#                     of initiations a second (e.g. 0,100k,1M; 0 is the no-flood baseline)
#   --json FILE       one record per implementation (per flood rate)
# Needs root, iperf3, wireguard-go, wireguard-tools, nebula (tools/setup installs them).
# MG_ROOT and MG_BIN (the meshgate binary) come from tunbench.
set -uo pipefail
umask 077  # key files
source "$MG_ROOT/tests/netns/lib.sh"
trap topo_destroy EXIT

SECS=5 RATES=200M,500M,1G ONLY=meshgate,wireguard-go,nebula JSON= FLOOD=
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) SECS=$2; shift 2;;
    --udp-rates) RATES=$2; shift 2;;
    --only) ONLY=$2; shift 2;;
    --flood) FLOOD=$2; shift 2;;
    --json) JSON=$2; shift 2;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
    *) echo "tunbench netns: unknown argument $1" >&2; exit 2;;
  esac
done
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
  cp "$MG_ROOT/dpdk-configs/veth-af-packet.profile" "$WORK/a.profile"
  sed 's/^lcores = 0-1$/lcore-map = 0@1,1@0/' "$WORK/a.profile" >"$WORK/b.profile"
  grep -q '^lcore-map = 0@1,1@0$' "$WORK/b.profile" || { echo "tunbench netns: no lcores line in the profile" >&2; return 1; }
  MG_PROFILE=$WORK/a.profile mg_conf "$WORK/a.conf" a b "$SITE_B_LAN" 203.0.113.2:51820 "$SITE_A_INNER" "$SITE_A_OUTER" "$SITE_A_GW"
  MG_PROFILE=$WORK/b.profile mg_conf "$WORK/b.conf" b a "$SITE_A_LAN" "" "$SITE_B_INNER" "$SITE_B_OUTER" "$SITE_B_GW"
  # The flood case reads the gateways' counters (cookies) over Prometheus.
  [ -n "$FLOOD" ] && echo "MetricsListen = 127.0.0.1:9586" | tee -a "$WORK/a.conf" >>"$WORK/b.conf"
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
  in_ns "$ns" ip link set "$ifname" mtu 1420 up
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
tun: {dev: neb$x$S, mtu: 1300, unsafe_routes: [{route: $other_lan, via: $other}]}
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

# run_iperf ARGS...: one client run from host A to host B; prints the parsed result or "-"
run_iperf() {
  local kind=$1; shift
  bg $NS_HB "iperf3srv" iperf3 -s -1 -B 10.2.0.2
  wait_for 5 in_ns $NS_HB sh -c "ss -ltn | grep -q ':5201'" || { echo "-"; return; }
  if in_ns $NS_HA iperf3 -c 10.2.0.2 -J "$@" >"$WORK/iperf.json" 2>&1; then
    iperf_json "$kind" 2>/dev/null || echo "-"
  else
    echo "-"
  fi
  stop_pid iperf3srv
}

measure() {
  local impl=$1
  wait_for 20 in_ns $NS_HA ping -c 1 -W 1 10.2.0.2 || { echo "$impl: no connectivity" >&2; return 1; }
  local idle tcp1 tcp4 load udp=() r
  idle=$(ping_stats $NS_HA 10.2.0.2 300)
  tcp1=$(run_iperf tcp -t "$SECS")
  tcp4=$(run_iperf tcp -t "$SECS" -P 4)
  for r in ${RATES//,/ }; do
    local u
    u=$(run_iperf udp -u -b "$r" -l 1200 -t "$SECS")
    udp+=("${u// /:}")  # received Gbit/s:loss %
  done
  # Under load: a TCP stream runs while ping measures.
  bg $NS_HB iperf3srv iperf3 -s -1 -B 10.2.0.2
  wait_for 5 in_ns $NS_HB sh -c "ss -ltn | grep -q ':5201'"
  in_ns $NS_HA iperf3 -c 10.2.0.2 -t $((SECS + 2)) >/dev/null 2>&1 &
  local cli=$!
  sleep 1
  load=$(ping_stats $NS_HA 10.2.0.2 $((SECS * 60)))
  wait $cli 2>/dev/null
  stop_pid iperf3srv
  local joined
  joined=$(IFS=,; echo "${udp[*]}")
  RESULTS+=("$impl|$tcp1|$tcp4|$joined|$idle|$load")
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
  esac && measure "$impl" || RESULTS+=("$impl|-|-|-|- -|- -")
  stop_pair
done

# --- report -------------------------------------------------------------------------------------
printf '\ntunbench netns: %s, %s CPUs; iperf3 %s s per run; host A -> host B through each pair\n' \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')" "$(nproc)" "$SECS"
printf '%-13s %9s %9s' impl "TCP1 Gb/s" "TCP4 Gb/s"
for r in ${RATES//,/ }; do printf ' %16s' "UDP $r (loss)"; done
printf ' %18s %18s\n' "ping idle med/p99" "ping load med/p99"
for line in "${RESULTS[@]}"; do
  IFS='|' read -r impl tcp1 tcp4 udp idle load <<<"$line"
  printf '%-13s %9s %9s' "$impl" "$tcp1" "$tcp4"
  for u in ${udp//,/ }; do
    if [ "$u" = "-" ]; then printf ' %16s' -; else printf ' %16s' "${u%%:*} (${u#*:}%)"; fi
  done
  printf ' %18s %18s\n' "$(echo $idle | tr ' ' /) ms" "$(echo $load | tr ' ' /) ms"
done

if [ -n "$JSON" ]; then
  python3 - "$JSON" "$RATES" "${RESULTS[@]}" <<'P'
import json, sys
path, rates, rows = sys.argv[1], sys.argv[2].split(","), sys.argv[3:]
def num(x):
    try: return float(x)
    except ValueError: return None
recs = []
for row in rows:
    impl, tcp1, tcp4, udp, idle, load = row.split("|")
    u = udp.split(",") if udp not in ("", "-") else []
    udp_recs = []
    for i, rate in enumerate(rates):
        v = (u[i].split(":") + ["-"])[:2] if i < len(u) else ["-", "-"]
        udp_recs.append({"rate": rate, "gbps": num(v[0]), "loss_percent": num(v[1])})
    i, l = idle.split(), load.split()
    recs.append({"mode": "netns", "impl": impl, "tcp1_gbps": num(tcp1), "tcp4_gbps": num(tcp4),
                 "udp": udp_recs, "ping_idle_ms": {"median": num(i[0]), "p99": num(i[1])},
                 "ping_load_ms": {"median": num(l[0]), "p99": num(l[1])}})
json.dump({"tool": "tunbench", "records": recs}, open(path, "w"), indent=1)
P
fi
