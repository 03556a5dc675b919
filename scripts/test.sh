#!/usr/bin/env bash
# Set up everything the test suite needs and run all of it: lint, types, unit, slow and
# browser tests. Installs Debian's chromium when missing (needs root or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh

if ! command -v chromium >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..." >&2
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi

ensure_venv
pip_quiet install -e '.[test]'

echo "== ruff"; .venv/bin/ruff check src tests bench scripts
echo "== mypy"; .venv/bin/mypy
echo "== pytest"
set +e
.venv/bin/python -m pytest -m "" "$@"
status=$?
set -e
if [ "$status" = 5 ]; then
  echo "pytest collected no tests: that is a failure." >&2
  exit 1
fi
exit "$status"
