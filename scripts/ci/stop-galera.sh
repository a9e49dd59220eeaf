#!/usr/bin/env bash
# Stops what start-galera.sh started: HAProxy, the clustercheck responders, the three nodes (a clean
# shutdown, SIGKILL after 40 s). The data stays in GALERA_DIR for a look; start-galera.sh starts afresh.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/ci/galera-common.sh
. "$SCRIPT_DIR/galera-common.sh"

[ -d "$GALERA_DIR" ] || { glog "nothing in $GALERA_DIR"; exit 0; }
stop_pidfile "$(haproxy_pidfile)"
for n in "${GALERA_NODES[@]}"; do stop_pidfile "$(node_dir "$n")/clustercheck.pid"; done
# The last node to stop is the one the next bootstrap would start from: stop node 1 last.
for n in 3 2 1; do shutdown_node "$n"; done
glog "stopped"
