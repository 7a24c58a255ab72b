#!/bin/sh
# Proactive care, intake to decision (issue 8's bar: >= 50,000 events/s with
# the connector calls excluded): starts telco-sim (Release build) with
# CUSTOMERS synthetic customers (default 1,000,000; the seeded database is
# kept in $BENCH_DIR and reused), then runs bench_proactive: grants for a
# fixed share of the customers, EVENTS events of a realistic mix (usage
# thresholds, roaming, device problems, suspensions, failed payments) through
# validation, the ledger, the carrier bot's rules, the trust decisions and
# the batched commits, and one outage fanned out to every outreach holder.
# Backend time is measured around each connector call and subtracted.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BENCH_DIR:-build-bench}
DATA=${PARLEY_DATASETS:-$(cd .. && pwd)/shared/datasets}
CUSTOMERS=${CUSTOMERS:-1000000}
EVENTS=${EVENTS:-200000}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target telco-sim bench_proactive >/dev/null
DB="$BUILD/telco-$CUSTOMERS.db"
T=$(mktemp -d)
trap 'kill "$SIM" 2>/dev/null || true; rm -rf "$T"' EXIT
[ -f "$DB" ] || echo "seeding telco-sim with $CUSTOMERS customers (once; kept in $DB)" >&2
"$BUILD/tools/telco-sim/telco-sim" --port 0 --db "$DB" --seed "$DATA/tau2-telecom/db.toml" \
    --synthetic "$CUSTOMERS" >"$T/out" 2>"$T/err" &
SIM=$!
for _ in $(seq 3000); do grep -q listening "$T/out" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/.*\(http:[^ ]*\).*/\1/p' "$T/out" | head -1)
[ -n "$URL" ] || { echo "telco-sim did not start: $(cat "$T/err")" >&2; exit 1; }
mkdir "$T/work"
"$BUILD/bench/bench_proactive" bots/carrier "$URL" "$T/work" "$CUSTOMERS" "$EVENTS"
echo "bar: >= 50000 events/s (intake to decision, connector calls excluded)"
