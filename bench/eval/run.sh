#!/usr/bin/env bash
# Detection quality (bench/README.md): the starter model, trained cold into a fresh cache (timed: the
# starter_training_cold_s key), then scored on the evaluation set in this folder (*.jsonl).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
dotnet build BirbalAI.Web -c Release -nologo -clp:ErrorsOnly > /dev/null
dotnet build bench/BirbalAI.Bench -c Release -nologo -clp:ErrorsOnly > /dev/null
app=BirbalAI.Web/bin/Release/net10.0/BirbalAI.Web.dll
results=${BENCH_RESULTS:-$repo/bench/results.json}
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
started=$(date +%s.%N)
model=$(dotnet "$app" --contentRoot="$repo/BirbalAI.Web/bin/Release/net10.0" ml starter-model --cache "$cache" | tail -n 1)
seconds=$(echo "$(date +%s.%N) - $started" | bc)
echo "cold starter training: ${seconds} s"
python3 - "$results" "$seconds" <<'PY'
import json, os, sys
path, seconds = sys.argv[1], float(sys.argv[2])
data = json.load(open(path)) if os.path.exists(path) else {}
data["starter_training_cold_s"] = round(seconds, 1)
json.dump(data, open(path, "w"), indent=2)
PY
dotnet bench/BirbalAI.Bench/bin/Release/net10.0/BirbalAI.Bench.dll eval "$results" "$model" "$repo/bench/eval"
