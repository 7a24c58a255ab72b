#!/bin/sh
# parley learn end to end: customers' training_use grants are given and
# revoked through the real server's API; logs full of personal values from
# consenting, revoked and never-asked customers go through `parley learn`
# with the server's store; no personal value and no turn of a customer
# without consent may reach the training set, the registry or the report;
# the model is registered, promoted into the models folder the server
# runs from, the server reloads it on request, and rollback brings back
# the previous version. Bad input gets pointed errors.
set -u
. "${PARLEY_SOURCE_DIR:?}/tests/lib/clitest.sh"
. "$PARLEY_SOURCE_DIR/tests/lib/servertest.sh"
train_bot || exit 1
trap 'stop_server; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
start_server "$T/d"

grant() {
    req POST "/v1/customers/$1/consents" "$AD" '{"scope": "training_use"}'
    expect_status 201 "grant training_use to $1"
    GRANT=$(field 'j["grant_id"]')
}
grant cust-0
grant cust-1
grant cust-2
grant cust-3
req DELETE "/v1/customers/cust-3/consents/$GRANT" "$AD"
expect_status 200 "revoke cust-3's grant"
# cust-4 never granted anything.

# Logs: the bot's held-out English messages as customers' opening turns,
# with reason codes, personal values, other languages, a malformed line.
python3 - "$SRC/bots/carrier/nlu/test/en.yml" "$T" <<'PY'
import json, sys
src, out = sys.argv[1], sys.argv[2]
rows, intent = [], None
for line in open(src, encoding="utf-8"):
    s = line.strip()
    if s.startswith("- intent:"):
        intent = s.split(":", 1)[1].strip()
    elif s.startswith("- ") and intent:
        rows.append((intent, s[2:].strip()))
pii = [" my number is +1 415 555 0199", " card 4111 1111 1111 1111",
       " mail me at jane.roe@example.com", " my name is Zacharias Quimby", ""]
with open(out + "/logs.jsonl", "w", encoding="utf-8") as f:
    for i, (intent, text) in enumerate(rows):
        cust = "cust-%d" % (i % 5)
        marker = " zqmarker%d" % (i % 5) if i % 5 >= 3 else ""
        conv = {"id": "conv-%d" % i, "customer_id": cust, "language": "en",
                "disposition": "RC_" + intent.upper(), "outcome": "resolved",
                "turns": [{"speaker": "agent", "text": "Hello, how can I help?"},
                          {"speaker": "customer", "text": text + pii[i % 5] + marker,
                           "time": "2026-01-02T10:00:00Z"},
                          {"speaker": "agent", "text": "Sure, Zacharias."}]}
        f.write(json.dumps(conv, ensure_ascii=False) + "\n")
    f.write('{"id": "bad-1", "turns": []}\n')
    f.write(json.dumps({"id": "fr-1", "customer_id": "cust-0", "language": "fr",
                        "disposition": "RC_GREET",
                        "turns": [{"speaker": "customer", "text": "bonjour"}]}) + "\n")
with open(out + "/map.tsv", "w") as f:
    f.write("# reason code\tintent\n")
    for intent in sorted({r[0] for r in rows}):
        f.write("RC_%s\t%s\n" % (intent.upper(), intent))
    f.write("RC_SPAM\t-\n")
PY
[ -s "$T/logs.jsonl" ] || fail "no logs written"

# ---- the review queue: what the bot did not understand, labelled by an agent ----
req POST /v1/conversations "$CH" '{"language": "en"}'
expect_status 201 "conversation"
CONV=$(field 'j["conversation_id"]')
req POST "/v1/conversations/$CONV/messages" "$CH" '{"text": "zorblax quintuple wibbling frobnicator"}'
expect_status 200 "a message nobody understands"
req GET /v1/review "$AG"
expect_status 200 "review list"
[ "$(field 'len(j["items"])')" = 1 ] || fail "review queue: $(cat "$T/body")"
[ "$(field 'j["items"][0]["text"]')" = "zorblax quintuple wibbling frobnicator" ] ||
    fail "review text: $(cat "$T/body")"
[ "$(field 'j["items"][0]["verified"]')" = False ] || fail "review verified: $(cat "$T/body")"
field '"check_balance" in j["intents"] or "data_usage" in j["intents"]' | grep -q True ||
    fail "review intents: $(cat "$T/body")"
RID=$(field 'j["items"][0]["id"]')
req POST "/v1/review/$RID" "$AG" '{"intent": "no_such_intent"}'
expect_status 422 "label with an unknown intent"
req POST "/v1/review/$RID" "$AG" '{"intent": "data_usage", "dismiss": true}'
expect_status 400 "label and dismiss at once"
req POST "/v1/review/99999" "$AG" '{"dismiss": true}'
expect_status 404 "label an unknown item"
req POST "/v1/review/$RID" "$CH" '{"intent": "data_usage"}'
expect_status 403 "a channel key labels"
req POST "/v1/review/$RID" "$AG" '{"intent": "data_usage"}'
expect_status 200 "label"
req GET "/v1/review?status=labelled" "$AG"
[ "$(field 'j["items"][0]["intent"]')" = data_usage ] || fail "labelled: $(cat "$T/body")"
req GET /v1/review "$AG"
[ "$(field 'len(j["items"])')" = 0 ] || fail "still open after labelling: $(cat "$T/body")"
req GET "/v1/review?status=sideways" "$AG"
expect_status 400 "bad status"

stop_server # the store is read by parley learn while the server is down, then again live

# ---- the run ------------------------------------------------------------------
"$P" learn --language en --bot "$SRC/bots/carrier" --models "$T/models" --map "$T/map.tsv" \
    --data-dir "$T/d" --registry "$T/reg" --no-promote --review --export "$T/train.jsonl" \
    --report "$T/report.html" --summary "$T/summary.json" --curve 1 -q "$T/logs.jsonl" \
    >"$T/learn.out" 2>"$T/learn.err" || fail "learn failed: $(cat "$T/learn.err")"
grep -q '^registered v000001 in ' "$T/learn.out" || fail "not registered: $(cat "$T/learn.out")"
grep -q 'first malformed conversation: .*logs.jsonl:' "$T/learn.out" ||
    fail "malformed line not reported: $(cat "$T/learn.out")"
for f in "$T/reg/versions/v000001/model.bin" "$T/reg/versions/v000001/summary.json" \
    "$T/reg/versions/v000001/report.html" "$T/reg/history.jsonl" "$T/train.jsonl"; do
    [ -s "$f" ] || fail "missing $f"
done
python3 - "$T/summary.json" "$T/logs.jsonl" <<'PY' || fail "summary: $(head -c 2000 "$T/summary.json")"
import json, sys
s = json.load(open(sys.argv[1]))
c = s["counts"]
d = c["dropped"]
assert d["no_consent"] > 0, d          # cust-3 (revoked) and cust-4 (never)
assert d["malformed"] == 1, d
assert d["language"] == 1, d
# cust-3 (revoked), cust-4 (never), and the labelled review turn: its
# conversation was never verified, so nobody's consent covers it
logs = [json.loads(l) for l in open(sys.argv[2]) if '"customer_id": "cust-' in l]
assert d["no_consent"] == sum(l["customer_id"] in ("cust-3", "cust-4") for l in logs) + 1, d
assert c["train_rows"] > 0 and c["test_rows"] > 0, c
assert c["pii_findings"] > 0, c
assert s["current"] is not None and s["fresh"]["accuracy"] > 0.5, s["fresh"]
assert s["decision"]["reason"], s["decision"]
PY

# ---- nothing personal, nobody without consent ---------------------------------
for v in "415 555 0199" "4111 1111 1111 1111" "4111111111111111" "jane.roe@example.com" \
    "Zacharias" "Quimby" zqmarker3 zqmarker4 zorblax; do
    if grep -rqiF "$v" "$T/reg" "$T/train.jsonl" "$T/report.html" "$T/summary.json" "$T/learn.out"; then
        fail "'$v' reached the training set, the registry or the report"
    fi
done
ls -a "$T/reg" | grep -q '^\.learn-' && fail "temporary files left in the registry"
grep -q '\[PHONE\]' "$T/train.jsonl" || grep -q '\[CARD\]' "$T/train.jsonl" ||
    fail "no placeholder in the training set: were the values dropped with their rows?"

# ---- promotion, hot reload, rollback --------------------------------------------
cp "$T/models/intent-en.model" "$T/original.model"
"$P" learn promote v000001 --registry "$T/reg" --language en --models "$T/models" >/dev/null ||
    fail "promote v000001"
cmp -s "$T/models/intent-en.model" "$T/reg/versions/v000001/model.bin" || fail "v000001 not installed"
[ "$("$P" learn status --registry "$T/reg" --language en)" = v000001 ] || fail "status after promote"

start_server "$T/d"
# A conversation under way while the model changes goes on afterwards.
req POST /v1/conversations "$CH" '{"language": "en"}'
expect_status 201 "conversation before the reload"
LIVE=$(field 'j["conversation_id"]')
req POST "/v1/conversations/$LIVE/messages" "$CH" '{"text": "how much data do i have left"}'
expect_status 200 "message before the reload"
"$P" learn --language en --bot "$SRC/bots/carrier" --models "$T/models" --map "$T/map.tsv" \
    --data-dir "$T/d" --registry "$T/reg" --min-gain 0 --curve 0 -q --reload "$SPID" \
    "$T/logs.jsonl" >"$T/learn2.out" 2>"$T/learn2.err" || fail "second learn: $(cat "$T/learn2.err")"
grep -q '^registered v000002' "$T/learn2.out" || fail "second run not registered"
if grep -q '^promoted' "$T/learn2.out"; then
    grep -q 'asked parley serve' "$T/learn2.out" || fail "no reload asked"
else
    # Same data, same settings: not better than itself, so kept; promote by hand.
    "$P" learn promote v000002 --registry "$T/reg" --language en --models "$T/models" \
        --reload "$SPID" >/dev/null || fail "promote v000002"
fi
i=0
until curl -s "$URL/metrics" | grep -q '^parley_reloads_total [1-9]'; do
    i=$((i + 1))
    if [ "$i" -gt 100 ]; then
        fail "the server did not reload after promotion"
        break
    fi
    sleep 0.1
done
req POST /v1/conversations "$CH" '{"language": "en"}'
expect_status 201 "conversation after reload"
req POST "/v1/conversations/$LIVE/messages" "$CH" '{"text": "and how much is my bill"}'
expect_status 200 "the conversation started before the reload goes on"
req GET "/v1/conversations/$LIVE" "$AG"
[ "$(field 'sum(t["role"] == "customer" for t in j["turns"])')" = 2 ] ||
    fail "turns across the reload: $(head -c 600 "$T/body")"

"$P" learn rollback --registry "$T/reg" --language en --models "$T/models" >"$T/rb.out" ||
    fail "rollback"
grep -q 'v000001 is the current en model again' "$T/rb.out" || fail "rollback said: $(cat "$T/rb.out")"
cmp -s "$T/models/intent-en.model" "$T/reg/versions/v000001/model.bin" || fail "v000001 not back"
"$P" learn rollback --registry "$T/reg" --language en --models "$T/models" 2>"$T/rb.err" &&
    fail "rollback past the first promotion succeeded"
grep -q "no earlier model of 'en'" "$T/rb.err" || fail "rollback error: $(cat "$T/rb.err")"

# ---- bad input --------------------------------------------------------------------
printf 'RC_X\n' >"$T/badmap.tsv"
expect_code 1 "mapping without a tab" "$P" learn --language en --map "$T/badmap.tsv" -q "$T/logs.jsonl"
grep -q 'badmap.tsv:1: expected' "$T/err" || fail "bad mapping: $(cat "$T/err")"
printf 'RC_X\tno_such_intent\n' >"$T/badmap.tsv"
expect_code 1 "mapping to an unknown intent" "$P" learn --language en --bot "$SRC/bots/carrier" --map "$T/badmap.tsv" -q "$T/logs.jsonl"
grep -q "'no_such_intent' is not an intent of the bot" "$T/err" || fail "unknown intent: $(cat "$T/err")"
expect_code 1 "no store, no consent" "$P" learn --language en --map "$T/map.tsv" -q "$T/logs.jsonl"
grep -q 'no conversation is left to train on' "$T/err" || fail "no consent: $(cat "$T/err")"
expect_code 2 "no language" "$P" learn "$T/logs.jsonl"
expect_code 2 "held-out share too big" "$P" learn --language en --test-share 0.9 "$T/logs.jsonl"
finish
