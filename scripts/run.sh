#!/usr/bin/env bash
# Set up Papertide in ./.venv (first time only) and serve it on http://127.0.0.1:8000/
# with the built-in demo data. Extra arguments go to `papertide serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv
install_papertide . "Papertide and its dependencies" "~430 MB, 1-3 minutes"
exec .venv/bin/papertide serve "$@"
