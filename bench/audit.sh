#!/bin/sh
# bench/audit.sh: the cost of the tamper-evident audit log. Append latency
# (median, p90, p99 in microseconds; bar: median <= 20 us added to a turn)
# on a file log in the default mode (WAL, synchronous=NORMAL) and with
# ?sync=full, then `parley audit verify` over 1,000,000 signed records
# (bar: <= 2 s). Builds Release into BENCH_DIR.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BENCH_DIR=${BENCH_DIR:-build-bench}
APPENDS=${APPENDS:-20000}
RECORDS=${RECORDS:-1000000}
W=$BENCH_DIR/audit
if [ "${1:-}" = "-h" ]; then
    echo "usage: bench/audit.sh   (env: BENCH_DIR, APPENDS, RECORDS)"
    exit 0
fi
cmake -S . -B "$BENCH_DIR" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$BENCH_DIR" -j "$(nproc)" --target parley bench_audit >/dev/null
rm -rf "$W"
mkdir -p "$W"
B=$BENCH_DIR/bench/bench_audit
echo "cpu: $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
"$BENCH_DIR/parley" audit keygen --out "$W/audit.key" >/dev/null
"$B" append "$W/append.db" "$APPENDS" "$W/audit.key"
"$B" append "$W/append-full.db?sync=full" "$((APPENDS / 4))" "$W/audit.key"
"$B" append ":memory:" "$APPENDS" "$W/audit.key"
"$B" fill "$W/verify.db" "$RECORDS" "$W/audit.key"
echo "db: $(du -h "$W/verify.db" | cut -f1) for $RECORDS records"
# Twice: the first run reads the file from disk, the second from the cache.
for run in cold warm; do
    [ "$run" = cold ] && sync && (echo 1 >/proc/sys/vm/drop_caches) 2>/dev/null || true
    start=$(date +%s.%N)
    "$BENCH_DIR/parley" audit verify --db "$W/verify.db" --public-key "$W/audit.key.pub" 2>/dev/null |
        head -n 1
    end=$(date +%s.%N)
    echo "{\"verify_records\":$RECORDS,\"run\":\"$run\",\"seconds\":$(echo "$end - $start" | bc)}"
done
