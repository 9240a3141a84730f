#!/usr/bin/env bash
# Start the AINode. Foreground by default; -d runs it in the background (logs under ain_logs_dir,
# pid file under ain_system_dir). Other arguments go to `ainode start` (e.g. --standalone).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
daemon=0
args=()
for arg in "$@"; do
  case "$arg" in
    -d) daemon=1 ;;
    *) args+=("$arg") ;;
  esac
done
if [ "$daemon" = 0 ]; then
  exec "$AINODE" start "${args[@]+"${args[@]}"}"
fi
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
