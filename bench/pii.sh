#!/bin/sh
# bench/pii.sh: Parley's personal-data detectors against redact-pii in one
# run: per-type precision, recall and F1 on presidio-research's synthetic
# texts, throughput on one thread, peak RSS, and the bars (docs/benchmarks.md,
# "Personal data"). Builds Release into BENCH_DIR; installs redact-pii from
# bench/pii/package-lock.json into BENCH_DIR/pii/node on first run.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BENCH_DIR=${BENCH_DIR:-build-bench}
DATA=${PARLEY_DATASETS:-$(cd .. && pwd)/shared/datasets}
PII_MB=${PII_MB:-100}          # size of Parley's throughput text
PII_PEER_MB=${PII_PEER_MB:-8}  # size of redact-pii's (it is slow)
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
    echo "usage: bench/pii.sh   (env: BENCH_DIR, PARLEY_DATASETS, PII_MB, PII_PEER_MB)"
    exit 0
fi
SET=$DATA/pii/generated_large.json
[ -f "$SET" ] || { echo "bench/pii.sh: no dataset '$SET' (see docs/datasets.md)" >&2; exit 1; }
W=$BENCH_DIR/pii
NODE_DIR=$W/node
mkdir -p "$NODE_DIR"

cmake -S . -B "$BENCH_DIR" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$BENCH_DIR" -j "$(nproc)" --target bench_pii >/dev/null

# redact-pii, pinned by the lock file; nothing to do (and no network
# needed) when it is already installed from the current lock file.
if [ ! -f "$NODE_DIR/node_modules/redact-pii/package.json" ] ||
    [ ! "$NODE_DIR/node_modules/.package-lock.json" -nt bench/pii/package-lock.json ]; then
    echo "bench/pii.sh: npm ci redact-pii into $NODE_DIR" >&2
    cp bench/pii/package.json bench/pii/package-lock.json "$NODE_DIR/"
    npm ci --prefix "$NODE_DIR" --no-audit --no-fund >"$W/npm.log" 2>&1 ||
        { cat "$W/npm.log" >&2; exit 1; }
fi

PIN=""
command -v taskset >/dev/null && PIN="taskset -c 0"
echo "## Personal data: run of $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo
echo "- Machine: $(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1);" \
    "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- Parley: Release build ($(cc --version | head -n 1)); redact-pii" \
    "$(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$NODE_DIR/node_modules/redact-pii/package.json")" \
    "on node $(node --version); both pinned to one core (${PIN:-not pinned})"
echo
$PIN node bench/pii/redact_pii.mjs "$NODE_DIR" "$SET" "$W/redact-pii.jsonl" "$PII_PEER_MB" \
    >"$W/redact-pii.json"
$PIN "$BENCH_DIR/bench/bench_pii" --peer "$W/redact-pii.jsonl" --peer-stats "$W/redact-pii.json" \
    --mb "$PII_MB" --errors "$W/errors.tsv" "$SET" | tee "$W/results.md"
echo
python3 bench/pii_labels.py "$SET" | tee -a "$W/results.md"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); misses of both systems" \
    "(system, FP/FN, type, text, value): $W/errors.tsv"
