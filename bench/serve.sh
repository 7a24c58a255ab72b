#!/bin/sh
# bench/serve.sh: turns per second through the HTTP API. Builds Parley
# (Release), trains the carrier bot, starts `parley serve --demo` (SQLite
# default store, telco-sim on loopback), creates conversations, then drives
# POST /v1/conversations/{id}/messages with wrk and, in the same run,
# GET /healthz as the ceiling of the HTTP layer alone. Prints turns/s,
# p50/p99 and the ratio. Env: CONVS (2000), SECONDS (20), CONNS (64),
# THREADS (2), PREFILL (0: conversations of 10 turns written first, spread
# over the last 24 h; 100000 = 1 million turns).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
B=${BENCH_DIR:-build-bench}
CONVS=${CONVS:-2000}
SECS=${SECONDS_RUN:-20}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$B" -j"$(nproc)" --target parley telco-sim >/dev/null
W=$B/serve
rm -rf "$W/data"
mkdir -p "$W/data"
[ -f "$W/models/langid.model" ] ||
    "$B/parley" bot train bots/carrier --out "$W/models" --threads 2 --quiet
PREFILL=${PREFILL:-0}
if [ "$PREFILL" -gt 0 ]; then
    # 24 hours of history: PREFILL conversations of 5 exchanges (10 turns)
    # spread over the last day, written before the server starts.
    "$B/parley" keys list --data-dir "$W/data" >/dev/null
    echo "== pre-filling the store: $PREFILL conversations, $((PREFILL * 10)) turns" >&2
    python3 - "$W/data/parley.db" "$PREFILL" <<'PY'
import json, os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
n = int(sys.argv[2])
now = int(time.time() * 1000)
db.execute("PRAGMA synchronous = OFF")
with db:
    for i in range(n):
        cid = os.urandom(16).hex()
        t = now - 86400000 + i * 86400000 // n
        db.execute("INSERT INTO conversations (id, created, updated, channel, language, state,"
                   " version, status, intent, customer_turns) VALUES (?, ?, ?, 'web', 'en', ?,"
                   " 11, 'closed', 'check_balance', 5)", (cid, t, t + 60000, json.dumps({})))
        db.executemany("INSERT INTO turns (conversation_id, seq, role, text, intent, confidence,"
                       " created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [(cid, k + 1, "customer" if k % 2 == 0 else "bot",
                         "how much do I owe this month?" if k % 2 == 0 else
                         "Your bill is 42.00 USD, due on the 5th.",
                         "check_balance" if k % 2 == 0 else None, 0.97 if k % 2 == 0 else None,
                         t + k * 6000) for k in range(10)])
PY
fi
PARLEY_RATE_LIMIT=1000000 PARLEY_RATE_BURST=1000000 "$B/parley" serve --demo --port 0 \
    --data-dir "$W/data" --models "$W/models" --threads 4 >"$W/out.log" 2>"$W/err.log" &
SPID=$!
trap 'kill -TERM $SPID 2>/dev/null; wait $SPID 2>/dev/null || true' EXIT
while ! grep -q '^listening on' "$W/out.log"; do sleep 0.1; done
URL=$(sed -n 's/^listening on //p' "$W/out.log")
KEY=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["channel"])' "$W/data/demo-keys.json")
python3 - "$URL" "$KEY" "$CONVS" "$W/ids.txt" <<'PY'
import json, sys, urllib.request
url, key, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with open(out, "w") as f:
    for _ in range(n):
        rq = urllib.request.Request(url + "/v1/conversations", data=b"{}", method="POST",
                                    headers={"Authorization": "Bearer " + key})
        f.write(json.loads(urllib.request.urlopen(rq).read())["conversation_id"] + "\n")
PY
echo "== wrk: $CONNS connections, $THREADS threads, ${SECS}s, $CONVS conversations" >&2
PARLEY_BENCH_KEY=$KEY wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency -s bench/serve_turns.lua \
    "$URL" -- "$W/ids.txt" >"$W/turns.txt"
wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency "$URL/healthz" >"$W/healthz.txt"
turns=$(sed -n 's/^RESULT //p' "$W/turns.txt")
hz=$(awk '/Requests\/sec/ {print $2}' "$W/healthz.txt")
echo "turns:   $turns"
echo "healthz: rps=$hz"
python3 - "$turns" "$hz" <<'PY'
import sys
d = dict(kv.split("=") for kv in sys.argv[1].split())
print(f"ratio turns/healthz = {float(d['rps']) / float(sys.argv[2]):.3f}")
print(f"bar: >= 5000 turns/s with p99 <= 20 ms: {'MET' if float(d['rps']) >= 5000 and float(d['p99_ms']) <= 20 else 'NOT MET'}")
PY
