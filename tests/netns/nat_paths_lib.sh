#!/usr/bin/env bash
# Helpers for the NAT traversal tests (nat_paths, nat_dynamics, nat_stock) and `tools/demo
# --nat`: meshgate sites with a LAN host, lighthouse and peer configs, and readers for what a
# gateway says about its paths. Source it after natlab.sh. Every reader parses one place, so a
# changed string in `meshgate --status` or Prometheus is fixed here, not in the tests.
#
# Sites (natlab.sh mg_site): site NAME with index I has its LAN 10.200.I.0/24, the gateway's
# inner address 10.200.I.1, a LAN host 10.200.I.2 in namespace ${NL}l-NAME; the config file
# is $WORK/nat$S<NAME>.conf (tunnel nat$S<NAME>: unique per run, also the EAL file prefix), its
# key pair $WORK/NAME.{key,pub}; Prometheus on 127.0.0.1:9586 inside the site's host namespace.
#
#   mg_nat_site NAME INDEX PROFILE        mg_site + the LAN host
#   mg_nat_conf NAME [lighthouse] [MORE]  base config: STUN + TURN on coturn; "lighthouse" adds
#                                         [Gateway] Lighthouse = on (writes the key pair: call it
#                                         for every site before mg_conf_peer names the sites)
#   mg_conf_peer NAME PEER [LINES]        append PEER as a [Peer] of NAME's config, AllowedIPs =
#                                         PEER's LAN; LINES (newline-separated) e.g. "Endpoint = .."
#   mg_conf_lighthouse NAME LH            append the lighthouse LH: Endpoint, Lighthouse = on,
#                                         PersistentKeepalive = 25
#   mg_nat_start NAME                     start meshgate NAME (log $WORK/mgNAME.log)
#   mg_lan_ns / mg_lan_ip / mg_conf_file / mg_outer_ip  NAME
#   mg_lan_ping FROM TO [COUNT] [INTERVAL]  ping TO's LAN host from FROM's LAN host
#   mg_status NAME                        meshgate --status
#   mg_prom NAME                          the Prometheus text
#   mg_path NAME PEER                     direct | relayed | none ("" when the gateway says nothing)
#   mg_path_prom NAME PEER                the same from meshgate_peer_path_info
#   mg_path_endpoint NAME PEER            the path's endpoint ip:port (from --status)
#   mg_wait_path SECS NAME PEER WANT      wait until mg_path says WANT
#   mg_candidates NAME PEER               "ip:port kind" lines (Prometheus)
#   mg_peer_value NAME PEER METRIC        a per-peer sample's value (label peer= or public_key=)
#   mg_handshakes NAME PEER               meshgate_peer_handshakes_total
#   mg_last_handshake_age NAME PEER       seconds since the last handshake (large when never)
#   mg_peer_endpoint NAME PEER            meshgate_peer_info's endpoint label
#   mg_coord_count NAME TYPE VERDICT      meshgate_coordination_messages_total
#   mg_relayed_address NAME               "TURN relayed address: IP:PORT" of --status
#   mg_count_direct NAME PEER             count NAME's packets towards PEER's outer address, as
#                                         counter "to-PEER" (natlab_counter NAME to-PEER)
#   mg_expected_path PROFILE PROFILE      what theory says for a pair (the table is here)

declare -A MG_CONF

# check_rc NAME CMD...: lib.sh's check, returning the command's status (to skip what depends on it).
check_rc() {
  local name=$1; shift
  if "$@" >"$WORK/last.out" 2>&1; then tap_ok "$name"; return 0; fi
  tap_fail "$name"; sed 's/^/#   /' "$WORK/last.out" | tail -20; return 1
}

mg_lan_ns() { echo "${NL}l-$1"; }
mg_lan_ip() { echo "10.200.${NL_IDX[$1]}.2"; }
mg_lan_prefix() { echo "10.200.${NL_IDX[$1]}.0/24"; }
mg_conf_file() { echo "$WORK/nat$S$1.conf"; }
mg_key() { cat "$WORK/$1.pub"; }
# mg_outer_ip NAME: where NAME's gateway is seen from the internet (a public site's host
# address, otherwise its outermost NAT's address).
mg_outer_ip() {
  if [ "${NL_PROFILE[$1]}" = public ]; then natlab_host_ip "$1"; else natlab_public_ip "$1"; fi
}

mg_nat_site() {
  local name=$1 i=$2 lan
  mg_site "$name" "$i" "$3" || return 1
  lan=$(mg_lan_ns "$name")
  in_ns "$lan" ip addr add "10.200.$i.2/24" dev eth0 &&
    in_ns "$lan" ip route add default via "10.200.$i.1"
}

mg_nat_conf() {
  local name=$1 role=${2:-site} more=${3:-} file
  file=$(mg_conf_file "$name")
  MG_CONF[$name]=$file
  local lines="TurnServer = $TURN_IP1
TurnUser = $TURN_USER
TurnPassword = $TURN_PASS"
  [ "$role" = lighthouse ] && lines+="
Lighthouse = on"
  [ -n "$more" ] && lines+="
$more"
  mg_site_conf "$name" "$file" "$lines"
}

mg_conf_peer() {
  local name=$1 peer=$2 extra=${3:-}
  {
    echo "[Peer]"
    echo "# $peer"
    echo "PublicKey = $(mg_key "$peer")"
    echo "AllowedIPs = $(mg_lan_prefix "$peer")"
    [ -z "$extra" ] || printf '%s\n' "$extra"
  } >>"${MG_CONF[$name]}"
}

mg_conf_lighthouse() {
  mg_conf_peer "$1" "$2" "Endpoint = $(mg_outer_ip "$2"):51820
Lighthouse = on
PersistentKeepalive = 25"
}

mg_nat_start() { start_meshgate "$(natlab_host_ns "$1")" "mg$1" "${MG_CONF[$1]}"; }

# mg_lan_ping FROM TO [COUNT] [INTERVAL]: every echo answered (ping's exit status).
mg_lan_ping() {
  in_ns "$(mg_lan_ns "$1")" ping -q -c "${3:-1}" -i "${4:-0.2}" -W 2 "$(mg_lan_ip "$2")"
}
# mg_lan_ping_soon SECS FROM TO: the first echo that comes back within SECS.
mg_lan_ping_soon() { wait_for "$1" in_ns "$(mg_lan_ns "$2")" ping -c 1 -W 1 "$(mg_lan_ip "$3")"; }

mg_status() { in_ns "$(natlab_host_ns "$1")" "$MG_BIN" --status "${MG_CONF[$1]}" 2>&1; }
mg_prom() {
  in_ns "$(natlab_host_ns "$1")" python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9586/metrics", timeout=5).read().decode())' 2>/dev/null
}

# --status: "peer <key>: path direct 198.51.100.34:51820, rtt 0.4 ms, changed 12 s ago",
# "peer <key>: path relayed 203.0.113.1:3478 channel 0x4000, ...", "peer <key>: path none".
mg_status_peer_line() { mg_status "$1" | awk -v k="peer $(mg_key "$2"):" 'index($0, k) == 1 { print; exit }'; }
mg_path() { mg_status_peer_line "$1" "$2" | awk '$3 == "path" { sub(/,$/, "", $4); print $4 }'; }
mg_path_endpoint() { mg_status_peer_line "$1" "$2" | awk '$3 == "path" && $4 != "none" { sub(/,$/, "", $5); print $5 }'; }

# mg_peer_samples NAME PEER METRIC: the samples of METRIC that carry PEER's key in any label.
mg_peer_samples() {
  mg_prom "$1" | awk -v m="$3{" -v k="\"$(mg_key "$2")\"" 'index($0, m) == 1 && index($0, k)'
}
mg_peer_value() { mg_peer_samples "$@" | awk '{ print $NF; exit }'; }
# mg_label LABEL: the value of LABEL="..." in each sample line on stdin.
mg_label() { sed -n "s/.*[{,]$1=\"\\([^\"]*\\)\".*/\\1/p"; }
mg_path_prom() { mg_peer_samples "$1" "$2" meshgate_peer_path_info | awk '$NF == 1' | mg_label path | head -1; }
mg_candidates() {
  mg_peer_samples "$1" "$2" meshgate_peer_candidate_info | awk '$NF == 1' |
    sed -n 's/.*candidate="\([^"]*\)".*kind="\([^"]*\)".*/\1 \2/p'
}
mg_handshakes() { mg_peer_value "$1" "$2" meshgate_peer_handshakes_total; }
mg_peer_endpoint() { mg_peer_samples "$1" "$2" meshgate_peer_info | mg_label endpoint | head -1; }
mg_last_handshake_age() {
  local t
  t=$(mg_peer_value "$1" "$2" meshgate_peer_last_handshake_seconds)
  if [ -z "$t" ] || [ "$t" = 0 ]; then echo 999999; else echo $(($(date +%s) - t)); fi
}
mg_coord_count() {
  mg_prom "$1" | awk -v t="type=\"$2\"" -v v="verdict=\"$3\"" \
    'index($0, "meshgate_coordination_messages_total{") == 1 && index($0, t) && index($0, v) { s += $NF } END { print s + 0 }'
}
mg_relayed_address() { mg_status "$1" | sed -n 's/.*TURN relayed address: \([0-9.]*:[0-9]*\).*/\1/p' | head -1; }

mg_path_is() { [ "$(mg_path "$2" "$3")" = "$1" ]; }
mg_wait_path() { wait_for "$1" mg_path_is "$4" "$2" "$3"; }

mg_count_direct() { natlab_count_rule "$1" "to-$2" iifname lan ip daddr "$(mg_outer_ip "$2")" meta l4proto udp; }

# mg_expected_path PROFILE_A PROFILE_B: "direct" or "relayed", from the NATs' mapping (M) and
# filtering (F) behaviour (natlab_check.sh proves each profile's with RFC 5780's oracle):
#   public           no NAT, accepts anything
#   fullcone         EIM, EIF: accepts anything on its mapping
#   addr_restricted  EIM, ADF: accepts any port of an IP it has sent to
#   port_restricted  EIM, APDF: accepts only the ip:port it has sent to
#   cgnat_double     EIM, APDF (two masquerades in a row: the same as port_restricted)
#   symmetric        APDM, APDF: a new random port for every destination
# A symmetric side reaches its partner from a port nobody could learn in advance (its STUN
# server saw another), so the partner must accept a packet from an unknown port of a known IP:
# public, fullcone and addr_restricted do (the ADF side has probed the symmetric side's IP),
# port_restricted and cgnat_double do not, and neither does symmetric, whose own reply would
# leave from yet another port. Every other pair has an endpoint-independent mapping on at
# least one side that the other can learn and reach with simultaneous probes: direct.
mg_expected_path() {
  local a=$1 b=$2
  [ "$a" = symmetric ] || { local t=$a; a=$b; b=$t; }
  if [ "$a" = symmetric ]; then
    case $b in symmetric | port_restricted | cgnat_double | cgnat_symmetric) echo relayed; return ;; esac
  fi
  echo direct
}

# mg_ct_mapping SITE DST_IP DST_PORT: the public ip:port the site's outermost NAT gave the UDP
# flow to DST_IP:DST_PORT (the reply tuple's destination in its conntrack table).
mg_ct_mapping() {
  local outer=${NL_CARRIER[$1]:-${NL_ROUTER[$1]}}
  in_ns "$outer" conntrack -L -p udp --orig-dst "$2" --orig-port-dst "$3" 2>/dev/null |
    awk '{ d = 0; p = 0
           for (i = 1; i <= NF; i++) {
             if ($i ~ /^dst=/ && ++d == 2) ip = substr($i, 5)
             if ($i ~ /^dport=/ && ++p == 2) port = substr($i, 7)
           }
           print ip ":" port; exit }'
}

# mg_bg_ping FROM TO NAME [INTERVAL]: a continuous ping between LAN hosts, logged in
# $WORK/NAME.log; mg_bg_ping_stop NAME ends it (SIGINT: ping prints its summary).
mg_bg_ping() {
  bg "$(mg_lan_ns "$1")" "$3" ping -n -i "${4:-0.5}" -W 1 "$(mg_lan_ip "$2")"
}
mg_bg_ping_stop() {
  local pid
  pid=$(cat "$WORK/$1.pid") || return 1
  kill -INT "$pid" 2>/dev/null
  timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null
}
# ping_summary NAME: "sent received" from the ping's summary line.
ping_summary() { sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$WORK/$1.log"; }
# ping_max_gap NAME INTERVAL: the longest time (s, rounded up) without an echo reply, counting
# from the first request to the last; a ping that got no reply at all gives the whole run.
ping_max_gap() {
  local sent
  sent=$(ping_summary "$1" | awk '{print $1}')
  sed -n 's/.*icmp_seq=\([0-9]*\) .*/\1/p' "$WORK/$1.log" |
    awk -v sent="${sent:-0}" -v iv="$2" 'BEGIN { last = 0; gap = 0 }
      { if ($1 - last - 1 > gap) gap = $1 - last - 1; last = $1 }
      END { if (sent - last > gap) gap = sent - last; printf "%d\n", gap * iv + 0.999 }'
}
