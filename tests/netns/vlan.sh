#!/usr/bin/env bash
# 802.1Q VLANs: gateway A's LAN port is on VLAN 10 and its Internet port on VLAN 20; site B's
# meshgate is untagged. This kernel has no 8021q module (nor bridge VLAN filtering), so a
# user-space access port (support/vlan_switch.py) joins each kernel interface facing A to A's
# port: it tags what the kernel sends and untags what A sends, and drops (and counts) any frame
# from A that lacks VLAN's tag. Hosts reach each other only through the tags.
source "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

# tag_link NS IF VID: IF, the namespace's link to a gateway port, becomes the trunk trunkVID; a
# fresh IF (a veth whose other end accVID is the access port) takes over its addresses.
tag_link() {
  local ns=$1 ifn=$2 vid=$3 i
  in_ns "$ns" ip link set "$ifn" down
  in_ns "$ns" ip addr flush dev "$ifn"
  in_ns "$ns" ip link set "$ifn" name "trunk$vid"
  in_ns "$ns" ip link set "trunk$vid" up
  in_ns "$ns" ip link add "$ifn" type veth peer name "acc$vid"
  for i in "$ifn" "acc$vid"; do
    in_ns "$ns" ip link set "$i" up
    in_ns "$ns" ethtool -K "$i" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
  done
  bg "$ns" "vlan$vid" python3 "$MG_ROOT/tests/netns/support/vlan_switch.py" "acc$vid" "trunk$vid" "$vid"
}

topo_create
# The gateway namespace's own kernel sends IPv6 router solicitations and MLD reports, untagged,
# from the veth ends meshgate's ports sit on; only meshgate's frames are under test here.
in_ns $NS_GA sysctl -qw net.ipv6.conf.lan0.disable_ipv6=1 net.ipv6.conf.wan0.disable_ipv6=1
tag_link $NS_HA eth0 10
in_ns $NS_HA ip addr add 10.1.0.2/24 dev eth0
in_ns $NS_HA ip addr add fd01::2/64 dev eth0 nodad
in_ns $NS_HA ip route add default via 10.1.0.1
in_ns $NS_HA ip -6 route add default via fd01::1
tag_link $NS_INET ea 20
in_ns $NS_INET ip addr add 198.51.100.1/24 dev ea
in_ns $NS_INET ip addr add 2001:db8:a::1/64 dev ea nodad

gen_keys a; gen_keys b
mg_conf "$WORK/a$S.conf" a b "$SITE_B_LAN" 203.0.113.2:51820 "$SITE_A_INNER" "$SITE_A_OUTER" "$SITE_A_GW"
printf 'InnerVlan = 10\nOuterVlan = 20\n' >>"$WORK/a$S.conf"
mg_conf "$WORK/b$S.conf" b a "$SITE_A_LAN" "" "$SITE_B_INNER" "$SITE_B_OUTER" "$SITE_B_GW"
check "meshgate starts at site A on tagged ports" start_meshgate $NS_GA mga "$WORK/a$S.conf"
check "meshgate starts at site B" start_meshgate $NS_GB mgb "$WORK/b$S.conf"
check "ping IPv4 A->B (A's LAN on VLAN 10, Internet on VLAN 20)" in_ns $NS_HA ping -c 3 -i 0.2 -W 3 10.2.0.2
check "ping IPv6 A->B" in_ns $NS_HA ping -c 3 -i 0.2 -W 3 fd02::2
check "ping IPv4 B->A" in_ns $NS_HB ping -c 3 -i 0.2 -W 3 10.1.0.2
check "ping IPv6 B->A" in_ns $NS_HB ping -c 3 -i 0.2 -W 3 fd01::2
if g=$(iperf_tcp $NS_HB $NS_HA 10.2.0.2 3); then tap_ok "iperf3 TCP A->B over the tagged ports: $g Gbit/s"; else tap_fail "iperf3 TCP A->B over the tagged ports"; fi

# Every frame A sent on either port carried its port's tag: the access ports dropped none.
access_counts() { stop_pid "vlan$1"; cat "$WORK/vlan$1.log"; }
for vid in 10 20; do
  counts=$(access_counts $vid)
  log "VLAN $vid access port: $counts"
  check "VLAN $vid: A sent only tagged frames, and some" \
    sh -c "echo '$counts' | grep -q ' dropped=0' && echo '$counts' | grep -Eq 'untagged=[1-9]'"
done
check "meshgate A stops cleanly" stop_meshgate mga
check "meshgate B stops cleanly" stop_meshgate mgb
tap_end
