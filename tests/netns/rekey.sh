#!/usr/bin/env bash
# A tunnel that lives past REKEY_AFTER_TIME (120 s): meshgate against wireguard-go, first with
# meshgate as the initiator (it rekeys on age), then with wireguard-go as the initiator (meshgate
# answers and confirms the new keypair on its first packet). A ping runs all the time; the new
# keypair must take over without a gap.
source "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT
topo_destroy_ns() { for ns in $NS_HA $NS_GA $NS_INET $NS_GB $NS_HB; do ip netns del "$ns" 2>/dev/null; done; }

run() {
  local who=$1 a_endpoint=$2 b_endpoint=$3 from=$4 to=$5 log=$6
  topo_create
  gen_keys a; gen_keys b
  mg_conf "$WORK/a$S.conf" a b "$SITE_B_LAN" "$a_endpoint" "$SITE_A_INNER" "$SITE_A_OUTER" "$SITE_A_GW"
  check "$who initiates: meshgate starts" start_meshgate $NS_GA "$log" "$WORK/a$S.conf"
  check "$who initiates: wireguard-go starts" wireguard_go_site $NS_GB b a "$SITE_A_LAN" "$b_endpoint"
  in_ns "$from" ping -i 0.5 -c 270 -W 2 "$to" >"$WORK/$log.ping" 2>&1
  local got
  got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$WORK/$log.ping")
  log "$who initiates: ${got:-0} of 270 pings answered over 135 s"
  check "$who initiates: the ping kept going across the rekey (>= 265 of 270)" test "${got:-0}" -ge 265
  local n
  n=$(grep -c "handshake complete" "$WORK/$log.log")
  log "$who initiates: meshgate logged $n completed handshakes"
  check "$who initiates: a second handshake replaced the first keys after 120 s" test "$n" -ge 2
  check "$who initiates: wg show at B has a handshake younger than 30 s" \
    sh -c "now=\$(date +%s); t=\$(ip netns exec $NS_GB wg show $WG_IF latest-handshakes | awk '{print \$2}'); [ \$((now - t)) -lt 30 ]"
  stop_meshgate "$log"
  stop_pid wggo
  topo_destroy_ns
}

run meshgate 203.0.113.2:51820 "" $NS_HA 10.2.0.2 mga
run wireguard-go "" 198.51.100.2:51820 $NS_HB 10.1.0.2 mgb
tap_end
