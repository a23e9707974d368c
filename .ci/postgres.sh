#!/usr/bin/env bash
# Throwaway PostgreSQL 15 cluster on loopback for the storage tests.
# Usage: source .ci/postgres.sh && start_test_postgres   (… tests …)   stop_test_postgres
# Exports TEST_DATABASE_URL. Installs nothing: .ci/run (or you) installs Debian `postgresql`.

TEST_PG_BIN="${TEST_PG_BIN:-/usr/lib/postgresql/15/bin}"
TEST_PG_PORT="${TEST_PG_PORT:-55432}"
TEST_PG_DB="${TEST_PG_DB:-jukebox_test}"

# Runs a command as the postgres user (initdb refuses to run as root).
_test_pg_as_postgres() {
  if [ "$(id -un)" = "postgres" ]; then
    bash -c "$1"
  elif [ "$(id -u)" = "0" ]; then
    su postgres -s /bin/bash -c "$1"
  else
    # Not root: run as ourselves (the cluster is then owned by the current user).
    bash -c "$1"
  fi
}

start_test_postgres() {
  if [ ! -x "$TEST_PG_BIN/initdb" ]; then
    echo "postgres.sh: $TEST_PG_BIN/initdb is missing; install Debian 'postgresql' (15) first" >&2
    return 1
  fi
  if [ -n "${TEST_PG_DIR:-}" ] && [ -f "$TEST_PG_DIR/data/postmaster.pid" ]; then
    echo "postgres.sh: already running in $TEST_PG_DIR on port $TEST_PG_PORT"
    return 0
  fi
  # Another cluster (a second checkout, a hand-started one) may hold the port: take the next free one.
  local tries=0
  while (exec 3<>"/dev/tcp/127.0.0.1/$TEST_PG_PORT") 2>/dev/null; do
    tries=$((tries + 1))
    if [ "$tries" -ge 20 ]; then
      echo "postgres.sh: no free port from ${TEST_PG_PORT}" >&2
      return 1
    fi
    TEST_PG_PORT=$((TEST_PG_PORT + 1))
  done
  # mktemp makes a 0700 dir owned by us; the postgres user must own it to write there.
  TEST_PG_DIR="$(mktemp -d /tmp/jukebox-pg.XXXXXX)"
  export TEST_PG_DIR
  if [ "$(id -u)" = "0" ]; then chown postgres:postgres "$TEST_PG_DIR"; fi
  _test_pg_as_postgres "'$TEST_PG_BIN/initdb' -D '$TEST_PG_DIR/data' -U postgres --auth=trust -E UTF8 >'$TEST_PG_DIR/initdb.log' 2>&1" || {
    echo "postgres.sh: initdb failed, see $TEST_PG_DIR/initdb.log" >&2
    return 1
  }
  # fsync off: a throwaway test cluster needs speed, not durability.
  _test_pg_as_postgres "'$TEST_PG_BIN/pg_ctl' -D '$TEST_PG_DIR/data' -l '$TEST_PG_DIR/server.log' -w \
    -o \"-p $TEST_PG_PORT -k $TEST_PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off\" start >/dev/null" || {
    echo "postgres.sh: pg_ctl start failed, see $TEST_PG_DIR/server.log" >&2
    return 1
  }
  _test_pg_as_postgres "'$TEST_PG_BIN/createdb' -h 127.0.0.1 -p $TEST_PG_PORT -U postgres '$TEST_PG_DB'" || {
    echo "postgres.sh: createdb failed" >&2
    return 1
  }
  export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:${TEST_PG_PORT}/${TEST_PG_DB}"
  echo "postgres.sh: test cluster up at $TEST_DATABASE_URL (dir $TEST_PG_DIR)"
}

stop_test_postgres() {
  if [ -z "${TEST_PG_DIR:-}" ] || [ ! -d "$TEST_PG_DIR" ]; then
    return 0
  fi
  _test_pg_as_postgres "'$TEST_PG_BIN/pg_ctl' -D '$TEST_PG_DIR/data' -m fast -w stop >/dev/null 2>&1" || true
  rm -rf "$TEST_PG_DIR"
  unset TEST_PG_DIR TEST_DATABASE_URL
  echo "postgres.sh: test cluster stopped"
}
