# tunbench netns --flood RATES: the handshake flood case (issue 13), sourced by netns.sh after
# its helpers. On the meshgate pair, for each rate (initiations a second; 0: none), back to
# back in one run:
#   - `tunbench flood` sends initiations from the Internet router to gateway B's listen port,
#     the outer port the tunnel's data arrives on: half random, half with a valid mac1 for B;
#   - iperf3 TCP host A -> host B through the tunnel while it runs (the TCP1 measurement), and
#     its ratio to the rate 0 row;
#   - then meshgate A restarts and the seconds from its start to the first ping answer through
#     a new handshake are timed; under load B answers A's initiation with a cookie reply and
#     A's retry carries mac2, REKEY_TIMEOUT (5 s) later (A's cookies received shows it);
#   - B's RSS before the row and after its flood, and the cookie replies B sent.
# The flood lasts the iperf3 run and 25 s more, so the new handshake happens during it even
# when A's first initiation is lost in B's full handshake ring (a retry every 5 s).
: "${MG_TUNBENCH:?tunbench netns --flood: MG_TUNBENCH (the tunbench binary) is not set}"

# new_handshake: restarts meshgate A and prints the seconds from its start to the first answer
# of a ping A->B, or "-".
new_handshake() {
  stop_pid mga
  start_meshgate $NS_GA mga "$WORK/a.conf" || { echo -; return; }
  local t0=$EPOCHREALTIME
  if wait_for 20 in_ns $NS_HA ping -c 1 -W 1 10.2.0.2; then
    python3 -c 'import sys; print("%.2f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$t0" "$EPOCHREALTIME"
  else
    echo -
  fi
}

# flood_row RATE: one row of FLOODS, "rate|sent/s|tcp|handshake s|during|cookies|A's|rss0|rss1"
flood_row() {
  local rate=$1 rss0 c0 tcp hs during=- sent=- got=-
  # B's last data packet answered: B has no handshake of its own to start while A restarts.
  in_ns $NS_HB ping -c 2 -i 0.2 -W 2 10.1.0.2 >/dev/null
  rss0=$(rss_kib mgb)
  c0=$(hs_event $NS_GB cookies_sent)
  if [ "$rate" != 0 ]; then
    flood_start $((SECS + 25)) "$rate"
    sleep 1
  fi
  tcp=$(run_iperf tcp -t "$SECS")
  hs=$(new_handshake)
  if [ "$rate" != 0 ]; then
    kill -0 "$(cat "$WORK/flood.pid")" 2>/dev/null && during=yes || during=no
    wait "$(cat "$WORK/flood.pid")"
    read -r sent got < <(flood_sent)
  fi
  FLOODS+=("$rate|$got|$tcp|$hs|$during|$(($(hs_event $NS_GB cookies_sent) - c0))|$(hs_event $NS_GA cookies_received)|$rss0|$(rss_kib mgb)")
}

flood_report() {
  local base=- line rate got tcp hs during cookies ca rss0 rss1 ratio
  for line in "${FLOODS[@]}"; do [ "${line%%|*}" = 0 ] && base=$(cut -d'|' -f3 <<<"$line"); done
  printf '\ntunbench netns --flood: %s, %s CPUs; meshgate pair, iperf3 TCP %s s per row; initiations from the Internet router to gateway B (half with a valid mac1)\n' \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')" "$(nproc)" "$SECS"
  printf '%9s %9s %9s %8s %13s %8s %12s %12s %17s\n' "flood/s" "sent/s" "TCP1 Gb/s" "vs 0" \
    "handshake s" "during" "B cookies" "A cookies" "B RSS KiB"
  for line in "${FLOODS[@]}"; do
    IFS='|' read -r rate got tcp hs during cookies ca rss0 rss1 <<<"$line"
    ratio=$(python3 -c 'import sys; print("%.3f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$tcp" "$base" 2>/dev/null || echo -)
    printf '%9s %9s %9s %8s %13s %8s %12s %12s %17s\n' "$rate" "$got" "$tcp" "$ratio" "$hs" "$during" \
      "$cookies" "$ca" "$rss0->$rss1"
  done
}

flood_json() {
  python3 - "$JSON" "${FLOODS[@]}" <<'P'
import json, sys
def num(x):
    try: return float(x)
    except ValueError: return None
rows = [r.split("|") for r in sys.argv[2:]]
base = next((num(r[2]) for r in rows if r[0] == "0"), None)
recs = []
for rate, got, tcp, hs, during, cookies, ca, rss0, rss1 in rows:
    t = num(tcp)
    recs.append({"mode": "netns-flood", "impl": "meshgate", "flood_rate": rate,
                 "flood_sent_per_s": num(got), "tcp1_gbps": t,
                 "vs_no_flood": t / base if t and base else None,
                 "new_handshake_s": num(hs), "handshake_during_flood": during == "yes",
                 "cookies_sent_b": num(cookies), "cookies_received_a": num(ca),
                 "rss_kib_before": num(rss0), "rss_kib_after": num(rss1)})
json.dump({"tool": "tunbench", "records": recs}, open(sys.argv[1], "w"), indent=1)
P
}

FLOODS=()
log "meshgate pair, handshake flood at ${FLOOD//,/, } initiations a second"
topo_create
if pair_meshgate && wait_for 20 in_ns $NS_HA ping -c 1 -W 1 10.2.0.2; then
  for r in ${FLOOD//,/ }; do flood_row "$r"; done
else
  echo "tunbench netns: the meshgate pair did not come up" >&2
  exit 1
fi
stop_pair
flood_report
[ -z "$JSON" ] || flood_json
exit 0
