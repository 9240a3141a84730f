# Shared by the sbin scripts: find the node home and the ainode command.
SBIN_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Set but empty is nearly always a script's unset variable: say so rather than run somewhere unintended.
if [ -n "${IOTDB_AINODE_HOME+set}" ] && [ -z "${IOTDB_AINODE_HOME// /}" ]; then
  echo "IOTDB_AINODE_HOME is set but empty; set it to the node's home folder or unset it (default: $(dirname "$SBIN_DIR"))" >&2
  exit 1
fi
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
