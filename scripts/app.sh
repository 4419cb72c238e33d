#!/usr/bin/env bash
# Starts Birbal AI in the background for `make start` (waits until /readyz is green), or stops it.
set -euo pipefail
cmd=$1 dll=$2 run_dir=$3
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
pidfile=$run_dir/app.pid

case "$cmd" in
  start)
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then echo "Birbal AI already running (pid $(cat "$pidfile"))"; exit 0; fi
    set -a; source <(scripts/services.sh env run); set +a
    ASPNETCORE_ENVIRONMENT=Development SecretsDirectory=$repo/$run_dir/secrets Ml__StarterModelDirectory=$(cat "$run_dir/starter-model") \
      setsid dotnet "$dll" --contentRoot="$repo/$(dirname "$dll")" --role all > "$run_dir/app.log" 2>&1 < /dev/null &
    echo $! > "$pidfile"
    for _ in $(seq 120); do
      if curl -fsS http://127.0.0.1:5080/readyz > /dev/null 2>&1; then echo "Birbal AI is up on http://127.0.0.1:5080 (log: $run_dir/app.log)"; exit 0; fi
      kill -0 "$(cat "$pidfile")" 2>/dev/null || { echo "Birbal AI exited; see $run_dir/app.log" >&2; tail -n 20 "$run_dir/app.log" >&2; exit 1; }
      sleep 0.5
    done
    echo "Birbal AI did not become ready in 60 s; see $run_dir/app.log" >&2; exit 1 ;;
  stop)
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      pid=$(cat "$pidfile"); kill "$pid"
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      echo "Birbal AI stopped"
    fi
    rm -f "$pidfile" ;;
esac
