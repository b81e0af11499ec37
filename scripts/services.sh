#!/usr/bin/env bash
# Make sure PostgreSQL, Redis and RabbitMQ answer on loopback; start the ones that do not, then create
# the test database. A service that still does not answer fails the run with one line naming it.
set -u
PGDB="${INTEGRAMON_TEST_PG_DB:-integramon_test}"

port_open() { python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(); s.settimeout(1)
try:
    s.connect(("127.0.0.1", int(sys.argv[1]))); print("open")
except OSError:
    pass
PY
}

wait_port() {  # name port seconds
  for _ in $(seq 1 "$3"); do
    [ "$(port_open "$2")" = "open" ] && return 0
    sleep 1
  done
  echo "services: $1 is not reachable on 127.0.0.1:$2 (tried to start it)" >&2
  exit 1
}

if [ "$(port_open 5432)" != "open" ]; then
  echo "services: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >/dev/null 2>&1 || true
  wait_port PostgreSQL 5432 30
fi
if [ "$(port_open 6379)" != "open" ]; then
  echo "services: starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log >/dev/null 2>&1 || true
  wait_port Redis 6379 20
fi
if [ "$(port_open 5672)" != "open" ]; then
  echo "services: starting RabbitMQ"
  rabbitmq-server -detached >/dev/null 2>&1 || true
  wait_port RabbitMQ 5672 90
fi

for _ in $(seq 1 20); do
  psql -h 127.0.0.1 -U postgres -d postgres -tAc "select 1" >/dev/null 2>&1 && break
  sleep 1
done
if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc "select 1" >/dev/null 2>&1; then
  echo "services: PostgreSQL does not accept connections as user postgres" >&2
  exit 1
fi
if [ "$(psql -h 127.0.0.1 -U postgres -d postgres -tAc "select 1 from pg_database where datname='$PGDB'")" != "1" ]; then
  psql -h 127.0.0.1 -U postgres -d postgres -qc "create database \"$PGDB\"" >/dev/null
fi
echo "services: PostgreSQL, Redis and RabbitMQ are up; test database $PGDB exists"
