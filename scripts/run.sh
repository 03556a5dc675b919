#!/usr/bin/env bash
# Set up Papertide in ./.venv (first time only) and serve it on http://127.0.0.1:8000/
# with the built-in demo data. Extra arguments go to `papertide serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv
pip_quiet install -e .
exec .venv/bin/papertide serve "$@"
