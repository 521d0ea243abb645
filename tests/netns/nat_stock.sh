#!/usr/bin/env bash
# Stock WireGuard peers behind NATs with meshgate, TAP output (`nat` suite):
#  1. Debian's wireguard-go behind each NAT profile, PersistentKeepalive 25, its Endpoint a
#     meshgate on a public site that has no Endpoint for it: ping both ways, and meshgate's
#     endpoint for the peer (`wg show` on meshgate's UAPI socket) is the NAT's public mapping of
#     the flow (read from the outermost router's conntrack table).
#  2. A meshgate behind a port_restricted NAT with a TURN allocation, and a wireguard-go behind
#     a symmetric NAT that can reach no direct address of it (the internet drops traffic between
#     the two sites): wireguard-go's Endpoint is meshgate's relayed address (from `meshgate
#     --status`); meshgate's [Peer] has Endpoint = the NAT's public IP and wireguard-go's listen
#     port, so that it permits that IP on its allocation. Ping both ways through the relay.
source "$(dirname "$0")/natlab.sh"
source "$(dirname "$0")/nat_paths_lib.sh"
trap natlab_destroy EXIT
trap "exit 143" INT TERM
T0=$SECONDS
N=20

natlab_internet || { tap_fail "internet namespace"; tap_end; exit 1; }
check "coturn listens on two addresses" natlab_coturn

# --- 1. wireguard-go behind every profile -> meshgate on a public site ------------------------
check "site m (public) with meshgate" mg_nat_site m 1 public
mg_nat_conf m
M_IP=$(natlab_host_ip m) M_TUN=$(basename "${MG_CONF[m]}" .conf)
STOCK="pu:2:public fc:3:fullcone ar:4:addr_restricted pr:5:port_restricted sy:6:symmetric
  cg:7:cgnat_double cs:8:cgnat_symmetric"
# stock_site SITE INDEX PROFILE NAME TUN_ADDR: a natlab site whose host runs wireguard-go NAME.
stock_site() { natlab_site "$1" "$2" "$3" && natlab_wggo "$1" "$4" "$5" 51820; }
for s in $STOCK; do
  IFS=: read -r site idx profile <<<"$s"
  check "site $site ($profile) with wireguard-go" stock_site "$site" "$idx" "$profile" "w$site" "10.201.0.$idx/32"
  [ -s "$WORK/w$site.pub" ] &&
    printf '[Peer]\n# w%s\nPublicKey = %s\nAllowedIPs = 10.201.0.%s/32\n' "$site" "$(cat "$WORK/w$site.pub")" "$idx" >>"${MG_CONF[m]}"
done
check "m: meshgate starts (no Endpoint for the stock peers)" mg_nat_start m

# wg_peer SITE: configure the site's wireguard-go towards meshgate m.
wg_peer() {
  local ns ifn var=WG_IF_w$1
  ns=$(natlab_host_ns "$1") ifn=${!var}
  in_ns "$ns" wg set "$ifn" peer "$(mg_key m)" allowed-ips "$(mg_lan_prefix m)" \
    endpoint "$M_IP:51820" persistent-keepalive 25 &&
    in_ns "$ns" ip route add "$(mg_lan_prefix m)" dev "$ifn"
}
# meshgate_endpoint NAME: meshgate's endpoint for wireguard-go NAME, through its UAPI socket.
meshgate_endpoint() { wg show "$M_TUN" endpoints | awk -v k="$(cat "$WORK/$1.pub")" '$1 == k { print $2 }'; }
stock_ping() {
  wait_for 15 in_ns "$(natlab_host_ns "$1")" ping -c 1 -W 1 "$(mg_lan_ip m)" &&
    in_ns "$(natlab_host_ns "$1")" ping -q -c 3 -i 0.2 -W 2 "$(mg_lan_ip m)" &&
    in_ns "$(mg_lan_ns m)" ping -q -c 3 -i 0.2 -W 2 "10.201.0.$2"
}
endpoint_is_mapping() {
  local got want
  got=$(meshgate_endpoint "w$1") want=$(mg_ct_mapping "$1" "$M_IP" 51820)
  echo "meshgate: '$got', the NAT's mapping: '$want'"
  [ -n "$got" ] && [ "$got" = "$want" ]
}
for s in $STOCK; do
  IFS=: read -r site idx profile <<<"$s"
  wg_peer "$site" || { tap_fail "$profile: wireguard-go configured"; continue; }
  check "$profile: wireguard-go <-> meshgate LAN host, ping both ways" stock_ping "$site" "$idx"
  check "$profile: meshgate's wg show endpoint is the NAT's public mapping" endpoint_is_mapping "$site"
done
wg show "$M_TUN" endpoints | sed 's/^/#   m: /'
check "m: meshgate stops cleanly" stop_meshgate mgm

# --- 2. wireguard-go behind symmetric -> meshgate's TURN relayed address ------------------------
check "site g (port_restricted) with meshgate" mg_nat_site g 9 port_restricted
check "site q (symmetric) with wireguard-go" stock_site q 10 symmetric wq 10.201.1.2/32
check "the internet drops traffic between g and q" natlab_block g q
mg_nat_conf g
printf '[Peer]\n# wq\nPublicKey = %s\nAllowedIPs = 10.201.1.2/32\nEndpoint = %s:51820\n' \
  "$(cat "$WORK/wq.pub")" "$(natlab_public_ip q)" >>"${MG_CONF[g]}"
check "g: meshgate starts with TurnServer" mg_nat_start g
relayed_known() { [ -n "$(mg_relayed_address g)" ]; }
check "g: --status names a TURN relayed address" wait_for 30 relayed_known
RELAYED=$(mg_relayed_address g)
log "g's relayed address: $RELAYED"
QNS=$(natlab_host_ns q)
in_ns "$QNS" wg set "$WG_IF_wq" peer "$(mg_key g)" allowed-ips "$(mg_lan_prefix g)" \
  endpoint "$RELAYED" persistent-keepalive 25
in_ns "$QNS" ip route add "$(mg_lan_prefix g)" dev "$WG_IF_wq"
t=$SECONDS
check "wireguard-go -> meshgate through the relay: first echo within 30 s" \
  wait_for 30 in_ns "$QNS" ping -c 1 -W 1 "$(mg_lan_ip g)"
log "relay up after $((SECONDS - t)) s"
turn_g=$(natlab_counter g to-turn)
check "$N pings each way through the relay" sh -c "ip netns exec $QNS ping -q -c $N -i 0.05 -W 2 $(mg_lan_ip g) &&
  ip netns exec $(mg_lan_ns g) ping -q -c $N -i 0.05 -W 2 10.201.1.2"
dturn=$(($(natlab_counter g to-turn) - turn_g))
check "g's router sent the pings' packets to coturn (+$dturn >= $((2 * N)))" test "$dturn" -ge $((2 * N))
check "wireguard-go's wg show names the relayed address" \
  sh -c "ip netns exec $QNS wg show $WG_IF_wq endpoints | grep -q '	$RELAYED\$'"
log "the block dropped $(natlab_block_count g q) packets between g and q"
mg_status g | sed 's/^/#   g: /'
check "g: meshgate stops cleanly" stop_meshgate mgg
log "nat_stock runtime: $((SECONDS - T0)) s"
tap_end
