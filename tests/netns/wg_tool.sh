#!/usr/bin/env bash
# The stock `wg` tool against a running meshgate (site A), wireguard-go at site B:
#  - the UAPI socket (mode, stale socket replaced, removed on exit);
#  - `wg show` / `showconf`: keys, port, endpoint, allowed IPs, latest handshake, transfer;
#  - counters: known pings and an iperf3 run against `wg show`, DPDK telemetry and Prometheus;
#  - `wg set` (peer add/remove with allowed IPs, endpoint, keepalive, PSK) under a continuous
#    ping that must lose nothing; fwmark, listen-port and private-key changes;
#  - `wg setconf`, `addconf`, `syncconf` (the session survives syncconf);
#  - malformed UAPI input: the right errno, and a following get shows nothing changed.
source "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT
RAW="$MG_ROOT/tests/netns/uapi_raw.py"
TUN=mgt$S                          # tunnel name = config base name: unique per run
SOCK=/var/run/wireguard/$TUN.sock
CONF=$WORK/$TUN.conf

wgA() { wg "$@"; }                  # the UAPI socket is a file: any namespace reaches it
wgB() { in_ns $NS_GB wg "$@"; }
field() { wgA show $TUN "$1"; }
peer_field() { wgA show $TUN "$1" | awk -v k="$2" -v f="${3:-2}" '$1 == k {print $f}'; }
allowed_of() { wgA show $TUN allowed-ips | awk -v k="$1" '$1 == k {$1 = ""; print substr($0, 2)}'; }
# ping_soon: the first packets may wait for a handshake that is rate-limited to one per 5 s.
ping_soon() { wait_for 15 in_ns $NS_HA ping -c 1 -W 1 "$1" && in_ns $NS_HA ping -c 3 -i 0.2 -W 3 "$1"; }
b_pub() { cat "$WORK/b.pub"; }

topo_create
gen_keys a; gen_keys b; gen_keys c; gen_keys d
(umask 077; wg genpsk >"$WORK/psk")
mg_conf "$CONF" a b "$SITE_B_LAN" 203.0.113.2:51820 "$SITE_A_INNER" "$SITE_A_OUTER" "$SITE_A_GW"
echo "MetricsListen = 127.0.0.1:9586" >>"$CONF"

# A socket left by a dead gateway (nobody listens on it) must not stop the start.
mkdir -p /var/run/wireguard
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()' "$SOCK"
check "wireguard-go site B comes up" wireguard_go_site $NS_GB b a "$SITE_A_LAN" ""
check "meshgate starts at site A over a stale UAPI socket" start_meshgate $NS_GA mga "$CONF"
check "UAPI socket is a socket with mode 0600, owned by root" \
  sh -c "[ -S $SOCK ] && [ \"\$(stat -c '%a %U' $SOCK)\" = '600 root' ]"
check "wg show lists the tunnel among the interfaces" sh -c "wg show interfaces | grep -qw $TUN"
check "wg show: public key derived from the configured private key" test "$(field public-key)" = "$(cat "$WORK/a.pub")"
check "wg show: listen port" test "$(field listen-port)" = 51820
check "wg show: peer B's endpoint" test "$(peer_field endpoints "$(b_pub)")" = 203.0.113.2:51820
check "wg show: peer B's allowed IPs" test "$(allowed_of "$(b_pub)")" = "10.2.0.0/24 fd02::/64"
check "wg show: no handshake before traffic" test "$(peer_field latest-handshakes "$(b_pub)")" = 0

# --- handshake time and transfer counters against what the test sends --------------------------
check "ping A->B brings the tunnel up" in_ns $NS_HA ping -c 2 -i 0.2 -W 3 10.2.0.2
hs=$(peer_field latest-handshakes "$(b_pub)")
now=$(date +%s)
check "wg show: latest handshake is within the last 30 s ($hs vs $now)" test "$hs" -gt $((now - 30)) -a "$hs" -le "$now"

prom() { in_ns $NS_GA python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9586/metrics", timeout=5).read().decode())'; }
prom_peer() { prom | awk -v m="$1" -v k="public_key=\"$(b_pub)\"" 'index($0, m "{") == 1 && index($0, k) {print $2}'; }
prom_has() { prom >"$WORK/prom.txt" && grep -qF "$1" "$WORK/prom.txt"; }
N=50 SIZE=1000   # IPv4 packets of 1000 bytes: 1000 + 8 padding + 32 WireGuard = 1040 on the wire
rx0=$(peer_field transfer "$(b_pub)" 2); tx0=$(peer_field transfer "$(b_pub)" 3)
ptx0=$(prom_peer meshgate_peer_tx_packets_total); prx0=$(prom_peer meshgate_peer_rx_packets_total)
check "$N pings of $SIZE bytes A->B" in_ns $NS_HA ping -q -c $N -i 0.02 -s $((SIZE - 28)) -W 3 10.2.0.2
rx1=$(peer_field transfer "$(b_pub)" 2); tx1=$(peer_field transfer "$(b_pub)" 3)
ptx1=$(prom_peer meshgate_peer_tx_packets_total); prx1=$(prom_peer meshgate_peer_rx_packets_total)
dtx=$((tx1 - tx0)) drx=$((rx1 - rx0)) want=$((N * 1040))
log "wg show transfer: +$drx received, +$dtx sent for $N echo requests and replies of $SIZE bytes"
check "wg show: sent bytes grew by $N x 1040 (+ at most 3 keepalives): $dtx" test $dtx -ge $want -a $dtx -le $((want + 96))
check "wg show: received bytes grew by $N x 1040 (+ at most 3 keepalives): $drx" test $drx -ge $want -a $drx -le $((want + 96))
check "Prometheus: tx packets +$N..$((N + 3)): $((ptx1 - ptx0))" test $((ptx1 - ptx0)) -ge $N -a $((ptx1 - ptx0)) -le $((N + 3))
check "Prometheus: rx packets +$N..$((N + 3)): $((prx1 - prx0))" test $((prx1 - prx0)) -ge $N -a $((prx1 - prx0)) -le $((N + 3))
check "Prometheus: the peer's current endpoint" prom_has "public_key=\"$(b_pub)\",endpoint=\"203.0.113.2:51820\"} 1"
check "Prometheus: one handshake so far" prom_has "meshgate_peer_handshakes_total{tunnel=\"$TUN\",public_key=\"$(b_pub)\"} 1"
check "Prometheus: drop counters per worker and reason" prom_has "meshgate_drops_total{tunnel=\"$TUN\",lcore=\"worker0\",reason=\"wg_replay\"} 0"
# wireguard-go counts the same messages from its side (plus its own handshake bytes).
b_rx=$(wgB show $WG_IF transfer | awk '{print $2}')
check "wireguard-go received at least what meshgate says it sent ($b_rx >= $tx1)" test "$b_rx" -ge "$tx1"

if command -v dpdk-telemetry.py >/dev/null; then
  tele() { echo "$1" | dpdk-telemetry.py -f meshgate-$TUN 2>/dev/null; }
  tjson() { tele "$1" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); v=d[list(d)[0]]; print(eval(sys.argv[1]))' "$2"; }
  check "dpdk-telemetry.py: /meshgate/peers lists peer B" test "$(tjson /meshgate/peers 'v[0]')" = "$(b_pub)"
  t_tx=$(tjson /meshgate/peer,0 'v["tx_packets"]')
  check "dpdk-telemetry.py: /meshgate/peer,0 tx_packets matches Prometheus ($t_tx >= $ptx1)" test "$t_tx" -ge "$ptx1"
  check "dpdk-telemetry.py: /meshgate/peer,0 endpoint" test "$(tjson /meshgate/peer,0 'v["endpoint"]')" = 203.0.113.2:51820
  check "dpdk-telemetry.py: /meshgate/workers" test "$(tjson /meshgate/workers '",".join(v)')" = worker0,control
  check "dpdk-telemetry.py: /meshgate/drops,worker0 has every reason" test "$(tjson /meshgate/drops,worker0 'len(v)')" -ge 40
else
  tap_ok "# SKIP dpdk-telemetry.py not installed (Debian package dpdk-dev)"
fi

# iperf3 through the tunnel: meshgate's sent bytes cover what iperf3 sent, with the overhead
# of IP/TCP headers, padding and WireGuard framing on top.
tx0=$(peer_field transfer "$(b_pub)" 3)
if g=$(iperf_tcp $NS_HB $NS_HA 10.2.0.2 3); then tap_ok "iperf3 TCP A->B: $g Gbit/s"; else tap_fail "iperf3 TCP A->B"; fi
read -r sent retr < <(python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["end"]["sum_sent"]; print(int(e["bytes"]), int(e.get("retransmits", 0)))' "$WORK/iperf.json")
dtx=$(( $(peer_field transfer "$(b_pub)" 3) - tx0 ))
# Per 1368-byte segment: 52 bytes of IP/TCP headers, up to 15 of padding, 32 of WireGuard (7.3%);
# retransmitted segments go through the tunnel again.
most=$(( (sent + retr * 1368) * 108 / 100 + 100000 ))
log "iperf3 sent $sent bytes of TCP payload ($retr segments again); wg show says $dtx bytes went to B"
check "wg show: transfer covers iperf3's bytes plus headers and framing ($sent <= $dtx <= $most)" \
  test "$dtx" -ge "$sent" -a "$dtx" -le "$most"

# --- live changes under a continuous ping that must not lose a packet ----------------------------
in_ns $NS_HA ping -i 0.05 -c 160 -W 2 10.2.0.2 >"$WORK/live.ping" 2>&1 &
live_ping=$!
sleep 1
check "wg set: add peer C (allowed IPs, endpoint, keepalive)" \
  wgA set $TUN peer "$(cat "$WORK/c.pub")" allowed-ips 10.3.0.0/24,fd03::/64 endpoint 203.0.113.77:51820 persistent-keepalive 25
check "wg show: peer C is there with its allowed IPs" test "$(allowed_of "$(cat "$WORK/c.pub")")" = "10.3.0.0/24 fd03::/64"
check "wg set: peer C preshared key" wgA set $TUN peer "$(cat "$WORK/c.pub")" preshared-key "$WORK/psk"
check "wg show: peer C's PSK" test "$(peer_field preshared-keys "$(cat "$WORK/c.pub")")" = "$(cat "$WORK/psk")"
check "wg set: peer C endpoint over IPv6" wgA set $TUN peer "$(cat "$WORK/c.pub")" endpoint "[2001:db8:c::7]:4500"
check "wg show: peer C's new endpoint" test "$(peer_field endpoints "$(cat "$WORK/c.pub")")" = "[2001:db8:c::7]:4500"
check "wg set: peer C allowed IPs replaced" wgA set $TUN peer "$(cat "$WORK/c.pub")" allowed-ips 10.4.0.0/24
check "wg show: peer C's allowed IPs are the new list" test "$(allowed_of "$(cat "$WORK/c.pub")")" = 10.4.0.0/24
check "wg set: peer B persistent keepalive 5" wgA set $TUN peer "$(b_pub)" persistent-keepalive 5
check "wg show: peer B's keepalive" test "$(peer_field persistent-keepalive "$(b_pub)")" = 5
check "wg set: remove peer C" wgA set $TUN peer "$(cat "$WORK/c.pub")" remove
check "wg show: only peer B is left" test "$(field peers)" = "$(b_pub)"
wait $live_ping
loss=$(grep -o '[0-9.]*% packet loss' "$WORK/live.ping")
check "continuous ping to B while peers changed: 160 sent, $loss" grep -q '160 received' "$WORK/live.ping"

check "wg set: fwmark" wgA set $TUN fwmark 0x42
check "wg show: fwmark" test "$(field fwmark)" = 0x42

# Listen port: the outer UDP source port of every peer changes at once; B roams to it.
check "wg set: listen port 51821" wgA set $TUN listen-port 51821
check "wg show: listen port 51821" test "$(field listen-port)" = 51821
check "traffic flows over the new port" ping_soon 10.2.0.2
check "wireguard-go now sends to port 51821" sh -c "ip netns exec $NS_GB wg show $WG_IF endpoints | grep -q '198.51.100.2:51821'"

# Private key: A becomes D; B does not know D until it is told.
check "wg set: private key" wgA set $TUN private-key "$WORK/d.key"
check "wg show: the public key is D's" test "$(field public-key)" = "$(cat "$WORK/d.pub")"
wgB set $WG_IF peer "$(cat "$WORK/a.pub")" remove peer "$(cat "$WORK/d.pub")" allowed-ips "${SITE_A_LAN// /}"
check "after B learns D, a new handshake carries traffic" ping_soon 10.2.0.2

# --- setconf / addconf / syncconf ---------------------------------------------------------------
wgconf() {  # FILE [PEER_KEY_NAME ALLOWED]...: a wg-format file with D's key, port 51820, peer B
  local f=$1; shift
  { echo "[Interface]"; echo "PrivateKey = $(cat "$WORK/d.key")"; echo "ListenPort = 51820"
    echo "[Peer]"; echo "PublicKey = $(b_pub)"; echo "AllowedIPs = ${SITE_B_LAN// /}"; echo "Endpoint = 203.0.113.2:51820"
    while [ $# -gt 0 ]; do echo "[Peer]"; echo "PublicKey = $(cat "$WORK/$1.pub")"; echo "AllowedIPs = $2"; shift 2; done
  } >"$f"
}
wgconf "$WORK/set.conf"
check "wg setconf" wgA setconf $TUN "$WORK/set.conf"
check "wg show after setconf: port 51820, fwmark off, only B" \
  sh -c "[ \"\$(wg show $TUN listen-port)\" = 51820 ] && [ \"\$(wg show $TUN fwmark)\" = off ] && [ \"\$(wg show $TUN peers)\" = '$(b_pub)' ]"
check "traffic after setconf (new sessions)" ping_soon 10.2.0.2
wgconf "$WORK/add.conf" c 10.3.0.0/24
sed -i '/^\[Interface\]/,/^\[Peer\]/{/PrivateKey\|ListenPort/d}' "$WORK/add.conf"
check "wg addconf adds peer C" wgA addconf $TUN "$WORK/add.conf"
check "wg show after addconf: B and C" test "$(field peers | sort | tr '\n' ' ')" = "$(printf '%s\n' "$(b_pub)" "$(cat "$WORK/c.pub")" | sort | tr '\n' ' ')"
hs_before=$(peer_field latest-handshakes "$(b_pub)")
in_ns $NS_HA ping -i 0.05 -c 60 -W 2 10.2.0.2 >"$WORK/sync.ping" 2>&1 &
sync_ping=$!
sleep 0.5
wgconf "$WORK/sync.conf"
check "wg syncconf drops peer C" wgA syncconf $TUN "$WORK/sync.conf"
wait $sync_ping
check "wg show after syncconf: only B" test "$(field peers)" = "$(b_pub)"
check "wg syncconf from the gateway's own config (meshgate --strip) is accepted" \
  wgA syncconf $TUN <(sed "s|^PrivateKey = .*|PrivateKey = $(cat "$WORK/d.key")|" "$CONF" >"$WORK/d.conf"; "$MG_BIN" --strip "$WORK/d.conf")
check "... and leaves only B, with the allowed IPs of the config" test "$(allowed_of "$(b_pub)")" = "10.2.0.0/24 fd02::/64"
check "syncconf kept B's session (same latest handshake)" test "$(peer_field latest-handshakes "$(b_pub)")" = "$hs_before"
check "continuous ping during syncconf lost nothing" grep -q '60 received' "$WORK/sync.ping"

# --- malformed input straight to the socket -------------------------------------------------------
before=$(python3 "$RAW" "$SOCK" get)
bhex=$(wg show $TUN peers | python3 -c 'import base64,sys; print(base64.b64decode(sys.stdin.read().strip()).hex())')
chex=$(python3 -c 'import base64,sys; print(base64.b64decode(open(sys.argv[1]).read().strip()).hex())' "$WORK/c.pub")
raw_case() {  # NAME WANT MODE ARG
  local name=$1 want=$2; shift 2
  local got after
  got=$(python3 "$RAW" "$SOCK" "$@")
  after=$(python3 "$RAW" "$SOCK" get)
  if [ "$got" = "$want" ] && [ "$after" = "$before" ]; then tap_ok "malformed: $name -> $want, nothing changed"; else
    tap_fail "malformed: $name"; log "wanted '$want', got '$got'"; diff <(echo "$before") <(echo "$after") | sed 's/^/#   /'; fi
}
raw_case "unknown interface key" 'errno=-22\n\n' send 'set=1\nbogus=1\n\n'
raw_case "get-only key in set" 'errno=-22\n\n' send "set=1\npublic_key=$bhex\nrx_bytes=5\n\n"
raw_case "bad hex in a private key" 'errno=-22\n\n' send "set=1\nprivate_key=$(printf 'z%.0s' $(seq 64))\n\n"
raw_case "short public key" 'errno=-22\n\n' send 'set=1\npublic_key=abcd\n\n'
raw_case "interface key after a peer (wrong order)" 'errno=-22\n\n' send "set=1\npublic_key=$bhex\nfwmark=5\n\n"
raw_case "protocol_version=2" 'errno=-22\n\n' send "set=1\npublic_key=$bhex\nprotocol_version=2\n\n"
raw_case "line without =" 'errno=-71\n\n' send 'set=1\nlisten_port\n\n'
raw_case "trailing line in get" 'errno=22\n\n' send 'get=1\nbogus\n\n'
raw_case "unknown operation: closed without reply" ' closed' send 'hello=1\n\n'
raw_case "100000-byte line: EIO, connection closed" 'errno=-5\n\n closed' huge 100000
python3 "$RAW" "$SOCK" cut "set=1\npublic_key=$chex\nallowed_ip=10.9.9.0/2"
after=$(python3 "$RAW" "$SOCK" get)
changes=$(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | tr '\n' ' ')
if [ "$changes" = "> public_key=$chex > preshared_key=$(printf '%064d' 0) > protocol_version=1 > persistent_keepalive_interval=0 " ]; then
  tap_ok "disconnect mid-line: the finished public_key line applied (as wireguard-go), the cut line did not"
else
  tap_fail "disconnect mid-line"; log "changes: $changes"
fi
wgA set $TUN peer "$(cat "$WORK/c.pub")" remove
raw_case "allowed_ip=-prefix of a prefix the peer does not hold" 'errno=0\n\n' send "set=1\npublic_key=$bhex\nallowed_ip=-10.99.0.0/24\n\n"
check "raw allowed_ip=-10.2.0.0/24 is accepted" test "$(python3 "$RAW" "$SOCK" send "set=1\npublic_key=$bhex\nallowed_ip=-10.2.0.0/24\n\n")" = 'errno=0\n\n'
check "wg show: B keeps only fd02::/64" test "$(allowed_of "$(b_pub)")" = fd02::/64
check "A->B over IPv4 now has no route" sh -c "! ip netns exec $NS_HA ping -c 1 -W 1 10.2.0.2"
check "A->B over IPv6 still works" in_ns $NS_HA ping -c 2 -i 0.2 -W 3 fd02::2
check "wg set allowed-ips restores it" wgA set $TUN peer "$(b_pub)" allowed-ips "${SITE_B_LAN// /}"
check "and IPv4 flows again" in_ns $NS_HA ping -c 2 -i 0.2 -W 3 10.2.0.2

check "meshgate stops cleanly" stop_meshgate mga
check "the UAPI socket is removed on exit" test ! -e "$SOCK"
stop_pid wggo
tap_end
