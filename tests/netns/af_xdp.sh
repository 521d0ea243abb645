#!/usr/bin/env bash
# meshgate to meshgate on AF_XDP sockets over veth (dpdk-configs/veth-af-xdp.profile). A veth
# offers one AF_XDP queue pair, so the control thread's frames (ARP, handshakes) go out through
# worker 0: the handshake, pings both ways and an iperf3 run prove that relay.
source "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT
topo_create
gen_keys a; gen_keys b
export MG_PROFILE=$MG_ROOT/dpdk-configs/veth-af-xdp.profile
mg_conf "$WORK/xa$S.conf" a b "$SITE_B_LAN" 203.0.113.2:51820 "$SITE_A_INNER" "$SITE_A_OUTER" "$SITE_A_GW"
mg_conf "$WORK/xb$S.conf" b a "$SITE_A_LAN" "" "$SITE_B_INNER" "$SITE_B_OUTER" "$SITE_B_GW"
check "meshgate starts at site A on AF_XDP" start_meshgate $NS_GA mga "$WORK/xa$S.conf"
check "meshgate starts at site B on AF_XDP" start_meshgate $NS_GB mgb "$WORK/xb$S.conf"
check "ping IPv4 A->B through the tunnel" in_ns $NS_HA ping -c 3 -i 0.2 -W 3 10.2.0.2
check "ping IPv6 A->B through the tunnel" in_ns $NS_HA ping -c 3 -i 0.2 -W 3 fd02::2
check "ping IPv4 B->A through the tunnel" in_ns $NS_HB ping -c 3 -i 0.2 -W 3 10.1.0.2
if g=$(iperf_tcp $NS_HB $NS_HA 10.2.0.2 3); then tap_ok "iperf3 TCP over AF_XDP: $g Gbit/s"; else tap_fail "iperf3 TCP over AF_XDP"; fi
check "both gateways logged the handshake" sh -c "grep -q 'handshake complete' $WORK/mga.log && grep -q 'handshake complete' $WORK/mgb.log"
check "meshgate A stops cleanly on SIGTERM" stop_meshgate mga
check "meshgate B stops cleanly on SIGTERM" stop_meshgate mgb
tap_end
