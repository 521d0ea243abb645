#!/usr/bin/env bash
# A router's rewrites through a meshgate pair (docs/design.md, "Forwarding rewrites"):
#   TTL   traceroute from host A shows gateway A's and gateway B's inner addresses as hops, as it
#         would through two Linux routers with a WireGuard interface; TTL 1 gets time exceeded.
#   MSS   the LANs keep MTU 1500 under the 1420 tunnel: the SYN host A sends announces MSS 1460,
#         host B receives it as 1380 (1360 over IPv6), the SYN-ACK comes back lowered the same
#         way, and an iperf3 TCP stream runs with every ICMP error dropped at host A (no path-MTU
#         discovery to fall back on).
#   ECN   a router on the Internet link marks CE on ECN-capable WireGuard packets (nftables): a
#         ping sent ECT(0) arrives CE at host B (RFC 6040), its outer packets carried ECT(0).
source "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

topo_create
mg_pair_start
check "a ping crosses both ways first" in_ns $NS_HA ping -c 2 -i 0.2 -W 3 10.2.0.2
check "an IPv6 ping crosses first" in_ns $NS_HA ping -6 -c 2 -i 0.2 -W 3 fd02::2

# --- TTL ------------------------------------------------------------------------------------------
# hops FAMILY DST: the hop addresses traceroute prints, one per line.
hops() {
  in_ns $NS_HA traceroute "$1" -n -q 1 -w 2 -m 5 "$2" | awk 'NR > 1 { print $2 }'
}
hops -4 10.2.0.2 >"$WORK/trace4"
sed 's/^/#   traceroute: /' "$WORK/trace4"
check "traceroute shows gateway A, gateway B, host B" \
  test "$(paste -sd' ' "$WORK/trace4")" = "10.1.0.1 10.2.0.1 10.2.0.2"
hops -6 fd02::2 >"$WORK/trace6"
sed 's/^/#   traceroute -6: /' "$WORK/trace6"
check "traceroute -6 shows gateway A, gateway B, host B" \
  test "$(paste -sd' ' "$WORK/trace6")" = "fd01::1 fd02::1 fd02::2"
in_ns $NS_HA ping -c 1 -W 2 -t 1 10.2.0.2 >"$WORK/ttl1" 2>&1
check "ping -t 1: time exceeded from gateway A" grep -q "From 10.1.0.1 .*Time to live exceeded" "$WORK/ttl1"
in_ns $NS_HA ping -c 1 -W 2 -t 2 10.2.0.2 >"$WORK/ttl2" 2>&1
check "ping -t 2: time exceeded from gateway B, through the tunnel" \
  grep -q "From 10.2.0.1 .*Time to live exceeded" "$WORK/ttl2"

# --- MSS ------------------------------------------------------------------------------------------
# syn_mss NS PORT CMD...: runs CMD (one TCP connection to PORT) while tcpdump in NS captures
# the connection's first two segments, the SYN and the SYN-ACK; prints each one's flags and MSS
# ("S 1460", "S. 1380"). The filter is by port alone: tcpdump cannot look into TCP over IPv6.
syn_mss() {
  local ns=$1 port=$2 pid
  shift 2
  ip netns exec "$ns" timeout 15 tcpdump -i eth0 -nn -l -c 2 "tcp port $port" \
    >"$WORK/syn.$ns" 2>/dev/null &
  pid=$!
  sleep 1  # tcpdump's socket is open before the first SYN
  "$@" >/dev/null 2>&1
  wait "$pid"
  sed -nE 's/.*Flags \[([S.]+)\].*mss ([0-9]+).*/\1 \2/p' "$WORK/syn.$ns"
}
bg $NS_HB iperf3-mss iperf3 -s -B 10.2.0.2
bg $NS_HB iperf3-mss6 iperf3 -s -B fd02::2 -p 5202
wait_for 5 in_ns $NS_HB sh -c "ss -ltn | grep -q ':5202'"
probe() { in_ns $NS_HA iperf3 -c "$1" -p "$2" -t 1; }
syn_mss $NS_HA 5201 probe 10.2.0.2 5201 >"$WORK/mss_a"
syn_mss $NS_HB 5201 probe 10.2.0.2 5201 >"$WORK/mss_b"
log "IPv4 at host A: $(paste -sd, "$WORK/mss_a"); at host B: $(paste -sd, "$WORK/mss_b")"
check "host A's SYN leaves with MSS 1460 (its LAN's MTU)" grep -qx "S 1460" "$WORK/mss_a"
check "host B receives the SYN with MSS 1380 (tunnel MTU 1420)" grep -qx "S 1380" "$WORK/mss_b"
check "host A receives the SYN-ACK with MSS 1380" grep -qx "S. 1380" "$WORK/mss_a"
syn_mss $NS_HB 5202 probe fd02::2 5202 >"$WORK/mss6_b"
syn_mss $NS_HA 5202 probe fd02::2 5202 >"$WORK/mss6_a"
log "IPv6 at host A: $(paste -sd, "$WORK/mss6_a"); at host B: $(paste -sd, "$WORK/mss6_b")"
check "host B receives the IPv6 SYN with MSS 1360" grep -qx "S 1360" "$WORK/mss6_b"
check "host A receives the IPv6 SYN-ACK with MSS 1360" grep -qx "S. 1360" "$WORK/mss6_a"
# No ICMP reaches host A: a stream that needed path-MTU discovery would stall.
in_ns $NS_HA nft -f - <<'EOF'
table inet blackhole {
  chain in { type filter hook input priority 0; meta l4proto { icmp, ipv6-icmp } drop; }
}
EOF
stop_pid iperf3-mss
if g=$(iperf_tcp $NS_HB $NS_HA 10.2.0.2 3); then
  tap_ok "iperf3 TCP A->B with every ICMP to host A dropped: $g Gbit/s"
else
  tap_fail "iperf3 TCP A->B with every ICMP to host A dropped"
fi
in_ns $NS_HA nft delete table inet blackhole

# --- ECN ------------------------------------------------------------------------------------------
# tos_of NS IFACE FILTER CMD...: runs CMD while tcpdump captures one packet matching FILTER on
# IFACE; prints the captured packet's IPv4 TOS ("0x2").
tos_of() {
  local ns=$1 ifc=$2 filter=$3 pid
  shift 3
  ip netns exec "$ns" timeout 10 tcpdump -i "$ifc" -nn -v -l -c 1 "$filter" >"$WORK/tos" 2>/dev/null &
  pid=$!
  sleep 1
  "$@" >/dev/null 2>&1
  wait "$pid"
  sed -nE 's/.*\(tos (0x[0-9a-f]+).*/\1/p' "$WORK/tos" | head -1
}
ping_ect0() { in_ns $NS_HA ping -c 2 -i 0.3 -W 2 -Q 2 10.2.0.2; }
outer=$(tos_of $NS_INET eb "udp port 51820 and greater 100" ping_ect0)
check "the outer packet carries the inner ECT(0) (tos $outer)" test "$outer" = "0x2"
in_ns $NS_INET nft -f - <<'EOF'
table inet aqm {
  chain marking {
    type filter hook forward priority 0;
    udp dport 51820 ip ecn { ect0, ect1 } ip ecn set ce
  }
}
EOF
inner=$(tos_of $NS_HB eth0 "icmp[icmptype] == icmp-echo" ping_ect0)
check "a CE mark on the outer packet reaches host B (tos $inner)" test "$inner" = "0x3"
check "pings sent ECT(0) still cross with CE marking on" ping_ect0
in_ns $NS_INET nft delete table inet aqm

check "meshgate A stops cleanly" stop_meshgate mga
check "meshgate B stops cleanly" stop_meshgate mgb
tap_end
