#!/bin/sh
# The event intake over NATS JetStream end to end, against Debian's
# nats-server on a free loopback port: `parley events publish` and its
# errors; parley serve (configured by file) records valid events once,
# drops a repeated line (stream) and a repeated id (ledger), terminates an
# invalid event and logs it by sequence without its content; the consumer
# comes back after nats-server restarts; two servers sharing the durable
# split the events, each recorded once; a server killed with SIGKILL in the
# middle of a backlog loses nothing and records nothing twice.
set -u
. "${PARLEY_SOURCE_DIR:?}/tests/lib/clitest.sh"
. "$PARLEY_SOURCE_DIR/tests/lib/servertest.sh"
command -v nats-server >/dev/null 2>&1 ||
    { echo "FAIL: nats-server is not installed (scripts/setup.sh)" >&2; exit 1; }

NPID=
APID=
BPID=
SIMPID=
cleanup() {
    for pid in $APID $BPID $SIMPID; do
        kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    [ -n "$NPID" ] && kill -TERM "$NPID" 2>/dev/null && wait "$NPID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_nats: nats-server with JetStream on $NPORT, its store in $T/js
# (kept across restarts).
start_nats() {
    before=$(grep -c "Server is ready" "$T/nats.log" 2>/dev/null)
    nats-server -js -a 127.0.0.1 -p "$NPORT" -sd "$T/js" >>"$T/nats.log" 2>&1 &
    NPID=$!
    i=0
    while [ "$(grep -c "Server is ready" "$T/nats.log")" -le "${before:-0}" ]; do
        i=$((i + 1))
        if [ "$i" -gt 100 ] || ! kill -0 "$NPID" 2>/dev/null; then
            tail -20 "$T/nats.log" >&2
            echo "FAIL: nats-server did not start" >&2
            exit 1
        fi
        sleep 0.1
    done
}

stop_nats() {
    kill -TERM "$NPID" 2>/dev/null
    wait "$NPID" 2>/dev/null
    NPID=
}

# The carrier backend the rules fetch facts from: a message is acknowledged
# only once the rules decided its events, which needs an answering backend.
start_sim

# serve DIR [FLAG...]: starts parley serve on DIR in the background,
# $SERVED its pid and $SURL its URL.
serve() {
    d=$1
    shift
    mkdir -p "$d"
    : >"$d/out.log"
    "$P" serve --port 0 --data-dir "$d" --bot "$SRC/bots/carrier" --models "$T/models" \
        --web-dir "$SRC/web" --backend "$SIM" "$@" >"$d/out.log" 2>>"$d/err.log" &
    SERVED=$!
    i=0
    while ! grep -q '^listening on ' "$d/out.log" 2>/dev/null; do
        i=$((i + 1))
        if [ "$i" -gt 300 ] || ! kill -0 "$SERVED" 2>/dev/null; then
            cat "$d/err.log" >&2
            echo "FAIL: parley serve on '$d' did not start" >&2
            exit 1
        fi
        sleep 0.1
    done
    SURL=$(sed -n 's/^listening on //p' "$d/out.log")
}

stop() {
    kill -TERM "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# ledger DIR: the ledger's events as JSON lines into $T/ledger.
ledger() {
    "$P" events list --data-dir "$1" --json --limit 0 >"$T/ledger" 2>"$T/err" ||
        fail "events list: $(cat "$T/err")"
}

# count DIR PREFIX: how many recorded events have an id starting with PREFIX.
count() {
    ledger "$1"
    grep -c "\"id\": \"$2" "$T/ledger"
}

# wait_count DIR PREFIX N: waits (30 s at most) for N such events.
wait_count() {
    i=0
    while [ "$(count "$1" "$2")" -lt "$3" ]; do
        i=$((i + 1))
        if [ "$i" -gt 300 ]; then
            fail "after 30 s '$1' has $(count "$1" "$2") of $3 events '$2*'"
            return 1
        fi
        sleep 0.1
    done
}

# wait_log FILE PATTERN: waits (30 s at most) for PATTERN in FILE.
wait_log() {
    i=0
    while ! grep -q "$2" "$1"; do
        i=$((i + 1))
        if [ "$i" -gt 300 ]; then
            fail "no '$2' in $1 after 30 s: $(tail -5 "$1")"
            return 1
        fi
        sleep 0.1
    done
}

# events PREFIX N: N valid events, one per line, ids PREFIX0..
events() {
    python3 -c '
import json, sys
for i in range(int(sys.argv[2])):
    print(json.dumps({"id": "%s%d" % (sys.argv[1], i), "type": "outage_closed",
                      "outage_id": "O%d" % i, "cities": ["Anytown"]}))' "$1" "$2"
}

train_bot || exit 1
NPORT=$(free_port)
NURL=nats://127.0.0.1:$NPORT
start_nats

# ---- the publisher's errors, before any stream exists
expect_code 0 "events publish -h" "$P" events publish -h
grep -q "usage: parley events publish --nats URL" "$T/out" || fail "events publish -h: $(cat "$T/out")"
expect_code 0 "events -h" "$P" events -h
grep -q "parley events publish" "$T/out" || fail "events -h does not list publish"
expect_code 2 "events publish without --nats" "$P" events publish /dev/null
printf '{"id": "x-1", "type": "usage_90"}\nnot json\n' >"$T/badline.jsonl"
expect_code 1 "a line that is not JSON" "$P" events publish --nats "$NURL" "$T/badline.jsonl"
grep -q "bad line 2: not JSON" "$T/err" || fail "bad line message: $(cat "$T/err")"
grep -q "nothing was published" "$T/err" || fail "bad line: $(cat "$T/err")"
echo '[{"type": "usage_90"}]' >"$T/noid.jsonl"
expect_code 1 "an event without id" "$P" events publish --nats "$NURL" "$T/noid.jsonl"
grep -q "bad line 1: event 0 has no 'id'" "$T/err" || fail "no id message: $(cat "$T/err")"
echo '{"id": "c-1", "type": "usage_90"}' >"$T/one.jsonl"
closed=$(free_port)
expect_code 1 "cannot connect" "$P" events publish --nats "nats://u:secret@127.0.0.1:$closed" "$T/one.jsonl"
grep -q "cannot connect to NATS at 'nats://127.0.0.1:$closed'" "$T/err" ||
    fail "cannot connect message: $(cat "$T/err")"
grep -q secret "$T/err" && fail "the password of the URL is printed: $(cat "$T/err")"
expect_code 1 "no stream yet" "$P" events publish --nats "$NURL" "$T/one.jsonl"
grep -q "no stream takes subject 'parley.events'" "$T/err" || fail "no stream message: $(cat "$T/err")"

# ---- the server's settings
expect_code 2 "a durable name with a dot" "$P" serve --check-config --data-dir "$T/cc" \
    --bot "$SRC/bots/carrier" --models "$T/models" --web-dir "$SRC/web" --nats-url "$NURL" \
    --nats-durable a.b
grep -q "nats_durable 'a.b' must be a name" "$T/err" || fail "nats_durable check: $(cat "$T/err")"
expect_code 0 "check-config with a NATS password" "$P" serve --check-config --data-dir "$T/cc" \
    --bot "$SRC/bots/carrier" --models "$T/models" --web-dir "$SRC/web" \
    --nats-url "nats://u:secret@127.0.0.1:$NPORT" --nats-stream EV2 --nats-ack-wait 7
grep -q "^nats_url = nats://127.0.0.1:$NPORT$" "$T/out" || fail "check-config nats_url: $(cat "$T/out")"
grep -q "^nats_stream = EV2$" "$T/out" || fail "check-config nats_stream: $(cat "$T/out")"
grep -q "^nats_ack_wait = 7$" "$T/out" || fail "check-config nats_ack_wait: $(cat "$T/out")"
grep -q secret "$T/out" && fail "check-config prints the NATS password"
expect_code 1 "serve with NATS down" "$P" serve --port 0 --data-dir "$T/down" \
    --bot "$SRC/bots/carrier" --models "$T/models" --web-dir "$SRC/web" \
    --nats-url "nats://127.0.0.1:$closed"
grep -q "cannot connect to NATS at nats://127.0.0.1:$closed" "$T/err" ||
    fail "serve with NATS down: $(cat "$T/err")"

# ---- server A, configured by file: valid, repeated and invalid events
cat >"$T/a.conf" <<EOF
nats_url = $NURL
nats_ack_wait = 3
EOF
A=$T/a
serve "$A" --config "$T/a.conf"
APID=$SERVED
AURL=$SURL
grep -q "created stream 'PARLEY_EVENTS'" "$A/err.log" || fail "no stream created: $(cat "$A/err.log")"
grep -q "created durable pull consumer 'parley'" "$A/err.log" || fail "no consumer: $(cat "$A/err.log")"
e1='{"id": "n-1", "type": "usage_90", "line_id": "L1002", "customer_id": "C1001", "percent_used": 91.5}'
{
    echo "$e1"
    echo '[{"id": "n-2", "type": "outage_closed", "outage_id": "O1", "cities": ["Anytown"]}, {"id": "n-3", "type": "outage_closed", "outage_id": "O2", "cities": []}]'
    echo "$e1"
    echo "[{\"id\": \"n-4\", \"type\": \"outage_closed\", \"outage_id\": \"O4\", \"cities\": []}, $e1]"
    echo '{"id": "bad-7f3a", "type": "usage_90", "line_id": "L1002", "customer_id": "C-SECRET-42", "percent_used": "lots"}'
    echo '{"id": "bad-8c1d", "type": "usage_90", "line_id": "L1002", "customer_id": "C1001", "percent_used": 5, "jane.roe@example.com": 1}'
    echo '{"id": "bad-9e2f", "type": "outage_closed", "outage_id": "O1", "cities": [], "at": "Mrs Smith'"'"'s birthday"}'
} >"$T/first.jsonl"
expect_code 0 "publish" "$P" events publish --nats "$NURL" "$T/first.jsonl"
grep -q "^published 7 message(s) (9 event(s)): 6 stored, 1 duplicate(s)$" "$T/out" ||
    fail "publish report: $(cat "$T/out") $(cat "$T/err")"
wait_count "$A" n- 4
wait_log "$A/err.log" "message 6 of stream 'PARLEY_EVENTS' refused"
ledger "$A"
for id in n-1 n-2 n-3 n-4; do
    [ "$(grep -c "\"id\": \"$id\"" "$T/ledger")" -eq 1 ] || fail "$id is not in the ledger once"
done
grep -q bad-7f3a "$T/ledger" && fail "the invalid event was recorded"
# Stream sequences: n-1 1, [n-2, n-3] 2, (repeat dropped), [n-4, n-1] 3,
# the bad ones 4, 5 and 6: logged by sequence, the bot's words kept, the
# sender's hidden.
refused="nats: message %d of stream 'PARLEY_EVENTS' refused, nothing recorded, not redelivered: %s"
for want in \
    "$(printf "$refused" 4 "event 0: field 'percent_used' must be a number (got a string)")" \
    "$(printf "$refused" 5 "event 0: unknown field '<hidden>' (type 'usage_90' has line_id, customer_id, percent_used, seq)")" \
    "$(printf "$refused" 6 "event 0: 'at' must be an RFC 3339 time such as 2025-02-25T10:00:00Z (got '<hidden>')")"; do
    grep -q -F -- "$want" "$A/err.log" || fail "not logged: $want (log: $(grep refused "$A/err.log"))"
done
for secret in C-SECRET-42 bad-7f3a lots jane roe example bad-8c1d Smith birthday bad-9e2f; do
    grep -q -- "$secret" "$A/err.log" && fail "the log has the event's content ($secret)"
done
curl -s "$AURL/metrics" >"$T/metrics"
grep -q '^parley_nats_messages_consumed_total 6$' "$T/metrics" || fail "consumed: $(grep nats "$T/metrics")"
grep -q '^parley_nats_messages_total{outcome="acked"} 3$' "$T/metrics" || fail "acked: $(grep nats "$T/metrics")"
grep -q '^parley_nats_messages_total{outcome="termed"} 3$' "$T/metrics" || fail "termed: $(grep nats "$T/metrics")"
grep -q '^parley_nats_messages_total{outcome="naked"} 0$' "$T/metrics" || fail "naked: $(grep nats "$T/metrics")"
grep -q '^parley_nats_connected 1$' "$T/metrics" || fail "connected: $(grep nats "$T/metrics")"
grep -q '^parley_events_total 4$' "$T/metrics" || fail "events: $(grep events_total "$T/metrics")"

# The same event by HTTP and by NATS is recorded once.
expect_code 0 "keys create --role events" "$P" keys create --role events --label t --data-dir "$A"
EK=$(cat "$T/out")
URL=$AURL
req POST /v1/events "$EK" '{"id": "h-1", "type": "outage_closed", "outage_id": "O9", "cities": []}'
expect_status 202 "HTTP intake beside NATS"
echo '{"id": "h-1", "type": "outage_closed", "outage_id": "O9", "cities": []}' >"$T/h.jsonl"
expect_code 0 "publish what HTTP brought" "$P" events publish --nats "$NURL" "$T/h.jsonl"
i=0
while [ "$(curl -s "$AURL/metrics" | sed -n 's/^parley_nats_messages_total{outcome="acked"} //p')" != 4 ]; do
    i=$((i + 1))
    [ "$i" -gt 300 ] && { fail "the NATS copy of h-1 was not acknowledged"; break; }
    sleep 0.1
done
[ "$(count "$A" h-1)" -eq 1 ] || fail "h-1 is not in the ledger once"

# ---- the store refuses a write (another process holds it locked longer
# than the store's 5 s busy timeout): the message is nak'ed, comes again
# and is recorded once the store is back
python3 - "$A/parley.db" "$T/locked" <<'EOF' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
db.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
time.sleep(7)
db.execute("ROLLBACK")
EOF
LOCKER=$!
i=0
while [ ! -f "$T/locked" ] && [ "$i" -lt 100 ]; do
    i=$((i + 1))
    sleep 0.1
done
events l- 3 >"$T/l.jsonl"
expect_code 0 "publish while the store is locked" "$P" events publish --nats "$NURL" "$T/l.jsonl"
wait "$LOCKER" || fail "the store could not be locked"
wait_log "$A/err.log" "not stored or not decided, redelivered in 5 s"
wait_count "$A" l- 3
curl -s "$AURL/metrics" | grep -q '^parley_nats_messages_total{outcome="naked"} [1-9]' ||
    fail "no nak counted: $(curl -s "$AURL/metrics" | grep nats)"

# ---- nats-server restarts on the same port and store: the consumer resumes
stop_nats
wait_log "$A/err.log" "nats: disconnected from"
start_nats
wait_log "$A/err.log" "nats: reconnected to"
events r- 5 >"$T/r.jsonl"
expect_code 0 "publish after the restart" "$P" events publish --nats "$NURL" "$T/r.jsonl"
wait_count "$A" r- 5

# ---- two servers share the durable: each event recorded by one of them
B=$T/b
serve "$B" --nats-url "$NURL" --nats-ack-wait 3
BPID=$SERVED
events s- 1000 >"$T/s.jsonl"
expect_code 0 "publish 1000" "$P" events publish --nats "$NURL" "$T/s.jsonl"
grep -q "1000 stored" "$T/out" || fail "publish 1000: $(cat "$T/out")"
i=0
while [ $(($(count "$A" s-) + $(count "$B" s-))) -lt 1000 ]; do
    i=$((i + 1))
    [ "$i" -gt 600 ] && { fail "after 60 s A and B have $(($(count "$A" s-) + $(count "$B" s-))) of 1000"; break; }
    sleep 0.1
done
ledger "$A"
cp "$T/ledger" "$T/ledger.a"
ledger "$B"
python3 - "$T/ledger.a" "$T/ledger" <<'EOF' || fail "the two servers did not split the events exactly"
import json, sys
a = [json.loads(l)["id"] for l in open(sys.argv[1])]
b = [json.loads(l)["id"] for l in open(sys.argv[2])]
sa = [i for i in a if i.startswith("s-")]
sb = [i for i in b if i.startswith("s-")]
print("split: A %d, B %d" % (len(sa), len(sb)))
assert not set(sa) & set(sb), "recorded by both: %s" % sorted(set(sa) & set(sb))[:5]
assert sorted(sa + sb) == sorted("s-%d" % i for i in range(1000))
assert sa and sb, "one server got everything"
EOF
stop "$BPID"
BPID=

# ---- SIGKILL in the middle of a backlog: everything recorded exactly once
stop "$APID"
APID=
events k- 5000 >"$T/k.jsonl"
expect_code 0 "publish the backlog" "$P" events publish --nats "$NURL" "$T/k.jsonl"
# The consumer starts before the server listens: killed as soon as it does.
serve "$A" --config "$T/a.conf"
kill -KILL "$SERVED"
wait "$SERVED" 2>/dev/null
APID=
at_kill=$(count "$A" k-)
echo "killed with $at_kill of 5000 recorded"
[ "$at_kill" -lt 5000 ] || echo "note: the backlog was recorded before the kill"
serve "$A" --config "$T/a.conf"
APID=$SERVED
wait_count "$A" k- 5000
ledger "$A"
python3 - "$T/ledger" <<'EOF' || fail "the backlog is not recorded exactly once"
import json, sys
ids = [json.loads(l)["id"] for l in open(sys.argv[1])]
k = [i for i in ids if i.startswith("k-")]
assert len(k) == len(set(k)) == 5000, (len(k), len(set(k)))
assert set(k) == set("k-%d" % i for i in range(5000))
EOF
stop "$APID"
APID=
stop_nats

# Stopped cleanly: no sanitizer report (the killed run aside, it has none).
for f in "$A/err.log" "$B/err.log"; do
    grep -q -E "Sanitizer|runtime error" "$f" && fail "sanitizer report in $f: $(grep -A5 Sanitizer "$f" | head -20)"
done
finish "nats: ok"
