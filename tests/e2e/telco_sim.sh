#!/bin/sh
# telco-sim end to end: starts the real server on loopback ephemeral ports
# and drives every route, policy refusal, idempotency, faults and restarts
# (the checks live in telco_sim.py, Python standard library only).
set -u
SRC=${PARLEY_SOURCE_DIR:?PARLEY_SOURCE_DIR must point at the source tree}
BIN=${PARLEY_BUILD_DIR:?PARLEY_BUILD_DIR must point at the build tree}/tools/telco-sim/telco-sim
DATA=${PARLEY_DATASETS:-$SRC/../shared/datasets}
if [ ! -x "$BIN" ]; then
    echo "FAIL: telco-sim not built at '$BIN'" >&2
    exit 1
fi
if [ ! -f "$DATA/tau2-telecom/db.toml" ]; then
    echo "FAIL: '$DATA/tau2-telecom/db.toml' not found (set PARLEY_DATASETS)" >&2
    exit 1
fi
exec python3 "$SRC/tests/e2e/telco_sim.py" "$BIN" "$DATA/tau2-telecom"
