#!/bin/bash
# One peer over many workers (issue 12): tunbench inmem --gateway --one-queue, every frame of one
# peer on worker 0's RX queue, inbound, 1420 and 64-byte packets, 1, 2, 4 and 8 workers (medians
# of 3 runs, each beside the raw AEAD of the same cores); the same at the most workers with
# --no-spread (what one worker alone gets); and 10,000 peers spread over 4 workers' queues with
# and without spreading (what it costs where every worker has traffic of its own). Made for a
# 16-core host: the lcores are CPUs 1..9 (workers and the feeder), CPU 0 is left to the system.
#
# usage: bench/scaling_one_peer.sh [TUNBENCH] [OUTDIR]
#   TUNBENCH  default: build-static/tools/tunbench/tunbench (meson setup build-static
#             -Dstatic_tunbench=true ...; the device machine reaches no package archive)
#   OUTDIR    default: $OUT if set, else ./one-peer-out; gets one-peer.txt and a JSON per run
# Needs no hugepages and no root; takes about 4 minutes.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
tb=${1:-$here/build-static/tools/tunbench/tunbench}
out=${2:-${OUT:-./one-peer-out}}
mkdir -p "$out"
[ -x "$tb" ] || { echo "scaling_one_peer.sh: no tunbench at $tb" >&2; exit 2; }

cpus=$(nproc)
# Workers that fit beside one feeder on CPUs 1..cpus-1.
workers=$(for w in 1 2 4 8; do [ $((w + 2)) -le "$cpus" ] && echo $w; done | paste -sd,)
[ -n "$workers" ] || { echo "scaling_one_peer.sh: needs at least 3 CPUs" >&2; exit 2; }
most=${workers##*,}
{
  echo "host: $(hostname), $cpus CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
  echo "tunbench: $tb ($(file -b "$tb" 2>/dev/null | cut -d, -f1-2))"
  echo "one queue: workers $workers on lcores 1-$((most + 1))"
} | tee "$out/one-peer.txt"

common=(--gateway --direction inbound --sizes 1420,64 --duration 1 --loads 0.5 --quiet)
"$tb" inmem "${common[@]}" --one-queue --peers 1 --workers 1 --lcores 1-2 >/dev/null  # warm-up
"$tb" inmem "${common[@]}" --one-queue --peers 1 --workers "$workers" --repeat 3 \
  --lcores "1-$((most + 1))" --json "$out/one-queue.json" | tee -a "$out/one-peer.txt"
"$tb" inmem "${common[@]}" --one-queue --no-spread --peers 1 --workers "$most" --repeat 3 \
  --lcores "1-$((most + 1))" --json "$out/no-spread.json" | tee -a "$out/one-peer.txt"
if [ "$cpus" -ge 9 ]; then  # 4 workers and their 4 feeders
  for mode in spread no-spread; do
    flag=(); [ $mode = no-spread ] && flag=(--no-spread)
    "$tb" inmem "${common[@]}" "${flag[@]}" --peers 10000 --workers 4 --repeat 3 --lcores 1-8 \
      --json "$out/many-$mode.json" | tee -a "$out/one-peer.txt"
  done
fi
