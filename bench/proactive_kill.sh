#!/bin/sh
# Exactly once under crashes, at scale (issue 8's bar: zero duplicate effects
# over 100,000 events with the consumer killed at random points): the same
# test as CI's server.proactive_kill (tests/server/proactive_kill.sh), on the
# Release build, with EVENTS events (default 100,000) over CUSTOMERS telco-sim
# customers (default 20,000).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BENCH_DIR:-build-bench}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target parley telco-sim >/dev/null
PARLEY="$PWD/$BUILD/parley" PARLEY_SOURCE_DIR="$PWD" PARLEY_BUILD_DIR="$PWD/$BUILD" \
    PARLEY_DATASETS="${PARLEY_DATASETS:-$(cd .. && pwd)/shared/datasets}" \
    KILL_EVENTS="${EVENTS:-100000}" KILL_CUSTOMERS="${CUSTOMERS:-20000}" KILL_MAX_S=3 \
    sh tests/server/proactive_kill.sh
