#!/usr/bin/env bash
# One-command, idempotent set-up for roomcast on Debian 12 (bookworm):
#   system packages (apt) → npm ci (without mediasoup's downloads) → mediasoup worker
#   (built offline from the npm package's sources, cached outside node_modules) → web bundles.
# Re-running it is cheap: every step checks whether its work is already done.
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

STEP="(start)"
CMD=""
START_TS=$(date +%s)
step() { STEP="$1"; echo; echo "==> [setup] $1"; }
run() { CMD="$*"; "$@"; }
fail() {
  local rc=$?
  echo >&2
  echo "!! [setup] FAILED in step: $STEP" >&2
  [ -n "$CMD" ] && echo "!! [setup] command: $CMD" >&2
  echo "!! [setup] exit code: $rc. Fix the cause above and run 'npm run setup' again (it resumes where it can)." >&2
  exit "$rc"
}
trap fail ERR

APT_PACKAGES=(
  # media: transcoding, compositing, HLS packaging, probing in tests
  ffmpeg
  # browser for the end-to-end tests and the latency benchmark (playwright-core drives it)
  chromium fonts-dejavu-core
  # mediasoup worker build: toolchain + Debian libraries replacing meson's downloaded subprojects
  g++ make python3 meson ninja-build pkg-config patch
  libssl-dev libuv1-dev libsrtp2-dev libusrsctp-dev libabsl-dev libflatbuffers-dev flatbuffers-compiler
  # misc used by scripts
  ca-certificates procps
)

# Options (env): SETUP_SKIP_BROWSER=1 leaves out Chromium (servers/containers that run no browser
# tests); SETUP_SKIP_WEB=1 skips the web bundle build (the Dockerfile builds it after copying sources).
if [ "${SETUP_SKIP_BROWSER:-}" = "1" ]; then
  APT_PACKAGES=("${APT_PACKAGES[@]/chromium/}")
fi

step "1/4 system packages (apt)"
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
  echo "roomcast's set-up needs Debian 12 (bookworm) or a derivative with apt-get." >&2
  false
fi
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  [ -n "$pkg" ] || continue
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "all ${#APT_PACKAGES[@]} packages already installed"
else
  echo "installing: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "not root and no sudo: install these packages first: ${missing[*]}" >&2; false; }
    SUDO="sudo"
  fi
  run $SUDO apt-get update -q
  run env DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

step "2/4 npm dependencies (npm ci)"
# mediasoup's postinstall would download a prebuilt worker or pip/meson subprojects; any
# non-empty MEDIASOUP_WORKER_BIN makes it skip that. We build the worker ourselves in step 3.
LOCK_HASH=$(sha256sum package-lock.json | cut -c1-16)
STAMP="node_modules/.roomcast-npm-ci-$LOCK_HASH"
if [ -f "$STAMP" ]; then
  echo "node_modules matches package-lock.json ($LOCK_HASH), skipping npm ci"
else
  run env MEDIASOUP_WORKER_BIN=built-by-roomcast-setup npm ci --no-audit --no-fund
  touch "$STAMP"
fi

step "3/4 mediasoup worker"
run bash scripts/mediasoup-worker.sh

step "4/4 web bundles (meeting page, player)"
if [ "${SETUP_SKIP_WEB:-}" = "1" ]; then
  echo "skipped (SETUP_SKIP_WEB=1)"
else
  run npm run --silent build:web
fi

echo
echo "==> [setup] done in $(( $(date +%s) - START_TS )) s. Next: 'npm test', or 'npm start' and open http://localhost:8080/"
