#!/usr/bin/env bash
# One peer into a gateway with two workers on multi-queue AF_PACKET ports: the kernel's fanout
# hash puts the whole WireGuard session on one RX queue of gateway B, and B's other worker opens
# bursts of it (meshgate_opened_for_others_packets_total), while iperf3's TCP stream crosses
# intact and pings both ways answer.
source "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

topo_create
gen_keys a; gen_keys b
# B: two workers, three queue pairs a port (a TX queue for the control thread), three lcores on
# the machine's two CPUs (worker 0 alone on CPU 1; worker 1 beside the main lcore).
sed -e 's/^lcores = 0-1$/lcore-map = 0@0,1@1,2@0/' -e 's/qpairs=2/qpairs=3/g' \
  -e 's/^workers = 1$/workers = 2/' -e 's/^queues = 1$/queues = 2/' \
  "$MG_ROOT/dpdk-configs/veth-af-packet.profile" >"$WORK/b.profile"
edited() { [ "$(grep -c -e '^workers = 2$' -e 'qpairs=3' -e '^lcore-map = 0@0,1@1,2@0$' "$1")" -eq 4 ]; }
check "B's profile has two workers, three queue pairs a port, three lcores" edited "$WORK/b.profile"
mg_conf "$WORK/a$S.conf" a b "$SITE_B_LAN" 203.0.113.2:51820 "$SITE_A_INNER" "$SITE_A_OUTER" "$SITE_A_GW"
MG_PROFILE="$WORK/b.profile" mg_conf "$WORK/b$S.conf" b a "$SITE_A_LAN" "" "$SITE_B_INNER" "$SITE_B_OUTER" "$SITE_B_GW"
echo "MetricsListen = 127.0.0.1:9586" >>"$WORK/b$S.conf"
check "meshgate starts at site A (one worker)" start_meshgate $NS_GA mga "$WORK/a$S.conf"
check "meshgate starts at site B (two workers)" start_meshgate $NS_GB mgb "$WORK/b$S.conf"
check "ping IPv4 A->B through the tunnel" in_ns $NS_HA ping -c 3 -i 0.2 -W 3 10.2.0.2
check "iperf3 TCP A->B for 5 s through the tunnel" iperf_tcp $NS_HB $NS_HA 10.2.0.2 5
log "A->B: $(cat "$WORK/last.out") Gbit/s"
opened=$(prom_sum $NS_GB meshgate_opened_for_others_packets_total)
decrypted=$(prom_sum $NS_GB meshgate_decrypted_packets_total)
log "B opened $decrypted packets, $opened of them off the other worker's queue"
check "B's second worker opened packets of the one peer's queue" test "$opened" -gt 0
check "ping IPv4 B->A through the tunnel" in_ns $NS_HB ping -c 3 -i 0.2 -W 3 10.1.0.2
check "meshgate A stops cleanly on SIGTERM" stop_meshgate mga
check "meshgate B stops cleanly on SIGTERM" stop_meshgate mgb
tap_end
