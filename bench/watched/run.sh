#!/usr/bin/env bash
# Watched words' cost (bench/README.md): 1,000 words and phrases + 100 expressions against none, on the
# evaluation set's short texts; the watched_words_overhead_ms key (ms per text). Needs no server.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
dotnet build bench/BirbalAI.Bench -c Release -nologo -clp:ErrorsOnly > /dev/null
dotnet bench/BirbalAI.Bench/bin/Release/net10.0/BirbalAI.Bench.dll watched "${BENCH_RESULTS:-$repo/bench/results.json}" "$repo/bench/eval"
