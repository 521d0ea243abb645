#!/usr/bin/env bash
# Jumbo frames end to end: MTU 9000 on every link, the tunnel MTU at 8920 (9000 less WireGuard's
# 80 bytes over IPv6), meshgate to meshgate on AF_PACKET with 16 KiB frames. The largest ping
# that fits crosses with DF set; one byte more is answered with "fragmentation needed, MTU 8920";
# iperf3 carries 8920-byte UDP datagrams and a TCP stream.
source "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

topo_create
for e in "$NS_HA:eth0" "$NS_GA:lan0" "$NS_GA:wan0" "$NS_INET:ea" "$NS_INET:eb" "$NS_GB:wan0" \
  "$NS_GB:lan0" "$NS_HB:eth0"; do
  in_ns "${e%%:*}" ip link set "${e#*:}" mtu 9000
done
# AF_PACKET's default 2 KiB ring frames cannot hold a 9000-byte frame; 9 KiB ones fill the
# mbufs meshgate makes for this MTU, four to a block of nine pages.
sed 's/framecnt=256/framecnt=256,framesz=9216,blocksz=36864/' \
  "$MG_ROOT/dpdk-configs/veth-af-packet.profile" >"$WORK/jumbo.profile"
export MG_PROFILE=$WORK/jumbo.profile
gen_keys a; gen_keys b
mg_conf "$WORK/a$S.conf" a b "$SITE_B_LAN" 203.0.113.2:51820 "$SITE_A_INNER" "$SITE_A_OUTER" "$SITE_A_GW"
mg_conf "$WORK/b$S.conf" b a "$SITE_A_LAN" "" "$SITE_B_INNER" "$SITE_B_OUTER" "$SITE_B_GW"
sed -i 's/^ListenPort = 51820$/&\nMTU = 8920/' "$WORK/a$S.conf" "$WORK/b$S.conf"
check "meshgate starts at site A with MTU 8920" start_meshgate $NS_GA mga "$WORK/a$S.conf"
check "meshgate starts at site B with MTU 8920" start_meshgate $NS_GB mgb "$WORK/b$S.conf"
check "a small ping crosses first" in_ns $NS_HA ping -c 2 -i 0.2 -W 3 10.2.0.2
check "ping -M do -s 8892 (8920-byte IPv4 packets) A->B" in_ns $NS_HA ping -M do -c 3 -i 0.2 -W 3 -s 8892 10.2.0.2
check "ping -M do -s 8872 (8920-byte IPv6 packets) B->A" in_ns $NS_HB ping -6 -M do -c 3 -i 0.2 -W 3 -s 8872 fd01::2
in_ns $NS_HA ping -M do -c 2 -i 0.5 -W 2 -s 8893 10.2.0.2 >"$WORK/toobig.out" 2>&1
check "one byte more gets ICMP fragmentation needed with MTU 8920" grep -Eq "mtu ?= ?8920" "$WORK/toobig.out"
sed 's/^/#   /' "$WORK/toobig.out"

bg $NS_HB iperf3-udp iperf3 -s -1 -B 10.2.0.2
wait_for 5 in_ns $NS_HB sh -c "ss -lun | grep -q ':5201'"
in_ns $NS_HA iperf3 -c 10.2.0.2 -u -b 100M -l 8892 -t 3 -J >"$WORK/udp.json" 2>&1
# iperf3 warns (before its JSON) that the datagram is larger than its control connection's MSS.
read -r pkts lost < <(python3 -c 'import json,sys; t=open(sys.argv[1]).read(); s=json.loads(t[t.index("{"):])["end"]["sum"]; print(s["packets"], s["lost_packets"])' "$WORK/udp.json")
log "iperf3 UDP, 8920-byte datagrams: $pkts sent, $lost lost"
check "iperf3 carries 8920-byte UDP datagrams (under 1% lost)" test "${pkts:-0}" -gt 0 -a "$((${lost:-1} * 100))" -lt "${pkts:-1}"
if g=$(iperf_tcp $NS_HB $NS_HA 10.2.0.2 3); then tap_ok "iperf3 TCP A->B with jumbo frames: $g Gbit/s"; else tap_fail "iperf3 TCP A->B with jumbo frames"; fi
check "meshgate A stops cleanly" stop_meshgate mga
check "meshgate B stops cleanly" stop_meshgate mgb
tap_end
