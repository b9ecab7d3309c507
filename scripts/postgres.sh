#!/usr/bin/env bash
# Starts (once) a PostgreSQL cluster for the tests on 127.0.0.1 and prints
# its URL. Idempotent: an already running cluster is reused. Uses Debian's
# PostgreSQL (initdb/pg_ctl refuse root, so they run as `postgres`).
#   CAIRN_PG_PORT (default 54329), CAIRN_PG_DIR (default /tmp/cairn-pg-$port)
set -euo pipefail
port=${CAIRN_PG_PORT:-54329}
dir=${CAIRN_PG_DIR:-/tmp/cairn-pg-$port}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/pg_ctl" ] || { echo "postgres.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
mkdir -p "$dir"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
exec 9>"$dir.lock"
flock 9
if ! as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust >/dev/null
  fi
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off" start >/dev/null 9>&-
fi
for _ in $(seq 1 50); do
  "$bin/pg_isready" -h 127.0.0.1 -p "$port" >/dev/null 2>&1 && break
  sleep 0.2
done
psql() { "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
if [ "$(psql -c "SELECT 1 FROM pg_roles WHERE rolname = 'cairn'")" != 1 ]; then
  psql -c "CREATE ROLE cairn LOGIN PASSWORD 'cairn' CREATEDB" >/dev/null
fi
if [ "$(psql -c "SELECT 1 FROM pg_database WHERE datname = 'cairn'")" != 1 ]; then
  psql -c "CREATE DATABASE cairn OWNER cairn" >/dev/null
fi
echo "postgres://cairn:cairn@127.0.0.1:$port/cairn"
