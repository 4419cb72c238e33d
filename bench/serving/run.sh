#!/usr/bin/env bash
# The moderation service under load (bench/README.md): /v1/moderations at a fixed offered rate from an
# open-loop generator on loopback, idle memory, and the micro-batcher's speed-up. Runs on the test servers.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
scripts/services.sh start test > /dev/null
set -a; source <(scripts/services.sh env test); set +a
dotnet build BirbalAI.Web -c Release -nologo -clp:ErrorsOnly > /dev/null
dotnet build bench/BirbalAI.Bench -c Release -nologo -clp:ErrorsOnly > /dev/null
app=BirbalAI.Web/bin/Release/net10.0/BirbalAI.Web.dll
model=$(dotnet "$app" --contentRoot="$repo/BirbalAI.Web/bin/Release/net10.0" ml starter-model --cache "$repo/.local/models" | tail -n 1)
dotnet bench/BirbalAI.Bench/bin/Release/net10.0/BirbalAI.Bench.dll serving "${BENCH_RESULTS:-$repo/bench/results.json}" "$repo/$app" "$model"
