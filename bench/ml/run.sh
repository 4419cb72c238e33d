#!/usr/bin/env bash
# ML engine vs Debian's fastText on the same data, same run (bench/README.md). BENCH_DATA=path picks the data.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
"$repo/scripts/services.sh" install fasttext
dotnet build "$repo/bench/BirbalAI.Bench" -c Release -nologo -clp:ErrorsOnly >/dev/null
dotnet "$repo/bench/BirbalAI.Bench/bin/Release/net10.0/BirbalAI.Bench.dll" "${BENCH_RESULTS:-$repo/bench/results.json}" "${BENCH_DATA:-}"
