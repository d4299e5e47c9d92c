#!/usr/bin/env bash
# Sets up a kho box on this machine and serves the bundled lesson packs to
# teachers: installs what Debian lacks, builds kho in build/, imports
# content-packs/packs/ into the box's home ($KHO_HOME, else ~/.local/share/kho),
# then runs `kho serve` and prints the address to open, until Ctrl-C.
#   KHO_LISTEN=0.0.0.0:8080 ./run.sh   serve the school's network, not only this machine
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
echo "A search from the command line (accents are optional):"
echo "  $kho search duong tron"
"$kho" search --limit 3 duong tron
echo
exec "$kho" serve ${KHO_LISTEN:+--listen "$KHO_LISTEN"}
