#!/usr/bin/env bash
# NAT traversal between meshgate gateways, every pair of NAT profiles at once, TAP output (`nat`
# suite). A lighthouse on a public site; one gateway site per profile (public, fullcone,
# addr_restricted, port_restricted, symmetric, cgnat_double), all running together as a mesh
# (every site lists every other one as a peer without an Endpoint, the lighthouse with one); a
# second port_restricted and a second symmetric site each paired with its twin only, for the
# same-type pairs that matter. Every gateway also has a TURN allocation on coturn.
#
# For each pair: the LAN hosts ping each other both ways; both gateways report the path theory
# predicts (direct or relayed, mg_expected_path in nat_paths_lib.sh has the table and the
# reasons) in `meshgate --status` and Prometheus; and the packets take it: the site routers'
# to-turn counters grow by at least the ping count on a relayed pair, and stay under 10 (STUN
# and TURN refreshes) on a direct one while the counter of packets to the partner's outer
# address grows instead.
source "$(dirname "$0")/natlab.sh"
source "$(dirname "$0")/nat_paths_lib.sh"
trap natlab_destroy EXIT
trap "exit 143" INT TERM
T0=$SECONDS
N=20  # pings per direction and pair

# Bounds: the time the whole mesh may take to find its paths after the last gateway started,
# and for one pair's first echo once it has a path.
CONVERGE_S=${NAT_PATHS_CONVERGE_S:-90}

natlab_internet || { tap_fail "internet namespace"; tap_end; exit 1; }
check "coturn listens on two addresses" natlab_coturn

# name:index:profile. lh is the lighthouse; pr2 and sy2 pair with their twins only.
SITES="lh:1:public pu:2:public fc:3:fullcone ar:4:addr_restricted pr:5:port_restricted
  sy:6:symmetric cg:7:cgnat_double pr2:8:port_restricted sy2:9:symmetric"
MESH="pu fc ar pr sy cg"
TWINS="pr:pr2 sy:sy2"
ALL=()
for s in $SITES; do
  IFS=: read -r name idx profile <<<"$s"
  check "site $name ($profile)" mg_nat_site "$name" "$idx" "$profile" || { tap_end; exit 1; }
  ALL+=("$name")
done

# The pairs under test, "a:b".
PAIRS=()
mesh=($MESH)
for ((i = 0; i < ${#mesh[@]}; i++)); do
  for ((j = i + 1; j < ${#mesh[@]}; j++)); do PAIRS+=("${mesh[i]}:${mesh[j]}"); done
done
PAIRS+=($TWINS)

# Configs: key pairs first (mg_nat_conf writes them), then the peers that name them.
mg_nat_conf lh lighthouse
for s in "${ALL[@]:1}"; do mg_nat_conf "$s"; done
for s in "${ALL[@]:1}"; do
  mg_conf_peer lh "$s"             # the lighthouse knows every site, learns where it is
  mg_conf_lighthouse "$s" lh       # every site knows the lighthouse's address
done
for p in "${PAIRS[@]}"; do
  a=${p%:*} b=${p#*:}
  mg_conf_peer "$a" "$b"           # no Endpoint: reached by introduction
  mg_conf_peer "$b" "$a"
  mg_count_direct "$a" "$b"
  mg_count_direct "$b" "$a"
done

for s in "${ALL[@]}"; do
  check "$s: meshgate starts" mg_nat_start "$s"
done
log "${#ALL[@]} gateways up after $((SECONDS - T0)) s"

lh_both() { mg_lan_ping_soon 15 "$1" lh && mg_lan_ping lh "$1" 2; }
# What works without introductions: each site's tunnel to the lighthouse (configured Endpoint).
for s in "${ALL[@]:1}"; do
  check "$s (${NL_PROFILE[$s]}): tunnel to the lighthouse, LAN hosts ping both ways" lh_both "$s"
done

log "lighthouse tunnels checked at $((SECONDS - T0)) s"
# Wait until every gateway of every pair names a path (the mesh converges as a whole).
has_path() { local p; p=$(mg_path "$1" "$2"); [ -n "$p" ] && [ "$p" != none ]; }
all_have_paths() {
  local p
  for p in "${PAIRS[@]}"; do has_path "${p%:*}" "${p#*:}" && has_path "${p#*:}" "${p%:*}" || return 1; done
}
t=$SECONDS
check "every gateway has a path to each of its partners within $CONVERGE_S s" wait_for "$CONVERGE_S" all_have_paths
log "paths after $((SECONDS - t)) s"

# path_both A B WANT: both --status and Prometheus say WANT for A's peer B.
path_both() {
  local st pr
  st=$(mg_path "$1" "$2") pr=$(mg_path_prom "$1" "$2")
  echo "--status: '$st', Prometheus: '$pr'"
  mg_status_peer_line "$1" "$2"
  [ "$st" = "$3" ] && [ "$pr" = "$3" ]
}

ping_both() { mg_lan_ping "$1" "$2" $N 0.05 && mg_lan_ping "$2" "$1" $N 0.05; }
for p in "${PAIRS[@]}"; do
  a=${p%:*} b=${p#*:}
  pa=${NL_PROFILE[$a]} pb=${NL_PROFILE[$b]}
  want=$(mg_expected_path "$pa" "$pb")
  tag="$a($pa) <-> $b($pb)"
  check "$tag: $a reports path $want" path_both "$a" "$b" "$want"
  check "$tag: $b reports path $want" path_both "$b" "$a" "$want"
  if ! check_rc "$tag: first echo $a -> $b" mg_lan_ping_soon 5 "$a" "$b"; then
    tap_fail "$tag: $N pings each way (skipped: no first echo)"
    tap_fail "$tag: the packets take the $want path (skipped)"
    continue
  fi
  turn_a=$(natlab_counter "$a" to-turn) turn_b=$(natlab_counter "$b" to-turn)
  dir_a=$(natlab_counter "$a" "to-$b") dir_b=$(natlab_counter "$b" "to-$a")
  check "$tag: $N pings each way" ping_both "$a" "$b"
  dturn_a=$(($(natlab_counter "$a" to-turn) - turn_a)) dturn_b=$(($(natlab_counter "$b" to-turn) - turn_b))
  ddir_a=$(($(natlab_counter "$a" "to-$b") - dir_a)) ddir_b=$(($(natlab_counter "$b" "to-$a") - dir_b))
  counts="to coturn: $a +$dturn_a, $b +$dturn_b; direct: $a +$ddir_a, $b +$ddir_b"
  if [ "$want" = relayed ]; then
    check "$tag: relayed packets ($counts)" \
      test "$dturn_a" -ge $N -a "$dturn_b" -ge $N -a "$ddir_a" -lt $N -a "$ddir_b" -lt $N
  else
    check "$tag: direct packets ($counts)" \
      test "$dturn_a" -lt 10 -a "$dturn_b" -lt 10 -a "$ddir_a" -ge $N -a "$ddir_b" -ge $N
  fi
done

log "pairs checked at $((SECONDS - T0)) s"
for s in "${ALL[@]}"; do
  mg_status "$s" | sed "s/^/#   $s: /"
done
for s in "${ALL[@]}"; do
  check "$s: meshgate stops cleanly" stop_meshgate "mg$s"
done
log "nat_paths runtime: $((SECONDS - T0)) s"
tap_end
