# Shared by run.sh and test.sh: a virtual environment in ./.venv on Python 3.11+.

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

ensure_venv() {
  if [ -x .venv/bin/python ]; then return 0; fi
  local python; python=$(pick_python)
  if ! "$python" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "Installing python3-venv (Debian ships venv separately)..." >&2
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      "$python" -m venv .venv
    else
      echo "Could not create a virtual environment: run 'sudo apt-get install python3-venv' and retry." >&2
      return 1
    fi
  fi
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
}

pip_quiet() {
  # Quiet on success; the whole pip log on failure.
  local log; log=$(mktemp)
  if ! .venv/bin/python -m pip "$@" -q >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"; return 1
  fi
  rm -f "$log"
}
