#!/usr/bin/env bash
# Try the README's two commands as a new user would (issue #10): in a fresh, minimal Debian
# bookworm root (debootstrap --variant=minbase with only python3, python3-venv, python3-pip,
# git, ca-certificates and curl), on a clean clone, with ../shared beside it as CI has it.
# Each run: `bash scripts/run.sh` until / answers 200, a few pages fetched, the server stopped,
# then `CI=true bash scripts/test.sh -q`. Ends with one summary line per run; exits 1 if any
# run failed. Needs root (debootstrap, chroot, mount). See docs/development.md.
#
#   sudo bash scripts/fresh-machine-check.sh [--runs N] [--ref BRANCH] [--rebuild-root] [--keep]
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: sudo bash scripts/fresh-machine-check.sh [options]
  --runs N          how many runs in a row, each on a fresh root (default 1)
  --ref REF         the branch or tag to clone (default main)
  --repo PATH       the repository to clone (default: the one holding this script)
  --shared PATH     the folder mounted read-only as ../shared (default: REPO/../shared)
  --cache DIR       where the pristine root tarball and the logs live
                    (default /var/cache/papertide-fresh-machine)
  --port N          the port run.sh serves on (default: a free one)
  --mirror MODE     auto | none: copy this machine's package sources into the root
                    (auto, the default, copies what exists; none copies nothing)
  --start-timeout S seconds to wait for run.sh's first page (default 1800)
  --rebuild-root    build the pristine root again even if it is cached
  --keep            keep each run's root (unmounted) for a look afterwards
EOF
}

runs=1 ref=main repo="" shared="" cache=/var/cache/papertide-fresh-machine port="" mirror=auto
start_timeout=1800 rebuild=0 keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --ref) ref=$2; shift 2 ;;
    --repo) repo=$2; shift 2 ;;
    --shared) shared=$2; shift 2 ;;
    --cache) cache=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --mirror) mirror=$2; shift 2 ;;
    --start-timeout) start_timeout=$2; shift 2 ;;
    --rebuild-root) rebuild=1; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done

[ "$(id -u)" = 0 ] || { echo "fresh-machine-check needs root (debootstrap, chroot, mount)." >&2; exit 2; }
for tool in debootstrap chroot mount curl git tar; do
  command -v "$tool" >/dev/null || { echo "missing: $tool (apt-get install $tool)" >&2; exit 2; }
done
[ -n "$repo" ] || repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
repo=$(cd "$repo" && pwd)
[ -n "$shared" ] || shared="$repo/../shared"
[ -d "$shared" ] || { echo "no shared folder at $shared (use --shared)" >&2; exit 2; }
shared=$(cd "$shared" && pwd)
commit=$(git -C "$repo" rev-parse --verify --quiet "$ref^{commit}") ||
  { echo "no such ref in $repo: $ref" >&2; exit 2; }

readonly PACKAGES=python3,python3-venv,python3-pip,git,ca-certificates,curl
readonly PAGES=("/" "/papers?q=diffusion" "/papers/trending" "/api/daily_papers")
tarball="$cache/bookworm-minbase.tar.gz"
logs="$cache/logs/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$cache" "$logs"

say() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*"; }

# Everything mounted, newest last; cleanup() unmounts in reverse order, also on failure.
mounts=()
root=""
server_pid=""
cleanup() {
  local i
  if [ -n "$server_pid" ]; then kill -KILL -- "-$server_pid" 2>/dev/null || true; fi
  if [ -n "$root" ]; then kill_inside "$root"; fi
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null || true
  done
  mounts=()
  if [ -n "$root" ] && [ "$keep" = 0 ]; then
    if findmnt -rn -o TARGET | grep -q "^$root"; then
      say "warning: something is still mounted under $root; leaving it in place"
    else
      rm -rf "$(dirname "$root")"
    fi
  fi
  root=""
  server_pid=""
}
trap 'exit 130' INT TERM

kill_inside() {
  # Every process whose root is the chroot: a server or browser left behind by a failed step.
  local target=$1 link pid
  for link in /proc/[0-9]*/root; do
    pid=${link#/proc/}; pid=${pid%/root}
    if [ "$(readlink "$link" 2>/dev/null)" = "$target" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
}

bind_mount() {  # bind_mount SOURCE TARGET [ro]
  mkdir -p "$2"
  mount --bind "$1" "$2"
  mounts+=("$2")
  if [ "${3:-}" = ro ]; then mount -o remount,bind,ro "$2"; fi
}

build_root() {
  local tmp; tmp=$(mktemp -d "$cache/build.XXXXXX")
  say "building the pristine bookworm root (debootstrap minbase, ~420 MB, a few minutes)"
  if ! debootstrap --variant=minbase --include="$PACKAGES" bookworm "$tmp/root" \
      http://deb.debian.org/debian >"$logs/debootstrap.log" 2>&1; then
    tail -20 "$logs/debootstrap.log" >&2; rm -rf "$tmp"; return 1
  fi
  tar -C "$tmp/root" -czf "$tarball.part" . && mv "$tarball.part" "$tarball"
  rm -rf "$tmp"
  say "cached the pristine root as $tarball ($(du -h "$tarball" | cut -f1))"
}

use_this_machines_mirror() {
  # This machine reaches Debian and PyPI only through its own configuration: host names in
  # /etc/hosts, apt sources and options, pip's indexes and wheel folders, a CA bundle for its
  # HTTPS proxy. A machine on the internet needs none of this: run with --mirror none there.
  local target=$1 dir
  cp /etc/hosts /etc/resolv.conf "$target/etc/"
  if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
    rm -f "$target/etc/apt/sources.list"
    cp /etc/apt/sources.list.d/*.sources "$target/etc/apt/sources.list.d/"
  fi
  cp /etc/apt/apt.conf.d/99* "$target/etc/apt/apt.conf.d/" 2>/dev/null || true
  cp /etc/ssl/certs/ca-certificates.crt "$target/usr/local/share/papertide-host-ca.crt"
  if [ -f /etc/pip.conf ]; then cp /etc/pip.conf "$target/etc/pip.conf"; fi
  if [ -d /etc/xdg/pip ]; then mkdir -p "$target/etc/xdg" && cp -r /etc/xdg/pip "$target/etc/xdg/"; fi
  for dir in /opt/wheels /opt/pypi /opt/pypi-more; do
    if [ -d "$dir" ]; then bind_mount "$dir" "$target$dir" ro; fi
  done
}

chroot_command() {  # chroot_command ENV... -- SHELL-COMMAND: sets `command` to run it in the clone
  local env=(HOME=/root LANG=C.UTF-8 TERM=dumb
             PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
  while [ "$1" != -- ]; do env+=("$1"); shift; done
  shift
  if [ "$mirror" != none ]; then
    while IFS= read -r var; do env+=("$var"); done < <(env | grep '^PIP_' || true)
    # pip and curl read this machine's CA bundle (the chroot's own is Debian's default one).
    env+=(PIP_CERT=/usr/local/share/papertide-host-ca.crt
          CURL_CA_BUNDLE=/usr/local/share/papertide-host-ca.crt)
  fi
  command=(chroot "$root" /usr/bin/env -i "${env[@]}" /bin/bash -c "cd /work/papertide && $1")
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

fetch_pages() {  # prints "path=code" for each page; returns 1 unless all answer 200
  local base=$1 page code ok=0
  for page in "${PAGES[@]}"; do
    code=$(curl -s -o /dev/null -m 60 -w '%{http_code}' "$base$page" || true)
    printf '%s=%s ' "$page" "$code"
    [ "$code" = 200 ] || ok=1
  done
  return "$ok"
}

one_run() {  # one_run N: writes its summary line to $logs/runN.result
  local n=$1 dir start elapsed log base code pages_status test_status serve_s test_s summary
  local label="run $n/$runs"
  dir=$(mktemp -d /var/tmp/papertide-fresh.XXXXXX)
  root="$dir/root"
  mkdir -p "$root"
  start=$SECONDS
  tar -C "$root" -xzf "$tarball"
  if [ "$mirror" != none ]; then use_this_machines_mirror "$root"; fi
  bind_mount /proc "$root/proc"
  bind_mount /sys "$root/sys"
  bind_mount /dev "$root/dev"
  bind_mount /dev/pts "$root/dev/pts"
  mkdir -p "$root/dev/shm"; mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"; mounts+=("$root/dev/shm")
  bind_mount "$shared" "$root/work/shared" ro
  git clone --quiet --no-hardlinks --branch "$ref" "$repo" "$root/work/papertide" 2>"$logs/clone.log" ||
    git clone --quiet --no-hardlinks "$repo" "$root/work/papertide"
  git -C "$root/work/papertide" checkout --quiet --detach "$commit"
  say "$label: fresh root and clean clone of $ref ($(git -C "$root/work/papertide" rev-parse --short HEAD)) in $((SECONDS - start)) s"

  # 1. bash scripts/run.sh, until / answers 200.
  log="$logs/run$n-serve.log"
  local run_port=${port:-$(free_port)}
  base="http://127.0.0.1:$run_port"
  start=$SECONDS
  say "$label: bash scripts/run.sh --port $run_port (log: $log)"
  chroot_command -- "exec bash scripts/run.sh --port $run_port"
  # Its own session, so that stopping it stops everything it started.
  setsid "${command[@]}" </dev/null >"$log" 2>&1 &
  server_pid=$!
  code=000
  while [ $((SECONDS - start)) -lt "$start_timeout" ]; do
    code=$(curl -s -o /dev/null -m 10 -w '%{http_code}' "$base/" || true)
    [ "$code" = 200 ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 2
  done
  serve_s=$((SECONDS - start))
  if [ "$code" = 200 ]; then
    pages_status=$(fetch_pages "$base") && pages_ok=1 || pages_ok=0
    say "$label: first page after ${serve_s} s; $pages_status"
  else
    pages_ok=0 pages_status="/ never answered 200 (last: $code)"
    say "$label: run.sh gave no first page in ${serve_s} s; its last lines:"
    tail -15 "$log" | sed 's/^/    /'
  fi
  kill -TERM -- "-$server_pid" 2>/dev/null || true
  for _ in $(seq 20); do kill -0 "$server_pid" 2>/dev/null || break; sleep 1; done
  kill -KILL -- "-$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""

  # 2. CI=true bash scripts/test.sh -q
  log="$logs/run$n-test.log"
  start=$SECONDS
  say "$label: CI=true bash scripts/test.sh -q (log: $log)"
  chroot_command CI=true -- "bash scripts/test.sh -q"
  if "${command[@]}" </dev/null >"$log" 2>&1; then
    test_status=0
  else
    test_status=$?
  fi
  test_s=$((SECONDS - start))
  summary=$(grep -E '^[=]* *[0-9]+ (passed|failed|error)' "$log" | tail -1 | tr -d '=' | sed 's/^ *//;s/ *$//' || true)
  [ -n "$summary" ] || summary="no pytest summary; last line: $(tail -1 "$log")"
  say "$label: test.sh exited $test_status after ${test_s} s: $summary"
  if [ "$test_status" != 0 ]; then tail -25 "$log" | sed 's/^/    /'; fi

  cleanup
  local verdict=PASS pages=ok
  [ "$pages_ok" = 1 ] || pages=FAILED
  [ "$pages_ok" = 1 ] && [ "$test_status" = 0 ] || verdict=FAIL
  case "$summary" in *failed* | *error*) verdict=FAIL ;; *passed*) ;; *) verdict=FAIL ;; esac
  echo "$label: $verdict  run.sh: first page ${serve_s} s, pages $pages  test.sh: ${test_s} s, exit $test_status ($summary)" >"$logs/run$n.result"
  [ "$verdict" = PASS ]
}

if [ "$rebuild" = 1 ] || [ ! -f "$tarball" ]; then build_root; fi
say "checking $ref ($(git -C "$repo" rev-parse --short "$commit")) of $repo, $runs run(s); logs in $logs"
failed=0
for n in $(seq "$runs"); do
  # A subshell per run: `set -e` holds inside it (it would not inside `if one_run`), and its
  # own trap unmounts that run's root however it ends.
  set +e
  (set -e; trap cleanup EXIT; trap 'exit 130' INT TERM; one_run "$n")
  rc=$?
  set -e
  if [ ! -f "$logs/run$n.result" ]; then
    echo "run $n/$runs: FAIL  the run stopped early (exit $rc); see the lines above" >"$logs/run$n.result"
  fi
  [ "$rc" = 0 ] || failed=1
done
echo
for n in $(seq "$runs"); do cat "$logs/run$n.result"; done
exit "$failed"
