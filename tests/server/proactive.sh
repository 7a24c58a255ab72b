#!/bin/sh
# Proactive care end to end: the demo server and its telco-sim, consent
# grants given through the API, telco-sim's levers pulled and its events fed
# to POST /v1/events; then per reference rule the backend state, the SMS
# outbox, the ledger's outcomes and the audit, and that nothing happens
# without a grant, past a limit, in quiet hours, after revocation, or twice
# for a redelivered event.
set -u
. "${PARLEY_SOURCE_DIR:?}/tests/lib/clitest.sh"
. "$PARLEY_SOURCE_DIR/tests/lib/servertest.sh"
train_bot || exit 1
start_server "$T/d"
trap 'stop_server; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
SIM=$(key "$T/d" telco_sim)
[ -n "$SIM" ] || fail "the demo started no telco-sim"

# sim PATH BODY: pulls a telco-sim lever; fails unless it answers 2xx.
sim() {
    code=$(curl -s -o "$T/simbody" -w '%{http_code}' -X POST "$SIM$1" -d "$2")
    case $code in 2??) ;; *) fail "lever $1: $code $(cat "$T/simbody")" ;; esac
}
SEEN=0
# feed: sends telco-sim's events since the last call to the intake, as
# telco-sim itself would with --events-url, and waits until rules ran.
feed() {
    curl -s "$SIM/events?after=$SEEN" >"$T/feed"
    python3 - "$T/feed" "$T/batch" <<'EOF' || fail "cannot read telco-sim's feed: $(cat "$T/feed")"
import json, sys
evs = json.load(open(sys.argv[1]))["events"]
json.dump(evs, open(sys.argv[2], "w"))
print(max([e["seq"] for e in evs] + [0]))
EOF
    last=$(python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["events"]; print(max([x["seq"] for x in e]+[0]))' "$T/feed")
    [ "$last" -gt "$SEEN" ] || fail "telco-sim emitted no event"
    SEEN=$last
    req POST /v1/events "$AD" "$(cat "$T/batch")"
    [ "$(cat "$T/status")" = 202 ] || fail "intake: $(cat "$T/status") $(cat "$T/body")"
    settle
}
# settle: waits until no event in the ledger waits for its rules.
settle() {
    i=0
    while :; do
        "$P" events list --data-dir "$T/d" --json --limit 0 >"$T/ledger" 2>"$T/err" ||
            fail "events list: $(cat "$T/err")"
        grep -q '"status":"received"' "$T/ledger" || break
        i=$((i + 1))
        [ "$i" -gt 100 ] && { fail "events still waiting after 10 s: $(grep received "$T/ledger")"; break; }
        sleep 0.1
    done
}
# outcome TYPE RULE: the outcome RULE recorded for the latest TYPE event.
outcome() {
    python3 - "$T/ledger" "$1" "$2" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rows = [r for r in rows if r["type"] == sys.argv[2]]
rows.sort(key=lambda r: r["seq"])
outs = [o["outcome"] for o in (rows[-1]["outcome"] or []) if o["rule"] == sys.argv[3]] if rows else []
print(",".join(outs) or "none")
EOF
}
expect_outcome() {
    got=$(outcome "$1" "$2")
    [ "$got" = "$3" ] || fail "$1/$2: outcome '$got', expected '$3' ($4)"
}
# sms_count "PHONE...": the messages in telco-sim's outbox for these numbers.
sms_count() {
    curl -s "$SIM/sim/sms" | python3 -c '
import json, re, sys
phones = sys.argv[1].split()
print(sum(1 for m in json.load(sys.stdin)["messages"] if re.sub(r"\D", "", m["phone"]) in phones))
' "$1"
}
last_sms() {
    curl -s "$SIM/sim/sms" | python3 -c '
import json, re, sys
phones = sys.argv[1].split()
m = [m for m in json.load(sys.stdin)["messages"] if re.sub(r"\D", "", m["phone"]) in phones]
print(m[-1]["text"] if m else "")
' "$1"
}
grant() {
    req POST "/v1/customers/$1/consents" "$AD" "$2"
    [ "$(cat "$T/status")" = 201 ] || fail "grant $2: $(cat "$T/status") $(cat "$T/body")"
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["grant_id"])' "$T/body"
}
# usage_to LINE PERCENT: adds the data use that brings LINE to PERCENT of its plan.
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

# The customers' lines' numbers: messages about a line go to it.
PHONE1="5551232001 5551232002 5551232003" # C1001, Anytown, lines L1001-L1003
PHONE2="5551232004 5551232005"             # C1002, Springfield

# ---- no grant: usage at 90% does nothing but record the denial
usage_to L1002 91
feed
expect_outcome usage_90 usage_90_offer denied "no proactive_outreach grant"
[ "$(sms_count "$PHONE1")" = 0 ] || fail "an SMS went out without a grant: $(last_sms "$PHONE1")"

# ---- with an outreach grant: the offer goes out, in the customer's language, with the price
OUT1=$(grant C1001 '{"scope":"proactive_outreach","limits":{"channels":["sms"],"max_count_per_month":5}}')
sim /sim/customers/C1001/profile '{"language": "fr", "time_zone": "Europe/Paris"}'
usage_to L1001 92
feed
expect_outcome usage_90 usage_90_offer done "outreach granted"
[ "$(sms_count "$PHONE1")" = 1 ] || fail "expected one SMS, got $(sms_count "$PHONE1")"
last_sms "$PHONE1" | grep -q "Répondez RECHARGE" || fail "the offer is not in French: $(last_sms "$PHONE1")"

# ---- usage at 100% with auto_refuel: refuelled within the limit, told what remains
REF=$(grant C1001 '{"scope":"auto_refuel","limits":{"max_gb_per_month":1,"max_amount_per_month":50,"channels":["sms"]}}')
before=$(line_field L1002 data_refueling_gb)
usage_to L1002 100
feed
expect_outcome usage_100 usage_100_refuel done "auto_refuel granted"
after=$(line_field L1002 data_refueling_gb)
python3 -c "import sys; sys.exit(0 if float('$after') == float('$before') + 1 else 1)" ||
    fail "refuel: data_refueling_gb $before -> $after, expected +1"
last_sms "$PHONE1" | grep -q "0 Go" || fail "the report does not say what remains: $(last_sms "$PHONE1")"

# ---- redelivery of the same batch: counted as duplicates, nothing twice
n=$(sms_count "$PHONE1")
req POST /v1/events "$AD" "$(cat "$T/batch")"
grep -q '"duplicates":1' "$T/body" || fail "redelivery not counted as duplicate: $(cat "$T/body")"
settle
[ "$(sms_count "$PHONE1")" = "$n" ] || fail "a redelivered event sent another SMS"
[ "$(line_field L1002 data_refueling_gb)" = "$after" ] || fail "a redelivered event refuelled again"

# ---- past the grant's limit (1 GB a month): only the offer
before=$(line_field L1001 data_refueling_gb)
usage_to L1001 100
feed
expect_outcome usage_100 usage_100_refuel offered "over the auto_refuel limit"
[ "$(line_field L1001 data_refueling_gb)" = "$before" ] || fail "refuelled past the limit"
last_sms "$PHONE1" | grep -q "Répondez RECHARGE" || fail "no refuel offer: $(last_sms "$PHONE1")"

# ---- replay --dry-run: what the rules would do now, changing nothing
n1=$(sms_count "$PHONE1")
n2=$(sms_count "$PHONE2")
expect_code 2 "replay without --dry-run" "$P" events replay --data-dir "$T/d"
expect_code 0 "replay --dry-run" "$P" events replay --dry-run --data-dir "$T/d" \
    --bot "$SRC/bots/carrier" --backend "$SIM" --limit 0 --json
python3 - "$T/out" <<'EOF' || fail "replay: $(cat "$T/out")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {(r["event"], r["rule"]): r for r in rows}
assert any(r["rule"] == "usage_100_refuel" for r in rows), rows
# The 90% offer would go out again, and the replay shows its text; the
# refuel would not (the grant's GB are used up this month).
offers = [r for r in rows if r["rule"] == "usage_90_offer" and r["outcome"] == "done"]
assert offers and "RECHARGE" in offers[-1]["text"], offers
refuels = [r for r in rows if r["rule"] == "usage_100_refuel"]
assert refuels and all("1 GB a month" in r["detail"] for r in refuels), refuels
EOF
[ "$(sms_count "$PHONE1")" = "$n1" ] && [ "$(sms_count "$PHONE2")" = "$n2" ] ||
    fail "a dry run sent messages"

# ---- after revocation of the outreach grant: nothing is sent
req DELETE "/v1/customers/C1001/consents/$OUT1" "$AD"
[ "$(cat "$T/status")" = 200 ] || fail "revoke: $(cat "$T/status") $(cat "$T/body")"
n=$(sms_count "$PHONE1")
sim /sim/lines/L1001/travel '{"abroad": true, "country": "Spain"}'
feed
expect_outcome roaming_detected roaming_enable denied "no auto_roaming, outreach revoked"
[ "$(sms_count "$PHONE1")" = "$n" ] || fail "an SMS went out after revocation: $(last_sms "$PHONE1")"

# ---- quiet hours in the customer's time zone: held
hour_utc=$(date -u +%H)
grant C1002 "{\"scope\":\"proactive_outreach\",\"limits\":{\"quiet_hours\":\"$hour_utc-$(printf %02d $(((${hour_utc#0} + 1) % 24)))\"}}" >/dev/null
sim /sim/customers/C1002/profile '{"time_zone": "Europe/London"}'
usage_to L1004 95
feed
expect_outcome usage_90 usage_90_offer quiet "inside quiet hours"
[ "$(sms_count "$PHONE2")" = 0 ] || fail "an SMS went out in quiet hours: $(last_sms "$PHONE2")"

# ---- the audit has the decisions, without personal values
"$P" audit list --data-dir "$T/d" --customer C1001 --json >"$T/audit" 2>"$T/err" || fail "audit list: $(cat "$T/err")"
grep -q usage_100_refuel "$T/audit" || fail "no audit record of the refuel: $(cat "$T/audit")"
grep -q "$PHONE1\|555-123" "$T/audit" && fail "the audit holds a phone number"
finish
