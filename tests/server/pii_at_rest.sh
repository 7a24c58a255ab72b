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
# The redaction kept the conversation readable: the types are named.
grep -q '\[CARD\]' "$T/api-transcript" || fail "no [CARD] in the transcript: $(head -c 600 "$T/api-transcript")"
grep -q '\[EMAIL\]' "$T/api-transcript" || fail "no [EMAIL] in the transcript"
finish
