#!/bin/sh
# parley store: keygen writes private key files; a store filled with
# encrypted conversations (bench_store) has no content in the clear; it is
# refused without its master key; rekey rotates the master key, after which
# the old key alone is refused and the new one alone works; sweep removes
# what is older than the policy (rows aged with sqlite3 as time passing
# would) together with the data keys. Usage errors exit 2, failures 1.
set -u
. "${PARLEY_SOURCE_DIR:?}/tests/lib/clitest.sh"
FILL="${PARLEY_BUILD_DIR:-}/bench/bench_store"

expect_code 0 "store -h" "$P" store -h
grep -q "usage: parley store keygen FILE" "$T/out" || fail "store -h prints no usage"
expect_code 2 "no store command" "$P" store
expect_code 2 "unknown store command" "$P" store frob
expect_code 2 "keygen without file" "$P" store keygen
expect_code 2 "rekey without old key" "$P" store rekey --data-dir "$T/d" --master-key env:X
expect_code 2 "bad days" "$P" store sweep --data-dir "$T/d" --transcripts-days -3

expect_code 0 "keygen a" "$P" store keygen "$T/a.key"
expect_code 0 "keygen b" "$P" store keygen "$T/b.key"
[ "$(stat -c %a "$T/a.key")" = 600 ] || fail "key file mode $(stat -c %a "$T/a.key")"
grep -Eq '^[0-9a-f]{64}$' "$T/a.key" || fail "key file is not 64 hex characters"
expect_code 1 "keygen over an existing file" "$P" store keygen "$T/a.key"
cp "$T/a.key" "$T/open.key" && chmod 644 "$T/open.key"
expect_code 1 "readable key file" "$P" store sweep --data-dir "$T/d" --master-key "file:$T/open.key"
grep -q "can be read by others (mode 0644); chmod 600 it" "$T/err" || fail "mode message: $(cat "$T/err")"

# 30 encrypted conversations of 10 customers, 2 turns each.
mkdir -p "$T/d"
if [ -x "$FILL" ]; then
    "$FILL" commit "sqlite:$T/d/parley.db" 30 "file:$T/a.key" >"$T/fill" || fail "bench_store commit"
else
    fail "bench_store not built at '$FILL'"
fi
grep -q '"encrypted":true' "$T/fill" || fail "fill was not encrypted: $(cat "$T/fill")"
[ -f "$T/d/parley-keys.db" ] || fail "no key store beside the database"
for f in "$T"/d/parley.db*; do
    if grep -aq BENCH-CONTENT "$f"; then fail "content in the clear in $f"; fi
done

expect_code 1 "sweep without the master key" "$P" store sweep --data-dir "$T/d"
grep -q "holds encrypted conversations" "$T/err" || fail "no-key message: $(cat "$T/err")"
expect_code 1 "sweep with the wrong key" "$P" store sweep --data-dir "$T/d" --master-key "file:$T/b.key"
grep -q "which is not configured" "$T/err" || fail "wrong-key message: $(cat "$T/err")"
expect_code 0 "sweep, nothing old" "$P" store sweep --data-dir "$T/d" --master-key "file:$T/a.key"
grep -q "removed 0 conversations (0 turns), 0 data keys, 0 throttle events" "$T/out" ||
    fail "sweep output: $(cat "$T/out")"

# Rotation: A -> B.
expect_code 0 "rekey" "$P" store rekey --data-dir "$T/d" --master-key "file:$T/b.key" \
    --old-master-key "file:$T/a.key"
grep -q "every data key is now wrapped by master key [0-9a-f]\{8\}" "$T/out" ||
    fail "rekey output: $(cat "$T/out")"
expect_code 1 "old key alone after rekey" "$P" store sweep --data-dir "$T/d" --master-key "file:$T/a.key"
grep -q "which is not configured" "$T/err" || fail "old-key message: $(cat "$T/err")"
PARLEY_MASTER_KEY="file:$T/b.key" expect_code 0 "new key alone (environment)" "$P" store sweep --data-dir "$T/d"

# Ten conversations idle for 100 days, a throttle event from two days ago.
python3 - "$T/d/parley.db" <<'PY' || fail "aging rows"
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
day = 86400000
db.execute("UPDATE conversations SET updated = updated - 100 * ? WHERE id IN "
           "(SELECT id FROM conversations ORDER BY id LIMIT 10)", (day,))
db.execute("INSERT INTO throttle (key, at) VALUES ('k', ?)", (int(time.time() * 1000) - 2 * day,))
db.commit()
PY
expect_code 0 "sweep 120 days" "$P" store sweep --data-dir "$T/d" --master-key "file:$T/b.key" \
    --transcripts-days 120
grep -q "removed 0 conversations (0 turns), 0 data keys, 1 throttle events" "$T/out" ||
    fail "sweep 120 output: $(cat "$T/out")"
expect_code 0 "sweep 90 days" "$P" store sweep --store "sqlite:$T/d/parley.db" \
    --key-store "$T/d/parley-keys.db" --master-key "file:$T/b.key" --transcripts-days 90
grep -q "removed 10 conversations (20 turns), 10 data keys, 0 throttle events" "$T/out" ||
    fail "sweep 90 output: $(cat "$T/out")"
left=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM data_keys").fetchone()[0])' "$T/d/parley-keys.db")
[ "$left" = 20 ] || fail "data keys left: $left, wanted 20"
expect_code 1 "missing folder" "$P" store sweep --data-dir "$T/none/deeper"

finish "store checks passed"
