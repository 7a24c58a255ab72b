#!/bin/sh
# bench/turn.sh: latency of one conversation turn (language, intent,
# entities, flow step, state + transcript written to SQLite; no backend
# call) with the reference carrier bot, for the store's durability modes:
# the default (WAL, synchronous=NORMAL: survives a process crash),
# ?sync=full (one fsync per turn: survives a power loss) and in memory.
# Prints one JSON line per mode; the bar is a median of 200 us.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BENCH_DIR=${BENCH_DIR:-build-bench}
TURNS=${TURNS:-5000}
W=$BENCH_DIR/turn
if [ "${1:-}" = "-h" ]; then
    echo "usage: bench/turn.sh   (env: BENCH_DIR, TURNS)"
    exit 0
fi
cmake -S . -B "$BENCH_DIR" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$BENCH_DIR" -j "$(nproc)" --target parley bench_turn >/dev/null
rm -rf "$W"
mkdir -p "$W"
"$BENCH_DIR/parley" bot train bots/carrier --out "$W/models" -q
echo "cpu: $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
for store in "$W/turns.db" "$W/turns-full.db?sync=full" ":memory:"; do
    "$BENCH_DIR/bench/bench_turn" bots/carrier "$W/models" "$store" "$TURNS"
done
