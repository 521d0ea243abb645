#!/usr/bin/env bash
# Outer fragments on a real path: meshgate at site A, wireguard-go at site B, and a path MTU of
# 1280 between the "Internet" and site B with the usual 1420-byte tunnel MTU. Full-size outer
# packets (1420 + 28 + 32 = 1480 bytes) do not fit: the Internet router fragments meshgate's
# (DF clear), and site B's kernel fragments wireguard-go's before they leave. meshgate must
# reassemble what B sends (its receive front end, docs/design.md "Outer fragments").
#  1. ping of every size up to 1392 (a 1420-byte inner packet) and iperf3 TCP, both ways;
#  2. a flood of fragments that never complete (random ids and offsets) leaves meshgate's memory
#     where it was, shows in its drop counters, and the tunnel still works afterwards.
# meshgate runs on AF_XDP: DPDK's af_packet PMD asks the kernel to defragment for its socket
# (PACKET_FANOUT_FLAG_DEFRAG), so on af_packet meshgate would never see a fragment.
source "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT
export MG_PROFILE=$MG_ROOT/dpdk-configs/veth-af-xdp.profile

metrics() {
  in_ns $NS_GA python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9586/metrics", timeout=5).read().decode())'
}
# counter NAME [LABEL]: the sum of a metric over its label sets that contain LABEL (0: absent).
counter() {
  metrics | awk -v n="$1{" -v l="${2:-}" 'index($0, n) == 1 && index($0, l) { s += $NF } END { print s + 0 }'
}
# ping_sizes FROM_NS DST: one ping of each size from 1200 to 1392 bytes of ICMP payload.
ping_sizes() {
  local s
  for s in 1200 1250 1252 1253 1300 1350 1372 1391 1392; do
    in_ns "$1" ping -c 1 -W 3 -s $s "$2" >/dev/null || { echo "ping -s $s to $2 failed"; return 1; }
  done
}

topo_create
gen_keys a; gen_keys b
mg_conf "$WORK/a$S.conf" a b "$SITE_B_LAN" 203.0.113.2:51820 "$SITE_A_INNER" "$SITE_A_OUTER" "$SITE_A_GW"
echo "MetricsListen = 127.0.0.1:9586" >>"$WORK/a$S.conf"
check "wireguard-go site B comes up" wireguard_go_site $NS_GB b a "$SITE_A_LAN" ""
# The small link: both ends of the Internet's link toward site B.
in_ns $NS_INET ip link set eb mtu 1280
in_ns $NS_GB ip link set wan0 mtu 1280
check "meshgate starts at site A" start_meshgate $NS_GA mga "$WORK/a$S.conf"
check "handshake over the 1280-byte path: ping A->B" in_ns $NS_HA ping -c 3 -i 0.2 -W 3 10.2.0.2

# --- 1: full-size packets both ways ---------------------------------------------------------------
check "ping A->B of sizes up to 1392" ping_sizes $NS_HA 10.2.0.2
check "ping B->A of sizes up to 1392" ping_sizes $NS_HB 10.1.0.2
check "meshgate reassembled what site B fragmented" test "$(counter meshgate_reassembled_packets_total)" -gt 0
if g=$(iperf_tcp $NS_HB $NS_HA 10.2.0.2 3); then tap_ok "iperf3 TCP meshgate -> wireguard-go: $g Gbit/s"; else tap_fail "iperf3 TCP meshgate -> wireguard-go"; fi
if g=$(iperf_tcp $NS_HA $NS_HB 10.1.0.2 3); then tap_ok "iperf3 TCP wireguard-go -> meshgate: $g Gbit/s"; else tap_fail "iperf3 TCP wireguard-go -> meshgate"; fi
log "reassembled: $(counter meshgate_reassembled_packets_total)"

# --- 2: a flood of fragments that never complete ----------------------------------------------
rss0=$(rss_kib mga)
flood() {
  # IPv4 fragments to meshgate's listen port from the Internet: random ids (more datagrams than
  # a worker's table holds) and random offsets, MF always set, so no datagram ever completes.
  in_ns $NS_INET python3 - <<'EOF'
import random, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
rng = random.Random(7)
for _ in range(40000):
    payload = bytes(rng.randrange(256) for _ in range(64))
    frag = 0x2000 | rng.randrange(1, 8000)  # MF, offset in 8-byte units
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), rng.randrange(65536), frag,
                      64, 17, 0, socket.inet_aton("203.0.113.77"), socket.inet_aton("198.51.100.2"))
    s.sendto(hdr + payload, ("198.51.100.2", 0))
EOF
}
check "40000 never-completed fragments sent to meshgate" flood
full=$(counter meshgate_drops_total 'reason="fragment_table_full"')
log "fragment_table_full after the flood: $full"
check "the flood shows as fragment_table_full drops" test "$full" -gt 0
sleep 3  # past the reassembly timeout (2 s)
expired=$(counter meshgate_drops_total 'reason="fragment_expired"')
log "fragment_expired 3 s later: $expired"
check "the datagrams the flood left behind expired" test "$expired" -gt 0
rss1=$(rss_kib mga)
log "meshgate memory (lib.sh rss_kib): $rss0 KiB before the flood, $rss1 KiB after"
check "meshgate's memory stayed bounded (grew by less than 8 MiB)" test $((rss1 - rss0)) -lt 8192
check "the tunnel works after the flood: ping A->B" in_ns $NS_HA ping -c 3 -i 0.2 -W 3 -s 1392 10.2.0.2
check "and B->A" in_ns $NS_HB ping -c 3 -i 0.2 -W 3 -s 1392 10.1.0.2
check "meshgate stops cleanly" stop_meshgate mga
stop_pid wggo
tap_end
