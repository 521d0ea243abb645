#!/usr/bin/env bash
# High availability (the pair of ha_lib.sh): the operator's events, each under a ping every
# 0.1 s and an iperf3 TCP stream from host A to host B.
#
#   a. clean stop: SIGTERM to A1's meshgate only (`systemctl stop meshgate@...`; keepalived
#      keeps running): A1's keepalived goes FAULT (track script), A2 becomes active.
#   b. the old active comes back: A1's meshgate starts again (Role = standby). With nopreempt
#      A1's keepalived stays BACKUP and A2 stays active: no flap, no loss, A1 answers no ARP.
#   c. planned switchover: SIGTERM to A2's keepalived (a priority-0 advert and the notify hook's
#      STOP): A1 becomes active, A2 standby.
#   d. a lone server's meshgate restarts and is slow to come up: keepalived makes it active
#      once it answers, not before (the track script asks meshgate, not pgrep).
#
# Each event: the ping gap at most 2 s, the TCP stream completes.
source "$(dirname "$0")/ha_lib.sh"

ha_start
check "A2's keepalived is BACKUP" wait_for 10 ka_is 2 BACKUP
# occurrences COUNT PATTERN FILE: PATTERN is on exactly COUNT lines of FILE.
occurrences() { [ "$(grep -c "$2" "$3")" -eq "$1" ]; }

# a. A clean stop of the active gateway's meshgate.
load_start a 12
sleep 3
log "SIGTERM to A1's meshgate at $(date +%s.%N)"
check "A1's meshgate stops cleanly on SIGTERM" stop_meshgate mga1
check "A1's keepalived leaves MASTER for FAULT (track script)" wait_for 5 ka_is 1 FAULT
check "keepalived makes A2 active" wait_for 10 grep -q "role: active" "$WORK/mga2.log"
check "A2 announced 10.1.0.1 with a gratuitous ARP from its MAC" wait_for 5 announced "$MAC2" "$WORK/tcpdump1.log"
load_checks a "the clean stop" 90

# b. The old active comes back as standby and stays standby.
arp_capture tcpdump2
load_start b 16
sleep 2
check "A1's meshgate starts again as standby" start_meshgate $NS_GA mga1b "$WORK/a1$S.conf"
check "A1's keepalived is back to BACKUP" wait_for 10 ka_is 1 BACKUP
log "A1 back to BACKUP at $(date +%s.%N)"
sleep 6
check "A1's keepalived stays BACKUP (nopreempt)" ka_is 1 BACKUP
check "A2's keepalived stays MASTER" ka_is 2 MASTER
check "A1's new meshgate never became active" sh -c "! grep -q 'role: active' '$WORK/mga1b.log'"
check "A2 became active once and stays active" occurrences 1 "role: " "$WORK/mga2.log"
load_checks b "A1's return" 140
lost=$(load_lost b)
check "at most 2 pings lost across A1's return (lost ${lost:-?})" test "${lost:-99}" -le 2
check "host A reaches host B after a fresh ARP request" fresh_arp
kill "$(cat "$WORK/tcpdump2.pid")" 2>/dev/null; sleep 0.5
n1=$(replies_from "$MAC1" "$WORK/tcpdump2.log"); n2=$(replies_from "$MAC2" "$WORK/tcpdump2.log")
log "ARP replies for 10.1.0.1 since A1's return: $n1 from A1, $n2 from A2"
check "since A1's return only A2 answers ARP for 10.1.0.1" test "$n1" -eq 0 -a "$n2" -ge 1
check "A1 sent no gratuitous ARP since its return" sh -c "! grep -qi '^[0-9:.]* $MAC1 ' '$WORK/tcpdump2.log'"

# c. A planned switchover: the active server's keepalived stops.
arp_capture tcpdump3
load_start c 12
sleep 3
log "SIGTERM to A2's keepalived at $(date +%s.%N)"
kill -TERM "$(cat "$WORK/ka2.pid")"
check "A2's keepalived stops on SIGTERM" timeout 10 tail --pid="$(cat "$WORK/ka2.pid")" -f /dev/null
check "keepalived makes A1 active" wait_for 10 grep -q "role: active" "$WORK/mga1b.log"
check "A2's notify hook made it standby" wait_for 10 grep -q "role: standby" "$WORK/mga2.log"
load_checks c "the switchover" 90
check "host A reaches host B through A1 after a fresh ARP request" fresh_arp
kill "$(cat "$WORK/tcpdump3.pid")" 2>/dev/null; sleep 0.5
n1=$(replies_from "$MAC1" "$WORK/tcpdump3.log"); n2=$(replies_from "$MAC2" "$WORK/tcpdump3.log")
log "ARP replies for 10.1.0.1 over the switchover: $n2 from A2, $n1 from A1"
check "A1 answers ARP after the switchover" test "$n1" -ge 1
check "only one gateway at a time answered ARP: A2's replies all precede A1's" \
  replies_in_turn "$MAC2" "$MAC1" "$WORK/tcpdump3.log"

# d. A lone server's meshgate restarts (its partner in maintenance: keepalived stopped) and is
# slow to come up: SIGSTOP holds it for 3 s before its UAPI socket exists, as a long EAL start
# (hugepages, device probing) would. keepalived must not make the server MASTER before meshgate
# can take the role, or the notify hook finds no socket and the site stays down.
check "A1's meshgate stops cleanly on SIGTERM (A2 in maintenance)" stop_meshgate mga1b
check "A1's keepalived goes FAULT" wait_for 5 ka_is 1 FAULT
bg $NS_GA mga1c "$MG_BIN" --config "$WORK/a1$S.conf"
kill -STOP "$(cat "$WORK/mga1c.pid")"
sleep 3
kill -CONT "$(cat "$WORK/mga1c.pid")"
check "A1's meshgate comes up after its slow start" wait_for 30 grep -q " up: " "$WORK/mga1c.log"
check "keepalived makes A1 active once its meshgate answers" wait_for 10 grep -q "role: active" "$WORK/mga1c.log"
check "host A reaches host B through A1" wait_for 10 in_ns $NS_HA ping -c 1 -W 1 10.2.0.2
check "A1 stops cleanly on SIGTERM" stop_meshgate mga1c
check "A2 stops cleanly on SIGTERM" stop_meshgate mga2
tap_end
