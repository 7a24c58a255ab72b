#!/bin/sh
# Personal data never lands on disk in clear (issue 7): a conversation full
# of it — card, IBAN, SSN, e-mail, phones, IMEI, IP, address, name, date of
# birth, the backend's ids, the verified customer's own details — through
# the real server, a hand-off, an agent's reply and a rating comment. Then
# no seeded value may appear in what the API serves (transcript, queue,
# audit), in any file of the data folder (database, WAL, audit log) or in
# the server's logs.
set -u
. "${PARLEY_SOURCE_DIR:?}/tests/lib/clitest.sh"
. "$PARLEY_SOURCE_DIR/tests/lib/servertest.sh"
train_bot || exit 1
start_server "$T/d"
trap 'stop_server; rm -rf "$T"' EXIT

say() {
    body=$(python3 -c 'import json,sys; print(json.dumps({"text": sys.argv[1]}))' "$1")
    req POST "/v1/conversations/$ID/messages" "$CH" "$body"
    expect_status 200 "message: $1"
}

req POST /v1/conversations "$CH" '{"channel":"web","language":"en"}'
expect_status 201 "start"
ID=$(field 'j["conversation_id"]')
say "my customer id is C1002, what is my data usage?"
say "555-123-2001"
say "John Smith, 15/06/1985"
say "hi, my name is Janet Brewster and my card number is 4111 1111 1111 1111"
say "you can email me at janet.brewster@example.org"
say "my IBAN is DE89 3704 0044 0532 0130 00 and my social security number is 123-45-6789"
say "I was born on 3 March 1979 and I live at 742 Evergreen Terrace, Springfield"
say "the phone's IMEI is 490154203237518 and my router is at 192.168.10.23"
say "my other number is +33 6 12 34 56 78"
say "je m'appelle Amélie Poulain, j'habite 12 rue de la Paix, 75002 Paris"
say "I want to talk to a human"
[ "$(field 'j["state"]')" = handed_off ] || fail "not handed off: $(cat "$T/body")"
req POST "/v1/conversations/$ID/agent-messages" "$AG" \
    '{"text":"Hello Janet, I will call you back on 0612345678 about card 4111 1111 1111 1111"}'
expect_status 201 "agent message"
req POST "/v1/conversations/$ID/handback" "$AG"
expect_status 200 "hand back"
req POST "/v1/conversations/$ID/rating" "$CH" \
    '{"score":5,"comment":"thanks! write to janet.brewster@example.org, Hauptstraße 5, 10115 Berlin"}'
expect_status 200 "rating"

# The seeded values, as typed and in the forms a store might keep.
cat >"$T/seeded" <<'VALUES'
4111 1111 1111 1111
4111111111111111
janet.brewster@example.org
+33 6 12 34 56 78
612345678
0612345678
DE89 3704 0044 0532 0130 00
DE89370400440532013000
123-45-6789
490154203237518
192.168.10.23
742 Evergreen Terrace
Brewster
Amélie Poulain
12 rue de la Paix
Hauptstraße 5
3 March 1979
15/06/1985
1985-06-15
555-123-2001
5551232001
C1002
Smith
VALUES

# What the API serves: the transcript (as the agent console shows it), the
# hand-off queue's summary, the audit records.
req GET "/v1/conversations/$ID" "$AG"
expect_status 200 "transcript"
cp "$T/body" "$T/api-transcript"
[ "$(field '[t["role"] for t in j["turns"]].count("customer")')" = 11 ] ||
    fail "not every message is in the transcript: $(cat "$T/body")"
req GET "/v1/audit?conversation_id=$ID" "$AD"
expect_status 200 "audit"
cp "$T/body" "$T/api-audit"
req GET /v1/audit/verify "$AD"
[ "$(field 'j["ok"]')" = True ] || fail "audit chain: $(cat "$T/body")"

stop_server
trap 'rm -rf "$T"' EXIT
while IFS= read -r v; do
    for f in "$T/api-transcript" "$T/api-audit"; do
        grep -qF "$v" "$f" && fail "'$v' served in clear by the API ($(basename "$f"))"
    done
    # Every file of the data folder (database, its WAL, the audit log) and
    # the server's logs, byte for byte.
    grep -rlaF "$v" "$T/d" >"$T/hits" 2>/dev/null
    [ -s "$T/hits" ] && fail "'$v' found on disk in clear: $(tr '\n' ' ' <"$T/hits")"
done <"$T/seeded"
# The transcript policy: cards tokenized into the vault (reversible, by an
# admin, audited), e-mail addresses hashed (a stable pseudonym), the rest
# redacted. A policy that needs keys it does not have refuses to start.
expect_code 0 "hash key" "$P" vault keygen --out "$T/hash.key"
expect_code 0 "vault key" "$P" vault keygen --out "$T/vault.key"
PARLEY_PII_TRANSCRIPT='card=tokenize,email=hash' "$P" serve --demo --port 0 --data-dir "$T/bad" \
    --bot "$SRC/bots/carrier" --models "$T/models" --web-dir "$SRC/web" >"$T/out" 2>"$T/err" &
BAD=$!
sleep 0.5
i=0
while kill -0 "$BAD" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 "$BAD" 2>/dev/null && { kill "$BAD"; fail "a tokenizing policy without a vault key started"; }
grep -q "no hash key is configured (pii_hash_key)\|no vault is configured (pii_vault_key)" "$T/err" ||
    fail "missing policy keys: unclear message: $(cat "$T/err")"
start_server "$T/p" PARLEY_PII_TRANSCRIPT='card=tokenize,email=hash' \
    PARLEY_PII_HASH_KEY="file:$T/hash.key" PARLEY_PII_VAULT_KEY="file:$T/vault.key"
trap 'stop_server; rm -rf "$T"' EXIT
req POST /v1/conversations "$CH" '{"channel":"web","language":"en"}'
ID=$(field 'j["conversation_id"]')
say "my card is 4111 1111 1111 1111 and my email is janet.brewster@example.org"
say "again: janet.brewster@example.org"
req GET "/v1/conversations/$ID" "$AG"
TOK=$(field '[__import__("re").search(r"\[CARD#tok_[0-9a-f]+\]", t["text"]).group(0) for t in j["turns"] if "CARD#" in t["text"]][0]')
[ -n "$TOK" ] || fail "no card token in the transcript: $(cat "$T/body")"
[ "$(field 'len(set(__import__("re").findall(r"\[EMAIL:[0-9a-f]+\]", str(j))))')" = 1 ] ||
    fail "the e-mail address has no single stable pseudonym: $(cat "$T/body")"
grep -qF "janet.brewster@example.org" "$T/body" && fail "e-mail in clear with the hash policy"
stop_server
trap 'rm -rf "$T"' EXIT
expect_code 0 "detokenize" "$P" vault detokenize "$TOK" --key "file:$T/vault.key" --data-dir "$T/p"
[ "$(cat "$T/out")" = "4111 1111 1111 1111" ] || fail "detokenize gave '$(cat "$T/out")'"
python3 - "$T/p/audit.db" <<'PY' || fail "detokenizing left no audit record"
import json, sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute("SELECT kind, body FROM audit_records").fetchall()
assert any(k == "privacy" and json.loads(b).get("request") == "detokenize" for k, b in rows), rows[-3:]
PY
expect_code 0 "audit verify after detokenize" "$P" audit verify --data-dir "$T/p"
grep -rlaF "4111 1111 1111 1111" "$T/p" >"$T/hits"
[ -s "$T/hits" ] && fail "the tokenized card is on disk in clear: $(cat "$T/hits")"

# The redaction kept the conversation readable: the types are named.
grep -q '\[CARD\]' "$T/api-transcript" || fail "no [CARD] in the transcript: $(head -c 600 "$T/api-transcript")"
grep -q '\[EMAIL\]' "$T/api-transcript" || fail "no [EMAIL] in the transcript"
finish
