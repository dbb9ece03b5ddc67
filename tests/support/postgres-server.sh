#!/usr/bin/env bash
# A throw-away PostgreSQL server for the test suite, in a temporary folder, on loopback.
#
#   tests/support/postgres-server.sh start PORT   initdb + pg_ctl start; prints the folder
#   tests/support/postgres-server.sh stop PORT    pg_ctl stop; removes the folder
#   tests/support/postgres-server.sh pause PORT   stops the server, keeps its data (a restart
#   tests/support/postgres-server.sh resume PORT  or an outage, for the tests that live through one)
#
# The folder is /tmp/emolens-test-postgres-PORT: data/ (the cluster), socket/, server.log and
# pgpass (the superuser's password, for libpq's PGPASSFILE). The superuser is emolens_test;
# connections over TCP need a password (scram-sha-256), as a team's server would.
# PostgreSQL refuses to run as root: as root the server runs as the `postgres` user Debian's
# package creates (or `nobody`); otherwise as the calling user.
# fsync is off: the server is thrown away after the run, and the tests restart it cleanly.
# EMOLENS_TEST_POSTGRES_OPTIONS adds server settings ("-c log_lock_waits=on ...").
set -euo pipefail

action=${1:?usage: postgres-server.sh start|stop|pause|resume PORT}
port=${2:?usage: postgres-server.sh start|stop|pause|resume PORT}
dir=/tmp/emolens-test-postgres-$port

bindir=""
for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
  if [ -x "$candidate/initdb" ]; then bindir=$candidate; break; fi
done
if [ -z "$bindir" ] && command -v initdb >/dev/null; then bindir=$(dirname "$(command -v initdb)"); fi
if [ -z "$bindir" ]; then
  echo "postgres-server.sh: no PostgreSQL server binaries (Debian: apt-get install postgresql)" >&2
  exit 1
fi

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$owner" -- "$@"
  else
    "$@"
  fi
}

if [ "$(id -u)" -eq 0 ]; then
  if id postgres >/dev/null 2>&1; then owner=postgres; else owner=nobody; fi
else
  owner=$(id -un)
fi

start_server() {
  as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir/socket -c listen_addresses=127.0.0.1 -c fsync=off \
        -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
        ${EMOLENS_TEST_POSTGRES_OPTIONS:-}" \
    start >/dev/null || { tail -20 "$dir/server.log" >&2; exit 1; }
}

stop_server() {
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
}

case "$action" in
  start)
    stop_server
    rm -rf "$dir"
    mkdir -p "$dir/data" "$dir/socket"
    chmod 755 "$dir"
    password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    printf '%s\n' "$password" > "$dir/pw"
    if [ "$(id -u)" -eq 0 ]; then chown -R "$owner" "$dir/data" "$dir/socket" "$dir/pw"; fi
    chmod 700 "$dir/data"
    as_owner "$bindir/initdb" -D "$dir/data" -U emolens_test --pwfile="$dir/pw" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    rm -f "$dir/pw"
    touch "$dir/server.log"
    if [ "$(id -u)" -eq 0 ]; then chown "$owner" "$dir/server.log"; fi
    start_server
    umask 077
    printf '127.0.0.1:%s:*:emolens_test:%s\n' "$port" "$password" > "$dir/pgpass"
    echo "$dir"
    ;;
  stop)
    stop_server
    rm -rf "$dir"
    ;;
  pause)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  resume)
    start_server
    ;;
  *)
    echo "usage: postgres-server.sh start|stop|pause|resume PORT" >&2
    exit 2
    ;;
esac
