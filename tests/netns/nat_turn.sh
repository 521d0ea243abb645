#!/usr/bin/env bash
# meshgate's TURN allocation behind NATs of the laboratory (natlab.sh), TAP output (`nat` suite):
# a meshgate gateway in a site's host namespace allocates a relayed address on coturn from its
# WireGuard port with long-term credentials (401, then an authenticated Allocate). The log, the
# Prometheus endpoint and `meshgate --status` must name a relayed address of coturn, and coturn's
# log must show the allocation. coturn is also the gateway's STUN server, on the same address:
# the control thread must tell the two clients' answers apart.
source "$(dirname "$0")/natlab.sh"
trap natlab_destroy EXIT
trap "exit 143" INT TERM

natlab_internet || { tap_fail "internet namespace"; tap_end; exit 1; }
check "coturn listens on two addresses" natlab_coturn

# metrics NS: the gateway's Prometheus text.
metrics() {
  ip netns exec "$1" python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9586/metrics", timeout=5).read().decode())'
}
relayed_re='203\.0\.113\.[12]:[0-9]+'

run_site() {
  local name=$1 i=$2 profile=$3 conf h before
  conf=$WORK/nat$S$name.conf
  check "$profile: site with a meshgate gateway" mg_site "$name" "$i" "$profile" || return
  h=$(natlab_host_ns "$name")
  mg_site_conf "$name" "$conf" "TurnServer = $TURN_IP1
TurnUser = user
TurnPassword = password"
  before=$(natlab_turn_allocations)
  check "$profile: meshgate starts" start_meshgate "$h" "mg$name" "$conf" || return
  check "$profile: log names a relayed address of coturn" \
    wait_for 30 grep -Eq "TURN relayed address $relayed_re \(server $TURN_IP1:3478, lifetime [0-9]+ s\)" "$WORK/mg$name.log"
  check "$profile: coturn's log shows the allocation" \
    wait_for 10 sh -c "[ \$(awk '/ALLOCATE processed, success/ { n++ } END { print n + 0 }' '$WORK/turnserver.log') -gt $before ]"
  check "$profile: STUN still learns the reflexive address beside TURN" \
    wait_for 30 grep -q "reflexive address .* (via server $TURN_IP1:3478)" "$WORK/mg$name.log"
  metrics "$h" >"$WORK/metrics-$name.txt" 2>&1
  check "$profile: Prometheus has meshgate_turn_info with the relayed address, state allocated" \
    grep -Eq "meshgate_turn_info\{[^}]*relayed=\"$relayed_re\",server=\"$TURN_IP1:3478\",state=\"allocated\"\} 1" "$WORK/metrics-$name.txt"
  check "$profile: TURN answers counted (a challenge, then accepted)" \
    sh -c "grep -Eq 'meshgate_turn_messages_total\{[^}]*verdict=\"challenge\"\} [1-9]' '$WORK/metrics-$name.txt' && grep -Eq 'meshgate_turn_messages_total\{[^}]*verdict=\"accepted\"\} [1-9]' '$WORK/metrics-$name.txt'"
  in_ns "$h" "$MG_BIN" --status "$conf" >"$WORK/status-$name.txt" 2>&1
  check "$profile: meshgate --status shows the relayed address" \
    grep -Eq "TURN relayed address: $relayed_re \(server $TURN_IP1:3478, allocated" "$WORK/status-$name.txt"
  sed 's/^/#   /' "$WORK/status-$name.txt"
  check "$profile: meshgate stops cleanly" stop_meshgate "mg$name"
}

i=1
for profile in port_restricted symmetric; do
  run_site "s$i" "$i" "$profile"
  i=$((i + 1))
done
tap_end
