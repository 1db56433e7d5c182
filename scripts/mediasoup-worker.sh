#!/usr/bin/env bash
# Builds mediasoup's C++ worker offline from the sources inside the npm package, against
# Debian bookworm's libraries (patches/mediasoup-worker-*.patch), and caches the binary outside
# node_modules keyed by mediasoup version + patch + this script, so `npm ci` never forces a rebuild.
# Installs it where mediasoup looks by default (worker/out/Release/mediasoup-worker): no env var needed.
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

MS_DIR="node_modules/mediasoup"
[ -f "$MS_DIR/package.json" ] || { echo "mediasoup is not installed (run npm ci first)" >&2; exit 1; }
MS_VERSION=$(node -p "require('./$MS_DIR/package.json').version")
PATCH="patches/mediasoup-worker-$MS_VERSION-debian-bookworm.patch"
[ -f "$PATCH" ] || { echo "no worker patch for mediasoup $MS_VERSION (expected $PATCH)" >&2; exit 1; }
KEY="$MS_VERSION-$(cat "$PATCH" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)"
CACHE_DIR="${ROOMCAST_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/roomcast}/mediasoup-worker/$KEY"
CACHED_BIN="$CACHE_DIR/mediasoup-worker"
TARGET="$MS_DIR/worker/out/Release/mediasoup-worker"

if [ ! -x "$CACHED_BIN" ]; then
  echo "no cached worker for $KEY: building (≈5 min on 2 cores)"
  BUILD_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/roomcast-worker-build.XXXXXX")
  trap 'rm -rf "$BUILD_ROOT"' EXIT
  SRC="$BUILD_ROOT/src"
  cp -r "$MS_DIR/worker" "$SRC"
  rm -rf "$SRC/out" "$SRC/subprojects/"*.wrap "$SRC/subprojects/packagecache"
  echo "applying $PATCH"
  patch -s -p1 -d "$SRC" < "$PATCH"
  meson setup "$BUILD_ROOT/build" "$SRC" --buildtype release -Db_ndebug=true \
    -Dms_disable_liburing=true --wrap-mode=nofallback > "$BUILD_ROOT/meson-setup.log" 2>&1 \
    || { cat "$BUILD_ROOT/meson-setup.log" >&2; echo "meson setup failed (log above)" >&2; exit 1; }
  # The generated FBS headers must exist before any worker source compiles.
  meson compile -C "$BUILD_ROOT/build" flatbuffers-generator > /dev/null
  ninja -C "$BUILD_ROOT/build" mediasoup-worker | awk '/^\[[0-9]+\/[0-9]+\]/ { n++; if (n % 25 == 0) { print "  " $1 " compiling…"; fflush() } next } { print }'
  strip "$BUILD_ROOT/build/mediasoup-worker"
  mkdir -p "$CACHE_DIR"
  cp "$BUILD_ROOT/build/mediasoup-worker" "$CACHED_BIN.tmp.$$"
  mv -f "$CACHED_BIN.tmp.$$" "$CACHED_BIN"
  echo "worker built and cached at $CACHED_BIN"
else
  echo "using cached worker $CACHED_BIN"
fi

mkdir -p "$(dirname "$TARGET")"
if ! cmp -s "$CACHED_BIN" "$TARGET" 2>/dev/null; then
  cp "$CACHED_BIN" "$TARGET.tmp.$$" && mv -f "$TARGET.tmp.$$" "$TARGET"
fi
chmod +x "$TARGET"
# Smoke check: the binary starts and answers mediasoup's channel (catches missing runtime libs).
node --input-type=module -e "
import { createWorker } from 'mediasoup';
const w = await createWorker({ logLevel: 'error' });
const r = await w.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] });
console.log('mediasoup worker OK (pid ' + w.pid + ', router ' + r.id.slice(0, 8) + ')');
w.close();
"
