#!/bin/sh
# Connector overhead: starts telco-sim (Release build) on a free loopback
# port, measures the median latency of a bare keep-alive HTTP round trip to
# GET /lines/L1001 with wrk (one thread, one connection), then the median
# latency of the same call through Parley's connector, and prints both and
# the ratio (bar: <= 1.5).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BENCH_DIR:-build-bench}
DATA=${PARLEY_DATASETS:-$(cd .. && pwd)/shared/datasets}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target telco-sim bench_connect >/dev/null
T=$(mktemp -d)
trap 'kill "$SIM" 2>/dev/null || true; rm -rf "$T"' EXIT
"$BUILD/tools/telco-sim/telco-sim" --port 0 --db "$T/t.db" --seed "$DATA/tau2-telecom/db.toml" \
    >"$T/out" 2>"$T/err" &
SIM=$!
for _ in $(seq 50); do grep -q listening "$T/out" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/.*\(http:[^ ]*\).*/\1/p' "$T/out" | head -1)
[ -n "$URL" ] || { echo "telco-sim did not start: $(cat "$T/err")" >&2; exit 1; }
PIN=""
command -v taskset >/dev/null && PIN="taskset -c 1"
$PIN wrk -t1 -c1 -d5s --latency "$URL/lines/L1001" >"$T/wrk"
WRK_US=$(awk '$1 == "50%" { v = $2; if (v ~ /us$/) { sub(/us/, "", v); print v }
    else if (v ~ /ms$/) { sub(/ms/, "", v); print v * 1000 } }' "$T/wrk")
CONN=$($PIN "$BUILD/bench/bench_connect" bots/carrier/connectors/telco-sim.yml "$URL" 20000)
CONN_US=$(echo "$CONN" | sed -n 's/.*"median_us": \([0-9.]*\).*/\1/p')
RATIO=$(awk -v a="$CONN_US" -v b="$WRK_US" 'BEGIN { printf "%.2f", a / b }')
echo "bare keep-alive round trip (wrk, median): ${WRK_US} us"
echo "connector call get_line (median):          ${CONN_US} us   $CONN"
echo "ratio: ${RATIO} (bar: <= 1.5)"
