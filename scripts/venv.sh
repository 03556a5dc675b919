# Shared by run.sh and test.sh: a virtual environment in ./.venv on Python 3.11+, holding the
# versions CI tested (constraints.txt; docs/development.md says how to regenerate it).

pick_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "Papertide needs Python 3.11 or newer (apt-get install python3)." >&2
  return 1
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  # apt_install PACKAGE...: quiet on success, apt's own log on failure.
  local log; log=$(mktemp)
  if ! { as_root apt-get update -qq &&
         as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; } \
       >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"
    echo "Could not install $* with apt-get (its log is above)." >&2
    return 1
  fi
  rm -f "$log"
}

ensure_venv() {
  if [ -x .venv/bin/python ]; then return 0; fi
  local python; python=$(pick_python)
  if ! "$python" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "Installing python3-venv (Debian ships venv separately, ~5 MB)..." >&2
      apt_install python3-venv
      "$python" -m venv .venv
    else
      echo "Could not create a virtual environment: run 'sudo apt-get install python3-venv' and retry." >&2
      return 1
    fi
  fi
  # The first download: when the package index cannot be reached, say so here, with pip's
  # own error, rather than as a puzzling "No matching distribution" later on (issue #10).
  echo "Creating .venv: upgrading pip (~10 MB)..." >&2
  if ! pip_quiet install --upgrade -c constraints.txt pip; then
    rm -rf .venv
    cat >&2 <<'MSG'

pip could not download pip itself; its own words are above (after warnings about the
connection, "conflicting dependencies" or "No matching distribution" only means that pip found
nothing it could download). This is nearly always the network:
check that this machine reaches the package index (https://pypi.org/simple/, or the one set in
PIP_INDEX_URL or pip.conf), through HTTPS_PROXY if it needs a proxy, and that it trusts the
certificate it is shown (apt-get install ca-certificates; PIP_CERT for a private CA).
Then run the same command again.
MSG
    return 1
  fi
}

install_papertide() {
  # install_papertide TARGET WHAT SIZE: `pip install -e TARGET` with the tested versions,
  # skipped when pyproject.toml and constraints.txt have not changed since the last install.
  local target=$1 what=$2 size=$3 stamp key
  key=$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
  stamp=".venv/.installed-$(echo "$target" | tr -c 'a-z' '_')-$key"
  if [ -f "$stamp" ]; then return 0; fi
  echo "Installing $what into .venv ($size)..." >&2
  pip_quiet install -c constraints.txt -e "$target"
  rm -f .venv/.installed-"$(echo "$target" | tr -c 'a-z' '_')"-*
  touch "$stamp"
}

pip_quiet() {
  # Quiet on success; the whole pip log on failure.
  local log; log=$(mktemp)
  if ! .venv/bin/python -m pip "$@" -q >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"; return 1
  fi
  rm -f "$log"
}
