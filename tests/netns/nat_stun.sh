#!/usr/bin/env bash
# meshgate's address discovery behind every NAT of the laboratory (natlab.sh), TAP output (`nat`
# suite): a meshgate gateway in each site's host namespace asks the two-address coturn for its
# reflexive address from its WireGuard port and classifies its NAT (RFC 5780). The log, the
# Prometheus endpoint and `meshgate --status` must report the site's public address and the class
# turnutils_natdiscovery finds for the same profile (natlab_check.sh asserts that oracle).
source "$(dirname "$0")/natlab.sh"
trap natlab_destroy EXIT
trap "exit 143" INT TERM

# The class meshgate should report for each profile (the short RFC 3489 names) and the mapping
# and filtering behind it, as natdiscovery sees the same profiles.
declare -A WANT=([public]="public" [fullcone]="full cone" [addr_restricted]="restricted cone"
  [port_restricted]="port-restricted cone" [symmetric]="symmetric"
  [cgnat_double]="port-restricted cone")

natlab_internet || { tap_fail "internet namespace"; tap_end; exit 1; }
check "coturn listens on two addresses" natlab_coturn

# status_shows FILE ADDRESS CLASS
status_shows() { grep -q "$2:" "$1" && grep -qF "[$3]" "$1"; }

run_site() {
  local name=$1 i=$2 profile=$3 conf want pub h
  conf=$WORK/nat$S$name.conf want=${WANT[$profile]}
  check "$profile: site with a meshgate gateway" mg_site "$name" "$i" "$profile" || return
  h=$(natlab_host_ns "$name")
  pub=$(natlab_public_ip "$name")
  [ "$profile" = public ] && pub=$(natlab_host_ip "$name")
  mg_site_conf "$name" "$conf"
  check "$profile: meshgate starts" start_meshgate "$h" "mg$name" "$conf" || return
  check "$profile: log names the reflexive address $pub" \
    wait_for 30 grep -q "reflexive address $pub:[0-9]* (via server $TURN_IP1:3478)" "$WORK/mg$name.log"
  check "$profile: log names the NAT class '$want'" \
    wait_for 60 grep -q "NAT: .* ($want, tested with server" "$WORK/mg$name.log"
  in_ns "$h" "$MG_BIN" --status "$conf" >"$WORK/status-$name.txt" 2>&1
  check "$profile: meshgate --status shows the address and the class" \
    status_shows "$WORK/status-$name.txt" "$pub" "$want"
  check "$profile: Prometheus has meshgate_nat_info with class '$want'" \
    sh -c "ip netns exec '$h' python3 -c 'import urllib.request; print(urllib.request.urlopen(\"http://127.0.0.1:9586/metrics\", timeout=5).read().decode())' | grep 'meshgate_nat_info{' | grep -q 'class=\"$want\"'"
  check "$profile: STUN answers came back through the workers (accepted > 0)" \
    sh -c "ip netns exec '$h' python3 -c 'import urllib.request; print(urllib.request.urlopen(\"http://127.0.0.1:9586/metrics\", timeout=5).read().decode())' | grep -Eq 'meshgate_stun_messages_total\{[^}]*verdict=\"accepted\"\} [1-9]'"
  sed 's/^/#   /' "$WORK/status-$name.txt"
  check "$profile: meshgate stops cleanly" stop_meshgate "mg$name"
}

i=1
for profile in public fullcone addr_restricted port_restricted symmetric cgnat_double; do
  run_site "s$i" "$i" "$profile"
  i=$((i + 1))
done
tap_end
