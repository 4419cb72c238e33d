#!/usr/bin/env bash
# `make bench`: runs every benchmark under bench/ (each bench/<name>/run.sh) and collects their figures in
# bench/results.json. Every figure is a ratio against a reference measured in the same run (bench/README.md).
set -euo pipefail
cd "$(dirname "$0")"
printf '{\n  "started": "%s",\n  "machine": "%s cores, %s"\n}\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" \
  "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)" > results.json
for script in */run.sh; do
  echo "== ${script%/run.sh}"
  BENCH_RESULTS="$PWD/results.json" bash "$script"
done
echo "wrote bench/results.json"
cat results.json
