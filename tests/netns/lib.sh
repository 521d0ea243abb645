#!/usr/bin/env bash
# Shared helpers for the netns suite and the demo: two sites joined by an "Internet" namespace.
#
#   hostA (10.1.0.2, fd01::2) -- lan0 | gwA | wan0 -- inet (router) -- wan0 | gwB | lan0 -- hostB
#                                    198.51.100.2                  203.0.113.2
#                                    2001:db8:a::2                 2001:db8:b::2
#
# Each call of topo_create makes namespaces with a unique suffix; topo_destroy (run from the
# EXIT trap) kills only the processes this script started, by PID, and deletes only its own
# namespaces. Nothing is routed to the machine's real interfaces.
set -uo pipefail

MG_ROOT=${MG_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MG_BUILD=${MG_BUILD:-$MG_ROOT/build}
MG_BIN=${MG_BIN:-$MG_BUILD/src/app/meshgate}
S=${MG_SUFFIX:-$$}
NS_HA=mgha$S NS_GA=mgga$S NS_INET=mgin$S NS_GB=mggb$S NS_HB=mghb$S
# UAPI sockets live in /var/run/wireguard, shared by all namespaces: wireguard-go's interface
# name and meshgate's tunnel names (config file base names, e.g. "$WORK/a$S.conf") must be
# unique to this run.
WG_IF=mgwg$S
WORK=$(mktemp -d /tmp/meshgate-netns.XXXXXX)
PIDS=()
TUNNELS=()
TAP_N=0
TAP_FAILED=0

log() { printf '# %s\n' "$*"; }
tap_ok() { TAP_N=$((TAP_N + 1)); printf 'ok %d - %s\n' "$TAP_N" "$1"; }
tap_fail() { TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1)); printf 'not ok %d - %s\n' "$TAP_N" "$1"; }
# check NAME CMD...: one TAP line for the command's success.
check() { local name=$1; shift; if "$@" >"$WORK/last.out" 2>&1; then tap_ok "$name"; else tap_fail "$name"; sed 's/^/#   /' "$WORK/last.out" | tail -20; fi; }
tap_end() { printf '1..%d\n' "$TAP_N"; [ "$TAP_FAILED" -eq 0 ]; }

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
# bg NS LOGNAME CMD...: start a process in a namespace, remember its PID.
bg() { local ns=$1 name=$2; shift 2; ip netns exec "$ns" "$@" >"$WORK/$name.log" 2>&1 & PIDS+=($!); echo $! >"$WORK/$name.pid"; }

# stop_started: SIGTERM every process this script started (by PID), SIGKILL what is left after 5 s.
stop_started() {
  local p
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] || continue
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
}

topo_destroy() {
  stop_started
  for ns in $NS_HA $NS_GA $NS_INET $NS_GB $NS_HB; do ip netns del "$ns" 2>/dev/null; done
  local t
  for t in "${TUNNELS[@]:-}"; do [ -n "$t" ] && rm -rf "/var/run/dpdk/meshgate-$t"; done
  if [ -n "${MG_KEEP_LOGS:-}" ]; then log "logs kept in $WORK"; else rm -rf "$WORK"; fi
}

# A veth pair between two namespaces, both ends up, offloads off: af_packet must see complete
# frames with finished checksums, not GSO super-packets or partial checksums.
veth() {
  local ns1=$1 if1=$2 ns2=$3 if2=$4
  ip link add "$if1" netns "$ns1" type veth peer name "$if2" netns "$ns2"
  for e in "$ns1:$if1" "$ns2:$if2"; do
    in_ns "${e%%:*}" ip link set "${e#*:}" up
    in_ns "${e%%:*}" ethtool -K "${e#*:}" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
  done
}

topo_create() {
  for ns in $NS_HA $NS_GA $NS_INET $NS_GB $NS_HB; do
    ip netns add "$ns"
    in_ns "$ns" ip link set lo up
    in_ns "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  done
  veth $NS_HA eth0 $NS_GA lan0
  veth $NS_GA wan0 $NS_INET ea
  veth $NS_INET eb $NS_GB wan0
  veth $NS_GB lan0 $NS_HB eth0

  # Hosts on the two LANs; their router is the gateway's inner address.
  in_ns $NS_HA ip addr add 10.1.0.2/24 dev eth0
  in_ns $NS_HA ip addr add fd01::2/64 dev eth0 nodad
  in_ns $NS_HA ip route add default via 10.1.0.1
  in_ns $NS_HA ip -6 route add default via fd01::1
  in_ns $NS_HB ip addr add 10.2.0.2/24 dev eth0
  in_ns $NS_HB ip addr add fd02::2/64 dev eth0 nodad
  in_ns $NS_HB ip route add default via 10.2.0.1
  in_ns $NS_HB ip -6 route add default via fd02::1

  # The Internet: one router between the two sites' public subnets.
  in_ns $NS_INET ip addr add 198.51.100.1/24 dev ea
  in_ns $NS_INET ip addr add 2001:db8:a::1/64 dev ea nodad
  in_ns $NS_INET ip addr add 203.0.113.1/24 dev eb
  in_ns $NS_INET ip addr add 2001:db8:b::1/64 dev eb nodad
  in_ns $NS_INET sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# A kernel stack on a gateway namespace's ports (for the wireguard-go site): addresses and
# forwarding, as a Linux router running wireguard-go would have.
kernel_gateway() {
  local ns=$1 lan4=$2 lan6=$3 wan4=$4 wan6=$5 gw4=$6 gw6=$7
  in_ns "$ns" ip addr add "$lan4" dev lan0
  in_ns "$ns" ip addr add "$lan6" dev lan0 nodad
  in_ns "$ns" ip addr add "$wan4" dev wan0
  in_ns "$ns" ip addr add "$wan6" dev wan0 nodad
  in_ns "$ns" ip route add default via "$gw4"
  in_ns "$ns" ip -6 route add default via "$gw6"
  in_ns "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# gen_keys NAME: writes $WORK/NAME.key and $WORK/NAME.pub
gen_keys() { (umask 077; wg genkey >"$WORK/$1.key"); wg pubkey <"$WORK/$1.key" >"$WORK/$1.pub"; }

# wait_for SECONDS CMD...: retry CMD every 0.2 s until it succeeds.
wait_for() { local t=$1; shift; local end=$((SECONDS + t)); until "$@" >/dev/null 2>&1; do [ $SECONDS -ge $end ] && return 1; sleep 0.2; done; }

# iperf_tcp NS_SERVER NS_CLIENT ADDR SECONDS [STREAMS]: prints Gbit/s received, fails on error.
iperf_tcp() {
  local srv=$1 cli=$2 addr=$3 secs=$4 streams=${5:-1}
  bg "$srv" iperf3-srv-$TAP_N iperf3 -s -1 -B "$addr"
  wait_for 5 in_ns "$srv" sh -c "ss -ltn | grep -q ':5201'"
  in_ns "$cli" iperf3 -c "$addr" -t "$secs" -P "$streams" -J >"$WORK/iperf.json" 2>&1 || return 1
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.3f" % (d["end"]["sum_received"]["bits_per_second"]/1e9))' "$WORK/iperf.json"
}

# Site addressing, shared by the tests and the demo.
SITE_A_INNER="10.1.0.1/24, fd01::1/64"
SITE_A_OUTER="198.51.100.2/24, 2001:db8:a::2/64"
SITE_A_GW="198.51.100.1, 2001:db8:a::1"
SITE_A_LAN="10.1.0.0/24, fd01::/64"
SITE_B_INNER="10.2.0.1/24, fd02::1/64"
SITE_B_OUTER="203.0.113.2/24, 2001:db8:b::2/64"
SITE_B_GW="203.0.113.1, 2001:db8:b::1"
SITE_B_LAN="10.2.0.0/24, fd02::/64"

# mg_conf FILE KEY_NAME PEER_KEY_NAME PEER_ALLOWED PEER_ENDPOINT INNER OUTER OUTER_GW
# Writes a meshgate config (PEER_ENDPOINT may be empty: learnt from the peer); its profile is
# $MG_PROFILE when set, else the shipped veth-af-packet.profile.
mg_conf() {
  local file=$1 me=$2 peer=$3 allowed=$4 endpoint=$5 inner=$6 outer=$7 gws=$8
  {
    echo "[Interface]"
    echo "PrivateKey = $(cat "$WORK/$me.key")"
    echo "ListenPort = 51820"
    echo "[Peer]"
    echo "PublicKey = $(cat "$WORK/$peer.pub")"
    echo "AllowedIPs = $allowed"
    [ -n "$endpoint" ] && echo "Endpoint = $endpoint"
    echo "[Gateway]"
    echo "InnerAddress = $inner"
    echo "OuterAddress = $outer"
    echo "OuterGateway = $gws"
    echo "IdleBackoff = on"
    echo "Profile = ${MG_PROFILE:-$MG_ROOT/dpdk-configs/veth-af-packet.profile}"
  } >"$file"
}

# mg_pair_start: meshgate at both sites of the topology (A knows B's endpoint, B learns A's),
# configs $WORK/a$S.conf and $WORK/b$S.conf, processes mga and mgb; two TAP checks.
mg_pair_start() {
  gen_keys a; gen_keys b
  mg_conf "$WORK/a$S.conf" a b "$SITE_B_LAN" 203.0.113.2:51820 "$SITE_A_INNER" "$SITE_A_OUTER" "$SITE_A_GW"
  mg_conf "$WORK/b$S.conf" b a "$SITE_A_LAN" "" "$SITE_B_INNER" "$SITE_B_OUTER" "$SITE_B_GW"
  check "meshgate starts at site A" start_meshgate $NS_GA mga "$WORK/a$S.conf"
  check "meshgate starts at site B" start_meshgate $NS_GB mgb "$WORK/b$S.conf"
}

# start_meshgate NS NAME CONF: runs meshgate in NS and waits until it is up.
# The tunnel is named after the config file. EAL runtime directories and UAPI sockets are
# shared by all namespaces, so tests name their config files with this run's suffix ($S);
# the runtime directory is removed at the end.
start_meshgate() {
  local ns=$1 name=$2 conf=$3 tunnel
  tunnel=$(basename "$conf" .conf)
  TUNNELS+=("$tunnel")
  bg "$ns" "$name" "$MG_BIN" --config "$conf"
  if ! wait_for 30 grep -q " up: " "$WORK/$name.log"; then
    log "$name did not start:"; sed 's/^/#   /' "$WORK/$name.log"; return 1
  fi
}

# stop_pid NAME: SIGTERM the process started as NAME and wait for it.
stop_pid() {
  local pid
  pid=$(cat "$WORK/$1.pid" 2>/dev/null) || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
}

# stop_meshgate NAME: SIGTERM, wait, print its statistics as TAP comments; returns meshgate's
# exit status (0 when it stopped cleanly).
stop_meshgate() {
  local name=$1 pid rc=0
  pid=$(cat "$WORK/$name.pid" 2>/dev/null) || return 0
  kill -TERM "$pid" 2>/dev/null
  timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null
  wait "$pid" 2>/dev/null || rc=$?
  sed 's/^/#   /' "$WORK/$name.log" | grep -v TELEMETRY
  grep -q "stopped" "$WORK/$name.log" || rc=1
  return $rc
}

# wireguard_go_site NS KEY_NAME PEER_KEY_NAME PEER_ALLOWED PEER_ENDPOINT: a Linux router at
# site B running wireguard-go, configured with the stock wg tool.
wireguard_go_site() {
  local ns=$1 me=$2 peer=$3 allowed=$4 endpoint=$5
  kernel_gateway "$ns" 10.2.0.1/24 fd02::1/64 203.0.113.2/24 2001:db8:b::2/64 203.0.113.1 2001:db8:b::1
  bg "$ns" wggo env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 wireguard-go -f "$WG_IF"
  wait_for 10 in_ns "$ns" ip link show "$WG_IF" || return 1
  local ep=()
  [ -n "$endpoint" ] && ep=(endpoint "$endpoint")
  in_ns "$ns" wg set "$WG_IF" private-key "$WORK/$me.key" listen-port 51820 \
    peer "$(cat "$WORK/$peer.pub")" allowed-ips "${allowed// /}" "${ep[@]}"
  in_ns "$ns" ip link set "$WG_IF" mtu 1420 up
  local p
  for p in ${allowed//,/ }; do in_ns "$ns" ip route add "$p" dev "$WG_IF"; done
}

# prom_sum NS METRIC [LABEL]: the sum of METRIC's samples whose labels contain LABEL, read from
# the Prometheus endpoint (MetricsListen = 127.0.0.1:9586) of the meshgate in NS.
prom_sum() {
  in_ns "$1" python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9586/metrics", timeout=5).read().decode())' |
    awk -v n="$2{" -v l="${3:-}" 'index($0, n) == 1 && index($0, l) { s += $NF } END { print s + 0 }'
}
# hs_event NS EVENT: meshgate_handshake_events_total for one event (cookies_sent, rejected_bad_mac1...)
hs_event() { prom_sum "$1" meshgate_handshake_events_total "event=\"$2\""; }
# rss_kib NAME: the memory in KiB of the process started as NAME: what is resident, except that
# regions mapped with MADV_HUGEPAGE (VmFlags "hg": the HugeArray tables, sized when made) count
# at their whole mapped size. khugepaged collapses a partly touched 2 MiB range of those into one
# huge page whenever its scan comes by (max_ptes_none is 511 by default), so their resident size
# jumps by up to 2 MiB a range with no byte allocated; a new or larger table still shows.
rss_kib() {
  awk '/^[0-9a-f]+-[0-9a-f]+ / { size = 0; rss = 0 } /^Size:/ { size = $2 } /^Rss:/ { rss = $2 }
    /^VmFlags:/ { s += / hg( |$)/ ? size : rss } END { print s + 0 }' "/proc/$(cat "$WORK/$1.pid")/smaps"
}
# flood_start SECONDS RATE: `tunbench flood` ($MG_TUNBENCH) from the Internet router to gateway
# B's listen port (the tunnel's outer port), initiations with a valid mac1 for key b; process
# "flood", its summary line in $WORK/flood.log.
flood_start() {
  bg $NS_INET flood "$MG_TUNBENCH" flood --to 203.0.113.2:51820 --key "$(cat "$WORK/b.pub")" \
    --rate "$2" --seconds "$1"
}
# flood_sent: "SENT RATE" of the finished flood, from its summary line
flood_sent() { sed -n 's/^tunbench flood: sent \([0-9]*\) .*: \([0-9]*\)\/s, asked.*/\1 \2/p' "$WORK/flood.log"; }
