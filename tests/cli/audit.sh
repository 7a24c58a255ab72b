#!/bin/sh
# parley audit: verify, list, explain, prune and keygen on logs written by an
# independent implementation of the chain format (Python, docs/audit.md)
# and by the library (bench_audit fill, signed); tampering done with
# sqlite3 is found and named; usage errors exit 2, failures 1.
set -u
. "${PARLEY_SOURCE_DIR:?}/tests/lib/clitest.sh"

expect_code 0 "audit -h" "$P" audit -h
grep -q "usage: parley audit verify" "$T/out" || fail "audit -h prints no usage"
expect_code 2 "no audit command" "$P" audit
expect_code 2 "unknown audit command" "$P" audit frob
expect_code 2 "list without id" "$P" audit list --db "$T/none.db"
expect_code 2 "explain without conversation" "$P" audit explain --db "$T/none.db"
expect_code 2 "explain bad turn" "$P" audit explain c1 zero --db "$T/none.db"
expect_code 1 "verify missing file" "$P" audit verify --db "$T/none.db"
grep -q "cannot open audit log '$T/none.db'" "$T/err" || fail "missing file message: $(cat "$T/err")"

# A log made by the format's description alone: the chain must verify.
python3 - "$T/py.db" <<'PY' || fail "python writer"
import hashlib, json, sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("""
CREATE TABLE parley_schema (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL DEFAULT 0);
INSERT INTO parley_schema (version) VALUES (1);
CREATE TABLE audit_records (seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, kind TEXT NOT NULL,
 conversation TEXT NOT NULL, customer TEXT NOT NULL, turn INTEGER NOT NULL, body TEXT NOT NULL,
 hash BLOB NOT NULL);
CREATE INDEX audit_by_conversation ON audit_records(conversation) WHERE conversation <> '';
CREATE INDEX audit_by_customer ON audit_records(customer) WHERE customer <> '';
CREATE TABLE audit_checkpoints (seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, hash BLOB NOT NULL,
 public_key BLOB, signature BLOB);
""")
base = 1795356000000  # 14:00 UTC
recs = [
    (60000, "identity", 2, {"from": "identified", "to": "strong", "method": "otp"}),
    (120000, "intent", 3, {"intent": "refuel_data", "confidence": 0.93, "language": "en"}),
    (180000, "action", 4, {"action": "refuel_data", "decision": "allowed", "rule": "confirmation",
                           "result": "ok", "summary": "1 GB refuelled", "asked_turn": 3,
                           "confirmed_turn": 4}),
    (240000, "action", 5, {"action": "enable_roaming", "decision": "denied",
                           "rule": "consent:auto_roaming", "proactive": True}),
    (300000, "privacy", 6, {"request": "export"}),
]
prev = bytes(32)
for i in range(1, 21):
    t, kind, turn, body = recs[(i - 1) % len(recs)]
    conv = "c1" if i <= 5 else "c2"
    cust = "C42"
    b = json.dumps(body, separators=(",", ":"))
    canon = struct.pack(">qqq", i, base + t, turn)
    for s in (kind, conv, cust, b):
        s = s.encode()
        canon += struct.pack(">I", len(s)) + s
    prev = hashlib.blake2b(prev + canon, digest_size=32).digest()
    db.execute("INSERT INTO audit_records VALUES (?,?,?,?,?,?,?,?)",
               (i, base + t, kind, conv, cust, turn, b, prev))
    if i % 10 == 0:
        db.execute("INSERT INTO audit_checkpoints (seq, time, hash) VALUES (?,?,?)", (i, 0, prev))
db.commit()
PY
expect_code 0 "verify python log" "$P" audit verify --db "$T/py.db"
grep -q "^ok: 20 records" "$T/out" || fail "verify output: $(cat "$T/out")"
grep -q "none signed" "$T/out" || fail "unsigned checkpoints are not called out: $(cat "$T/out")"
expect_code 0 "verify --json" "$P" audit verify --db "$T/py.db" --json
grep -q '"ok":true,"records":20,"checkpoints":2' "$T/out" || fail "verify json: $(cat "$T/out")"

expect_code 0 "list conversation" "$P" audit list --db "$T/py.db" --conversation c1
[ "$(wc -l <"$T/out")" -eq 5 ] || fail "list c1: 5 lines wanted: $(cat "$T/out")"
expect_code 0 "list customer json" "$P" audit list --db "$T/py.db" --customer C42 --json
[ "$(wc -l <"$T/out")" -eq 20 ] || fail "list C42: 20 lines wanted"
head -1 "$T/out" | grep -q '^{"seq":1,"time":1795356060000,"kind":"identity","conversation":"c1","customer":"C42","turn":2,"body":{"from"' ||
    fail "list json: $(head -1 "$T/out")"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$T/out" ||
    fail "list --json lines are not JSON"

expect_code 0 "explain" "$P" audit explain c1 --db "$T/py.db" --utc
grep -q "^14:03 \[turn 4\] refuel_data: 1 GB refuelled — you asked at 14:02, confirmed at 14:03; identity strongly verified by one-time code at 14:01$" "$T/out" ||
    fail "explain action line: $(cat "$T/out")"
grep -q "did not enable_roaming automatically: no auto_roaming permission" "$T/out" ||
    fail "explain refusal line"
expect_code 0 "explain turn" "$P" audit explain c1 6 --db "$T/py.db" --utc
grep -q "^14:05 \[turn 6\] you asked for a copy of your data$" "$T/out" || fail "explain turn: $(cat "$T/out")"
expect_code 1 "explain unknown" "$P" audit explain nope --db "$T/py.db"
grep -q "no audit record of conversation 'nope'" "$T/err" || fail "explain unknown message"

# Tampering with sqlite3: each is found and named.
tamper() {
    what=$1 kind=$2 seq=$3 sql=$4
    cp "$T/py.db" "$T/t.db"
    sqlite3 "$T/t.db" "$sql" || fail "$what: sqlite3"
    expect_code 1 "verify after $what" "$P" audit verify --db "$T/t.db"
    grep -q "^BROKEN at seq $seq ($kind)" "$T/out" || fail "$what: $(cat "$T/out")"
}
tamper "modify" modified 7 "UPDATE audit_records SET body = '{\"x\":1}' WHERE seq = 7"
tamper "delete" deleted 12 "DELETE FROM audit_records WHERE seq = 12"
tamper "delete tail" deleted 18 "DELETE FROM audit_records WHERE seq >= 18"
tamper "reorder" reordered 3 "UPDATE audit_records SET seq = -1 WHERE seq = 3;
    UPDATE audit_records SET seq = 3 WHERE seq = 4; UPDATE audit_records SET seq = 4 WHERE seq = -1"
tamper "insert" inserted 9 "UPDATE audit_records SET seq = -seq WHERE seq >= 9;
    UPDATE audit_records SET seq = -seq + 1 WHERE seq < 0;
    INSERT INTO audit_records VALUES (9, 0, 'action', 'c2', 'C42', 1, '{}', randomblob(32))"

# Retention: prune records older than N days, at a given --now.
expect_code 2 "prune without days" "$P" audit prune --db "$T/py.db"
grep -q "needs --older-than-days" "$T/err" || fail "prune usage message: $(cat "$T/err")"
expect_code 2 "prune zero days" "$P" audit prune --older-than-days 0 --db "$T/py.db"
expect_code 2 "prune bad days" "$P" audit prune --older-than-days ten --db "$T/py.db"
expect_code 2 "prune bad --now" "$P" audit prune --older-than-days 1 --now 2026-13-01 --db "$T/py.db"
grep -q "is not a UTC date" "$T/err" || fail "bad --now message: $(cat "$T/err")"
expect_code 2 "--now on verify" "$P" audit verify --now 2027-01-01 --db "$T/py.db"
expect_code 1 "prune missing file" "$P" audit prune --older-than-days 1 --db "$T/none.db"
cp "$T/py.db" "$T/p.db"
expect_code 0 "prune nothing old" "$P" audit prune --older-than-days 1 --now 2026-11-22 --db "$T/p.db"
grep -q "^nothing pruned (cutoff 2026-11-21T00:00:00Z): no record is older than the cutoff" "$T/out" ||
    fail "prune nothing: $(cat "$T/out")"
# All 20 records are older than 30 days at 2027-01-01: the checkpoint at
# 20 and what follows stay, 1..19 go.
expect_code 0 "prune" "$P" audit prune --older-than-days 30 --now 2027-01-01T00:00:00Z --audit "sqlite:$T/p.db"
grep -q "^pruned 19 records older than 2026-12-02T00:00:00Z: records 1 to 19 are gone$" "$T/out" ||
    fail "prune summary: $(cat "$T/out")"
grep -q "^retained chain starts at seq 20, anchored at hash [0-9a-f]\{64\}$" "$T/out" ||
    fail "prune anchor: $(cat "$T/out")"
grep -q "recorded in the chain as record 21 (kind retention)" "$T/out" || fail "prune record: $(cat "$T/out")"
expect_code 0 "verify pruned" "$P" audit verify --db "$T/p.db"
grep -q "^ok: 2 records" "$T/out" || fail "verify pruned: $(cat "$T/out")"
grep -q "^retained chain starts at seq 20: records 1 to 19 were pruned" "$T/out" ||
    fail "verify does not say where the chain starts: $(cat "$T/out")"
expect_code 0 "verify pruned json" "$P" audit verify --db "$T/p.db" --json
grep -q '"first_seq":20,"pruned_through":19,' "$T/out" || fail "verify json pruned: $(cat "$T/out")"
expect_code 0 "prune again" "$P" audit prune --older-than-days 30 --now 2027-01-01 --db "$T/p.db" --json
grep -q '^{"pruned":0,.*"first_seq":20,"anchor_seq":19,' "$T/out" || fail "prune again: $(cat "$T/out")"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out" || fail "prune --json is not JSON"
cp "$T/p.db" "$T/pt.db"
sqlite3 "$T/pt.db" "DELETE FROM audit_records WHERE seq = 20" || fail "sqlite3"
expect_code 1 "verify pruned, first deleted" "$P" audit verify --db "$T/pt.db"
grep -q "^BROKEN at seq 20 (deleted)" "$T/out" || fail "first deleted: $(cat "$T/out")"
cp "$T/p.db" "$T/pt.db"
sqlite3 "$T/pt.db" "UPDATE audit_anchor SET hash = randomblob(32)" || fail "sqlite3"
expect_code 1 "verify pruned, anchor altered" "$P" audit verify --db "$T/pt.db"
grep -q "^BROKEN at seq 20 (bad anchor)" "$T/out" || fail "anchor altered: $(cat "$T/out")"
cp "$T/py.db" "$T/pt.db"
sqlite3 "$T/pt.db" "UPDATE audit_records SET body = '{}' WHERE seq = 5" || fail "sqlite3"
expect_code 1 "prune a broken log" "$P" audit prune --older-than-days 30 --now 2027-01-01 --db "$T/pt.db"
grep -q "the chain is broken at seq 5 (modified" "$T/err" || fail "prune broken: $(cat "$T/err")"
[ "$(sqlite3 "$T/pt.db" "SELECT COUNT(*) FROM audit_records")" = 20 ] || fail "a broken log was pruned"

# keygen, and a signed log made by the library.
expect_code 0 "keygen" "$P" audit keygen --out "$T/k"
[ "$(stat -c %a "$T/k")" = 600 ] || fail "secret key mode $(stat -c %a "$T/k")"
[ -s "$T/k.pub" ] || fail "keygen wrote no public key"
expect_code 1 "keygen over a file" "$P" audit keygen --out "$T/k"
expect_code 2 "keygen without --out" "$P" audit keygen
FILL="${PARLEY_BUILD_DIR:-}/bench/bench_audit"
if [ -x "$FILL" ]; then
    "$FILL" fill "$T/s.db" 2500 "$T/k" >/dev/null || fail "bench_audit fill"
    expect_code 0 "verify signed" "$P" audit verify --db "$T/s.db" --public-key "$T/k.pub"
    grep -q "2 signed, last signed at seq 2000, signatures checked with the given public key" "$T/out" ||
        fail "signed verify: $(cat "$T/out")"
    grep -q "records after seq 2000 are not yet covered" "$T/out" || fail "uncovered tail not said"
    expect_code 0 "keygen other" "$P" audit keygen --out "$T/other"
    expect_code 1 "verify with another key" "$P" audit verify --db "$T/s.db" --public-key "$T/other.pub"
    grep -q "^BROKEN at seq 1000 (bad signature)" "$T/out" || fail "other key: $(cat "$T/out")"
    expect_code 1 "public key file is not a key" "$P" audit verify --db "$T/s.db" --public-key "$T/k"
    grep -q "is not a parley audit public key file" "$T/err" || fail "bad key file: $(cat "$T/err")"
else
    fail "bench_audit not built at '$FILL'"
fi
finish "audit cli checks passed"
