#!/usr/bin/env bash
# Starts the Redis the @switchyard/redis tests use: redis-server on 127.0.0.1:6399, no persistence.
# Installs redis-server with apt-get when it is missing (needs root). Idempotent: a Redis already
# answering on the port is left as it is. The tests read SWITCHYARD_TEST_REDIS_URL (default
# redis://127.0.0.1:6399) and fail, not skip, when nothing answers there.
#
#   ci-setup.sh          start it (npm test's pretest; the benchmarks)
#   ci-setup.sh --stop   stop it, only if this script started it (its pid file says so); else do nothing
set -euo pipefail

PORT="${SWITCHYARD_TEST_REDIS_PORT:-6399}"
# Written by redis-server when this script starts it, removed by redis on shutdown: "we started it".
PIDFILE="${TMPDIR:-/tmp}/switchyard-redis-$PORT.pid"

answers() { [ "$(redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null)" = "PONG" ]; }

if [ "${1:-}" = "--stop" ]; then
  [ -f "$PIDFILE" ] || exit 0
  pid="$(cat "$PIDFILE")"
  if kill -0 "$pid" 2>/dev/null && answers; then
    redis-cli -h 127.0.0.1 -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    echo "redis-server on 127.0.0.1:$PORT stopped"
  fi
  rm -f "$PIDFILE"
  exit 0
fi

if ! command -v redis-server >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq redis-server >/dev/null
fi

if ! answers; then
  redis-server --bind 127.0.0.1 --port "$PORT" --save '' --appendonly no --daemonize yes \
    --pidfile "$PIDFILE" --logfile "${TMPDIR:-/tmp}/switchyard-redis-$PORT.log"
fi

for _ in $(seq 1 50); do
  if answers; then
    echo "redis-server answering on 127.0.0.1:$PORT"
    exit 0
  fi
  sleep 0.1
done
echo "redis-server did not answer on 127.0.0.1:$PORT within 5 s" >&2
exit 1
