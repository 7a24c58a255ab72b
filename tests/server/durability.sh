#!/bin/sh
# No acknowledged turn is lost when the server is killed with SIGKILL in
# the middle of a load: every turn answered 200 is in the transcript after
# a restart on the same data folder, and the database passes SQLite's
# integrity check.
set -u
. "${PARLEY_SOURCE_DIR:?}/tests/lib/clitest.sh"
. "$PARLEY_SOURCE_DIR/tests/lib/servertest.sh"
train_bot || exit 1
start_server "$T/d"
trap 'stop_server; rm -rf "$T"' EXIT
python3 "$SRC/tests/server/durability_load.py" "$URL" "$CH" "$T/acked" 30 &
LOAD=$!
sleep 4
kill -KILL "$SPID"
wait "$SPID" 2>/dev/null
wait "$LOAD"
n=$(wc -l <"$T/acked")
[ "$n" -ge 20 ] || fail "only $n turns were acknowledged before the kill"
python3 - "$T/d/parley.db" <<'PY' || fail "integrity check failed"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
ok = db.execute("PRAGMA integrity_check").fetchone()[0]
sys.exit(0 if ok == "ok" else 1)
PY
start_server "$T/d"
lost=0
for cid in $(cut -d' ' -f1 "$T/acked" | sort -u); do
    want=$(grep -c "^$cid " "$T/acked")
    req GET "/v1/conversations/$cid" "$AG"
    have=$(field 'sum(1 for t in j["turns"] if t["role"] == "customer")')
    if [ "${have:-0}" -lt "$want" ]; then
        lost=$((lost + want - ${have:-0}))
        echo "conversation $cid: $want acknowledged, ${have:-no} found (HTTP $(cat "$T/status"): $(head -c 200 "$T/body"))" >&2
    fi
done
[ "$lost" -eq 0 ] || fail "$lost acknowledged turns were lost"
finish "$n acknowledged turns, none lost after kill -9"
