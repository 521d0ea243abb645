#!/usr/bin/env bash
# The high-availability laboratory, shared by ha.sh and ha_restart.sh: site A is two meshgate
# gateways on one LAN and one Internet segment (kernel bridges), with keepalived (VRRP, unicast,
# on a management veth between them) and the shipped notify hook switching their roles; site B
# is one meshgate.
#
#   hostA -- br0 (lan bridge ns) --+-- lan0 | gwA1 | wan0 --+-- brA (inet) -- wan0 | gwB | lan0 -- hostB
#                                  +-- lan0 | gwA2 | wan0 --+
#                                           gwA1 mgmt0 -- mgmt0 gwA2   (VRRP)
#
#   ha_start                  the whole pair up, A1 active and A2 standby (ten TAP checks);
#                             sets MAC1/MAC2 (the gateways' LAN MACs); tcpdump1 captures ARP on
#                             the LAN bridge from the start
#   start_ka I NS             keepalived for gateway I (log $WORK/kaI.log)
#   ka_state I                the VRRP state keepalived I entered last (MASTER, BACKUP, FAULT)
#   ka_is I STATE             ka_state I is STATE
#   load_start TAG SECONDS    host A pings host B every 0.1 s and sends an iperf3 TCP stream
#   load_checks TAG EVENT MIN waits for that load to end; three checks (MIN pings answered,
#                             longest gap at most 2 s, the stream completed)
#   load_lost TAG             how many of that load's pings went unanswered
#   arp_capture NAME          tcpdump of ARP on the LAN bridge into $WORK/NAME.log
#   replies_in_turn M1 M2 LOG no ARP reply from M1 after the first one from M2
#   announced MAC LOG         a gratuitous ARP for 10.1.0.1 from MAC
#
# Gateway Ai's config is $WORK/ai$S.conf (Role = standby), its meshgate log $WORK/mgai.log.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
NS_LB=mglb$S NS_GA2=mgga2$S
trap 'ha_destroy' EXIT
ha_destroy() {
  topo_destroy
  for ns in $NS_LB $NS_GA2; do ip netns del "$ns" 2>/dev/null; done
}

# The topology above; lib.sh's topo_create is for a single gateway per site.
ha_topo() {
  for ns in $NS_HA $NS_LB $NS_GA $NS_GA2 $NS_INET $NS_GB $NS_HB; do
    ip netns add "$ns"
    in_ns "$ns" ip link set lo up
    in_ns "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  done
  in_ns $NS_LB ip link add br0 type bridge
  in_ns $NS_LB ip link set br0 up
  in_ns $NS_INET ip link add brA type bridge
  in_ns $NS_INET ip link set brA up
  veth $NS_HA eth0 $NS_LB ha
  veth $NS_GA lan0 $NS_LB g1
  veth $NS_GA2 lan0 $NS_LB g2
  veth $NS_GA wan0 $NS_INET ea1
  veth $NS_GA2 wan0 $NS_INET ea2
  veth $NS_INET eb $NS_GB wan0
  veth $NS_GB lan0 $NS_HB eth0
  veth $NS_GA mgmt0 $NS_GA2 mgmt0
  for p in ha g1 g2; do in_ns $NS_LB ip link set "$p" master br0; done
  for p in ea1 ea2; do in_ns $NS_INET ip link set "$p" master brA; done
  in_ns $NS_GA ip addr add 192.168.77.1/24 dev mgmt0
  in_ns $NS_GA2 ip addr add 192.168.77.2/24 dev mgmt0

  in_ns $NS_HA ip addr add 10.1.0.2/24 dev eth0
  in_ns $NS_HA ip route add default via 10.1.0.1
  in_ns $NS_HA ip addr add fd01::2/64 dev eth0 nodad
  in_ns $NS_HA ip -6 route add default via fd01::1
  in_ns $NS_HB ip addr add 10.2.0.2/24 dev eth0
  in_ns $NS_HB ip route add default via 10.2.0.1
  in_ns $NS_HB ip addr add fd02::2/64 dev eth0 nodad
  in_ns $NS_HB ip -6 route add default via fd02::1
  in_ns $NS_INET ip addr add 198.51.100.1/24 dev brA
  in_ns $NS_INET ip addr add 203.0.113.1/24 dev eb
  in_ns $NS_INET sysctl -qw net.ipv4.ip_forward=1
}

# ka_conf FILE ID SRC PEER PRIORITY MESHGATE_CONF: keepalived for one gateway of site A.
ka_conf() {
  local file=$1 id=$2 src=$3 peer=$4 prio=$5 mgconf=$6
  cat >"$file" <<EOF
global_defs {
  router_id ha$id$S
  vrrp_version 3
  script_user root
  enable_script_security
}
vrrp_script meshgate_running {
  script "$(command -v wg) show $(basename "$mgconf" .conf) listen-port"
  interval 1
  fall 1
  rise 1
}
vrrp_instance site_a {
  state BACKUP
  interface mgmt0
  virtual_router_id 51
  priority $prio
  nopreempt
  advert_int 0.2
  unicast_src_ip $src
  unicast_peer {
    $peer
  }
  virtual_ipaddress {
    192.168.77.254/32 dev mgmt0
  }
  track_script {
    meshgate_running
  }
  notify "$MG_ROOT/dist/meshgate-ha-notify $mgconf $MG_BIN"
}
EOF
}

# start_ka I NS: keepalived for gateway I, with its own pid files (the defaults under /run are
# one per machine).
start_ka() {
  bg "$2" ka$1 keepalived -n -l -f "$WORK/ka$1.conf" -p "$WORK/ka$1-main.pid" \
    -r "$WORK/ka$1-vrrp.pid" -c "$WORK/ka$1-chk.pid" -b "$WORK/ka$1-bfd.pid" -i ha$1$S
}
ka_state() { sed -n 's/.*(site_a) Entering \([A-Z]*\) STATE.*/\1/p' "$WORK/ka$1.log" | tail -n 1; }
ka_is() { [ "$(ka_state "$1")" = "$2" ]; }

# neigh_is ADDR MAC: host A's neighbour entry for ADDR names MAC.
neigh_is() { in_ns $NS_HA ip neigh show "$1" dev eth0 | grep -qi "lladdr $2"; }
mac_of() { in_ns "$1" cat /sys/class/net/lan0/address; }
arp_capture() {
  bg $NS_LB "$1" tcpdump -i br0 -n -e -l arp
  wait_for 5 grep -q "listening on" "$WORK/$1.log"
}
# ARP replies for the site's LAN address, by sender MAC, in a tcpdump -e text capture.
replies_from() { grep -ci "^[0-9:.]* $1 .*Reply 10.1.0.1 is-at" "$2"; }
# announced MAC LOG: a gratuitous ARP (request or reply) for 10.1.0.1 from MAC in the capture.
announced() { grep -Eqi "^[0-9:.]* $1 .*(who-has 10.1.0.1 tell 10.1.0.1|Announcement,? 10.1.0.1)" "$2"; }
replies_in_turn() {
  awk -v m1="$1" -v m2="$2" 'tolower($0) ~ /reply 10\.1\.0\.1 is-at/ { if (tolower($2) == m2) seen2 = 1; else if (tolower($2) == m1 && seen2) bad = 1 } END { exit bad }' "$3"
}
# fresh_arp: host A forgets the gateway's MAC and asks again (a broadcast both gateways see).
fresh_arp() { in_ns $NS_HA ip neigh flush dev eth0; in_ns $NS_HA ping -c 2 -i 0.2 -W 2 10.2.0.2; }
# The longest time without an answer in the log of a `ping -i 0.1` run, in seconds: the longest
# step between the sequence numbers of two answered pings, or from the last answered one to the
# end of the run (a path that never comes back is a gap as long as the rest of the run), times
# the interval.
longest_gap() {
  awk -v interval=0.1 '
    /bytes from/ { match($0, /icmp_seq=[0-9]+/); seq = substr($0, RSTART + 9, RLENGTH - 9) + 0
                   if (seq - last > gap) gap = seq - last; last = seq }
    /packets transmitted/ { sent = $1 + 0 }
    END { if (sent + 1 - last > gap) gap = sent + 1 - last; printf "%.2f\n", gap * interval }' "$1"
}
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

# load_start TAG SECONDS: a ping every 0.1 s and a TCP stream (20 Mbit/s: three DPDK processes
# share the cores) from host A to host B, logs $WORK/pingTAG.log and $WORK/iperf3-cliTAG.log.
load_start() {
  bg $NS_HB iperf3-srv$1 iperf3 -s -1 -B 10.2.0.2
  wait_for 5 in_ns $NS_HB sh -c "ss -ltn | grep -q ':5201'"
  bg $NS_HA iperf3-cli$1 iperf3 -c 10.2.0.2 -t "$2" -b 20M -J
  bg $NS_HA ping$1 ping -D -i 0.1 -W 1 -w "$2" 10.2.0.2
  LOAD_SECONDS=$2
}
# load_checks TAG EVENT MIN: waits for load_start's ping and stream; checks that at least MIN
# pings were answered, that the longest gap between two was at most 2 s, that the stream ended
# without error. Sets GAP.
load_checks() {
  local tag=$1 event=$2 min=$3 answered
  timeout 30 tail --pid="$(cat "$WORK/iperf3-cli$tag.pid")" -f /dev/null
  timeout 30 tail --pid="$(cat "$WORK/ping$tag.pid")" -f /dev/null
  GAP=$(longest_gap "$WORK/ping$tag.log")
  answered=$(grep -c "bytes from" "$WORK/ping$tag.log")
  check "pings answered before and after $event ($answered of $((LOAD_SECONDS * 10)))" test "$answered" -ge "$min"
  check "ping gap over $event at most 2 s (was ${GAP} s)" le "$GAP" 2
  check "the TCP stream started before $event completes" \
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if "error" not in d and d["end"]["sum_received"]["bytes"] > 0 else 1)' "$WORK/iperf3-cli$tag.log"
}

# load_lost TAG: pings load_start sent and got no answer for (ping's own summary).
load_lost() { awk '/packets transmitted/ { print $1 - $4 }' "$WORK/ping$1.log"; }

# ha_start: both sites, A1 made active by its keepalived, A2's keepalived started after (the
# documented order); checks that a standby answers nothing and that traffic takes A1.
ha_start() {
  ha_topo
  gen_keys a; gen_keys b
  for i in 1 2; do
    mg_conf "$WORK/a$i$S.conf" a b "10.2.0.0/24, fd02::/64" 203.0.113.2:51820 "10.1.0.1/24, fd01::1/64" \
      198.51.100.2/24 198.51.100.1
    # Each server accepts the other's state sync on its management address (mirrored).
    printf 'Role = standby\nSyncListen = 192.168.77.%s:51821\nSyncPeer = 192.168.77.%s:51821\n' \
      "$i" $((3 - i)) >>"$WORK/a$i$S.conf"
  done
  mg_conf "$WORK/b$S.conf" b a "10.1.0.0/24, fd01::/64" "" "10.2.0.1/24, fd02::1/64" 203.0.113.2/24 203.0.113.1
  MAC1=$(mac_of $NS_GA) MAC2=$(mac_of $NS_GA2)
  log "gwA1 lan0 $MAC1, gwA2 lan0 $MAC2"

  arp_capture tcpdump1
  check "meshgate starts at site B" start_meshgate $NS_GB mgb "$WORK/b$S.conf"
  check "gateway A1 starts as standby" start_meshgate $NS_GA mga1 "$WORK/a1$S.conf"
  check "gateway A2 starts as standby" start_meshgate $NS_GA2 mga2 "$WORK/a2$S.conf"
  check "a standby answers no ARP: no ping from host A before keepalived runs" \
    sh -c "! ip netns exec $NS_HA ping -c 2 -i 0.3 -W 1 10.1.0.1"
  ka_conf "$WORK/ka1.conf" 1 192.168.77.1 192.168.77.2 150 "$WORK/a1$S.conf"
  ka_conf "$WORK/ka2.conf" 2 192.168.77.2 192.168.77.1 100 "$WORK/a2$S.conf"
  # A1 first, A2 once A1 is master: with nopreempt, two servers started together elect whichever
  # one's track script comes up first (its 1 s interval is not aligned between them), not the
  # higher priority, so the test brings the pair up in the order an operator would.
  start_ka 1 $NS_GA
  check "keepalived makes A1 active (notify hook)" wait_for 15 grep -q "role: active" "$WORK/mga1.log"
  start_ka 2 $NS_GA2
  check "ping IPv4 host A -> host B through A1" wait_for 15 in_ns $NS_HA ping -c 1 -W 1 10.2.0.2
  check "A1 answers ARP for 10.1.0.1 after a fresh request" fresh_arp
  check "ping IPv6 host A -> host B through A1" in_ns $NS_HA ping -c 2 -i 0.2 -W 2 fd02::2
  check "host A has fd01::1 at A1's MAC" neigh_is fd01::1 "$MAC1"
  check "A2 stays standby" sh -c "! grep -q 'role: active' '$WORK/mga2.log'"
}
