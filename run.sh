#!/usr/bin/env bash
# Sets up a kho box on this machine and fills it with the bundled lesson packs:
# installs what Debian lacks, builds kho in build/, imports content-packs/packs/
# into the box's home ($KHO_HOME, else ~/.local/share/kho) and shows what is there.
set -euo pipefail
cd "$(dirname "$0")"

scripts/install-deps.sh
if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release >/dev/null
fi
ninja -C build >/dev/null

kho=build/tools/kho
"$kho" import --bundled
echo
"$kho" list
echo
echo "Try a search (accents are optional):"
echo "  $kho search duong tron"
"$kho" search --limit 3 duong tron
