# shellcheck shell=bash
# Shared settings for start-mariadb.sh / stop-mariadb.sh. Sourced, not executed.
# All paths are derived from MARIADB_DIR so several instances can coexist.

MARIADB_DIR="${MARIADB_DIR:-/tmp/twofa-mariadb}"
MARIADB_PORT="${MARIADB_PORT:-3306}"
MARIADB_WAIT_SECONDS="${MARIADB_WAIT_SECONDS:-60}"

MDB_DATADIR="$MARIADB_DIR/data"
MDB_CNF="$MARIADB_DIR/my.cnf"
MDB_SOCKET="$MARIADB_DIR/mysqld.sock"
MDB_PIDFILE="$MARIADB_DIR/mysqld.pid"
MDB_LOG="$MARIADB_DIR/mysqld.log"
MDB_INIT_MARKER="$MARIADB_DIR/.initialized"

log() { printf '[mariadb] %s\n' "$*" >&2; }
die() { printf '[mariadb] ERROR: %s\n' "$*" >&2; exit 1; }

# First binary found wins (MariaDB >= 10.5 names first, MySQL-compat names as fallback).
find_bin() {
  local b
  for b in "$@"; do
    if command -v "$b" >/dev/null 2>&1; then command -v "$b"; return 0; fi
    if [ -x "/usr/sbin/$b" ]; then echo "/usr/sbin/$b"; return 0; fi
  done
  return 1
}

mdb_admin_bin() { find_bin mariadb-admin mysqladmin || die "mariadb-admin/mysqladmin not found (apt-get install mariadb-client)"; }
mdb_client_bin() { find_bin mariadb mysql || die "mariadb/mysql client not found (apt-get install mariadb-client)"; }

# Ping our instance through its own socket as root (root has no password;
# the server listens on 127.0.0.1 only and the socket lives in MARIADB_DIR).
mdb_ping() {
  [ -S "$MDB_SOCKET" ] || return 1
  "$(mdb_admin_bin)" --no-defaults --protocol=socket --socket="$MDB_SOCKET" -uroot \
    --connect-timeout=2 ping >/dev/null 2>&1
}

# True if $1 is a running (non-zombie) process. Zombies matter in containers
# whose PID 1 does not reap orphans.
proc_running() {
  local state
  [ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
  state="$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$1/stat" 2>/dev/null)" || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# True if $1 is a running mariadbd/mysqld process (guards against PID reuse).
mdb_alive() {
  local comm
  proc_running "$1" || return 1
  comm="$(cat "/proc/$1/comm" 2>/dev/null)" || return 1
  case "$comm" in mariadbd|mysqld) return 0 ;; *) return 1 ;; esac
}

# PID from our pid file, if that process is alive.
mdb_pid() {
  local pid
  [ -f "$MDB_PIDFILE" ] || return 1
  pid="$(tr -dc '0-9' <"$MDB_PIDFILE")"
  mdb_alive "$pid" && echo "$pid"
}

mdb_print_log() {
  if [ -f "$MDB_LOG" ]; then
    log "---- last 60 lines of $MDB_LOG ----"
    tail -n 60 "$MDB_LOG" >&2 || true
    log "---- end of server log ----"
  else
    log "(no server log at $MDB_LOG)"
  fi
}
