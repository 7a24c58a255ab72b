#!/bin/sh
# parley redact and parley vault: each operator, one line out per line in
# (empty lines and a last line without newline kept), JSON lines fields
# (nested, arrays, missing), --findings as JSON, hash pseudonyms stable per
# key, tokenize then detokenize with its audit record and no clear value
# in the vault file, wrong keys, bad UTF-8, standard input, usage errors.
set -u
. "${PARLEY_SOURCE_DIR:?}/tests/lib/clitest.sh"

CARD="4111 1111 1111 1111"
MAIL="zoe.alves@example.com"
IBAN="DE89 3704 0044 0532 0130 00"
PHONE="+33 6 12 34 56 78"
printf '%s\n' "my card is $CARD thanks" "" "write to $MAIL please" "nothing personal here" \
    "" "pay to $IBAN tonight" "or call $PHONE" >"$T/in.txt"
printf 'last line without newline %s' "$MAIL" >>"$T/in.txt"

no_clear() { # FILE WHAT: none of the values in clear
    for v in "$CARD" "$MAIL" "$IBAN" "$PHONE" "zoe.alves"; do
        if grep -qF "$v" "$1"; then fail "$2: '$v' in clear"; fi
    done
}
same_lines() { # A B WHAT: as many lines (newlines) and the same empty lines
    [ "$(wc -l <"$1")" -eq "$(wc -l <"$2")" ] || fail "$3: $(wc -l <"$1") lines in, $(wc -l <"$2") out"
    [ "$(grep -n '^$' "$1")" = "$(grep -n '^$' "$2")" ] || fail "$3: empty lines moved"
}

# ---- usage --------------------------------------------------------------
expect_code 0 "redact -h" "$P" redact -h
grep -q "usage: parley redact" "$T/out" || fail "redact -h prints no usage"
expect_code 0 "vault -h" "$P" vault -h
expect_code 2 "no vault command" "$P" vault
expect_code 2 "unknown operator" "$P" redact --operator blur "$T/in.txt"
grep -q "unknown operator 'blur'" "$T/err" || fail "unknown operator message: $(cat "$T/err")"
expect_code 2 "unknown type" "$P" redact --operator plate=mask "$T/in.txt"
expect_code 2 "unknown --types" "$P" redact --types card,plate "$T/in.txt"
expect_code 2 "bad confidence" "$P" redact --min-confidence 2 "$T/in.txt"
expect_code 2 "jsonl without field" "$P" redact --jsonl "$T/in.txt"
expect_code 2 "field without jsonl" "$P" redact --field a "$T/in.txt"
expect_code 2 "hash without key" "$P" redact --operator hash "$T/in.txt"
grep -q "needs --hash-key" "$T/err" || fail "hash without key message: $(cat "$T/err")"
expect_code 2 "tokenize without vault" "$P" redact --operator card=tokenize "$T/in.txt"
expect_code 2 "unknown option" "$P" redact --frob "$T/in.txt"

# ---- redact (the default) -----------------------------------------------
# The context detectors are linked into the binary: names, addresses and
# dates of birth after their cues, in several languages.
printf '%s\n' "my name is Zoë Alves" "je m'appelle Amélie Poulain" "ich wohne in der Hauptstraße 5, 10115 Berlin" \
    "I was born on 3 March 1979" >"$T/ctx.txt"
expect_code 0 "context types" "$P" redact "$T/ctx.txt"
printf '%s\n' "my name is [NAME]" "je m'appelle [NAME]" "ich wohne in der [ADDRESS]" \
    "I was born on [DOB]" >"$T/ctx.want"
cmp -s "$T/out" "$T/ctx.want" || fail "context types: $(cat "$T/out")"

expect_code 0 "redact" "$P" redact "$T/in.txt"
cp "$T/out" "$T/red.txt"
[ -s "$T/err" ] && fail "redact wrote to stderr when it is not a terminal: $(cat "$T/err")"
no_clear "$T/red.txt" "redact"
same_lines "$T/in.txt" "$T/red.txt" "redact"
grep -qx "my card is \[CARD\] thanks" "$T/red.txt" || fail "card not redacted: $(sed -n 1p "$T/red.txt")"
grep -qx "write to \[EMAIL\] please" "$T/red.txt" || fail "e-mail not redacted"
grep -qx "pay to \[IBAN\] tonight" "$T/red.txt" || fail "IBAN not redacted: $(sed -n 6p "$T/red.txt")"
grep -qx "or call \[PHONE\]" "$T/red.txt" || fail "phone not redacted: $(sed -n 7p "$T/red.txt")"
grep -qx "nothing personal here" "$T/red.txt" || fail "a line without personal data changed"
[ "$(tail -c 1 "$T/red.txt")" = "]" ] || fail "last line: newline added or line lost"

# Standard input gives the same; so does '-'.
expect_code 0 "redact stdin" sh -c '"$1" redact <"$2"' sh "$P" "$T/in.txt"
cmp -s "$T/out" "$T/red.txt" || fail "stdin output differs from the file's"
expect_code 0 "redact -" sh -c 'cat "$2" | "$1" redact -' sh "$P" "$T/in.txt"
cmp -s "$T/out" "$T/red.txt" || fail "'-' output differs from the file's"

# --types: only cards are looked for.
expect_code 0 "types card" "$P" redact --types card "$T/in.txt"
grep -qF "$MAIL" "$T/out" || fail "--types card redacted the e-mail"
grep -qF "[CARD]" "$T/out" || fail "--types card missed the card"

# ---- mask, keep ----------------------------------------------------------
expect_code 0 "mask" "$P" redact --operator mask "$T/in.txt"
grep -qx "my card is \*\*\*\* \*\*\*\* \*\*\*\* 1111 thanks" "$T/out" ||
    fail "card mask: $(sed -n 1p "$T/out")"
grep -qx "write to \*\{21\} please" "$T/out" || fail "e-mail mask: $(sed -n 3p "$T/out")"
grep -qx "pay to \*\*\*\* \*\*\*\* \*\*\*\* \*\*\*\* \*\*30 00 tonight" "$T/out" ||
    fail "IBAN mask: $(sed -n 6p "$T/out")"
grep -qx "or call +\*\* \* \*\* \*\* 56 78" "$T/out" || fail "phone mask: $(sed -n 7p "$T/out")"
no_clear "$T/out" "mask"
same_lines "$T/in.txt" "$T/out" "mask"
expect_code 0 "keep email" "$P" redact --operator email=keep --operator mask "$T/in.txt"
grep -qF "write to $MAIL please" "$T/out" || fail "email=keep did not keep it"
grep -qF "**** 1111" "$T/out" || fail "--operator mask after email=keep lost"

# ---- hash ----------------------------------------------------------------
expect_code 0 "keygen 1" "$P" vault keygen --out "$T/k1"
expect_code 0 "keygen 2" "$P" vault keygen --out "$T/k2"
expect_code 1 "keygen existing" "$P" vault keygen --out "$T/k1"
expect_code 0 "hash 1" "$P" redact --operator hash --hash-key "$T/k1" "$T/in.txt"
cp "$T/out" "$T/h1.txt"
grep -Eq '^my card is \[CARD:[0-9a-f]{16}\] thanks$' "$T/h1.txt" || fail "hash form: $(sed -n 1p "$T/h1.txt")"
no_clear "$T/h1.txt" "hash"
printf 'call +33612345678\ncall %s\n' "$PHONE" >"$T/spell.txt"
expect_code 0 "hash spellings" "$P" redact --operator hash --hash-key "$T/k1" "$T/spell.txt"
[ "$(sort -u "$T/out" | wc -l)" -eq 1 ] || fail "one phone in two spellings, two pseudonyms: $(cat "$T/out")"
grep -Eq '^call \[PHONE:[0-9a-f]{16}\]$' "$T/out" || fail "phone hash form: $(cat "$T/out")"
expect_code 0 "hash 1 again" "$P" redact --operator hash --hash-key "file:$T/k1" "$T/in.txt"
cmp -s "$T/out" "$T/h1.txt" || fail "hash differs between runs with the same key"
PARLEY_TEST_HASH_KEY=$(cat "$T/k1")
export PARLEY_TEST_HASH_KEY
expect_code 0 "hash env key" "$P" redact --operator hash --hash-key env:PARLEY_TEST_HASH_KEY "$T/in.txt"
cmp -s "$T/out" "$T/h1.txt" || fail "hash with the key from the environment differs"
expect_code 0 "hash 2" "$P" redact --operator hash --hash-key "$T/k2" "$T/in.txt"
[ "$(sed -n 1p "$T/out")" != "$(sed -n 1p "$T/h1.txt")" ] || fail "hash the same with another key"
expect_code 1 "hash missing env" "$P" redact --operator hash --hash-key env:PARLEY_TEST_NO_SUCH "$T/in.txt"
grep -q "PARLEY_TEST_NO_SUCH' is not set" "$T/err" || fail "missing env message: $(cat "$T/err")"
printf 'xyz\n' >"$T/badkey" && chmod 600 "$T/badkey"
expect_code 1 "hash malformed key" "$P" redact --operator hash --hash-key "$T/badkey" "$T/in.txt"
grep -q "64 hex digits" "$T/err" || fail "malformed key message: $(cat "$T/err")"
cp "$T/k1" "$T/open.key" && chmod 644 "$T/open.key"
expect_code 1 "hash key readable by all" "$P" redact --operator hash --hash-key "$T/open.key" "$T/in.txt"
grep -q "chmod 600" "$T/err" || fail "open key message: $(cat "$T/err")"

# ---- tokenize and detokenize ----------------------------------------------
D="$T/data"
mkdir -p "$D"
expect_code 0 "tokenize" "$P" redact --operator tokenize --vault "$D/vault.db" --vault-key "$T/k1" "$T/in.txt"
cp "$T/out" "$T/tok.txt"
no_clear "$T/tok.txt" "tokenize"
same_lines "$T/in.txt" "$T/tok.txt" "tokenize"
card_tok=$(sed -n 's/^my card is \[CARD#\(tok_[0-9a-f]\{24\}\)\] thanks$/\1/p' "$T/tok.txt")
[ -n "$card_tok" ] || fail "tokenize form: $(sed -n 1p "$T/tok.txt")"
mail_tok=$(sed -n 's/^write to \(\[EMAIL#tok_[0-9a-f]\{24\}\]\) please$/\1/p' "$T/tok.txt")
[ -n "$mail_tok" ] || fail "tokenize form: $(sed -n 3p "$T/tok.txt")"
# The same value twice (e-mail on lines 3 and 8) is one token; runs agree.
[ "$(grep -o 'EMAIL#tok_[0-9a-f]*' "$T/tok.txt" | sort -u | wc -l)" -eq 1 ] || fail "one e-mail, several tokens"
expect_code 0 "tokenize again" "$P" redact --operator tokenize --vault "$D/vault.db" --vault-key "$T/k1" "$T/in.txt"
cmp -s "$T/out" "$T/tok.txt" || fail "tokens differ between runs"
for f in "$D"/vault.db*; do
    if grep -qaF "zoe.alves" "$f" || grep -qaF "4111" "$f"; then fail "clear value in $f"; fi
done
expect_code 1 "tokenize wrong key" "$P" redact --operator tokenize --vault "$D/vault.db" --vault-key "$T/k2" "$T/in.txt"
grep -q "another key" "$T/err" || fail "wrong vault key message: $(cat "$T/err")"
[ -s "$T/out" ] && fail "wrong vault key still wrote output"

expect_code 0 "detokenize" "$P" vault detokenize "$card_tok" --data-dir "$D" --key "$T/k1"
[ "$(cat "$T/out")" = "$CARD" ] || fail "detokenize card: '$(cat "$T/out")'"
expect_code 0 "detokenize bracketed" "$P" vault detokenize "$mail_tok" --data-dir "$D" --vault-key "$T/k1"
[ "$(cat "$T/out")" = "$MAIL" ] || fail "detokenize e-mail: '$(cat "$T/out")'"
expect_code 1 "detokenize wrong key" "$P" vault detokenize "$card_tok" --data-dir "$D" --key "$T/k2"
grep -q "another key" "$T/err" || fail "detokenize wrong key message: $(cat "$T/err")"
[ -s "$T/out" ] && fail "detokenize with the wrong key printed something"
expect_code 1 "detokenize unknown" "$P" vault detokenize tok_000000000000000000000000 --data-dir "$D" --key "$T/k1"
grep -q "not in the vault" "$T/err" || fail "unknown token message: $(cat "$T/err")"
expect_code 1 "detokenize not a token" "$P" vault detokenize hello --data-dir "$D" --key "$T/k1"
expect_code 2 "detokenize without key" "$P" vault detokenize "$card_tok" --data-dir "$D"
expect_code 1 "detokenize no vault" "$P" vault detokenize "$card_tok" --data-dir "$T/none" --key "$T/k1"
# The audit log has a record of each attempt, with the token, never the value.
expect_code 0 "audit verify" "$P" audit verify --data-dir "$D"
python3 - "$D/audit.db" "$card_tok" <<'PY' || fail "audit records of detokenize"
import json, sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute("SELECT kind, body FROM audit_records").fetchall()
bodies = [json.loads(b) for k, b in rows if k == "privacy"]
assert len(bodies) == 3, bodies  # two found, one unknown (the wrong key opens nothing)
assert bodies[0] == {"request": "detokenize", "token": sys.argv[2], "type": "card",
                     "result": "ok", "channel": "cli"}, bodies[0]
assert bodies[2]["result"] == "not_found", bodies[2]
for k, b in rows:
    assert "4111" not in b and "zoe" not in b, b
PY

# ---- JSON lines --------------------------------------------------------------
cat >"$T/in.jsonl" <<EOF
{"id":7,"customer":{"name":"x","contact":{"email":"$MAIL"}},"note":"$MAIL","score":0.5}
{"turns":[{"role":"user","text":"card $CARD"},{"role":"bot","text":"ok"},{"text":7}],"id":"c1"}
{"id":8}

{"bad":
EOF
expect_code 1 "jsonl" "$P" redact --jsonl --field customer.contact.email --field turns.*.text \
    --field missing.path "$T/in.jsonl"
python3 - "$T/out" "$MAIL" <<'PY' || fail "jsonl output"
import json, sys
lines = open(sys.argv[1]).read().split("\n")
a, b, c = (json.loads(l) for l in lines[:3])
assert a == {"id": 7, "customer": {"name": "x", "contact": {"email": "[EMAIL]"}},
             "note": sys.argv[2], "score": 0.5}, a
assert list(a) == ["id", "customer", "note", "score"], list(a)  # order kept
assert b == {"turns": [{"role": "user", "text": "card [CARD]"}, {"role": "bot", "text": "ok"},
                       {"text": 7}], "id": "c1"}, b
assert c == {"id": 8}, c
PY
grep -q "in.jsonl:4: column" "$T/err" || fail "empty JSON line error: $(cat "$T/err")"
expect_code 1 "jsonl malformed" sh -c 'sed -n "1p;5p" "$2" | "$1" redact --jsonl --field note' sh "$P" "$T/in.jsonl"
grep -q "^parley: -:2: column [0-9]*: " "$T/err" || fail "malformed line message: $(cat "$T/err")"
printf '[1,2]\n' >"$T/arr.jsonl"
expect_code 1 "jsonl not an object" "$P" redact --jsonl --field a "$T/arr.jsonl"
grep -q "arr.jsonl:1: column 1: not a JSON object" "$T/err" || fail "array line message: $(cat "$T/err")"

# ---- --findings ---------------------------------------------------------------
expect_code 0 "findings" "$P" redact --findings "$T/in.txt"
[ "$(wc -l <"$T/out")" -eq 8 ] || fail "findings: $(wc -l <"$T/out") lines, wanted 8"
python3 - "$T/out" "$T/in.txt" <<'PY' || fail "findings are not valid JSON with offsets"
import json, sys
text = open(sys.argv[2], "rb").read().split(b"\n")
types = set()
for i, l in enumerate(open(sys.argv[1])):
    o = json.loads(l)
    assert o["line"] == i + 1 and o["file"].endswith("in.txt"), o
    for f in o["findings"]:
        assert set(f) == {"type", "start", "end", "confidence", "detector"}, f
        assert 0 <= f["start"] < f["end"] <= len(text[i]) and 0 <= f["confidence"] <= 1, f
        types.add((f["type"], text[i][f["start"]:f["end"]].decode()))
for want in [("card", "4111 1111 1111 1111"), ("email", "zoe.alves@example.com"),
             ("iban", "DE89 3704 0044 0532 0130 00"), ("phone", "+33 6 12 34 56 78")]:
    assert want in types, (want, types)
PY
expect_code 0 "findings jsonl" sh -c 'sed -n 2p "$2" | "$1" redact --findings --jsonl --field turns.*.text' sh "$P" "$T/in.jsonl"
python3 -c 'import json,sys; o=json.loads(open(sys.argv[1]).read()); f=o["findings"]; assert f and f[0]["field"]=="turns.0.text" and f[0]["type"]=="card", o' "$T/out" ||
    fail "jsonl findings: $(cat "$T/out")"

# ---- bad UTF-8, unreadable files ------------------------------------------------
printf 'fine line\nbad \377\376 bytes %s\n\nend\n' "$MAIL" >"$T/bad.txt"
expect_code 1 "bad utf-8" "$P" redact "$T/bad.txt"
[ "$(wc -l <"$T/out")" -eq 4 ] || fail "bad utf-8: $(wc -l <"$T/out") lines out, wanted 4"
grep -q "bad.txt:2: not valid UTF-8" "$T/err" || fail "bad utf-8 warning: $(cat "$T/err")"
python3 -c 'import sys; l=open(sys.argv[1],encoding="utf-8").read().split("\n"); assert l[1]=="bad \ufffd\ufffd bytes [EMAIL]", l' "$T/out" ||
    fail "bad utf-8 line: $(sed -n 2p "$T/out")"
expect_code 1 "unreadable file" "$P" redact "$T/in.txt" "$T/none.txt"
grep -q "cannot read '$T/none.txt'" "$T/err" || fail "unreadable file message: $(cat "$T/err")"
cmp -s "$T/out" "$T/red.txt" || fail "the readable file before the missing one was not redacted"

finish "redact checks passed"
