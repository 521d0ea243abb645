#!/usr/bin/env bash
# The tunnel MTU as LAN hosts meet it, against a meshgate and against wireguard-go at site B:
#  1. IPv4 without DF over the tunnel MTU (1500-byte pings and UDP datagrams, 1420 tunnel MTU)
#     is fragmented by the gateway and arrives intact; with DF it is answered with ICMP
#     "fragmentation needed" (mtu 1420), IPv6 with "packet too big".
source "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT
topo_destroy_ns() { for ns in $NS_HA $NS_GA $NS_INET $NS_GB $NS_HB; do ip netns del "$ns" 2>/dev/null; done; }
UDP_BIG="$MG_ROOT/tests/netns/support/udp_big.py"

# udp_intact NS_FROM NS_TO ADDR: five 1500-byte (IP) datagrams with DF clear arrive intact.
udp_intact() {
  local from=$1 to=$2 addr=$3
  bg "$to" udp-recv-$TAP_N python3 "$UDP_BIG" recv "$addr" 9000 5 1472
  sleep 0.5
  in_ns "$from" python3 "$UDP_BIG" send "$addr" 9000 5 1472 || return 1
  local pid; pid=$(cat "$WORK/udp-recv-$TAP_N.pid")
  wait "$pid"; local rc=$?
  cat "$WORK/udp-recv-$TAP_N.log"
  return $rc
}

# fragments_cross WHO: both directions, pings and UDP, 1500-byte packets with DF clear.
fragments_cross() {
  local who=$1
  check "$who: ping -M dont -s 1472 A->B arrives (fragmented at the gateway)" \
    in_ns $NS_HA ping -c 3 -i 0.2 -W 3 -M dont -s 1472 10.2.0.2
  check "$who: ping -M dont -s 1472 B->A arrives" in_ns $NS_HB ping -c 3 -i 0.2 -W 3 -M dont -s 1472 10.1.0.2
  check "$who: 1500-byte UDP datagrams with DF clear A->B arrive intact" udp_intact $NS_HA $NS_HB 10.2.0.2
  check "$who: 1500-byte UDP datagrams with DF clear B->A arrive intact" udp_intact $NS_HB $NS_HA 10.1.0.2
}

# refused_with_mtu: DF set or IPv6 over the MTU: the gateway's ICMP names the tunnel MTU.
refused_with_mtu() {
  in_ns $NS_HA ping -c 1 -W 2 -M do -s 1472 10.2.0.2 >"$WORK/df.out" 2>&1
  cat "$WORK/df.out"
  grep -q "From 10.1.0.1 .*mtu = 1420" "$WORK/df.out"
}
refused_v6() {
  in_ns $NS_HA ping -c 1 -W 2 -s 1452 fd02::2 >"$WORK/ptb.out" 2>&1
  cat "$WORK/ptb.out"
  grep -q "From fd01::1 .*Packet too big: mtu=1420" "$WORK/ptb.out"
}

# --- meshgate at both sites --------------------------------------------------------------------
topo_create
mg_pair_start
check "meshgate pair: small ping A->B (tunnel up)" in_ns $NS_HA ping -c 2 -i 0.2 -W 3 10.2.0.2
fragments_cross "meshgate pair"
check "meshgate pair: DF set over the MTU: ICMP fragmentation needed, mtu 1420" refused_with_mtu
check "meshgate pair: IPv6 over the MTU: ICMPv6 packet too big, mtu 1420" refused_v6
check "meshgate A stops cleanly" stop_meshgate mga
check "meshgate B stops cleanly" stop_meshgate mgb
topo_destroy_ns

# --- wireguard-go at site B ----------------------------------------------------------------------
topo_create
gen_keys a; gen_keys b
mg_conf "$WORK/a$S.conf" a b "$SITE_B_LAN" 203.0.113.2:51820 "$SITE_A_INNER" "$SITE_A_OUTER" "$SITE_A_GW"
check "wireguard-go site B comes up" wireguard_go_site $NS_GB b a "$SITE_A_LAN" ""
check "meshgate starts at site A (wireguard-go at B)" start_meshgate $NS_GA mga2 "$WORK/a$S.conf"
check "wireguard-go: small ping A->B (tunnel up)" in_ns $NS_HA ping -c 2 -i 0.2 -W 3 10.2.0.2
fragments_cross "wireguard-go at B"
check "meshgate A stops cleanly (wireguard-go at B)" stop_meshgate mga2
stop_pid wggo
tap_end
