#!/bin/bash
# One peer over many workers (issue 12): tunbench inmem --gateway --one-peer, 1420 and 64-byte
# packets, 1, 2, 4 and 8 workers (medians of 3 runs, each beside the raw AEAD of the same cores).
# Inbound every frame of the peer enters on worker 0's RX queue (one feeder); outbound its inner
# flows enter on every worker's queue (a feeder each). Then inbound at the most workers with
# --no-spread (what one worker alone gets), and 10,000 peers over 4 workers with and without
# spreading (what it costs where every worker has traffic of its own). Made for a 16-core host:
# the lcores are CPUs 1..16 at most, CPU 0 is left to the system where the count allows.
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
# Inbound: workers that fit beside one feeder on CPUs 1..cpus-1; outbound: beside a feeder each.
workers=$(for w in 1 2 4 8; do [ $((w + 2)) -le "$cpus" ] && echo $w; done | paste -sd,)
out_workers=$(for w in 1 2 4 8; do [ $((2 * w)) -le "$cpus" ] && echo $w; done | paste -sd,)
[ -n "$workers" ] || { echo "scaling_one_peer.sh: needs at least 3 CPUs" >&2; exit 2; }
most=${workers##*,}
out_most=${out_workers##*,}
# Outbound's lcores: from CPU 1, or from CPU 0 where it needs every CPU.
out_first=$((2 * out_most < cpus ? 1 : 0))
{
  echo "host: $(hostname), $cpus CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
  # Which CPUs share a last-level cache: a line between two that do not takes several times
  # as long, and the workers' scaling shows it (bench/RESULTS.md, "Two machines in one").
  echo "last-level caches: $(cat /sys/devices/system/cpu/cpu*/cache/index3/shared_cpu_list 2>/dev/null | sort -u | paste -sd' ')"
  echo "tunbench: $tb ($(file -b "$tb" 2>/dev/null | cut -d, -f1-2))"
  echo "inbound: workers $workers on lcores 1-$((most + 1)); outbound: workers $out_workers"
} | tee "$out/one-peer.txt"

common=(--gateway --direction inbound --sizes 1420,64 --duration 1 --loads 0.5 --quiet)
"$tb" inmem "${common[@]}" --one-peer --workers 1 --lcores 1-2 >/dev/null  # warm-up
"$tb" inmem "${common[@]}" --one-peer --workers "$workers" --repeat 3 \
  --lcores "1-$((most + 1))" --json "$out/one-peer-in.json" | tee -a "$out/one-peer.txt"
"$tb" inmem --gateway --direction outbound --sizes 1420,64 --duration 1 --loads 0.5 --quiet \
  --one-peer --workers "$out_workers" --repeat 3 --lcores "$out_first-$((out_first + 2 * out_most - 1))" \
  --json "$out/one-peer-out.json" | tee -a "$out/one-peer.txt"
"$tb" inmem "${common[@]}" --one-peer --no-spread --workers "$most" --repeat 3 \
  --lcores "1-$((most + 1))" --json "$out/no-spread.json" | tee -a "$out/one-peer.txt"
if [ "$cpus" -ge 9 ]; then  # 4 workers and their 4 feeders
  for mode in spread no-spread; do
    flag=(); [ $mode = no-spread ] && flag=(--no-spread)
    "$tb" inmem "${common[@]}" "${flag[@]}" --peers 10000 --workers 4 --repeat 3 --lcores 1-8 \
      --json "$out/many-$mode.json" | tee -a "$out/one-peer.txt"
  done
fi
