#!/usr/bin/env bash
# Remove this AINode from its IoTDB cluster (removeAINode on the ConfigNode) and forget its identity.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
exec "$AINODE" remove "$@"
