#!/usr/bin/env bash
# Installs the Debian 12 packages kho needs to build and run, when any is
# missing; with --test, also what the test suite needs (Chromium and Node.js for
# the browser tests, then the tests' npm packages); with --bench, that and wrk.
# Used by run.sh, test.sh (and so .ci/run) and tests/bench/run; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  # build
  gcc meson ninja-build pkg-config python3
  # libraries (docs/dependencies.md says why each one)
  libsqlite3-dev libxml2-dev libzip-dev libdeflate-dev libzstd-dev libsodium-dev libutf8proc-dev
  libjansson-dev libmicrohttpd-dev zlib1g-dev libcurl4-openssl-dev
)
mode=${1:-}
if [ "$mode" = --test ] || [ "$mode" = --bench ]; then
  # tools the tests and benchmarks use
  packages+=(libxml2-utils zstd tar time clang chromium minisign nginx)
  # Node.js for playwright-core: Debian's, unless one is installed already
  command -v node >/dev/null || packages+=(nodejs)
  command -v npm >/dev/null || packages+=(npm)
fi
[ "$mode" = --bench ] && packages+=(wrk)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "kho: installing ${missing[*]}" >&2
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The browser tests' one npm package (playwright-core, pinned in
# tests/web/package-lock.json), installed when missing or changed.
if { [ "$mode" = --test ] || [ "$mode" = --bench ]; } && [ -f tests/web/package-lock.json ]; then
  stamp=tests/web/node_modules/.package-lock.json
  if [ ! -f "$stamp" ] || [ tests/web/package-lock.json -nt "$stamp" ]; then
    echo "kho: installing the browser tests' npm packages" >&2
    npm ci --prefix tests/web --no-audit --no-fund --loglevel=error >/dev/null
  fi
fi
