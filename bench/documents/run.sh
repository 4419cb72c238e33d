#!/usr/bin/env bash
# Documents' pipeline against the moderator alone (bench/README.md): 200 mixed files uploaded through the API of the real
# app on the test servers, until every one has its final status, against the same chunks through the same app's moderator;
# and one-page files from upload to verdict. Knobs: BENCH_DOCUMENTS_UPLOADERS (4), BENCH_APP_ENV ("K=V;K=V" for the app).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
scripts/services.sh start test > /dev/null
set -a; source <(scripts/services.sh env test); set +a
dotnet build BirbalAI.Web -c Release -nologo -clp:ErrorsOnly > /dev/null
dotnet build bench/BirbalAI.Bench -c Release -nologo -clp:ErrorsOnly > /dev/null
app=BirbalAI.Web/bin/Release/net10.0/BirbalAI.Web.dll
model=$(dotnet "$app" --contentRoot="$repo/BirbalAI.Web/bin/Release/net10.0" ml starter-model --cache "$repo/.local/models" | tail -n 1)
dotnet bench/BirbalAI.Bench/bin/Release/net10.0/BirbalAI.Bench.dll documents "${BENCH_RESULTS:-$repo/bench/results.json}" "$repo/$app" "$model" "$repo/bench/eval"
