#!/bin/sh
# parley serve end to end: keys and roles, conversations and turns, bad
# input of each kind, hand-off to an agent with the stream, hand back,
# close, rating, analytics, reload (good and refused), rate limits, the
# configuration check, and a graceful stop.
set -u
. "${PARLEY_SOURCE_DIR:?}/tests/lib/clitest.sh"
. "$PARLEY_SOURCE_DIR/tests/lib/servertest.sh"
train_bot || exit 1
start_server "$T/d1"
trap 'stop_server; rm -rf "$T"' EXIT

req GET /healthz ""
expect_status 200 "healthz"

# ---- keys and roles
req POST /v1/conversations "" '{}'
expect_status 401 "no key"
req POST /v1/conversations "pk_000000000000_nope" '{}'
expect_status 401 "unknown key"
req POST /v1/conversations "$AG" '{}'
expect_status 403 "agent key starting a conversation"
expect_code 0 "keys create" "$P" keys create --role channel --label test --data-dir "$T/d1"
NEW=$(cat "$T/out")
req POST /v1/conversations "$NEW" '{"channel":"web"}'
expect_status 201 "new channel key"
expect_code 0 "keys revoke" "$P" keys revoke "$NEW" --data-dir "$T/d1"
req POST /v1/conversations "$NEW" '{}'
expect_status 401 "revoked key"
expect_code 0 "keys list" "$P" keys list --data-dir "$T/d1"
grep -q "revoked" "$T/out" || fail "keys list does not show the revoked key"
expect_code 2 "keys create without role" "$P" keys create --data-dir "$T/d1"

# ---- a conversation
req POST /v1/conversations "$CH" '{"channel":"web","language":"fr"}'
expect_status 201 "start in French"
ID=$(field 'j["conversation_id"]')
[ "$(field 'j["messages"][0]["type"]')" = text ] || fail "no welcome message"
req POST "/v1/conversations/$ID/messages" "$CH" '{"text":"je voudrais recharger 2 Go de données"}'
expect_status 200 "a message"
[ "$(field 'j["intent"]["name"]')" = refuel_data ] || fail "intent: $(cat "$T/body")"
[ "$(field 'j["language"]')" = fr ] || fail "language: $(cat "$T/body")"
[ "$(field 'j["entities"][0]["value"]')" = 2.0 ] || fail "entity: $(cat "$T/body")"
[ "$(field 'j["identity"]')" = anonymous ] || fail "identity: $(cat "$T/body")"

# ---- bad input of each kind
req POST /v1/conversations "$CH" '{"language":"xx"}'
expect_status 422 "unknown language"
req POST /v1/conversations "$CH" '{"colour":"red"}'
expect_status 400 "unknown field"
req POST "/v1/conversations/$ID/messages" "$CH" '{"text":'
expect_status 400 "truncated JSON"
req POST "/v1/conversations/$ID/messages" "$CH" '[1]'
expect_status 400 "not an object"
req POST "/v1/conversations/$ID/messages" "$CH" '{"text":""}'
expect_status 400 "empty text"
req POST "/v1/conversations/$ID/messages" "$CH" '{"text":5}'
expect_status 400 "text not a string"
long=$(python3 -c 'print("a" * 5000)')
req POST "/v1/conversations/$ID/messages" "$CH" "{\"text\":\"$long\"}"
expect_status 400 "text over 4096 bytes"
big=$(python3 -c 'print("{\"text\":\"" + "b" * 70000 + "\"}")')
req POST "/v1/conversations/$ID/messages" "$CH" "$big"
expect_status 413 "body over the limit"
deep=$(python3 -c 'print("{\"text\":\"x\",\"a\":" + "[" * 40 + "]" * 40 + "}")')
req POST "/v1/conversations/$ID/messages" "$CH" "$deep"
expect_status 413 "JSON too deep"
req POST /v1/conversations/0123456789abcdef0123456789abcdef/messages "$CH" '{"text":"hi"}'
expect_status 404 "unknown conversation"
req DELETE "/v1/conversations/$ID/messages" "$CH"
expect_status 405 "wrong method"
req GET /v1/nothing "$CH"
expect_status 404 "unknown path"
[ "$(field 'j["error"]["code"]')" = not_found ] || fail "error shape: $(cat "$T/body")"

# ---- hand-off, agent, stream
req POST "/v1/conversations/$ID/messages" "$CH" '{"text":"je veux parler à un conseiller humain"}'
expect_status 200 "ask for a person"
[ "$(field 'j["state"]')" = handed_off ] || fail "not handed off: $(cat "$T/body")"
[ "$(field 'j["messages"][0]["type"]')" = handoff ] || fail "no handoff reply"
req GET /v1/handoffs "$AG"
expect_status 200 "queue"
[ "$(field 'j["handoffs"][0]["conversation_id"]')" = "$ID" ] || fail "queue: $(cat "$T/body")"
curl -sN -m 4 -H "Authorization: Bearer $CH" "$URL/v1/conversations/$ID/stream" >"$T/stream" &
CURL=$!
sleep 1
req POST "/v1/conversations/$ID/agent-messages" "$AG" '{"text":"Bonjour, ici Marie, je regarde."}'
expect_status 201 "agent message"
req POST "/v1/conversations/$ID/messages" "$CH" '{"text":"merci"}'
expect_status 200 "message while handed off"
[ "$(field 'len(j["messages"])')" = 0 ] || fail "the bot answered a handed-off conversation"
wait "$CURL" 2>/dev/null
grep -q 'ici Marie' "$T/stream" || fail "the stream did not carry the agent's message"
req GET "/v1/conversations/$ID" "$AG"
expect_status 200 "transcript"
[ "$(field '[t["role"] for t in j["turns"]].count("agent")')" = 1 ] || fail "agent turn missing"
req POST "/v1/conversations/$ID/handback" "$AG"
expect_status 200 "hand back"
req POST "/v1/conversations/$ID/handback" "$AG"
expect_status 409 "hand back twice"
req POST "/v1/conversations/$ID/rating" "$CH" '{"score":6}'
expect_status 400 "rating out of range"
req POST "/v1/conversations/$ID/rating" "$CH" '{"score":4,"comment":"rapide"}'
expect_status 200 "rating"
req POST "/v1/conversations/$ID/close" "$CH"
expect_status 200 "close"
req POST "/v1/conversations/$ID/messages" "$CH" '{"text":"encore"}'
expect_status 409 "message after close"
req GET /v1/analytics "$AG"
expect_status 200 "analytics"
[ "$(field 'j["totals"]["handed_off"]')" -ge 1 ] || fail "analytics: $(cat "$T/body")"
[ "$(field 'j["ratings"]["distribution"]["4"]')" = 1 ] || fail "ratings: $(cat "$T/body")"
req GET '/v1/analytics?from=2026-13-01' "$AG"
expect_status 400 "bad date"

# ---- consents: admin for anyone, a channel key only in a verified conversation
req POST /v1/customers/C1001/consents "$AD" '{"scope":"auto_refuel","limits":{"max_gb_per_month":2}}'
expect_status 201 "grant by admin"
G=$(field 'j["grant_id"]')
req POST /v1/customers/C1001/consents "$AD" '{"scope":"auto_refuel","limits":{"quiet_hours":"22-08"}}'
expect_status 422 "a limit the scope does not support"
req GET /v1/customers/C1001/consents "$CH"
expect_status 403 "channel key without a conversation"
req POST /v1/conversations "$CH" '{"language":"en"}'
V=$(field 'j["conversation_id"]')
req GET "/v1/customers/C1001/consents?conversation_id=$V" "$CH"
expect_status 403 "channel key in an unverified conversation"
req POST "/v1/conversations/$V/messages" "$CH" '{"text":"I want to pay my bill"}'
req POST "/v1/conversations/$V/messages" "$CH" '{"text":"555-123-2001"}'
[ "$(field 'j["identity"]')" = identified ] || fail "phone of an account: $(cat "$T/body")"
req POST "/v1/conversations/$V/messages" "$CH" '{"text":"John Smith, born 15/06/1985"}'
[ "$(field 'j["identity"]')" = verified ] || fail "name and birth date: $(cat "$T/body")"
req GET "/v1/customers/C1001/consents?conversation_id=$V" "$CH"
expect_status 200 "channel key in the customer's verified conversation"
[ "$(field 'j["grants"][0]["active"]')" = True ] || fail "grant not listed: $(cat "$T/body")"
req GET "/v1/customers/C1002/consents?conversation_id=$V" "$CH"
expect_status 403 "another customer's grants"
req DELETE "/v1/customers/C1001/consents/$G?conversation_id=$V" "$CH"
expect_status 200 "revoke in chat channel"
req DELETE "/v1/customers/C1001/consents/$G" "$AD"
expect_status 404 "revoke twice"

# ---- audit: decisions of the conversations above, no personal data, chain intact
req GET "/v1/audit?conversation_id=$V" "$AG"
expect_status 200 "audit of a conversation"
[ "$(field '{"identity", "intent", "action"} <= {r["kind"] for r in j["records"]}')" = True ] ||
    fail "audit kinds: $(cat "$T/body")"
[ "$(field '[r["body"]["to"] for r in j["records"] if r["kind"] == "identity"][-1]')" = verified ] ||
    fail "identity change not audited: $(cat "$T/body")"
# Only the text the records hold: their hashes, times and confidences are
# digits that may contain "555" by chance.
python3 -c '
import json, sys
def texts(v):
    if isinstance(v, str):
        print(v)
    elif isinstance(v, dict):
        [texts(x) for x in v.values()]
    elif isinstance(v, list):
        [texts(x) for x in v]
[texts(r["body"]) for r in json.load(open(sys.argv[1]))["records"]]
' "$T/body" >"$T/bodies"
grep -q '555\|John\|Smith\|1985' "$T/bodies" && fail "personal data in audit records: $(cat "$T/bodies")"
req GET "/v1/audit?conversation_id=$ID" "$AG"
[ "$(field '[r["body"]["reason"] for r in j["records"] if r["kind"] == "handoff"][0]')" = customer_request ] ||
    fail "hand-off not audited: $(cat "$T/body")"
req GET "/v1/audit?customer_id=C1001" "$AD"
[ "$(field '[r["body"]["op"] for r in j["records"] if r["kind"] == "consent"]')" = "['granted', 'revoked']" ] ||
    fail "API consent changes not audited: $(cat "$T/body")"
req GET /v1/audit/verify "$AD"
[ "$(field 'j["ok"]')" = True ] || fail "audit chain: $(cat "$T/body")"
req GET "/v1/audit/explain?conversation_id=$ID" "$AG"
[ "$(field 'len(j["lines"]) > 0')" = True ] || fail "explain: $(cat "$T/body")"
expect_code 0 "parley audit verify" "$P" audit verify --data-dir "$T/d1"

# ---- privacy: export, opt-out, erase; the audit chain still verifies
req GET "/v1/customers/C1001/export?conversation_id=$V" "$CH"
expect_status 200 "export in the customer's verified conversation"
[ "$(field '[c["conversation_id"] for c in j["conversations"]].count("'"$V"'")')" = 1 ] ||
    fail "export lacks the conversation: $(head -c 300 "$T/body")"
req POST "/v1/customers/C1001/opt-out" "$AD"
expect_status 200 "opt out of training use"
req POST "/v1/customers/C1001/erase?conversation_id=$V" "$CH"
expect_status 200 "erase"
[ "$(field 'j["erased"]["conversations"] >= 1')" = True ] || fail "erase: $(cat "$T/body")"
req GET "/v1/conversations/$V" "$AG"
expect_status 404 "an erased conversation"
grep -q "$V" "$T/d1/parley.db" "$T/d1/parley.db-wal" 2>/dev/null &&
    fail "the erased conversation's id is still in the database files"
req GET /v1/audit/verify "$AD"
[ "$(field 'j["ok"]')" = True ] || fail "audit chain after erasure: $(cat "$T/body")"
req GET "/v1/audit?customer_id=C1001" "$AD"
[ "$(field '[r["body"]["request"] for r in j["records"] if r["kind"] == "privacy"]')" = "['export', 'opt_out', 'erase']" ] ||
    fail "privacy requests not audited: $(cat "$T/body")"

# ---- privacy in chat: a copy of the data, handed over as a file message once verified
req POST /v1/conversations "$CH" '{"channel":"web","language":"en"}'
X=$(field 'j["conversation_id"]')
for msg in "send me a copy of my data" "555-123-2001" "John Smith, 15/06/1985"; do
    req POST "/v1/conversations/$X/messages" "$CH" "{\"text\":\"$msg\"}"
    expect_status 200 "chat export: $msg"
done
[ "$(field '[m["type"] for m in j["messages"]]')" = "['text', 'file']" ] ||
    fail "chat export: no file message: $(head -c 400 "$T/body")"
[ "$(field 'j["messages"][1]["content"]["customer_id"]')" = C1001 ] ||
    fail "chat export: not the customer's data: $(head -c 400 "$T/body")"
[ "$(field '[c["conversation_id"] for c in j["messages"][1]["content"]["conversations"]].count("'"$X"'")')" = 1 ] ||
    fail "chat export lacks its own conversation: $(head -c 400 "$T/body")"
field 'str(j["messages"][1]["content"])' | grep -q '1985\|Smith\|555-123' &&
    fail "personal data in the chat export: $(cat "$T/body")"

# ---- privacy in chat: erasure asked for, verified and confirmed in the conversation
req POST /v1/conversations "$CH" '{"channel":"web","language":"en"}'
E=$(field 'j["conversation_id"]')
for msg in "please erase all my data" "555-123-2001" "John Smith, 15/06/1985"; do
    req POST "/v1/conversations/$E/messages" "$CH" "{\"text\":\"$msg\"}"
    expect_status 200 "chat erasure: $msg"
done
[ "$(field 'j["state"]')" = awaiting_confirmation ] || fail "chat erasure is not confirmed first: $(cat "$T/body")"
req POST "/v1/conversations/$E/messages" "$CH" '{"text":"yes"}'
expect_status 200 "chat erasure: yes"
[ "$(field 'j["state"]')" = closed ] || fail "chat erasure: $(cat "$T/body")"
req GET "/v1/conversations/$E" "$AG"
expect_status 404 "a conversation erased from chat"
grep -q "$E" "$T/d1/parley.db" "$T/d1/parley.db-wal" 2>/dev/null &&
    fail "the conversation erased from chat is still in the database files"
req GET /v1/audit/verify "$AD"
[ "$(field 'j["ok"]')" = True ] || fail "audit chain after erasure in chat: $(cat "$T/body")"

# ---- reload
req POST /v1/admin/reload "$AG" '{}'
expect_status 403 "reload by an agent"
req POST /v1/admin/reload "$AD" "{\"bot_dir\":\"$T/nothing\"}"
expect_status 422 "reload of a missing bot"
req POST /v1/conversations "$CH" '{}'
expect_status 201 "still serving after a refused reload"
req POST /v1/admin/reload "$AD" "{\"models_dir\":\"$T/models\"}"
expect_status 200 "reload"
curl -s "$URL/metrics" >"$T/metrics"
grep -q '^parley_turns_total [1-9]' "$T/metrics" || fail "metrics: turns"
grep -q '^parley_turn_duration_seconds_bucket' "$T/metrics" || fail "metrics: latency"
grep -q '^parley_reloads_total 1' "$T/metrics" || fail "metrics: reloads"

# ---- graceful stop: exit 0, telco-sim gone
SIM=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["telco_sim"])' \
    "$T/d1/demo-keys.json")
kill -TERM "$SPID"
wait "$SPID"
[ $? -eq 0 ] || fail "SIGTERM: the server did not exit cleanly"
curl -s -m 2 "$SIM/healthz" >/dev/null 2>&1 && fail "telco-sim still running after stop"

# ---- rate limit
start_server "$T/d2" PARLEY_RATE_LIMIT=0.5 PARLEY_RATE_BURST=2
req POST /v1/conversations "$CH" '{}'
req POST /v1/conversations "$CH" '{}'
req POST /v1/conversations "$CH" '{}'
expect_status 429 "third request over a burst of 2"
grep -qi '^retry-after: [1-9]' "$T/headers" || fail "429 without Retry-After"
stop_server

# ---- audit retention: the sweeper prunes records older than
# audit_retention_days at start, up to a checkpoint; verify says where the
# retained chain starts. The log is written by the format's description
# (docs/audit.md), 20 records two years old, checkpoints at 10 and 20.
mkdir -p "$T/d4"
python3 - "$T/d4/audit.db" <<'PY' || fail "python audit writer"
import hashlib, sqlite3, struct, sys, time
db = sqlite3.connect(sys.argv[1])
db.executescript("""
CREATE TABLE parley_schema (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL DEFAULT 0);
INSERT INTO parley_schema (version) VALUES (1);
CREATE TABLE audit_records (seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, kind TEXT NOT NULL,
 conversation TEXT NOT NULL, customer TEXT NOT NULL, turn INTEGER NOT NULL, body TEXT NOT NULL,
 hash BLOB NOT NULL);
CREATE TABLE audit_checkpoints (seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, hash BLOB NOT NULL,
 public_key BLOB, signature BLOB);
""")
old = int(time.time() * 1000) - 2 * 365 * 86400000
prev = bytes(32)
for i in range(1, 21):
    canon = struct.pack(">qqq", i, old + i, 1)
    for s in ("intent", "c1", "C1", '{"intent":"x"}'):
        canon += struct.pack(">I", len(s)) + s.encode()
    prev = hashlib.blake2b(prev + canon, digest_size=32).digest()
    db.execute("INSERT INTO audit_records VALUES (?,?,?,?,?,?,?,?)",
               (i, old + i, "intent", "c1", "C1", 1, '{"intent":"x"}', prev))
    if i % 10 == 0:
        db.execute("INSERT INTO audit_checkpoints (seq, time, hash) VALUES (?,?,?)", (i, 0, prev))
db.commit()
PY
start_server "$T/d4" PARLEY_AUDIT_RETENTION_DAYS=365
i=0
while :; do
    req GET /v1/audit/verify "$AD"
    [ "$(field 'j.get("pruned_through")')" = 19 ] && break
    i=$((i + 1))
    [ "$i" -lt 100 ] || fail "the sweeper did not prune the audit log: $(cat "$T/body")"
    sleep 0.1
done
[ "$(field 'j["ok"]')" = True ] || fail "audit chain after the sweeper pruned: $(cat "$T/body")"
[ "$(field 'j["first_seq"]')" = 20 ] || fail "retained chain start: $(cat "$T/body")"
stop_server
grep -q "audit retention: 19 records pruned, the chain now starts at seq 20" "$T/d4/err.log" ||
    fail "the sweeper did not log the prune: $(cat "$T/d4/err.log")"
expect_code 0 "parley audit verify after the sweeper" "$P" audit verify --data-dir "$T/d4"
grep -q "^retained chain starts at seq 20" "$T/out" || fail "verify pruned: $(cat "$T/out")"

# ---- configuration
printf 'port = 80800\n' >"$T/bad.conf"
expect_code 2 "bad configuration" "$P" serve --config "$T/bad.conf" --check-config
grep -q 'bad.conf:1' "$T/err" || fail "config error without file:line: $(cat "$T/err")"
expect_code 0 "check configuration" "$P" serve --check-config --bot "$SRC/bots/carrier" \
    --models "$T/models" --web-dir "$SRC/web" --data-dir "$T/d3"
finish "server API checks passed"
