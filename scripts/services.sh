#!/usr/bin/env bash
# PostgreSQL 15, Redis and RabbitMQ for Birbal AI, from Debian packages, without systemd.
# Two sets on their own loopback ports (ARCHITECTURE.md): "run" keeps its data (make run), "test" is
# throwaway and tuned for speed (make test). Every command is idempotent.
#
#   scripts/services.sh start|stop|status [run|test]      (default set: run)
#   scripts/services.sh install [chromium] [fasttext]      installs what is missing (root)
#   scripts/services.sh env [run|test]                     prints the connection settings as env lines
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-status}
set_name=${2:-run}
PG_BIN=/usr/lib/postgresql/15/bin
RMQ_BIN=/usr/lib/rabbitmq/bin   # the /usr/sbin wrappers switch user and lose HOME (and the Erlang cookie)

case "$set_name" in
  run)  PG_PORT=55432 REDIS_PORT=56379 RMQ_PORT=55672 RMQ_DIST_PORT=55673 EPMD_PORT=54369 ;;
  test) PG_PORT=55442 REDIS_PORT=56389 RMQ_PORT=55682 RMQ_DIST_PORT=55683 EPMD_PORT=54379 ;;
  chromium|fasttext) ;;
  *) echo "services.sh: unknown set '$set_name' (run|test)" >&2; exit 2 ;;
esac
dir=$repo/.local/$set_name
RMQ_NODE=birbal-$set_name@localhost

log() { printf '%s\n' "$*" >&2; }

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then log "services.sh: need root to install ${missing[*]} (apt-get)"; exit 1; fi
  log "installing ${missing[*]} from Debian packages…"
  # apt's policy-rc.d may start packaged services on default ports; we never use those, so forbid it.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_services() {
  apt_install postgresql-15 redis-server rabbitmq-server
  # npm fetches the front-end libraries at build time (BirbalAI.Web/package.json).
  command -v npm > /dev/null || apt_install npm
}

# ---------------- PostgreSQL ----------------
pg_start() {
  if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres; then log "postgres ($set_name) already up on $PG_PORT"; return; fi
  local d=$dir/pg
  mkdir -p "$d/run"
  chown -R postgres:postgres "$d"        # initdb and postgres refuse to run as root
  # ...so the postgres user must be able to reach the folder: give "search" (x) on any parent that
  # lacks it (a clone under a 0700 mktemp folder, say). Nothing becomes listable or readable.
  local up=$d
  while [ "$up" != / ]; do
    up=$(dirname "$up")
    runuser -u postgres -- test -x "$up" 2>/dev/null || { chmod o+x "$up"; log "gave o+x to $up so PostgreSQL can reach its data"; }
  done
  if [ ! -s "$d/data/PG_VERSION" ]; then
    runuser -u postgres -- "$PG_BIN/initdb" -D "$d/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$d/initdb.log" 2>&1 \
      || { log "initdb failed:"; tail -n 5 "$d/initdb.log" >&2; exit 1; }
  fi
  local opts="-p $PG_PORT -k $d/run -c listen_addresses=127.0.0.1 -c max_connections=300"
  # Test data is thrown away: no fsync. The run set keeps full durability.
  [ "$set_name" = test ] && opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$d/data" -l "$d/postgres.log" -w -t 60 -o "$opts" start >/dev/null
  until "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres; do sleep 0.2; done
  psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "select 1 from pg_database where datname='birbal'" | grep -q 1 \
    || psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -c "create database birbal" >/dev/null
  log "postgres ($set_name) up on 127.0.0.1:$PG_PORT"
}
pg_stop() {
  [ -f "$dir/pg/data/postmaster.pid" ] || return 0
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/pg/data" -m fast -w stop >/dev/null 2>&1 || true
}
pg_status() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres && echo "postgres ($set_name): up on $PG_PORT" || echo "postgres ($set_name): down"; }

# ---------------- Redis ----------------
redis_start() {
  if [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; then log "redis ($set_name) already up on $REDIS_PORT"; return; fi
  local d=$dir/redis
  mkdir -p "$d"
  local persistence=(--save '' --appendonly no)
  [ "$set_name" = run ] && persistence=(--appendonly yes)
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$d" --daemonize yes \
    --pidfile "$d/redis.pid" --logfile "$d/redis.log" "${persistence[@]}"
  until [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; do sleep 0.1; done
  log "redis ($set_name) up on 127.0.0.1:$REDIS_PORT"
}
redis_stop() {
  local mode=save; [ "$set_name" = test ] && mode=nosave
  redis-cli -p "$REDIS_PORT" shutdown "$mode" >/dev/null 2>&1 || true
}
redis_status() { [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] && echo "redis ($set_name): up on $REDIS_PORT" || echo "redis ($set_name): down"; }

# ---------------- RabbitMQ ----------------
rmq_env() {
  local d=$dir/rabbitmq
  export HOME=$d/home                   # the Erlang cookie lives here; server and CLI must agree
  export ERL_EPMD_PORT=$EPMD_PORT ERL_EPMD_ADDRESS=127.0.0.1
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export RABBITMQ_NODENAME=$RMQ_NODE RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$RMQ_PORT
  export RABBITMQ_DIST_PORT=$RMQ_DIST_PORT
  export RABBITMQ_CONF_ENV_FILE=$d/rabbitmq-env.conf RABBITMQ_CONFIG_FILE=$d/rabbitmq.conf
  export RABBITMQ_ADVANCED_CONFIG_FILE=$d/advanced.config RABBITMQ_ENABLED_PLUGINS_FILE=$d/enabled_plugins
  export RABBITMQ_MNESIA_BASE=$d/mnesia RABBITMQ_LOG_BASE=$d/log RABBITMQ_PID_FILE=$d/rabbit.pid
}
rmq_start() {
  local d=$dir/rabbitmq
  mkdir -p "$d/home" "$d/mnesia" "$d/log"
  rmq_env
  if "$RMQ_BIN/rabbitmq-diagnostics" -q ping >/dev/null 2>&1; then log "rabbitmq ($set_name) already up on $RMQ_PORT"; return; fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$RMQ_PORT") 2>/dev/null; then
    log "rabbitmq ($set_name): port $RMQ_PORT is taken by a broker this folder did not start (another checkout's services?); stop it first"
    exit 1
  fi
  : > "$RABBITMQ_CONF_ENV_FILE"
  [ -f "$d/enabled_plugins" ] || echo '[].' > "$d/enabled_plugins"
  [ -f "$d/rabbitmq.conf" ] || printf 'loopback_users.guest = true\ndisk_free_limit.absolute = 50MB\n' > "$d/rabbitmq.conf"
  setsid "$RMQ_BIN/rabbitmq-server" >"$d/log/stdout.log" 2>&1 < /dev/null &
  # 'wait PIDFILE' returns once the broker has fully booted; then check the AMQP port really answers
  if ! "$RMQ_BIN/rabbitmqctl" -q wait --timeout 120 "$RABBITMQ_PID_FILE" >/dev/null; then
    log "rabbitmq ($set_name) did not start; see $d/log"; exit 1
  fi
  "$RMQ_BIN/rabbitmq-diagnostics" -q check_port_connectivity >/dev/null
  log "rabbitmq ($set_name) up on 127.0.0.1:$RMQ_PORT"
}
rmq_stop() {
  [ -d "$dir/rabbitmq" ] || return 0
  ( rmq_env
    # 'stop PIDFILE' waits for the broker to exit; only ask when that broker is really running.
    if [ -s "$RABBITMQ_PID_FILE" ] && kill -0 "$(cat "$RABBITMQ_PID_FILE")" 2>/dev/null; then
      timeout 60 "$RMQ_BIN/rabbitmqctl" -q stop "$RABBITMQ_PID_FILE" >/dev/null 2>&1 || kill "$(cat "$RABBITMQ_PID_FILE")" 2>/dev/null || true
    fi
    rm -f "$RABBITMQ_PID_FILE"
    for _ in $(seq 50); do epmd -port "$EPMD_PORT" -names 2>/dev/null | grep -q "^name " || break; sleep 0.1; done
    epmd -port "$EPMD_PORT" -kill >/dev/null 2>&1 || true )
}
rmq_status() { ( rmq_env; "$RMQ_BIN/rabbitmq-diagnostics" -q ping >/dev/null 2>&1 && echo "rabbitmq ($set_name): up on $RMQ_PORT" || echo "rabbitmq ($set_name): down" ); }

print_env() {
  echo "Database__ConnectionString='Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=birbal'"
  echo "Redis__ConnectionString='127.0.0.1:$REDIS_PORT'"
  echo "RabbitMq__Uri='amqp://guest:guest@127.0.0.1:$RMQ_PORT/'"
}

case "$cmd" in
  install)
    install_services
    for extra in "${@:2}"; do apt_install "$extra"; done ;;
  start)
    install_services
    [ "$set_name" = test ] && apt_install chromium fasttext
    pg_start & pg=$!; redis_start; rmq_start
    wait $pg || { log "postgres ($set_name) did not start; see $dir/pg"; exit 1; } ;;
  stop) rmq_stop; redis_stop; pg_stop; log "services ($set_name) stopped" ;;
  status) pg_status; redis_status; rmq_status ;;
  env) print_env ;;
  *) echo "usage: services.sh start|stop|status|env [run|test] | install [chromium] [fasttext]" >&2; exit 2 ;;
esac
