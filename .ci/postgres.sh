#!/usr/bin/env bash
# Install (when missing) and start a throwaway PostgreSQL server from Debian's package, on loopback, for
# the PostgreSQL share of the tests. Prints the SQLAlchemy URL of a fresh database on its last line.
set -euo pipefail

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

if [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/postgres" ]; then
  echo "installing postgresql from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
BIN=$(pg_bin)
PGDATA=$(mktemp -d /tmp/zbsn-pg.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
RUN_AS=()
if [ "$(id -u)" = "0" ]; then
  chown postgres "$PGDATA"
  RUN_AS=(runuser -u postgres --)
fi
"${RUN_AS[@]}" "$BIN/initdb" -D "$PGDATA" -A trust -U postgres >/dev/null
"${RUN_AS[@]}" "$BIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w \
  -o "-p $PORT -k $PGDATA -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >&2
"$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres zbsn_test
echo "$PGDATA" > /tmp/zbsn-pg-last
echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/zbsn_test"
