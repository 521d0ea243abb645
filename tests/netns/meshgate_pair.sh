#!/usr/bin/env bash
# meshgate to meshgate: two sites, each gateway on AF_PACKET over veth in its own namespace.
# Ping and an iperf3 TCP run between the LAN hosts, IPv4 and IPv6 inside the tunnel, over IPv4
# and then over IPv6 outside.
source "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

run_pair() {
  local outer=$1 endpoint=$2
  topo_create
  gen_keys a; gen_keys b
  mg_conf "$WORK/a$S.conf" a b "$SITE_B_LAN" "$endpoint" "$SITE_A_INNER" "$SITE_A_OUTER" "$SITE_A_GW"
  mg_conf "$WORK/b$S.conf" b a "$SITE_A_LAN" "" "$SITE_B_INNER" "$SITE_B_OUTER" "$SITE_B_GW"
  check "outer $outer: meshgate starts at site A" start_meshgate $NS_GA mga "$WORK/a$S.conf"
  check "outer $outer: meshgate starts at site B" start_meshgate $NS_GB mgb "$WORK/b$S.conf"
  check "outer $outer: ping IPv4 A->B through the tunnel" in_ns $NS_HA ping -c 3 -i 0.2 -W 3 10.2.0.2
  check "outer $outer: ping IPv6 A->B through the tunnel" in_ns $NS_HA ping -c 3 -i 0.2 -W 3 fd02::2
  check "outer $outer: ping IPv4 B->A through the tunnel" in_ns $NS_HB ping -c 3 -i 0.2 -W 3 10.1.0.2
  check "outer $outer: ping IPv6 B->A through the tunnel" in_ns $NS_HB ping -c 3 -i 0.2 -W 3 fd01::2
  local g4 g6
  if g4=$(iperf_tcp $NS_HB $NS_HA 10.2.0.2 3); then tap_ok "outer $outer: iperf3 TCP over IPv4 inner: $g4 Gbit/s"; else tap_fail "outer $outer: iperf3 TCP over IPv4 inner"; fi
  if g6=$(iperf_tcp $NS_HA $NS_HB fd01::2 3); then tap_ok "outer $outer: iperf3 TCP over IPv6 inner (B->A): $g6 Gbit/s"; else tap_fail "outer $outer: iperf3 TCP over IPv6 inner"; fi
  check "outer $outer: meshgate A stops cleanly on SIGTERM" stop_meshgate mga
  check "outer $outer: meshgate B stops cleanly on SIGTERM" stop_meshgate mgb
  topo_destroy_ns
}

# Namespaces only (the EXIT trap does processes and the work directory).
topo_destroy_ns() { for ns in $NS_HA $NS_GA $NS_INET $NS_GB $NS_HB; do ip netns del "$ns" 2>/dev/null; done; }

run_pair ipv4 203.0.113.2:51820
run_pair ipv6 "[2001:db8:b::2]:51820"
tap_end
