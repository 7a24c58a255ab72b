#!/bin/sh
# Exactly once under crashes (issue 8): a backlog of KILL_EVENTS events
# (default 3000; bench/proactive_kill.sh runs 100,000) of the realistic mix
# over KILL_CUSTOMERS telco-sim customers (default 2000), a share of them with
# grants, published to NATS JetStream; parley serve consumes it and is killed
# with SIGKILL at random points and restarted until every event is decided.
# Then: each event recorded and settled once, and no effect twice: the SMS
# outbox holds exactly one message per decision that sent one, the lines hold
# exactly the refuels decided, each grant's counted uses match the decisions.
set -u
. "${PARLEY_SOURCE_DIR:?}/tests/lib/clitest.sh"
. "$PARLEY_SOURCE_DIR/tests/lib/servertest.sh"
command -v nats-server >/dev/null 2>&1 ||
    { echo "FAIL: nats-server is not installed (scripts/setup.sh)" >&2; exit 1; }
EVENTS=${KILL_EVENTS:-3000}
CUSTOMERS=${KILL_CUSTOMERS:-2000}
SEED=${KILL_SEED:-$$}
# Longest run before a kill, in seconds: short enough that a fast build is
# still working when it dies (the benchmark's larger backlog takes longer).
MAX_S=${KILL_MAX_S:-0.4}

NPID=
SIMPID=
SERVED=
cleanup() {
    for pid in $SERVED $SIMPID $NPID; do
        kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT

NPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
NURL=nats://127.0.0.1:$NPORT
nats-server -js -a 127.0.0.1 -p "$NPORT" -sd "$T/js" >"$T/nats.log" 2>&1 &
NPID=$!
i=0
until grep -q "Server is ready" "$T/nats.log" 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -le 100 ] || { echo "FAIL: nats-server did not start" >&2; exit 1; }
    sleep 0.1
done
start_sim --synthetic "$CUSTOMERS"
train_bot || { echo "FAIL: bot train" >&2; exit 1; }
D=$T/a
# The grants below come from one client at full speed: no rate limit.
printf 'nats_url = %s\nnats_ack_wait = 5\nrate_limit = 1000000\nrate_burst = 1000000\n' "$NURL" \
    >"$T/a.conf"

# serve: starts parley serve on $D in the background ($SERVED, $SURL).
serve() {
    mkdir -p "$D"
    : >"$D/out.log"
    "$P" serve --port 0 --data-dir "$D" --bot "$SRC/bots/carrier" --models "$T/models" \
        --web-dir "$SRC/web" --backend "$SIM" --config "$T/a.conf" >"$D/out.log" 2>>"$D/err.log" &
    SERVED=$!
    i=0
    while ! grep -q '^listening on ' "$D/out.log" 2>/dev/null; do
        i=$((i + 1))
        if [ "$i" -gt 600 ] || ! kill -0 "$SERVED" 2>/dev/null; then
            tail -20 "$D/err.log" >&2
            echo "FAIL: parley serve did not start" >&2
            exit 1
        fi
        sleep 0.1
    done
    SURL=$(sed -n 's/^listening on //p' "$D/out.log")
}

# settled: how many events of the backlog the ledger holds as decided.
settled() {
    "$P" events list --data-dir "$D" --json --limit 0 >"$T/ledger" 2>"$T/err" || {
        echo 0
        return
    }
    python3 -c '
import json, sys
print(sum(1 for e in map(json.loads, open(sys.argv[1]))
          if e["id"].startswith("x-") and e["status"] != "received"))' "$T/ledger"
}

# ---- grants, given through the API (a fixed share of the customers)
serve
expect_code 0 "keys create" "$P" keys create --role admin --label kill --data-dir "$D"
CK=$(cat "$T/out")
python3 - "$SURL" "$CK" "$CUSTOMERS" <<'EOF' || fail "grants"
import json, sys, urllib.request
url, key, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
scopes = [(3, "proactive_outreach", {"channels": ["sms"], "max_count_per_month": 50}),
          (4, "auto_refuel", {"max_gb_per_month": 3, "max_amount_per_month": 100}),
          (5, "auto_roaming", {"max_count_per_month": 10}),
          (6, "remote_device_fix", {"max_count_per_month": 10})]
for i in range(1, n + 1):
    for every, scope, limits in scopes:
        if i % every:
            continue
        rq = urllib.request.Request("%s/v1/customers/CS%07d/consents" % (url, i),
                                    data=json.dumps({"scope": scope, "limits": limits}).encode(),
                                    headers={"Authorization": "Bearer " + key,
                                             "Content-Type": "application/json"})
        assert urllib.request.urlopen(rq).status == 201
EOF
kill -TERM "$SERVED" && wait "$SERVED"
SERVED=

# ---- the backlog: usage thresholds, roaming, device problems, suspensions,
# failed payments, over the synthetic customers' lines and bills
python3 - "$EVENTS" "$CUSTOMERS" "$SEED" >"$T/x.jsonl" <<'EOF'
import json, random, sys
n, customers = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(int(sys.argv[3]))
batch = []
for k in range(n):
    i = rnd.randint(1, customers)
    c, l, r = "CS%07d" % i, "LS%07d" % i, rnd.randrange(100)
    e = {"id": "x-%d" % k, "customer_id": c}
    if r < 60:
        t = "usage_80" if r < 20 else "usage_90" if r < 40 else "usage_100"
        e.update(type=t, line_id=l, percent_used=float(t[6:]) + rnd.randrange(50) / 10)
    elif r < 75:
        e.update(type="roaming_detected", line_id=l, country="FR",
                 roaming_enabled=rnd.random() < 0.2)
    elif r < 90:
        e.update(type="device_misconfigured", line_id=l,
                 problem=rnd.choice(["apn_incorrect", "data_saver_on"]))
    elif r < 95:
        e.update(type="line_suspended", line_id=l, reason="overdue bill")
    else:
        e.update(type="payment_failed", bill_id="BS%07d-2" % i,
                 payment_method_id="PM-%s-1" % c, reason="card_expired")
    batch.append(e)
    if len(batch) == 50 or k == n - 1:
        print(json.dumps(batch))
        batch = []
EOF
expect_code 0 "publish the backlog" "$P" events publish --nats "$NURL" "$T/x.jsonl"

# ---- consume it, killed at random points
kills=0
done_n=0
while [ "$done_n" -lt "$EVENTS" ]; do
    serve
    # Dead anywhere from just after start to MAX_S seconds into the work.
    sleep "$(python3 -c 'import random, sys; print(round(random.uniform(0.02, float(sys.argv[1])), 2))' "$MAX_S")"
    kill -KILL "$SERVED" 2>/dev/null
    wait "$SERVED" 2>/dev/null
    SERVED=
    kills=$((kills + 1))
    now=$(settled)
    echo "kill $kills: $now of $EVENTS events decided"
    if [ "$kills" -ge 400 ]; then
        fail "still $now of $EVENTS decided after $kills kills"
        break
    fi
    # Progress between kills is what proves the restarts resume; once
    # few are left, a clean run finishes them.
    if [ "$kills" -ge 6 ] && [ $((EVENTS - now)) -lt $((EVENTS / 20 + 1)) ]; then
        break
    fi
    done_n=$now
done
serve
i=0
while [ "$(settled)" -lt "$EVENTS" ]; do
    i=$((i + 1))
    [ "$i" -le 600 ] || { fail "not all events decided: $(settled) of $EVENTS"; break; }
    sleep 0.5
done
kill -TERM "$SERVED" && wait "$SERVED"
SERVED=
echo "killed $kills times"
[ "$kills" -ge 3 ] || fail "only $kills kills"

# ---- exactly once, from the customer's point of view
kill -TERM "$SIMPID" && wait "$SIMPID"
SIMPID=
python3 - "$D/parley.db" "$T/sim.db" "$EVENTS" <<'EOF' || fail "duplicate or missing effects"
import collections, json, sqlite3, sys
store, sim, n = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2]), int(sys.argv[3])
ids = [r[0] for r in store.execute("SELECT id FROM events WHERE id LIKE 'x-%'")]
assert len(ids) == len(set(ids)) == n, ("events recorded", len(ids), len(set(ids)))
left = store.execute("SELECT COUNT(*) FROM events WHERE id LIKE 'x-%' AND status = 'received'").fetchone()[0]
assert left == 0, ("events not decided", left)
eff = store.execute("SELECT rule, customer, outcome, action, channel FROM effects").fetchall()
keys = store.execute("SELECT COUNT(*), COUNT(DISTINCT event_id || rule || customer) FROM effects").fetchone()
assert keys[0] == keys[1], ("two effects for one event, rule and customer", keys)
# The messages decided, and the payment request each reminder's action
# makes telco-sim send.
sms_decided = sum(1 for e in eff if e[4] == "sms")
sms_decided += sum(1 for e in eff if e[3] == "request_payment" and e[2] == "done")
sms_sent = sim.execute("SELECT COUNT(*) FROM sms").fetchone()[0]
print("decisions %d, SMS decided %d, SMS in the outbox %d" % (len(eff), sms_decided, sms_sent))
assert sms_sent == sms_decided, ("SMS sent vs decided", sms_sent, sms_decided)
refuels = sum(1 for e in eff if e[3] == "refuel_data" and e[2] == "done")
gb = sum(json.loads(d).get("data_refueling_gb", 0) for (d,) in sim.execute("SELECT doc FROM lines"))
print("refuels decided %d, GB refuelled on the lines %g" % (refuels, gb))
assert abs(gb - refuels) < 1e-6, ("refuels done vs decided", gb, refuels)
roam = sum(1 for e in eff if e[3] == "enable_roaming" and e[2] == "done")
uses = dict(store.execute("SELECT c.scope, COALESCE(SUM(u.uses), 0) FROM consents c LEFT JOIN "
                          "consent_usage u ON u.grant_id = c.id GROUP BY c.scope").fetchall())
print("grant uses counted:", uses, "roaming enabled", roam)
assert uses.get("auto_refuel", 0) == refuels, ("auto_refuel uses", uses.get("auto_refuel"), refuels)
assert uses.get("auto_roaming", 0) == roam, ("auto_roaming uses", uses.get("auto_roaming"), roam)
outcomes = collections.Counter(e[2] for e in eff)
print("outcomes:", dict(outcomes))
assert outcomes["done"] + outcomes["offered"] > 0, "nothing was done: the test proves nothing"
EOF
for secret in 7[0-9][0-9]-[0-9][0-9][0-9]-[0-9][0-9][0-9][0-9]; do
    grep -q -E -- "$secret" "$D/err.log" && fail "a phone number in the server log"
done
finish "proactive_kill: ok ($EVENTS events, $kills kills)"
