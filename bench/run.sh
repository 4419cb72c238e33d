#!/usr/bin/env bash
# `make bench`: runs every benchmark under bench/ and writes bench/results.json (figures as ratios
# against a reference measured in the same run; see bench/README.md). No benchmark exists yet: the
# ML engine and the moderation service add theirs.
set -euo pipefail
cd "$(dirname "$0")"
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
benchmarks=()
for script in */run.sh; do
  [ -f "$script" ] || continue
  echo "== ${script%/run.sh}"
  bash "$script"
  benchmarks+=("${script%/run.sh}")
done
printf '{\n  "started": "%s",\n  "machine": "%s cores, %s",\n  "benchmarks": [%s]\n}\n' \
  "$started" "$(nproc)" "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)" \
  "$( [ ${#benchmarks[@]} -gt 0 ] && printf '"%s",' "${benchmarks[@]}" | sed 's/,$//' )" > results.json
echo "wrote bench/results.json (${#benchmarks[@]} benchmarks)"
