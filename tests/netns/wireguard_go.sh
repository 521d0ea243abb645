#!/usr/bin/env bash
# meshgate at site A, Debian's wireguard-go configured with the stock wg tool at site B.
#  1. meshgate initiates (it knows B's endpoint; B does not know A's): ping, iperf3, and
#     `wg show` at B reports the handshake and the transfer;
#  2. wireguard-go initiates (the other way round);
#  3. roaming: site B's public address changes in the middle of a ping; traffic goes on.
source "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT
topo_destroy_ns() { for ns in $NS_HA $NS_GA $NS_INET $NS_GB $NS_HB; do ip netns del "$ns" 2>/dev/null; done; }

wg_handshake_seen() { [ "$(in_ns $NS_GB wg show $WG_IF latest-handshakes | awk '{print $2}')" -gt 0 ]; }
wg_rx_nonzero() { [ "$(in_ns $NS_GB wg show $WG_IF transfer | awk '{print $2}')" -gt 0 ]; }

# --- 1: meshgate initiates ----------------------------------------------------------------------
topo_create
gen_keys a; gen_keys b
mg_conf "$WORK/a$S.conf" a b "$SITE_B_LAN" 203.0.113.2:51820 "$SITE_A_INNER" "$SITE_A_OUTER" "$SITE_A_GW"
check "wireguard-go site B comes up" wireguard_go_site $NS_GB b a "$SITE_A_LAN" ""
check "meshgate starts at site A" start_meshgate $NS_GA mga "$WORK/a$S.conf"
check "meshgate initiates: ping IPv4 A->B" in_ns $NS_HA ping -c 3 -i 0.2 -W 3 10.2.0.2
check "meshgate initiates: ping IPv6 A->B" in_ns $NS_HA ping -c 3 -i 0.2 -W 3 fd02::2
check "ping IPv4 B->A" in_ns $NS_HB ping -c 3 -i 0.2 -W 3 10.1.0.2
check "wg show at B reports the handshake" wg_handshake_seen
check "wg show at B reports received bytes" wg_rx_nonzero
check "wg show at B names meshgate's endpoint" sh -c "ip netns exec $NS_GB wg show $WG_IF endpoints | grep -q '198.51.100.2:51820'"
if g=$(iperf_tcp $NS_HB $NS_HA 10.2.0.2 3); then tap_ok "iperf3 TCP meshgate -> wireguard-go: $g Gbit/s"; else tap_fail "iperf3 TCP meshgate -> wireguard-go"; fi
if g=$(iperf_tcp $NS_HA $NS_HB 10.1.0.2 3); then tap_ok "iperf3 TCP wireguard-go -> meshgate: $g Gbit/s"; else tap_fail "iperf3 TCP wireguard-go -> meshgate"; fi

# --- 3: roaming: B's address changes under a running ping from B ------------------------------
# The side that moves keeps sending, as a roaming laptop does. wireguard-go notices that its
# cached source address is gone when its new-handshake timer fires (15 s without an answer);
# meshgate learns the new endpoint from the first authenticated packet and answers there.
in_ns $NS_HB ping -i 0.2 -c 150 -W 1 10.1.0.2 >"$WORK/roam.ping" 2>&1 &
roam_ping=$!
sleep 2
in_ns $NS_GB sysctl -qw net.ipv4.conf.wan0.promote_secondaries=1  # keep .9 when .2 goes
in_ns $NS_GB ip addr add 203.0.113.9/24 dev wan0
in_ns $NS_GB ip addr del 203.0.113.2/24 dev wan0
in_ns $NS_GB ip route replace default via 203.0.113.1
wait $roam_ping
late=$(grep -c 'icmp_seq=1[0-4][0-9] ' "$WORK/roam.ping")
log "roaming ping: replies to the last 50 requests: $late"
check "traffic goes on after site B's address changed (>= 45 of the last 50 pings answered)" test "$late" -ge 45
check "replies now go to site B's new address" sh -c "ip netns exec $NS_INET ip neigh show 203.0.113.9 | grep -q lladdr"

# --- restart: meshgate's next initiation must carry a newer TAI64N than wireguard-go has seen --
stop_meshgate mga >/dev/null
mg_conf "$WORK/a$S.conf" a b "$SITE_B_LAN" 203.0.113.9:51820 "$SITE_A_INNER" "$SITE_A_OUTER" "$SITE_A_GW"
check "meshgate starts again at site A" start_meshgate $NS_GA mga-restart "$WORK/a$S.conf"
check "after the restart, a new handshake is accepted and A->B works" \
  in_ns $NS_HA ping -c 3 -i 0.3 -W 3 10.2.0.2
check "the restarted meshgate logged the handshake" grep -q "handshake complete" "$WORK/mga-restart.log"
stop_meshgate mga-restart
stop_pid wggo
topo_destroy_ns

# --- 2: wireguard-go initiates ------------------------------------------------------------------
topo_create
gen_keys a; gen_keys b
mg_conf "$WORK/a$S.conf" a b "$SITE_B_LAN" "" "$SITE_A_INNER" "$SITE_A_OUTER" "$SITE_A_GW"
check "meshgate starts at site A (no endpoint for B)" start_meshgate $NS_GA mga2 "$WORK/a$S.conf"
check "wireguard-go site B comes up knowing A's endpoint" wireguard_go_site $NS_GB b a "$SITE_A_LAN" 198.51.100.2:51820
check "wireguard-go initiates: ping IPv4 B->A" in_ns $NS_HB ping -c 3 -i 0.2 -W 3 10.1.0.2
check "wireguard-go initiates: ping IPv6 B->A" in_ns $NS_HB ping -c 3 -i 0.2 -W 3 fd01::2
check "then A->B works too" in_ns $NS_HA ping -c 3 -i 0.2 -W 3 10.2.0.2
check "wg show at B reports the handshake" wg_handshake_seen
if g=$(iperf_tcp $NS_HA $NS_HB 10.1.0.2 3); then tap_ok "iperf3 TCP wireguard-go -> meshgate: $g Gbit/s"; else tap_fail "iperf3 TCP wireguard-go -> meshgate (initiated by wireguard-go)"; fi
stop_meshgate mga2
stop_pid wggo
tap_end
