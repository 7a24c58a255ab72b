#!/bin/sh
# The event intake end to end: telco-sim delivers its events to parley
# serve with an events key (usage marks, an outage, roaming) and they land
# in the ledger (`parley events list`) with their types; a batch with one
# bad event is refused whole with a message naming it; a redelivery counts
# as a duplicate; roles, bad JSON, size limits and the metrics counter.
set -u
. "${PARLEY_SOURCE_DIR:?}/tests/lib/clitest.sh"
. "$PARLEY_SOURCE_DIR/tests/lib/servertest.sh"
SIMBIN=${PARLEY_BUILD_DIR:?}/tools/telco-sim/telco-sim
DATA=${PARLEY_DATASETS:-$SRC/../shared/datasets}
[ -x "$SIMBIN" ] || { echo "FAIL: telco-sim not built at '$SIMBIN'" >&2; exit 1; }
[ -f "$DATA/tau2-telecom/db.toml" ] || { echo "FAIL: no '$DATA/tau2-telecom/db.toml' (set PARLEY_DATASETS)" >&2; exit 1; }
SIMPID=
stop_sim() {
    [ -n "$SIMPID" ] && kill -TERM "$SIMPID" 2>/dev/null && wait "$SIMPID" 2>/dev/null
    SIMPID=
}
train_bot || exit 1
start_server "$T/d"
trap 'stop_sim; stop_server; rm -rf "$T"' EXIT

# ---- an events key, and telco-sim delivering to the intake with it
expect_code 0 "keys create --role events" "$P" keys create --role events --label sim --data-dir "$T/d"
EK=$(cat "$T/out")
expect_code 0 "keys list" "$P" keys list --data-dir "$T/d"
grep -q " events " "$T/out" || fail "keys list does not show the events key: $(cat "$T/out")"
expect_code 1 "keys create with an unknown role" "$P" keys create --role event --data-dir "$T/d"
start_sim --seed "$DATA/tau2-telecom/db.toml" --events-url "$URL/v1/events" --events-key "$EK"

# sim PATH BODY: pulls a telco-sim lever; fails unless it answers 2xx.
sim() {
    code=$(curl -s -o "$T/simbody" -w '%{http_code}' -X POST "$SIM$1" -d "$2")
    case $code in 2??) ;; *) fail "lever $1: $code $(cat "$T/simbody")" ;; esac
}
sim /sim/lines/L1002/usage '{"gb": 100}'
sim /sim/outages '{"cities": ["Anytown"]}'
sim /sim/lines/L1002/travel '{"abroad": true, "country": "FR"}'

# Wait until the ledger has every event of the feed (delivery is async).
curl -s "$SIM/events?after=0" >"$T/feed"
nfeed=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["events"]))' "$T/feed")
[ "$nfeed" -ge 5 ] || fail "telco-sim emitted $nfeed events: $(cat "$T/feed")"
i=0
while :; do
    "$P" events list --data-dir "$T/d" --json --limit 0 >"$T/ledger" 2>"$T/err" || fail "events list: $(cat "$T/err")"
    [ "$(wc -l <"$T/ledger")" -ge "$nfeed" ] && break
    i=$((i + 1))
    if [ "$i" -gt 100 ]; then
        fail "after 10 s the ledger has $(wc -l <"$T/ledger") of $nfeed events: $(cat "$T/sim.err")"
        break
    fi
    sleep 0.1
done
python3 - "$T/feed" "$T/ledger" <<'EOF' || fail "the ledger does not match telco-sim's feed"
import json, sys
feed = json.load(open(sys.argv[1]))["events"]
ledger = [json.loads(l) for l in open(sys.argv[2])]
by_id = {e["id"]: e for e in ledger}
for ev in feed:
    got = by_id.get(ev["id"])
    assert got, "missing %s" % ev["id"]
    assert got["type"] == ev["type"], (got, ev)
    assert got["event"] == ev, (got["event"], ev)
    assert got["status"] in ("received", "done"), got  # rules may have run already
    assert got["at"] == ev["at"], (got["at"], ev["at"])
types = sorted(e["type"] for e in ledger)
for t in ["outage_opened", "roaming_detected", "usage_100", "usage_80", "usage_90"]:
    assert t in types, (t, types)
# newest first: seq descending
seqs = [e["seq"] for e in ledger]
assert seqs == sorted(seqs, reverse=True), seqs
EOF
grep -q "delivery .* failed" "$T/sim.err" && fail "telco-sim delivery failed: $(cat "$T/sim.err")"
# The plain listing: one line per event, newest first; --after pages oldest first.
expect_code 0 "events list" "$P" events list --data-dir "$T/d" --limit 2
[ "$(wc -l <"$T/out")" -eq 2 ] || fail "events list --limit 2: $(cat "$T/out")"
grep -q "roaming_detected" "$T/out" || fail "events list, newest first: $(cat "$T/out")"
expect_code 0 "events list --after" "$P" events list --data-dir "$T/d" --after 1 --limit 1
grep -q "^2 " "$T/out" || fail "events list --after 1: $(cat "$T/out")"
expect_code 0 "events -h" "$P" events -h
grep -q "usage: parley events list" "$T/out" || fail "events -h prints no usage"
expect_code 2 "events without subcommand" "$P" events
expect_code 2 "events unknown subcommand" "$P" events show
expect_code 2 "events list --limit x" "$P" events list --data-dir "$T/d" --limit x
expect_code 2 "events list extra argument" "$P" events list --data-dir "$T/d" extra

# ---- all or nothing: one good and one bad event, nothing recorded
good='{"id": "t-good", "type": "usage_90", "line_id": "L1002", "customer_id": "C1001", "percent_used": 91.5}'
bad='{"id": "t-bad", "type": "usage_90", "line_id": "L1002", "customer_id": "C1001", "percent_used": "high"}'
req POST /v1/events "$EK" "[$good, $bad]"
expect_status 400 "a batch with a bad event"
[ "$(field 'j["error"]["code"]')" = bad_field ] || fail "bad event code: $(cat "$T/body")"
field 'j["error"]["message"]' | grep -q "^event 1 (t-bad): field 'percent_used' must be a number (got a string)" ||
    fail "bad event message: $(cat "$T/body")"
"$P" events list --data-dir "$T/d" --json --limit 0 >"$T/ledger"
grep -q '"t-good"' "$T/ledger" && fail "the good event of a refused batch was recorded"
req POST /v1/events "$EK" '{"id": "t-1", "type": "usage_95"}'
expect_status 400 "unknown type"
field 'j["error"]["message"]' | grep -q "unknown type 'usage_95' (expected one of usage_80, usage_90" ||
    fail "unknown type message: $(cat "$T/body")"
req POST /v1/events "$EK" '{"id": "t-1", "type": "usage_90", "lin_id": "L1"}'
expect_status 400 "unknown field"
field 'j["error"]["message"]' | grep -q "unknown field 'lin_id'" || fail "unknown field: $(cat "$T/body")"
req POST /v1/events "$EK" '{"id": "t-1", "type": "outage_closed", "outage_id": "O1"}'
expect_status 400 "missing field"
field 'j["error"]["message"]' | grep -q "missing field 'cities'" || fail "missing field: $(cat "$T/body")"
req POST /v1/events "$EK" '{"id": "t-1", "type": "outage_closed", "outage_id": "O1", "cities": [], "at": "yesterday"}'
expect_status 400 "bad at"
field 'j["error"]["message"]' | grep -q "'at' must be an RFC 3339 time" || fail "bad at: $(cat "$T/body")"

# ---- redelivery: the same event twice
req POST /v1/events "$EK" "$good"
expect_status 202 "one event"
[ "$(field 'j["accepted"], j["duplicates"]')" = "1 0" ] || fail "first delivery: $(cat "$T/body")"
req POST /v1/events "$EK" "$good"
expect_status 202 "the same event again"
[ "$(field 'j["accepted"], j["duplicates"]')" = "0 1" ] || fail "redelivery: $(cat "$T/body")"
"$P" events list --data-dir "$T/d" --json --limit 0 >"$T/ledger"
[ "$(grep -c '"t-good"' "$T/ledger")" -eq 1 ] || fail "t-good is not in the ledger once"

# ---- roles: admin may, events keys only here, channel and agent may not
req POST /v1/events "$AD" '[{"id": "t-admin", "type": "outage_closed", "outage_id": "O9", "cities": ["X"]}]'
expect_status 202 "admin key"
req POST /v1/events "$CH" "$good"
expect_status 403 "channel key"
req POST /v1/events "$AG" "$good"
expect_status 403 "agent key"
req POST /v1/events "" "$good"
expect_status 401 "no key"
req POST /v1/conversations "$EK" '{}'
expect_status 403 "events key starting a conversation"
req GET /v1/handoffs "$EK"
expect_status 403 "events key reading the queue"
req GET /v1/events "$EK"
expect_status 405 "GET /v1/events"

# ---- bad JSON, empty body, sizes
req POST /v1/events "$EK" '[{"id": "x", '
expect_status 400 "truncated JSON"
[ "$(field 'j["error"]["code"]')" = bad_json ] || fail "bad JSON code: $(cat "$T/body")"
req POST /v1/events "$EK" '[]'
expect_status 400 "empty array"
req POST /v1/events "$EK"
expect_status 400 "no body"
# 700 events (about 90 KB, over the 64 KiB of other routes) pass; over 1 MiB is refused.
python3 -c '
import json
print(json.dumps([{"id": "bulk-%d" % i, "type": "outage_closed", "outage_id": "O%d" % i, "cities": ["Anytown"]} for i in range(700)]))' >"$T/bulk"
req POST /v1/events "$EK" "@$T/bulk"
expect_status 202 "700 events"
[ "$(field 'j["accepted"]')" = 700 ] || fail "700 events: $(cat "$T/body")"
python3 -c '
import json
print(json.dumps([{"id": "big-%d" % i, "type": "outage_closed", "outage_id": "O" * 1200, "cities": []} for i in range(1000)]))' >"$T/big"
req POST /v1/events "$EK" "@$T/big"
expect_status 413 "over 1 MiB"
python3 -c '
import json
print(json.dumps([{"id": "n-%d" % i, "type": "outage_closed", "outage_id": "O", "cities": []} for i in range(1001)]))' >"$T/many"
req POST /v1/events "$EK" "@$T/many"
expect_status 413 "1001 events"
"$P" events list --data-dir "$T/d" --json --limit 0 >"$T/ledger"
grep -q '"n-0"' "$T/ledger" && fail "a refused batch of 1001 was recorded"

# ---- metrics count what was recorded
curl -s "$URL/metrics" >"$T/metrics"
grep -q '^parley_events_total [1-9]' "$T/metrics" || fail "no parley_events_total: $(grep events "$T/metrics")"

stop_sim
stop_server
finish "events: ok"
