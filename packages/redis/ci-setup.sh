#!/usr/bin/env bash
# Starts the Redis the @switchyard/redis tests use: redis-server on 127.0.0.1:6399, no persistence.
# Installs redis-server with apt-get when it is missing (needs root). Idempotent: a Redis already
# answering on the port is left as it is. The tests read SWITCHYARD_TEST_REDIS_URL (default
# redis://127.0.0.1:6399) and fail, not skip, when nothing answers there.
set -euo pipefail

PORT="${SWITCHYARD_TEST_REDIS_PORT:-6399}"

if ! command -v redis-server >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq redis-server >/dev/null
fi

if ! redis-cli -h 127.0.0.1 -p "$PORT" ping >/dev/null 2>&1; then
  redis-server --bind 127.0.0.1 --port "$PORT" --save '' --appendonly no --daemonize yes \
    --logfile "${TMPDIR:-/tmp}/switchyard-redis-$PORT.log"
fi

for _ in $(seq 1 50); do
  if [ "$(redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null)" = "PONG" ]; then
    echo "redis-server answering on 127.0.0.1:$PORT"
    exit 0
  fi
  sleep 0.1
done
echo "redis-server did not answer on 127.0.0.1:$PORT within 5 s" >&2
exit 1
