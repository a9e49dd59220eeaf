#!/usr/bin/env bash
# Starts a three-node MariaDB Galera cluster on loopback for the Galera suite (test/galera/), a
# clustercheck responder per node and HAProxy with one writer; waits until all three nodes are Synced
# in a cluster of three and HAProxy sends connections to node 1. Run as root: the nodes run as `mysql`
# (as root, the rsync transfer of a joining node drops to `nobody` and fails). Ports and paths:
# galera-common.sh. Already running: only checks it. Otherwise it starts from empty data directories.
# Prints the variables the suite reads (TEST_GALERA_NODES, TEST_GALERA_WRITER).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/ci/galera-common.sh
. "$SCRIPT_DIR/galera-common.sh"

[ "$(id -u)" -eq 0 ] || gdie "run as root (the nodes run as the mysql user)"
id mysql >/dev/null 2>&1 || gdie "no mysql user (apt-get install mariadb-server)"
command -v rsync >/dev/null 2>&1 || gdie "rsync not found (apt-get install rsync)"
[ -f /usr/lib/galera/libgalera_smm.so ] || gdie "galera provider not found (apt-get install galera-4)"

print_urls() {
  local nodes="" n
  for n in "${GALERA_NODES[@]}"; do
    nodes="${nodes:+$nodes,}mysql://$DB_USER:$DB_PASS@127.0.0.1:$(sql_port "$n")/$DB_NAME"
  done
  echo "TEST_GALERA_NODES=$nodes"
  echo "TEST_GALERA_WRITER=mysql://$DB_USER:$DB_PASS@127.0.0.1:$(haproxy_port)/$DB_NAME"
}

wait_http_ok() { # port
  local deadline=$((SECONDS + GALERA_WAIT_SECONDS))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && head -n 1 <&3 | grep -q ' 200 ') 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || gdie "nothing answers 200 on 127.0.0.1:$1"
    sleep 0.5
  done
}

running=1
for n in "${GALERA_NODES[@]}"; do [ "$(node_state "$n")" = "Synced 3 ON" ] || running=0; done
if [ "$running" -eq 1 ] && [ -n "$(node_pid 1 || true)" ]; then
  glog "cluster in $GALERA_DIR is already running"
  print_urls
  exit 0
fi

bash "$SCRIPT_DIR/stop-galera.sh" >/dev/null 2>&1 || true
rm -rf "$GALERA_DIR"
mkdir -p "$GALERA_DIR"
for n in "${GALERA_NODES[@]}"; do
  mkdir -p "$(node_dir "$n")/data"
  write_node_cnf "$n"
done
chown -R mysql:mysql "$GALERA_DIR"

started=$SECONDS
# Only node 1 is initialised; it bootstraps the cluster.
glog "initialising node 1"
if ! runuser -u mysql -- "$(gbin mariadb-install-db mysql_install_db)" --defaults-file="$(node_cnf 1)" \
  --auth-root-authentication-method=normal --skip-test-db >"$GALERA_DIR/install-db.log" 2>&1 </dev/null; then
  cat "$GALERA_DIR/install-db.log" >&2
  gdie "mariadb-install-db failed"
fi
glog "bootstrapping the cluster on node 1 (127.0.0.1:$(sql_port 1))"
launch_node 1 --wsrep-new-cluster
wait_synced 1 1
node_sql 1 <<SQL
CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL PRIVILEGES ON \`twofa\\_test%\`.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost';
-- The clustercheck responders: SHOW GLOBAL STATUS and VARIABLES need no privilege.
CREATE USER IF NOT EXISTS 'clustercheck'@'127.0.0.1' IDENTIFIED BY 'clustercheck';
SQL

# The others receive node 1's data by a full copy (SST, rsync) as they join, one at a time: a donor
# serves one joiner. About 17 s each here, most of it waits in the rsync script.
for n in 2 3; do
  glog "node $n joins (127.0.0.1:$(sql_port "$n"))"
  launch_node "$n"
  wait_synced "$n" "$n"
done
for n in "${GALERA_NODES[@]}"; do wait_synced "$n" 3; done
glog "three nodes Synced after $((SECONDS - started))s"

for n in "${GALERA_NODES[@]}"; do start_clustercheck "$n"; done
for n in "${GALERA_NODES[@]}"; do wait_http_ok "$(check_port "$n")"; done
start_haproxy || { cat "$GALERA_DIR/haproxy.log" >&2; gdie "haproxy did not start"; }
deadline=$((SECONDS + GALERA_WAIT_SECONDS))
until [ "$("$(gbin mariadb mysql)" --no-defaults -h127.0.0.1 -P"$(haproxy_port)" -u"$DB_USER" -p"$DB_PASS" \
  --connect-timeout=2 -N -B -e 'SELECT @@wsrep_node_name' 2>/dev/null)" = n1 ]; do
  [ "$SECONDS" -lt "$deadline" ] || gdie "HAProxy on 127.0.0.1:$(haproxy_port) does not reach node 1"
  sleep 0.5
done
glog "clustercheck on ports $(check_port 1)-$(check_port 3), HAProxy writer on 127.0.0.1:$(haproxy_port) (node 1)"
glog "ready after $((SECONDS - started))s"
print_urls
