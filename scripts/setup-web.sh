#!/usr/bin/env bash
# Installs what the browser app's build and tests need, skipping whatever is
# already there (so a re-run costs seconds): the wasm32 target, trunk
# 0.21.14, wasm-bindgen-cli at exactly the wasm-bindgen version of
# Cargo.lock, Debian's chromium + chromium-driver, Node.js, and the npm
# packages of web/e2e (playwright-core drives Chromium; binaryen's wasm-opt
# is put on PATH by scripts/test.sh, since Debian's is too old).
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
log() { printf '\n== setup-web: %s ==\n' "$*"; }

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then
    apt-get update
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if ! trunk --version 2>/dev/null | grep -qx "trunk $TRUNK_VERSION"; then
  log "cargo install trunk $TRUNK_VERSION (about 8 minutes)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$WASM_BINDGEN_VERSION" ]; then
  echo "setup-web: no wasm-bindgen in Cargo.lock" >&2
  exit 1
fi
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $WASM_BINDGEN_VERSION" \
  || ! wasm-bindgen-test-runner --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 3 minutes)"
  # No --locked: its lock file pins a version the registry here does not serve.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  log "apt-get install chromium chromium-driver"
  apt_install chromium chromium-driver
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  log "apt-get install nodejs npm"
  apt_install nodejs npm
fi

if ! (cd web/e2e && npm ls --depth=0 >/dev/null 2>&1 && [ -x node_modules/.bin/wasm-opt ]); then
  log "npm ci in web/e2e (playwright-core, binaryen)"
  (cd web/e2e && npm ci --no-audit --no-fund)
fi

echo "setup-web: trunk $(trunk --version | cut -d' ' -f2), wasm-bindgen $WASM_BINDGEN_VERSION," \
  "$(/usr/bin/chromium --version 2>/dev/null | head -1), node $(node --version)," \
  "wasm-opt $(web/e2e/node_modules/.bin/wasm-opt --version | cut -d' ' -f3)"
