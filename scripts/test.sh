#!/usr/bin/env bash
# Builds and runs every test project against the test service set, then prints one last line:
#   total: N passed, N failed, N skipped
# Exits non-zero on any failure, on a build error, or (under CI) when a run created a snapshot file
# that is not committed: Snapshooter creates a missing snapshot and passes, which must not count in CI.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
results=.local/test/results
rm -rf "$results"
mkdir -p "$results"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if ! dotnet build BirbalAI.sln -c Release -nologo -clp:ErrorsOnly; then
  echo "total: 0 passed, 1 failed, 0 skipped"
  exit 1
fi

# The starter model, trained once per change and cached (the tests that register it find it here).
dotnet BirbalAI.Web/bin/Release/net10.0/BirbalAI.Web.dll --contentRoot="$repo/BirbalAI.Web/bin/Release/net10.0" ml starter-model --cache "$repo/.local/models" | tail -n 1

snapshots_before=$(git ls-files --others --exclude-standard -- '*__snapshots__*' | sort)

# Test projects run one after another: each boots real servers' worth of state, and two cores are all we have.
status=0
aborted=()
mapfile -t projects < <(ls tests/*/*.csproj | grep -v '/BirbalAI.Testing/' | sort -t/ -k2,2 \
  | awk '/ArchitectureTests|IntegrationTests|BrowserTests/ { late[NR] = $0; next } { print } END { for (i in late) print late[i] }')
for project in "${projects[@]}"; do
  name=$(basename "$project" .csproj)
  echo "== $name"
  # A hang fails the run instead of holding it: when no test starts or ends for 10 minutes the platform writes the
  # tests still running to a *_hang.log (with a dump) beside the results and ends the process; `timeout` ends one that
  # hangs after its tests. Either way the project counts as failed below, the hung tests named.
  timeout -k 30s "${BIRBAL_TEST_PROJECT_TIMEOUT:-40m}" \
    dotnet test --project "$project" -c Release --no-build --results-directory "$results/$name" \
    --report-trx --report-trx-filename "$name.trx" --hangdump --hangdump-timeout 10m --hangdump-type Mini
  code=$?
  if [ "$code" -ne 0 ]; then
    status=1
    # A run its platform ended (a hang, a crash, the timeout) may leave a results file without one failed test in it.
    grep -qs '<UnitTestResult [^>]*outcome="Failed"' "$results/$name/$name.trx" || aborted+=("$name (exit code $code)")
  fi
done

passed=0 failed=0 skipped=0 found=0
for trx in "$results"/*/*.trx; do
  [ -f "$trx" ] || continue
  found=$((found + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  skipped=$((skipped + $(get notExecuted)))
done
failed=$((failed + ${#aborted[@]}))
if [ "$found" -lt "${#projects[@]}" ]; then
  echo "test.sh: only $found of ${#projects[@]} test projects produced results" >&2
  failed=$((failed + ${#projects[@]} - found))
fi

if [ -n "${CI:-}" ]; then
  new=$(comm -13 <(echo "$snapshots_before") <(git ls-files --others --exclude-standard -- '*__snapshots__*' | sort) | sed '/^$/d')
  if [ -n "$new" ]; then
    echo "test.sh: these snapshots were created by this run, not compared; commit them from a local run:" >&2
    echo "$new" >&2
    failed=$((failed + $(echo "$new" | wc -l)))
  fi
fi

[ "$failed" -gt 0 ] && status=1
# The failures again, by name, right above the last line (a CI log is often read from its end).
for trx in "$results"/*/*.trx; do
  [ -f "$trx" ] || continue
  grep -o '<UnitTestResult [^>]*outcome="\(Failed\|Error\|Timeout\|Aborted\)"[^>]*>' "$trx" \
    | grep -o 'testName="[^"]*"' | sed 's/^testName="\(.*\)"$/failed: \1/'
done
for project in "${aborted[@]}"; do echo "failed: $project ended without a result for every test"; done
for log in "$results"/*/*_hang.log; do
  [ -f "$log" ] || continue
  sed 's/^/hung: /' "$log"
done
echo "total: $passed passed, $failed failed, $skipped skipped"
exit $status
