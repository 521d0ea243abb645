#!/usr/bin/env bash
# NAT traversal when the network changes under a live tunnel, TAP output (`nat` suite). A
# lighthouse (public) and two gateway sites, A behind a port_restricted NAT and B behind a
# symmetric one, introduced by the lighthouse (no Endpoint between them); site C
# (port_restricted) joins at the end.
#   (a) A-B starts relayed; B's NAT becomes port_restricted: the path turns direct within 60 s
#       and a continuous ping keeps going (no gap over 30 s).
#   (b) the internet drops A-B traffic: relayed within 10 s on the same session (no new
#       handshake), the ping's longest gap under 12 s; unblocked: direct again within 60 s.
#   (c) conntrack UDP timeouts of 10 s at both routers: after 40 s without traffic the tunnel
#       still answers at once (the A-B keepalive, 5 s, holds the mappings).
#   (d) a router forgets its NAT mappings (conntrack flush): traffic back within 30 s.
#   (e) the lighthouse stops: A-B keeps carrying traffic; it starts again: C, started now, is
#       introduced to A and B.
source "$(dirname "$0")/natlab.sh"
source "$(dirname "$0")/nat_paths_lib.sh"
trap natlab_destroy EXIT
trap "exit 143" INT TERM
T0=$SECONDS

natlab_internet || { tap_fail "internet namespace"; tap_end; exit 1; }
check "coturn listens on two addresses" natlab_coturn
check "site lh (public, the lighthouse)" mg_nat_site lh 1 public
check "site a (port_restricted)" mg_nat_site a 2 port_restricted
check "site b (symmetric)" mg_nat_site b 3 symmetric
check "site c (port_restricted)" mg_nat_site c 4 port_restricted

mg_nat_conf lh lighthouse
for s in a b c; do mg_nat_conf "$s"; done
for s in a b c; do
  mg_conf_peer lh "$s"
  mg_conf_lighthouse "$s" lh
done
# Between the sites: no Endpoint (introductions); a keepalive shorter than the 10 s conntrack
# timeouts of (c), so that it alone keeps the NAT mappings of an idle tunnel.
for p in a:b b:a a:c c:a b:c c:b; do mg_conf_peer "${p%:*}" "${p#*:}" "PersistentKeepalive = 5"; done
mg_count_direct a b
mg_count_direct b a

for s in lh a b; do check "$s: meshgate starts" mg_nat_start "$s"; done
lh_both() { mg_lan_ping_soon 15 "$1" lh && mg_lan_ping lh "$1" 2; }
for s in a b; do check "$s: tunnel to the lighthouse (configured Endpoint), ping both ways" lh_both "$s"; done

# both_path SECS A B WANT: both gateways report WANT within SECS (one deadline for the two).
both_path() {
  local end=$((SECONDS + $1))
  mg_wait_path "$1" "$2" "$3" "$4" && mg_wait_path "$((end - SECONDS > 0 ? end - SECONDS : 1))" "$3" "$2" "$4"
  local rc=$?
  echo "$2 says '$(mg_path "$2" "$3")', $3 says '$(mg_path "$3" "$2")'"
  return $rc
}
ping_both() { mg_lan_ping "$1" "$2" "${3:-3}" && mg_lan_ping "$2" "$1" "${3:-3}"; }

# --- start: symmetric x port_restricted is relayed ----------------------------------------------
check "a (port_restricted) <-> b (symmetric): path relayed within 60 s" both_path 60 a b relayed
check "a <-> b: ping both ways" ping_both a b

# --- (a) B's NAT becomes port_restricted ----------------------------------------------------
# With "flush": a NAT that changes behaviour (a new router, a reboot) starts without state. The
# old entries would otherwise keep their random ports: the STUN server would go on seeing one,
# new flows would get another (masquerade keeps the inner port), and B would still look
# symmetric. The flush also moves B's TURN allocation's 5-tuple: the relay must be re-made or
# the direct path found before the ping notices for long.
mg_bg_ping a b ping-a 0.5
sleep 2
natlab_set_profile b port_restricted flush
t=$SECONDS
check "(a) b switched to port_restricted: path direct within 60 s" both_path 60 a b direct
log "(a) direct after $((SECONDS - t)) s"
sleep 3
mg_bg_ping_stop ping-a
log "(a) continuous ping a -> b: sent/received $(ping_summary ping-a), longest gap $(ping_max_gap ping-a 0.5) s"
check "(a) the continuous ping never stopped for over 30 s" test "$(ping_max_gap ping-a 0.5)" -le 30
check "(a) ping both ways on the direct path" ping_both a b

# --- (b) the direct path blocked, then unblocked --------------------------------------------------
# The session must survive the move: the handshake count stays, unless a rekey (every 120 s)
# falls into the window.
h0=$(mg_handshakes a b) age0=$(mg_last_handshake_age a b)
mg_bg_ping a b ping-b 0.2
sleep 1
tb=$SECONDS
natlab_block a b
check "(b) direct path blocked: path relayed within 10 s" both_path 10 a b relayed
log "(b) relayed after $((SECONDS - tb)) s"
sleep 5
mg_bg_ping_stop ping-b
dropped() { [ "$(natlab_block_count a b)" -gt 0 ]; }
check "(b) the internet dropped a-b packets ($(natlab_block_count a b))" dropped
h1=$(mg_handshakes a b)
# (h0 >= 1: a session existed before the block, or there is nothing to survive.)
same_session() {
  echo "handshakes $h0 -> $h1, last handshake $age0 s before the block, $((SECONDS - tb)) s since"
  [ "${h0:-0}" -ge 1 ] && { [ "$h1" = "$h0" ] || { [ "$h1" = $((h0 + 1)) ] && [ $((age0 + SECONDS - tb)) -ge 120 ]; }; }
}
check "(b) the session survived the move (no new handshake)" same_session
log "(b) continuous ping a -> b: sent/received $(ping_summary ping-b), longest gap $(ping_max_gap ping-b 0.2) s"
check "(b) the continuous ping's longest gap is under 12 s" test "$(ping_max_gap ping-b 0.2)" -lt 12
check "(b) ping both ways while blocked" ping_both a b
natlab_unblock a b
t=$SECONDS
check "(b) unblocked: path direct again within 60 s" both_path 60 a b direct
log "(b) direct after $((SECONDS - t)) s"
check "(b) ping both ways after the unblock" ping_both a b

# --- (c) short conntrack timeouts, an idle tunnel -----------------------------------------------
natlab_ct_timeouts a 10 10
natlab_ct_timeouts b 10 10
log "(c) conntrack UDP timeouts 10 s at a and b; 40 s without traffic"
sleep 40
in_ns "$(natlab_router_ns a)" conntrack -L -p udp 2>/dev/null | sed 's/^/#   a: /'
check "(c) after 40 s idle: a -> b answered at once" mg_lan_ping a b 3
check "(c) after 40 s idle: b -> a answered at once" mg_lan_ping b a 3
log "(c) path now: a says '$(mg_path a b)', b says '$(mg_path b a)'"
natlab_ct_timeouts a 30 120
natlab_ct_timeouts b 30 120

# --- (d) a router forgets its mappings ----------------------------------------------------------
natlab_ct_flush a
t=$SECONDS
check "(d) conntrack flushed at a's router: b -> a answers within 30 s" mg_lan_ping_soon 30 b a
log "(d) back after $((SECONDS - t)) s"
check "(d) ping both ways" ping_both a b

# --- (e) the lighthouse stops and comes back ----------------------------------------------------
check "(e) lighthouse stops" stop_meshgate mglh
check "(e) without the lighthouse: a <-> b ping both ways" ping_both a b
sleep 30
check "(e) 30 s later, still without it: a <-> b ping both ways" ping_both a b
check "(e) lighthouse starts again" start_meshgate "$(natlab_host_ns lh)" mglh2 "${MG_CONF[lh]}"
check "(e) c: meshgate starts" mg_nat_start c
check "(e) c: tunnel to the lighthouse" lh_both c
check "(e) c (port_restricted) <-> a (port_restricted): path direct within 90 s" both_path 90 c a direct
check "(e) c <-> a: ping both ways" ping_both c a
check "(e) c <-> b (port_restricted since (a)): path direct within 30 s" both_path 30 c b direct
check "(e) c <-> b: ping both ways" ping_both c b

for s in lh a b c; do mg_status "$s" | sed "s/^/#   $s: /"; done
for s in a b c; do check "$s: meshgate stops cleanly" stop_meshgate "mg$s"; done
check "lighthouse stops cleanly" stop_meshgate mglh2
log "nat_dynamics runtime: $((SECONDS - T0)) s"
tap_end
