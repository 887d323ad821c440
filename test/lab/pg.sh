#!/usr/bin/env bash
# A private PostgreSQL server for the fleet store's tests: port 55432, data and socket under
# /tmp/zfs-fleet-pg, trust authentication for the user `fleet` on 127.0.0.1 only.
#
#   bash test/lab/pg.sh up      # installs postgresql if missing, starts the server, prints the URL
#   bash test/lab/pg.sh down    # stops it (the data directory stays for the next `up`)
#   bash test/lab/pg.sh restart # stops it (fast: open sessions are terminated) and starts it again
#   bash test/lab/pg.sh status
#
# Then: ZFS_FLEET_PG_URL=$(bash test/lab/pg.sh url) npx vitest run test/integration/store
set -euo pipefail

DIR=${ZFS_FLEET_PG_DIR:-/tmp/zfs-fleet-pg}
PORT=${ZFS_FLEET_PG_PORT:-55432}
URL="postgres://fleet@127.0.0.1:${PORT}/postgres"

bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$d" ] && echo "$d"
}

# initdb and the server refuse to run as root: run them as the postgres user (created by the package).
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

up() {
  if [ -z "$(bindir)" ]; then
    echo "pg.sh: installing postgresql (Debian's archive)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
    # The package starts a cluster on 5432 under systemd hosts; ours is separate and needs nothing of it.
  fi
  local bin
  bin=$(bindir)
  mkdir -p "$DIR"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$DIR"
  if [ ! -f "$DIR/data/PG_VERSION" ]; then
    as_owner "$bin/initdb" -D "$DIR/data" -A trust -U fleet >"$DIR/initdb.log" 2>&1 || {
      cat "$DIR/initdb.log" >&2
      exit 1
    }
  fi
  if ! as_owner "$bin/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
    as_owner "$bin/pg_ctl" -D "$DIR/data" -w -t 60 -o "$(server_options)" -l "$DIR/log" start >&2
  fi
  answers "$bin"
}

# The server's options, the same for start and restart.
server_options() { echo "-k $DIR -p $PORT -c listen_addresses=127.0.0.1"; }

# Prints the URL once the server answers on its port.
answers() {
  local bin=$1
  for _ in $(seq 1 50); do
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
      echo "$URL"
      return 0
    fi
    sleep 0.2
  done
  echo "pg.sh: the server did not answer on 127.0.0.1:$PORT (log: $DIR/log)" >&2
  exit 1
}

# What a server restart does to its clients (tests of reconnection): every session is terminated
# (57P01), the port refuses connections for a moment, then the server answers again.
restart() {
  local bin
  bin=$(bindir) || true
  [ -n "$bin" ] && [ -f "$DIR/data/PG_VERSION" ] || {
    echo "pg.sh: no server in $DIR (run: bash test/lab/pg.sh up)" >&2
    exit 1
  }
  # The server in DIR must be the one on PORT: never restart another (a shared machine's default one, say).
  local running
  running=$(sed -n 4p "$DIR/data/postmaster.pid" 2>/dev/null || true)
  [ "$running" = "$PORT" ] || {
    echo "pg.sh: the server in $DIR is $([ -n "$running" ] && echo "on port $running" || echo "not running"), not on port $PORT: not restarted (set ZFS_FLEET_PG_DIR and ZFS_FLEET_PG_PORT as for up)" >&2
    exit 1
  }
  as_owner "$bin/pg_ctl" -D "$DIR/data" -w -t 60 -m fast -o "$(server_options)" -l "$DIR/log" restart >&2
  answers "$bin"
}

down() {
  local bin
  bin=$(bindir) || true
  if [ -n "$bin" ] && [ -f "$DIR/data/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
    as_owner "$bin/pg_ctl" -D "$DIR/data" -w -m fast stop >&2
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  restart) restart ;;
  url) echo "$URL" ;;
  status)
    bin=$(bindir) || true
    if [ -n "$bin" ] && as_owner "$bin/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then echo "up: $URL"; else
      echo down
      exit 3
    fi
    ;;
  *)
    echo "usage: bash test/lab/pg.sh up|down|restart|status|url" >&2
    exit 2
    ;;
esac
