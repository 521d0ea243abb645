#!/usr/bin/env bash
# High availability (the pair of ha_lib.sh): a SIGKILLed active server.
#
# Checks: traffic flows through the active one; only it answers ARP for the shared LAN address;
# after SIGKILL of the active meshgate and its keepalived, the standby takes over with a ping
# gap of at most 2 s, announces the addresses (host A's IPv6 neighbour entry moves to its MAC
# without a solicitation), and an iperf3 TCP stream started before survives.
source "$(dirname "$0")/ha_lib.sh"

ha_start

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
check "A2 stops cleanly on SIGTERM" stop_meshgate mga2
tap_end
