#!/bin/bash
# Gateway mode with the control thread live (issue 11): tunbench inmem --gateway --rekey-after,
# outbound, 1 worker, 1420 and 64-byte packets, 1 and 10,000 peers, each without and with live
# handshakes, alternated (medians of 3 runs each). The worker, its feeder and the control
# thread (with the peers' side of the handshakes) each get a CPU of their own, as the daemon's
# control thread has one: on a 2-CPU machine the control thread shares the feeder's CPU and
# holds the feeder back (bench/RESULTS.md, "Live handshakes"). 10,000 peers rekey every 20 s:
# 500 handshakes a second, six times a real gateway's rate.
#
# usage: bench/live_rekey.sh [TUNBENCH] [OUTDIR]
#   TUNBENCH  default: build-static/tools/tunbench/tunbench (see bench/scaling_one_peer.sh)
#   OUTDIR    default: $OUT if set, else ./live-rekey-out; gets live-rekey.txt and a JSON a run
# Needs 4 CPUs, no hugepages and no root; takes about 4 minutes (each live 10,000-peer run
# first spreads its peers' first handshakes over 20 s).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
tb=${1:-$here/build-static/tools/tunbench/tunbench}
out=${2:-${OUT:-./live-rekey-out}}
mkdir -p "$out"
[ -x "$tb" ] || { echo "live_rekey.sh: no tunbench at $tb" >&2; exit 2; }
[ "$(nproc)" -ge 4 ] || { echo "live_rekey.sh: needs at least 4 CPUs" >&2; exit 2; }
echo "host: $(hostname), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-);" \
  "last-level caches: $(cat /sys/devices/system/cpu/cpu*/cache/index3/shared_cpu_list 2>/dev/null | sort -u | paste -sd' ')" |
  tee "$out/live-rekey.txt"

common=(--gateway --direction outbound --sizes 1420,64 --duration 3 --loads 0.5 --quiet
  --lcores 1-3)
"$tb" inmem "${common[@]}" --peers 1 --duration 1 >/dev/null  # warm-up
for peers in 1 10000; do
  after=5; [ "$peers" -gt 1 ] && after=20
  for round in 1 2 3; do
    for mode in without live; do
      flag=(); [ $mode = live ] && flag=(--rekey-after "$after")
      "$tb" inmem "${common[@]}" "${flag[@]}" --peers "$peers" \
        --json "$out/$mode-$peers-$round.json" | tee -a "$out/live-rekey.txt"
    done
  done
done
