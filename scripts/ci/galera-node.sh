#!/usr/bin/env bash
# One node of the cluster of start-galera.sh, for the Galera suite and for a person trying things:
#
#   galera-node.sh kill N       SIGKILL mariadbd of node N (a crash)
#   galera-node.sh start N      start node N again, from the position its data was at (--wsrep-recover,
#                               so it catches up by IST, not a full copy); waits until it is Synced
#   galera-node.sh isolate N    cut node N off from its peers (gmcast.isolate=1): it stays up, non-primary
#   galera-node.sh rejoin N     undo isolate; waits until it is Synced
#   galera-node.sh state [N]    "<state> <cluster size> <ready>" per node, or "down"
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/ci/galera-common.sh
. "$SCRIPT_DIR/galera-common.sh"

command="${1:-}"
n="${2:-}"
case "$n" in 1 | 2 | 3 | '') ;; *) gdie "node must be 1, 2 or 3" ;; esac
[ -n "$n" ] || [ "$command" = state ] || gdie "usage: galera-node.sh kill|start|isolate|rejoin|state N"

# Waits until node $1 is Synced and ready, whatever the cluster's size.
wait_node_synced() {
  local deadline=$((SECONDS + GALERA_WAIT_SECONDS)) state
  while [ "$SECONDS" -lt "$deadline" ]; do
    state="$(node_state "$1")"
    case "$state" in "Synced "*" ON") return 0 ;; esac
    sleep 0.2
  done
  tail -n 40 "$(node_log "$1")" >&2
  gdie "node $1 not Synced within ${GALERA_WAIT_SECONDS}s (state: $state)"
}

case "$command" in
  kill)
    pid="$(node_pid "$n")" || gdie "node $n is not running"
    kill -KILL "$pid"
    while node_pid "$n" >/dev/null; do sleep 0.1; done
    glog "node $n killed"
    ;;
  start)
    node_pid "$n" >/dev/null && gdie "node $n is already running"
    started=$SECONDS
    position="$(recover_position "$n")"
    [ -n "$position" ] || gdie "no recovered position for node $n (see $(node_dir "$n")/recover.log)"
    glog "node $n starts from $position"
    launch_node "$n" --wsrep-start-position="$position"
    wait_node_synced "$n"
    glog "node $n Synced after $((SECONDS - started))s"
    ;;
  isolate)
    node_sql "$n" -e "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=1'"
    glog "node $n isolated"
    ;;
  rejoin)
    node_sql "$n" -e "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0'"
    wait_node_synced "$n"
    glog "node $n rejoined"
    ;;
  state)
    for m in ${n:-${GALERA_NODES[@]}}; do echo "n$m $(node_state "$m")"; done
    ;;
  *) gdie "usage: galera-node.sh kill|start|isolate|rejoin|state N" ;;
esac
