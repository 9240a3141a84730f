#!/usr/bin/env bash
# Stop the AINode gracefully (SIGTERM, then a bounded wait). -p PORT picks the node by its RPC port.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
port_args=()
while getopts "p:" opt; do
  case "$opt" in
    p) port_args=(--port "$OPTARG") ;;
    *) echo "usage: $0 [-p port]" >&2; exit 2 ;;
  esac
done
exec "$AINODE" stop "${port_args[@]+"${port_args[@]}"}"
