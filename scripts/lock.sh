#!/usr/bin/env bash
# Regenerate constraints.txt: the newest versions that pyproject.toml's ranges allow, installed
# into a throwaway venv and frozen. Then run `bash scripts/test.sh` and commit constraints.txt
# only if it passes: the file promises the versions CI tested (issue #10).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(mktemp -d)/venv
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
echo "Resolving the newest allowed versions in a throwaway venv (~700 MB, a few minutes)..." >&2
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -e '.[test]'
{
  echo "# The versions CI tested. scripts/run.sh and scripts/test.sh install with"
  echo "# \`pip install -c constraints.txt\`, so a fresh machine gets exactly these; pyproject.toml"
  echo "# keeps the ranges. Regenerate with \`bash scripts/lock.sh\`, then run \`bash scripts/test.sh\`"
  echo "# and commit this file only if it passes (docs/development.md)."
  "$venv/bin/python" -m pip freeze --exclude-editable | grep -vi '^papertide'
  "$venv/bin/python" -m pip --version | awk '{print "pip==" $2}'
} >constraints.txt
echo "Wrote constraints.txt ($(grep -vc '^#' constraints.txt) pins)." >&2
