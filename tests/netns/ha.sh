#!/usr/bin/env bash
# High availability (the pair of ha_lib.sh): a SIGKILLed active server.
#
# Checks: traffic flows through the active one; only it answers ARP for the shared LAN address;
# after SIGKILL of the active meshgate and its keepalived, the standby takes over with a ping
# gap of at most 2 s, announces the addresses (host A's IPv6 neighbour entry moves to its MAC
# without a solicitation), and an iperf3 TCP stream started before survives. State sync: an
# endpoint A1 learnt by roaming and a peer added with `wg` on A1 reach A2 before the failover,
# and A2 reaches site B at that endpoint after it.
source "$(dirname "$0")/ha_lib.sh"

ha_start

# State sync: site B's packets start to come from a new address (its NAT rebinds), A1 learns it
# by roaming and A2 from A1. A's packets to B's old address are dropped from then on, so after
# the failover only a gateway that knows the new endpoint reaches B.
check "A1 connects to A2 for state sync" \
  wait_for 10 grep -q "ha sync: connected to partner 192.168.77.2:51821" "$WORK/mga1.log"
# rebind_b: from now on B's packets leave the Internet namespace from 203.0.113.99:40000, and
# A's to B's old address are dropped (replies to B's new flows pass: they are de-NATed).
rebind_b() {
  in_ns $NS_INET nft -f - <<NFT || return 1
table ip roam {
  chain rebind { type nat hook postrouting priority 100; ip saddr 203.0.113.2 udp sport 51820 snat to 203.0.113.99:40000; }
  chain oldpath { type filter hook forward priority 0; ip daddr 203.0.113.2 udp dport 51820 ct direction original drop; }
}
NFT
  in_ns $NS_INET conntrack -F >/dev/null 2>&1  # flows made before go through the rules too
}
check "site B's NAT rebinds to 203.0.113.99:40000 (nftables)" rebind_b
check "host B reaches host A from B's new address" wait_for 10 in_ns $NS_HB ping -c 1 -W 1 10.1.0.2
check "A1 learnt B's new endpoint by roaming" \
  wait_for 5 sh -c "wg show a1$S endpoints | grep -q '203.0.113.99:40000'"
check "A2, standby, has it from A1" \
  wait_for 5 sh -c "wg show a2$S endpoints | grep -q '203.0.113.99:40000'"
gen_keys c
wg set "a1$S" peer "$(cat "$WORK/c.pub")" allowed-ips 10.3.0.0/24
check "a peer added with wg on A1 reaches A2" \
  wait_for 5 sh -c "wg show a2$S allowed-ips | grep -q '10.3.0.0/24'"
check "A2 applied the changes as a standby" grep -q "peer change(s) from the active partner" "$WORK/mga2.log"

# Failover under load: the ping and the TCP stream run while the active server dies.
load_start "" 14
sleep 4
# The server dies: its meshgate and every keepalived process of it (started here, by PID).
kill -9 "$(cat "$WORK/mga1.pid")" "$(cat "$WORK/ka1.pid")" 2>/dev/null
for f in vrrp chk bfd; do [ -s "$WORK/ka1-$f.pid" ] && kill -9 "$(cat "$WORK/ka1-$f.pid")" 2>/dev/null; done
log "killed A1's meshgate and keepalived at $(date +%s.%N)"
check "keepalived makes A2 active" wait_for 10 grep -q "role: active" "$WORK/mga2.log"
check "A2 announced 10.1.0.1 with a gratuitous ARP from its MAC" \
  wait_for 5 announced "$MAC2" "$WORK/tcpdump1.log"
load_checks "" "the failover" 100
check "A2's unsolicited NA moved host A's fd01::1 to A2's MAC" neigh_is fd01::1 "$MAC2"
check "ping IPv6 host A -> host B through A2" in_ns $NS_HA ping -c 2 -i 0.2 -W 2 fd02::2
check "host A reaches A2 after a fresh ARP request" fresh_arp
kill "$(cat "$WORK/tcpdump1.pid")" 2>/dev/null; sleep 0.5
n1=$(replies_from "$MAC1" "$WORK/tcpdump1.log"); n2=$(replies_from "$MAC2" "$WORK/tcpdump1.log")
log "ARP replies for 10.1.0.1: $n1 from A1, $n2 from A2"
check "only one gateway at a time answered ARP: A1's replies all precede A2's" \
  replies_in_turn "$MAC1" "$MAC2" "$WORK/tcpdump1.log"
check "both gateways answered in their turn" test "$n1" -ge 1 -a "$n2" -ge 1
check "A2 reached B at the endpoint it had from A1 (a handshake since the failover)" \
  sh -c "wg show a2$S latest-handshakes | awk '\$2 > 0 { ok = 1 } END { exit !ok }'"
check "A2, now active, looks for its partner to sync" \
  wait_for 5 grep -q "ha sync: cannot reach partner 192.168.77.1:51821" "$WORK/mga2.log"
check "A2 stops cleanly on SIGTERM" stop_meshgate mga2
tap_end
