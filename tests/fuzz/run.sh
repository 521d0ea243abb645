#!/usr/bin/env bash
# Runs one libFuzzer target for SECONDS on a copy of its seed corpus (the repository's copy is
# never written), and prints one line: the target, executions, crashes, seconds.
#   run.sh BINARY CORPUS_DIR SECONDS [ARTIFACT_DIR]
# A crash, a sanitizer report, a leak or a timeout stops the target: its input is kept in
# ARTIFACT_DIR (default: a directory next to BINARY) and the exit status is 1.
set -uo pipefail
bin=$1 corpus=$2 seconds=$3
name=$(basename "$bin")
art=${4:-$(dirname "$bin")/fuzz-artifacts/$name}
mkdir -p "$art"
work=$(mktemp -d "${TMPDIR:-/tmp}/mgfuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
if [ -d "$corpus" ]; then cp -r "$corpus"/. "$work/corpus"/; fi

# Any sanitizer finding ends the run with a stack trace; libFuzzer counts it as a crash.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
start=$(date +%s)
"$bin" "$work/corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
  -print_final_stats=1 -artifact_prefix="$art/" >"$work/log" 2>&1
rc=$?
elapsed=$(( $(date +%s) - start ))
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
crashes=0
if [ $rc -ne 0 ]; then
  crashes=1
  tail -n 60 "$work/log" >&2
  echo "$name: input kept in $art/" >&2
fi
echo "$name: ${execs:-0} executions, $crashes crashes, ${elapsed} s"
exit $(( rc != 0 ))
