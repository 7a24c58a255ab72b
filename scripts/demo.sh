#!/bin/sh
# The main job on a fresh machine: installs what is missing, builds Parley,
# trains the reference carrier bot, and runs `parley serve --demo` (which
# starts telco-sim, the reference carrier backend) with the embedded SQLite
# store under data/. Prints the chat and console URLs and the demo keys;
# Ctrl-C stops both. Set PARLEY_PORT to choose the port (default 8080).
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh

BUILD=${PARLEY_BUILD:-build/release}
DATA=${PARLEY_DATA_DIR:-data}
echo "== building Parley ($BUILD)" >&2
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$BUILD" -j"$(nproc)" >/dev/null

mkdir -p "$DATA"
echo "== checking and training the reference carrier bot (bots/carrier)" >&2
"$BUILD/parley" bot check bots/carrier
"$BUILD/parley" bot train bots/carrier --out "$DATA/models" --threads "$(nproc)" --quiet

echo "== starting telco-sim and parley serve (Ctrl-C stops both)" >&2
exec "$BUILD/parley" serve --demo --port "${PARLEY_PORT:-8080}" --data-dir "$DATA" \
    --bot bots/carrier --models "$DATA/models" --web-dir web
