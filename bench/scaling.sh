#!/bin/bash
# Multi-core scaling of the data path (issue 5): tunbench inmem with 1, 2, 4, 8 and 12 workers
# over 10,000 peers, outbound and inbound, 1420 and 64-byte packets, medians of 3 runs, each
# beside the raw AEAD rate of the same cores in the same run. Made for a 16-core host: workers
# run on CPUs 1-12 (one each), CPU 0 is left to the system.
#
# usage: bench/scaling.sh [TUNBENCH] [OUTDIR]
#   TUNBENCH  default: build-static/tools/tunbench/tunbench (the statically linked build:
#             meson setup build-static -Dstatic_tunbench=true ... , see bench/RESULTS.md)
#   OUTDIR    default: $OUT if set, else ./scaling-out; gets scaling.txt, scaling.json,
#             scaling.svg (and scaling.svg.gp)
# Needs no hugepages and no root; takes about 3 minutes.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
tb=${1:-$here/build-static/tools/tunbench/tunbench}
out=${2:-${OUT:-./scaling-out}}
mkdir -p "$out"
[ -x "$tb" ] || { echo "scaling.sh: no tunbench at $tb" >&2; exit 2; }

cpus=$(nproc)
workers="1,2,4,8,12"
lcores="1-12"
if [ "$cpus" -lt 13 ]; then  # a smaller host: as many workers as CPUs, from CPU 0
  workers=$(for w in 1 2 4 8 12; do [ "$w" -le "$cpus" ] && echo $w; done | paste -sd,)
  lcores="0-$((cpus - 1))"
fi

{
  echo "host: $(hostname), $cpus CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
  # Which CPUs share a last-level cache: a line between two that do not takes several times
  # as long, and the workers' scaling shows it (bench/RESULTS.md, "Two machines in one").
  echo "last-level caches: $(cat /sys/devices/system/cpu/cpu*/cache/index3/shared_cpu_list 2>/dev/null | sort -u | paste -sd' ')"
  echo "tunbench: $tb ($(file -b "$tb" 2>/dev/null | cut -d, -f1-2))"
  echo "workers $workers on lcores $lcores"
} | tee "$out/scaling.txt"

plot=()
command -v gnuplot >/dev/null && plot=(--plot "$out/scaling.svg")
"$tb" inmem --workers "$workers" --lcores "$lcores" --peers 10000 --sizes 1420,64 \
    --direction outbound,inbound --duration 1 --repeat 3 --quiet \
    --json "$out/scaling.json" "${plot[@]}" | tee -a "$out/scaling.txt"
