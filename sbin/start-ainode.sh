#!/usr/bin/env bash
# Start the AINode. Foreground by default; -d runs it in the background (logs under ain_logs_dir,
# pid file under ain_system_dir). Other arguments go to `ainode start` (e.g. --standalone).
set -euo pipefail
usage() {
  cat <<'EOF'
usage: start-ainode.sh [-d] [--standalone] [-h]

Start the AINode of $IOTDB_AINODE_HOME (default: the folder above sbin/), configured by
$IOTDB_AINODE_HOME/conf/iotdb-ainode.properties.

  -d            run in the background: wait until it listens, then return (pid file under ain_system_dir,
                output in $IOTDB_AINODE_HOME/logs/ainode-stdout.log, the log in ain_logs_dir/log_ainode_all.log)
  --standalone  do not join an IoTDB cluster (no ConfigNode needed): to try ainode out on its own
  -h, --help    this help

Any other option goes to `ainode start` (see `ainode start --help`). Stop the node with sbin/stop-ainode.sh.
EOF
}
daemon=0
args=()
for arg in "$@"; do
  case "$arg" in
    -h|--help) usage; exit 0 ;;
    -d) daemon=1 ;;
    *) args+=("$arg") ;;
  esac
done
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
if [ "$daemon" = 0 ]; then
  exec "$AINODE" start "${args[@]+"${args[@]}"}"
fi
# Refuse (a node runs in this home, the port is taken, a bad config) before touching the running node's log.
"$AINODE" start --check "${args[@]+"${args[@]}"}" >/dev/null || exit 1
logs_dir="$IOTDB_AINODE_HOME/logs"
mkdir -p "$logs_dir"
nohup "$AINODE" start "${args[@]+"${args[@]}"}" >"$logs_dir/ainode-stdout.log" 2>&1 &
pid=$!
# Wait until the node says it listens (or dies), so the caller knows whether it started.
for _ in $(seq 1 600); do
  if grep -q "ainode listening on" "$logs_dir/ainode-stdout.log" 2>/dev/null; then
    echo "AINode started in the background (pid $pid); logs in $logs_dir"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "AINode failed to start; last lines of $logs_dir/ainode-stdout.log:" >&2
    tail -n 20 "$logs_dir/ainode-stdout.log" >&2
    exit 1
  fi
  sleep 0.1
done
echo "AINode (pid $pid) did not report ready within 60 s; see $logs_dir/ainode-stdout.log" >&2
exit 1
