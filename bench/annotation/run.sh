#!/usr/bin/env bash
# The labelling queue with 100,000 tasks in a project (bench/README.md): the API call that serves the next task and
# submitting a label, p95 each, beside /healthz p95 in the same run. The real app process on the test servers.
# Knobs: BENCH_ANNOTATION_TASKS (100000), BENCH_ANNOTATION_ROUNDS (1000).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
scripts/services.sh start test > /dev/null
set -a; source <(scripts/services.sh env test); set +a
dotnet build BirbalAI.Web -c Release -nologo -clp:ErrorsOnly > /dev/null
dotnet build bench/BirbalAI.Bench -c Release -nologo -clp:ErrorsOnly > /dev/null
app=BirbalAI.Web/bin/Release/net10.0/BirbalAI.Web.dll
model=$(dotnet "$app" --contentRoot="$repo/BirbalAI.Web/bin/Release/net10.0" ml starter-model --cache "$repo/.local/models" | tail -n 1)
dotnet bench/BirbalAI.Bench/bin/Release/net10.0/BirbalAI.Bench.dll annotation "${BENCH_RESULTS:-$repo/bench/results.json}" "$repo/$app" "$model"
