# Shared by the sbin scripts: find the node home and the ainode command.
SBIN_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export IOTDB_AINODE_HOME="${IOTDB_AINODE_HOME:-$(dirname "$SBIN_DIR")}"
if [ -x "$IOTDB_AINODE_HOME/.venv/bin/ainode" ]; then
  AINODE="$IOTDB_AINODE_HOME/.venv/bin/ainode"
elif [ -x "$(dirname "$SBIN_DIR")/.venv/bin/ainode" ]; then
  AINODE="$(dirname "$SBIN_DIR")/.venv/bin/ainode"
elif command -v ainode >/dev/null 2>&1; then
  AINODE="$(command -v ainode)"
else
  echo "ainode is not installed: run 'make setup' in the repository or 'pip install ainode-core'" >&2
  exit 1
fi
