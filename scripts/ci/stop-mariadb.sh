#!/usr/bin/env bash
# Cleanly stop the MariaDB instance started by start-mariadb.sh (same MARIADB_DIR).
# Data dir is kept; start-mariadb.sh restarts it without re-initialising.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/ci/mariadb-common.sh
. "$SCRIPT_DIR/mariadb-common.sh"

pid="$(mdb_pid || true)"

wait_gone() { # pid seconds
  local deadline=$((SECONDS + $2))
  while [ "$SECONDS" -lt "$deadline" ]; do
    mdb_alive "$1" || return 0
    sleep 0.2
  done
  ! mdb_alive "$1"
}

if mdb_ping; then
  log "shutting down instance in $MARIADB_DIR${pid:+ (pid $pid)}"
  "$(mdb_admin_bin)" --no-defaults --protocol=socket --socket="$MDB_SOCKET" -uroot \
    --shutdown-timeout="$MARIADB_WAIT_SECONDS" shutdown || log "mariadb-admin shutdown failed; falling back to signals"
  if [ -n "$pid" ] && ! wait_gone "$pid" "$MARIADB_WAIT_SECONDS"; then
    log "mariadbd pid $pid still running; sending SIGTERM"
    kill -TERM "$pid" 2>/dev/null || true
  fi
elif [ -n "$pid" ]; then
  log "mariadbd pid $pid does not answer; sending SIGTERM"
  kill -TERM "$pid" 2>/dev/null || true
else
  log "instance in $MARIADB_DIR is not running"
  rm -f "$MDB_SOCKET" "$MDB_SOCKET.lock"
  exit 0
fi

if [ -n "$pid" ] && ! wait_gone "$pid" "$MARIADB_WAIT_SECONDS"; then
  log "mariadbd pid $pid did not stop within ${MARIADB_WAIT_SECONDS}s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  wait_gone "$pid" 5 || die "could not stop mariadbd pid $pid"
fi
rm -f "$MDB_SOCKET" "$MDB_SOCKET.lock"
log "stopped"
