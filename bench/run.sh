#!/usr/bin/env bash
# `make bench`: runs every benchmark under bench/ (each bench/<name>/run.sh) and collects their figures in
# bench/results.json. Every figure is a ratio against a reference measured in the same run (bench/README.md).
# BENCH_ONLY=documents (bench/ folder names, comma-separated) runs only those and merges their keys into the
# results.json already there.
set -euo pipefail
cd "$(dirname "$0")"
only=${BENCH_ONLY:-}
if [ -z "$only" ] || [ ! -f results.json ]; then
  printf '{\n  "started": "%s",\n  "machine": "%s cores, %s"\n}\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" \
    "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)" > results.json
fi
for script in */run.sh; do
  name=${script%/run.sh}
  if [ -n "$only" ] && [[ ",$only," != *",$name,"* ]]; then continue; fi
  echo "== $name"
  BENCH_RESULTS="$PWD/results.json" bash "$script"
done
echo "wrote bench/results.json"
cat results.json
