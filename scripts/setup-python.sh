#!/usr/bin/env bash
# A Python venv with the official `openai` SDK, for the test that drives
# `imgperf serve-mock` with `client.images.edit(...)` (native/tests/openai_sdk.rs).
# Skips whatever is there already; prints the venv's python on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=target/openai-sdk-venv
log() { printf '\n== setup-python: %s ==\n' "$*" >&2; }

if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  log "apt-get install python3-venv"
  apt-get update >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv >&2
fi
if [ ! -x "$VENV/bin/python" ]; then
  log "python3 -m venv $VENV"
  python3 -m venv "$VENV" >&2
fi
if ! "$VENV/bin/python" -c 'import openai' 2>/dev/null; then
  log "pip install openai"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check openai >&2
fi
echo "setup-python: openai $("$VENV/bin/python" -c 'import openai; print(openai.__version__)')" >&2
echo "$PWD/$VENV/bin/python"
