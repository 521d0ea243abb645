#!/usr/bin/env bash
# The NAT laboratory (natlab.sh) proved with real components, TAP output (`nat` suite):
#  1. the oracle: turnutils_natdiscovery from each site host against the two-address coturn
#     reports the mapping and filtering behaviour of the site's profile;
#  2. TURN Allocate (401, then 200 with credentials) works from behind every profile;
#  3. the run-time helpers: profile switch, conntrack timeouts and flush;
#  4. stock wireguard-go pairs: port_restricted x port_restricted with exchanged reflexive
#     endpoints; symmetric (keepalive) -> public, with a NAT rebinding; and a peer that can
#     reach no direct address of its partner, through the partner's TURN relayed address.
source "$(dirname "$0")/natlab.sh"
trap natlab_destroy EXIT
trap "exit 143" INT TERM  # so that the EXIT trap runs when meson times the test out
T0=$SECONDS

natlab_internet || { tap_fail "internet namespace"; tap_end; exit 1; }
check "coturn listens on 203.0.113.1 and .2, ports 3478 and 3479" natlab_coturn
SITES="pub:1:public fc:2:fullcone ar:3:addr_restricted pr:4:port_restricted sy:5:symmetric
  cg:6:cgnat_double cs:7:cgnat_symmetric pr2:8:port_restricted sy2:9:symmetric sw:10:symmetric"
for s in $SITES; do
  IFS=: read -r name idx profile <<<"$s"
  check "site $name ($profile) created" natlab_site "$name" "$idx" "$profile"
done

# --- 1. the oracle ----------------------------------------------------------------------------
# classify FILE: "mapping=X filtering=Y" from natdiscovery's text.
classify() {
  local m f
  if grep -q 'No NAT!' "$1"; then m=none
  else m=$(sed -n 's/.*NAT with \(.*\) Mapping!.*/\1/p' "$1" | tail -1); fi
  f=$(sed -n 's/.*NAT with \(.*\) Filtering!.*/\1/p' "$1" | tail -1)
  short() { case $1 in "Endpoint Independent") echo EI ;; "Address Dependent") echo AD ;;
            "Address and Port Dependent") echo APD ;; none) echo none ;; *) echo "?" ;; esac; }
  m=$(short "$m"); f=$(short "$f")
  [ "$m" = none ] || m=${m}M
  echo "mapping=$m filtering=${f}F"
}
declare -A EXPECT=([public]="mapping=none filtering=EIF" [fullcone]="mapping=EIM filtering=EIF"
  [addr_restricted]="mapping=EIM filtering=ADF" [port_restricted]="mapping=EIM filtering=APDF"
  [symmetric]="mapping=APDM filtering=APDF" [cgnat_double]="mapping=EIM filtering=APDF"
  [cgnat_symmetric]="mapping=APDM filtering=APDF")
# The sites are independent: run the oracle on all of them at once (each takes up to ~7 s).
oracle_pids=()
for name in pub fc ar pr sy cg cs; do
  natlab_natdiscovery $name >"$WORK/nd-$name.txt" 2>&1 & oracle_pids+=($!)
done
wait "${oracle_pids[@]}"
for name in pub fc ar pr sy cg cs; do
  profile=${NL_PROFILE[$name]} got=$(classify "$WORK/nd-$name.txt")
  if [ "$got" != "${EXPECT[$profile]}" ]; then  # a busy machine can lose an answer's timing: once more, alone
    log "natdiscovery behind $profile gave $got; running it again on its own"
    natlab_natdiscovery $name >"$WORK/nd-$name.txt" 2>&1
    got=$(classify "$WORK/nd-$name.txt")
  fi
  refl=$(sed -n 's/.*UDP reflexive addr: \([0-9.]*\):.*/\1/p' "$WORK/nd-$name.txt" | sort -u | tr '\n' ' ')
  pubip=$(natlab_public_ip $name); [ "$profile" = public ] && pubip=$(natlab_host_ip $name)
  if [ "$got" = "${EXPECT[$profile]}" ] && [ "$refl" = "$pubip " ]; then
    tap_ok "natdiscovery behind $profile: $got, reflexive address $pubip"
  else
    tap_fail "natdiscovery behind $profile: want ${EXPECT[$profile]} from $pubip, got $got from $refl"
    sed 's/^/#   /' "$WORK/nd-$name.txt" | grep -v ALG | tail -12
  fi
done

# --- 2. TURN allocation from behind each profile --------------------------------------------
turn_alloc() {
  local out
  out=$(natlab_turn_allocate "$1" 2>&1) || { echo "$out"; return 1; }
  echo "$out"
  grep -q 'Allocate#1 -> 401' <<<"$out" && grep -q "relayed=203\.0\.113\.[12]:[0-9]* mapped=$2:" <<<"$out"
}
allocs0=$(natlab_turn_allocations)
for name in pub fc ar pr sy cg cs; do
  mapped=$(natlab_public_ip $name); [ "${NL_PROFILE[$name]}" = public ] && mapped=$(natlab_host_ip $name)
  check "TURN Allocate 401 -> 200 behind ${NL_PROFILE[$name]}, mapped to $mapped" turn_alloc $name "$mapped"
done
check "coturn's log counts the 7 allocations" test "$(($(natlab_turn_allocations) - allocs0))" -eq 7
check "the port_restricted router counted the site's packets to coturn" test "$(natlab_counter pr to-turn)" -gt 0

# --- 3. run-time helpers ----------------------------------------------------------------------
natlab_natdiscovery sw >"$WORK/nd-sw1.txt" 2>&1
check "site sw starts symmetric (APDM)" test "$(classify "$WORK/nd-sw1.txt")" = "mapping=APDM filtering=APDF"
natlab_set_profile sw port_restricted flush
natlab_natdiscovery sw >"$WORK/nd-sw2.txt" 2>&1
check "site sw switched at run time to port_restricted (EIM)" test "$(classify "$WORK/nd-sw2.txt")" = "mapping=EIM filtering=APDF"

# Short conntrack timeouts: a fresh STUN mapping's entry at the router expires within seconds
# (entries made before the change keep the timeout they were given).
ct_has() { in_ns "$(natlab_router_ns fc)" conntrack -L -p udp "$@" 2>/dev/null | grep -q udp; }
ct_gone() { ! ct_has "$@"; }
natlab_ct_flush fc
natlab_ct_timeouts fc 2 2
natlab_stun_mapping fc 40001 >/dev/null
check "conntrack UDP timeout 2 s set at the fullcone router" test "$(in_ns "$(natlab_router_ns fc)" sysctl -n net.netfilter.nf_conntrack_udp_timeout)" = 2
check "the STUN mapping is in the router's conntrack table" ct_has --sport 40001
check "... and gone after the short timeout" wait_for 8 ct_gone --sport 40001
natlab_ct_timeouts fc 30 120
natlab_stun_mapping fc 40002 >/dev/null
check "a new mapping is made (default timeouts back)" ct_has --sport 40002
natlab_ct_flush fc
check "natlab_ct_flush empties the router's conntrack table" ct_gone

# --- 4a. wireguard-go x wireguard-go, both port_restricted, reflexive endpoints exchanged -----
# Each side learns its reflexive address with a STUN Binding from its WireGuard port (before
# wireguard-go takes the port; MASQUERADE keeps the mapping endpoint-independent), then both
# are given the other's and start at the same moment.
ep_a=$(natlab_stun_mapping pr 51820); ep_b=$(natlab_stun_mapping pr2 51820)
log "reflexive endpoints: pr $ep_a, pr2 $ep_b"
check "reflexive endpoints from STUN are the routers' WAN addresses" \
  test "$ep_a $ep_b" = "$(natlab_public_ip pr):51820 $(natlab_public_ip pr2):51820"
check "wireguard-go a behind port_restricted" natlab_wggo pr a 10.99.1.1/24 51820
check "wireguard-go b behind port_restricted" natlab_wggo pr2 b 10.99.1.2/24 51820
turn_a=$(natlab_counter pr to-turn)
in_ns "$(natlab_host_ns pr)" wg set "$WG_IF_a" peer "$(cat "$WORK/b.pub")" allowed-ips 10.99.1.2/32 endpoint "$ep_b" persistent-keepalive 5 & wa=$!
in_ns "$(natlab_host_ns pr2)" wg set "$WG_IF_b" peer "$(cat "$WORK/a.pub")" allowed-ips 10.99.1.1/32 endpoint "$ep_a" persistent-keepalive 5 & wb=$!
wait $wa $wb
t=$SECONDS
check "port_restricted x port_restricted: tunnel up (simultaneous handshake)" wait_for 20 in_ns "$(natlab_host_ns pr)" ping -c 1 -W 1 10.99.1.2
log "tunnel up after $((SECONDS - t)) s"
check "ping a -> b through the tunnel" in_ns "$(natlab_host_ns pr)" ping -c 3 -i 0.2 -W 2 10.99.1.2
check "ping b -> a through the tunnel" in_ns "$(natlab_host_ns pr2)" ping -c 3 -i 0.2 -W 2 10.99.1.1
check "b sees a at its reflexive endpoint (direct, port preserved)" \
  sh -c "ip netns exec $(natlab_host_ns pr2) wg show $WG_IF_b endpoints | grep -q '	$ep_a\$'"
check "no packet of the pair went to coturn" test "$(natlab_counter pr to-turn)" -eq "$turn_a"

# --- 4b. symmetric (PersistentKeepalive) -> public: the public side learns the port by roaming --
check "wireguard-go p on public" natlab_wggo pub p 10.99.2.1/24 51820
check "wireguard-go s behind symmetric" natlab_wggo sy s 10.99.2.2/24 51820
in_ns "$(natlab_host_ns pub)" wg set "$WG_IF_p" peer "$(cat "$WORK/s.pub")" allowed-ips 10.99.2.2/32
in_ns "$(natlab_host_ns sy)" wg set "$WG_IF_s" peer "$(cat "$WORK/p.pub")" allowed-ips 10.99.2.1/32 \
  endpoint "$(natlab_host_ip pub):51820" persistent-keepalive 1
check "symmetric -> public: ping s -> p" wait_for 20 in_ns "$(natlab_host_ns sy)" ping -c 1 -W 1 10.99.2.1
check "ping p -> s (p replies to the endpoint it learnt)" in_ns "$(natlab_host_ns pub)" ping -c 3 -i 0.2 -W 2 10.99.2.2
p_ep() { in_ns "$(natlab_host_ns pub)" wg show "$WG_IF_p" endpoints | awk '{print $2}'; }
ep1=$(p_ep)
log "p sees s at $ep1"
check "p learnt s's translated endpoint at the symmetric router" test "${ep1%:*}" = "$(natlab_public_ip sy)"
# Rebinding: forget the router's mappings; s's next keepalive leaves from a new random port.
natlab_ct_flush sy
ep_changed() { local e; e=$(p_ep); [ -n "$e" ] && [ "$e" != "$ep1" ]; }
check "after a conntrack flush at the symmetric router, p follows s to a new port" wait_for 10 ep_changed
log "p now sees s at $(p_ep)"
check "ping p -> s after the rebinding" in_ns "$(natlab_host_ns pub)" ping -c 3 -i 0.2 -W 2 10.99.2.2

# --- 4c. through the partner's TURN relayed address ------------------------------------------
# m (symmetric, site sy2) allocates on coturn, permits q's public IP, and forwards between the
# allocation and its local wireguard-go (support/turn_client.py relay). q (behind a carrier
# grade symmetric NAT, site cs) can reach no direct address of m: the internet drops traffic
# between the two sites. q is given m's relayed address as m's endpoint.
check "DROP between sites sy2 and cs" natlab_block sy2 cs
check "wireguard-go m behind symmetric" natlab_wggo sy2 m 10.99.3.1/24 51820
check "wireguard-go q behind cgnat_symmetric" natlab_wggo cs q 10.99.3.2/24 51820
in_ns "$(natlab_host_ns cs)" wg set "$WG_IF_q" peer "$(cat "$WORK/m.pub")" allowed-ips 10.99.3.1/32 \
  endpoint "$(natlab_public_ip sy2):51820" persistent-keepalive 1
blocked() { [ "$(natlab_block_count sy2 cs)" -gt 0 ]; }
check "q's direct attempts to m's public address are dropped" wait_for 10 blocked
bg "$(natlab_host_ns sy2)" relay python3 "$NL_SUPPORT/turn_client.py" relay $TURN_IP1 \
  --user $TURN_USER --password $TURN_PASS --peer-ip "$(natlab_public_ip cs)" \
  --listen 40000 --wg 127.0.0.1:51820 --relayed-file "$WORK/relayed"
check "m's TURN relay client has an allocation" wait_for 10 test -s "$WORK/relayed"
relayed=$(cat "$WORK/relayed")
log "m's relayed address: $relayed"
in_ns "$(natlab_host_ns sy2)" wg set "$WG_IF_m" peer "$(cat "$WORK/q.pub")" allowed-ips 10.99.3.2/32 endpoint 127.0.0.1:40000
in_ns "$(natlab_host_ns cs)" wg set "$WG_IF_q" peer "$(cat "$WORK/m.pub")" endpoint "$relayed"
turn_m=$(natlab_counter sy2 to-turn)
t=$SECONDS
check "q -> m through the relay: ping" wait_for 25 in_ns "$(natlab_host_ns cs)" ping -c 1 -W 1 10.99.3.1
log "tunnel up after $((SECONDS - t)) s"
check "m -> q through the relay: ping" in_ns "$(natlab_host_ns sy2)" ping -c 3 -i 0.2 -W 2 10.99.3.2
check "q's wg show names the relayed address" \
  sh -c "ip netns exec $(natlab_host_ns cs) wg show $WG_IF_q endpoints | grep -q '	$relayed\$'"
check "the relay client switched to ChannelData" grep -q 'ChannelBind -> 200' "$WORK/relay.log"
check "m's router counted the relayed packets to coturn" test "$(natlab_counter sy2 to-turn)" -gt "$((turn_m + 6))"
unblock() { natlab_unblock sy2 cs && ! in_ns "$NL_INET" nft list chain ip natlab forward | grep -q block-sy2-cs; }
check "natlab_unblock removes the DROP rules" unblock
stop_pid relay
check "the relay client's stats show traffic both ways" grep -Eq 'stats data_ind=[0-9]+ chandata_in=[1-9][0-9]* send_ind=[0-9]+ chandata_out=[1-9]' "$WORK/relay.log"
sed 's/^/#   /' "$WORK/relay.log"
# coturn writes a session's counters when it ends (the relay client deleted its allocation);
# sessions of plain STUN Binding requests end too, with no peer traffic.
relay_counted() { [ "$(natlab_turn_relayed_packets)" -gt 10 ]; }
check "coturn's log counts the relayed packets (peer leg) of the deleted allocation" wait_for 10 relay_counted
log "coturn peer-leg usage: $(natlab_turn_usage | grep '^peer' | grep -v 'rp=0 rb=0 sp=0 sb=0' | tr '\n' ' ')"
log "nat suite runtime: $((SECONDS - T0)) s"
tap_end
