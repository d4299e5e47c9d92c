#!/usr/bin/env bash
# Installs the Debian 12 packages kho needs to build, run and test, when any is
# missing. Used by run.sh, test.sh and .ci/run; safe to run again.
set -euo pipefail

packages=(
  # build
  gcc meson ninja-build pkg-config python3
  # libraries (docs/dependencies.md says why each one)
  libsqlite3-dev libxml2-dev libzip-dev libzstd-dev libsodium-dev libutf8proc-dev
  libjansson-dev libmicrohttpd-dev zlib1g-dev
  # tools the tests and benchmarks use
  libxml2-utils zstd tar time clang
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "kho: installing ${missing[*]}" >&2
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
