#!/bin/sh
# Proactive messages through the channels, end to end: a real server and a
# real telco-sim whose inbound SMS go to POST /v1/channels/sms. A web
# conversation verified for the customer with its stream open gets the
# message on the stream and in its transcript (no SMS), and a yes there runs
# the offered refuel; a customer without one gets the SMS, and a French "oui"
# by SMS leads to the refuel flow by SMS, confirmed once; a "non" changes
# nothing; bad bodies and unknown numbers are refused.
set -u
. "${PARLEY_SOURCE_DIR:?}/tests/lib/clitest.sh"
. "$PARLEY_SOURCE_DIR/tests/lib/servertest.sh"
train_bot || exit 1

# telco-sim must know where to send customers' SMS before the server starts
# (the server needs telco-sim's URL): a free port and a channel key made
# beforehand.
mkdir -p "$T/d"
SMSKEY=$("$P" keys create --role channel --label telco-sim --data-dir "$T/d") || fail "keys create"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_sim --sms-url "http://127.0.0.1:$PORT/v1/channels/sms" --sms-key "$SMSKEY"
trap 'stop_server; kill "$SIMPID" 2>/dev/null; wait "$SIMPID" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
PORT=$PORT start_server "$T/d" "PARLEY_BACKEND=$SIM"

sim() {
    code=$(curl -s -o "$T/simbody" -w '%{http_code}' -X POST "$SIM$1" -d "$2")
    case $code in 2??) ;; *) fail "lever $1: $code $(cat "$T/simbody")" ;; esac
}
SEEN=0
# feed: sends telco-sim's new events to the intake and waits for the rules.
feed() {
    curl -s "$SIM/events?after=$SEEN" >"$T/feed"
    python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))["events"], open(sys.argv[2], "w"))' \
        "$T/feed" "$T/batch" || fail "cannot read telco-sim's feed"
    SEEN=$(python3 -c 'import json,sys; print(max([e["seq"] for e in json.load(open(sys.argv[1]))["events"]] + [0]))' "$T/feed")
    req POST /v1/events "$AD" "$(cat "$T/batch")"
    [ "$(cat "$T/status")" = 202 ] || fail "intake: $(cat "$T/status") $(cat "$T/body")"
    i=0
    while "$P" events list --data-dir "$T/d" --json --limit 0 2>/dev/null | grep -q '"status":"received"'; do
        i=$((i + 1))
        [ "$i" -gt 100 ] && { fail "events still waiting after 10 s"; return; }
        sleep 0.1
    done
}
sms_all() {
    curl -s "$SIM/sim/sms" | python3 -c '
import json, re, sys
phones = sys.argv[1].split()
for m in json.load(sys.stdin)["messages"]:
    if re.sub(r"\D", "", m["phone"])[-10:] in phones:
        print(m["text"])
' "$1"
}
sms_count() { sms_all "$1" | wc -l | tr -d ' '; }
last_sms() { sms_all "$1" | tail -n 1; }
# wait_sms PHONES N: waits until PHONES have N messages in the outbox.
wait_sms() {
    i=0
    while [ "$(sms_count "$1")" -lt "$2" ]; do
        i=$((i + 1))
        [ "$i" -gt 300 ] && { fail "no SMS #$2 to $1 after 30 s (inbound: $(curl -s "$SIM/sim/sms/inbound"))"; exit 1; }
        sleep 0.1
    done
}
grant() {
    req POST "/v1/customers/$1/consents" "$AD" "$2"
    [ "$(cat "$T/status")" = 201 ] || fail "grant $2: $(cat "$T/status") $(cat "$T/body")"
}
usage_to() {
    gb=$(python3 -c '
import json, sys, urllib.request
sim, line, pct = sys.argv[1], sys.argv[2], float(sys.argv[3])
get = lambda p: json.load(urllib.request.urlopen(sim + p))
l = get("/lines/" + line)
limit = get("/plans/" + l["plan_id"])["data_limit_gb"] + (l.get("data_refueling_gb") or 0)
print(round(max(0.01, limit * pct / 100 - l["data_used_gb"]), 3))
' "$SIM" "$1" "$2")
    sim "/sim/lines/$1/usage" "{\"gb\": $gb}"
}
line_field() {
    curl -s "$SIM/lines/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}
inbound() {
    sim /sim/sms/inbound "{\"phone\": \"$1\", \"text\": \"$2\"}"
}
PHONE1="5551232001 5551232002 5551232003" # C1001
PHONE2="5551232004 5551232005"             # C1002

# ---- (a) an open, verified web conversation takes the message
grant C1001 '{"scope":"proactive_outreach","limits":{"max_count_per_month":5}}'
req POST /v1/conversations "$CH" '{"language":"en"}'
V=$(field 'j["conversation_id"]')
req POST "/v1/conversations/$V/messages" "$CH" '{"text":"555-123-2001"}'
req POST "/v1/conversations/$V/messages" "$CH" '{"text":"I want to pay my bill"}'
req POST "/v1/conversations/$V/messages" "$CH" '{"text":"555-123-2001"}'
req POST "/v1/conversations/$V/messages" "$CH" '{"text":"John Smith, born 15/06/1985"}'
[ "$(field 'j["identity"]')" = verified ] || fail "not verified: $(cat "$T/body")"
req POST "/v1/conversations/$V/messages" "$CH" '{"text":"no"}'
curl -sN -m 60 -H "Authorization: Bearer $CH" "$URL/v1/conversations/$V/stream" >"$T/stream" &
STREAM=$!
i=0
while ! grep -q 'stream open' "$T/stream" 2>/dev/null; do
    i=$((i + 1)); [ "$i" -gt 100 ] && { fail "the stream did not open"; exit 1; }; sleep 0.1
done
usage_to L1001 92
feed
i=0
while ! grep -q '"proactive"' "$T/stream"; do
    i=$((i + 1)); [ "$i" -gt 50 ] && { fail "no proactive message on the stream: $(cat "$T/stream")"; break; }; sleep 0.1
done
grep -q 'Reply TOP UP' "$T/stream" || fail "the stream's message is not the offer: $(cat "$T/stream")"
grep -q '"rule":"usage_90_offer"' "$T/stream" || fail "the stream's message is not tagged: $(cat "$T/stream")"
[ "$(sms_count "$PHONE1")" = 0 ] || fail "an SMS went out too: $(last_sms "$PHONE1")"
req GET "/v1/conversations/$V" "$CH"
grep -q 'You have used' "$T/body" || fail "the offer is not in the transcript: $(cat "$T/body")"
"$P" audit list --data-dir "$T/d" --customer C1001 --json >"$T/audit" 2>"$T/err" || fail "audit: $(cat "$T/err")"
grep -q '"channel":"conversation"' "$T/audit" || grep -q '\\"channel\\":\\"conversation\\"' "$T/audit" ||
    fail "the audit does not record channel conversation: $(cat "$T/audit")"
# A yes there runs the refuel flow for the offered 1 GB; confirmed, once.
before=$(line_field L1001 data_refueling_gb)
req POST "/v1/conversations/$V/messages" "$CH" '{"text":"yes please"}'
[ "$(field 'j["state"]')" = awaiting_confirmation ] || fail "yes to the offer: $(cat "$T/body")"
grep -q 'Shall I add 1 GB' "$T/body" || fail "no quote for 1 GB: $(cat "$T/body")"
req POST "/v1/conversations/$V/messages" "$CH" '{"text":"yes"}'
after=$(line_field L1001 data_refueling_gb)
python3 -c "import sys; sys.exit(0 if float('$after') == float('$before') + 1 else 1)" ||
    fail "web refuel: $before -> $after ($(cat "$T/body"))"
kill "$STREAM" 2>/dev/null

# ---- (b) no open conversation: the SMS; "oui" by SMS runs the refuel flow in French
grant C1002 '{"scope":"proactive_outreach","limits":{"max_count_per_month":5}}'
sim /sim/customers/C1002/profile '{"language": "fr"}'
usage_to L1004 92
feed
[ "$(sms_count "$PHONE2")" = 1 ] || fail "expected the offer by SMS, got $(sms_count "$PHONE2")"
last_sms "$PHONE2" | grep -q "Répondez RECHARGE" || fail "the offer is not in French: $(last_sms "$PHONE2")"
before=$(line_field L1004 data_refueling_gb)
inbound "+1 555-123-2004" "oui vas-y"
wait_sms "$PHONE2" 2
last_sms "$PHONE2" | grep -q "J'ajoute 1 Go ?" || fail "no French confirmation by SMS: $(last_sms "$PHONE2")"
[ "$(line_field L1004 data_refueling_gb)" = "$before" ] || fail "refuelled before the confirmation"
inbound "+1 555-123-2004" "oui"
wait_sms "$PHONE2" 3
last_sms "$PHONE2" | grep -q "C'est fait : 1 Go ajoutés" || fail "no French refuel report: $(last_sms "$PHONE2")"
after=$(line_field L1004 data_refueling_gb)
python3 -c "import sys; sys.exit(0 if float('$after') == float('$before') + 1 else 1)" ||
    fail "SMS refuel: $before -> $after"
# Once: another "oui" is not a second refuel.
inbound "+1 555-123-2004" "oui"
wait_sms "$PHONE2" 4
[ "$(line_field L1004 data_refueling_gb)" = "$after" ] || fail "a second oui refuelled again"
curl -s "$SIM/sim/sms/inbound" | python3 -c '
import json, sys
ms = json.load(sys.stdin)["messages"]
assert ms and all(m["status"] == "delivered" and m["http_status"] == 200 for m in ms), ms
' || fail "inbound SMS not all delivered: $(curl -s "$SIM/sim/sms/inbound")"

# ---- (c) "non" to an offer changes nothing
usage_to L1005 100
feed
n=$(sms_count "5551232005")
[ "$n" = 1 ] || fail "expected the 100% offer to L1005's phone, got $n"
before=$(line_field L1005 data_refueling_gb)
inbound "555-123-2005" "non merci"
wait_sms "5551232005" 2
last_sms "5551232005" | grep -q "je ne change rien" || fail "no polite acknowledgement: $(last_sms 5551232005)"
[ "$(line_field L1005 data_refueling_gb)" = "$before" ] || fail "a no refuelled"

# ---- (d) the route's refusals
req POST /v1/channels/sms "$CH" '{"text":"oui"}'
expect_status 400 "no phone"
grep -q "'phone'" "$T/body" || fail "no phone: the message does not name it: $(cat "$T/body")"
req POST /v1/channels/sms "$CH" '{"phone":"not a number","text":"oui"}'
expect_status 400 "bad phone"
grep -q "'phone'" "$T/body" || fail "bad phone: $(cat "$T/body")"
req POST /v1/channels/sms "$CH" '{"phone":"+15551232004"}'
expect_status 400 "no text"
grep -q "'text'" "$T/body" || fail "no text: $(cat "$T/body")"
req POST /v1/channels/sms "$CH" '{"phone":"+15551232004","text":5}'
expect_status 400 "text not a string"
grep -q "'text'" "$T/body" || fail "text not a string: $(cat "$T/body")"
req POST /v1/channels/sms "$CH" '{"phone":"+15551232004","text":"hi","from":"x"}'
expect_status 400 "unknown field"
grep -q "'from'" "$T/body" || fail "unknown field: $(cat "$T/body")"
req POST /v1/channels/sms "$CH" '{"phone":"+1 999 000 1234","text":"oui"}'
expect_status 404 "unknown phone"
grep -q "not_found.*'phone'" "$T/body" || fail "unknown phone: $(cat "$T/body")"
req POST /v1/channels/sms "$AG" '{"phone":"+15551232004","text":"oui"}'
expect_status 403 "an agent key"
req POST /v1/channels/sms "$CH" '{"phone":"+15551232004","text":"merci"}'
expect_status 200 "a message"
field 'j["conversation_id"]' | grep -q '5551232004\|555.123.2004' && fail "the conversation id holds the number"

# ---- personal data stays out of the audit and the server's log
for c in C1001 C1002; do
    "$P" audit list --data-dir "$T/d" --customer "$c" --json 2>"$T/err" || fail "audit: $(cat "$T/err")"
done >"$T/audit"
grep -q '555.\?123.\?200[0-9]\|You have used\|Répondez' "$T/audit" && fail "the audit holds a number or a message"
grep -q '555.\?123.\?200[0-9]\|You have used\|Répondez\|oui vas-y' "$T/d/err.log" && fail "the log holds a number or a message: $(cat "$T/d/err.log")"
finish
