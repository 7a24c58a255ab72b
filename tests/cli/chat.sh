#!/bin/sh
# parley chat: piped messages get answers (echoed as you>/bot> lines), bad
# input is reported and the conversation goes on, /quit, EOF and SIGINT end
# it, and the telco-sim it started is gone afterwards (its port is closed).
set -u
. "${PARLEY_SOURCE_DIR:?}/tests/lib/clitest.sh"
BOT=$PARLEY_SOURCE_DIR/bots/carrier

# The port of the telco-sim that a chat reported starting ($T/err) no longer
# answers.
sim_gone() {
    url=$(sed -n 's/^parley: started telco-sim on \(http[^ ]*\)$/\1/p' "$T/err")
    [ -n "$url" ] || {
        fail "$1: no 'started telco-sim on URL' line: $(cat "$T/err")"
        return
    }
    curl -s --max-time 2 "$url/healthz" >/dev/null && fail "$1: telco-sim still answers at $url"
}

expect_code 0 "chat -h" "$P" chat -h
grep -q "usage: parley chat" "$T/out" || fail "chat -h prints no usage"
expect_code 2 "chat without --bot" "$P" chat
expect_code 2 "chat --db with --backend" "$P" chat --bot "$BOT" --backend http://x --db y
expect_code 2 "chat with an extra argument" "$P" chat --bot "$BOT" extra

"$P" bot train "$BOT" --out "$T/m" --threads 2 --quiet || fail "bot train"

printf 'hello\nI want to pay my bill\n\377\376 broken\n\n   \nthanks\n/quit\nnever sent\n' >"$T/in"
"$P" chat --bot "$BOT" --models "$T/m" --debug <"$T/in" >"$T/out" 2>"$T/err"
[ $? -eq 0 ] || fail "chat: exit $? ($(cat "$T/err"))"
grep -q "^you> hello$" "$T/out" || fail "chat does not echo piped input: $(cat "$T/out")"
[ "$(grep -c '^bot> .' "$T/out")" -eq 3 ] || fail "chat: wanted 3 answers: $(cat "$T/out")"
grep -q '^  \[[a-z][a-z] | [a-z_-]* [0-9.]* | entities:.* | flow .* | actions:.* | handoff \(yes\|no\)\]$' \
    "$T/out" || fail "chat --debug line: $(cat "$T/out")"
grep -q "not valid UTF-8" "$T/err" || fail "chat: invalid UTF-8 not reported: $(cat "$T/err")"
grep -q "never sent" "$T/out" && fail "chat: /quit did not end the chat"
sim_gone "/quit"

# End of input ends it too; without --debug no debug line.
printf 'hello' | "$P" chat --bot "$BOT" --models "$T/m" >"$T/out" 2>"$T/err" ||
    fail "chat at EOF: $(cat "$T/err")"
grep -q "^bot> ." "$T/out" || fail "chat: no answer to a last line without newline"
grep -q "| handoff" "$T/out" && fail "chat: debug line without --debug"
sim_gone "EOF"

# SIGINT while waiting for input: a clean end, the backend stopped.
mkfifo "$T/fifo"
"$P" chat --bot "$BOT" --models "$T/m" <"$T/fifo" >"$T/out" 2>"$T/err" &
pid=$!
exec 3>"$T/fifo"
i=0
while ! grep -q "started telco-sim" "$T/err" && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
echo hello >&3
sleep 1
kill -INT $pid
wait $pid
rc=$?
exec 3>&-
[ $rc -eq 0 ] || fail "chat after SIGINT: exit $rc ($(cat "$T/err"))"
sim_gone "SIGINT"

# A bot that does not open: exit 1, and the started telco-sim is stopped.
expect_code 1 "chat with a missing bot" "$P" chat --bot "$T/nobot" --models "$T/m"
sim_gone "missing bot"
# A telco-sim that cannot start is named.
export PARLEY_TELCO_SIM=/bin/false
expect_code 1 "chat without telco-sim" "$P" chat --bot "$BOT" --models "$T/m"
grep -q "telco-sim '/bin/false' exited" "$T/err" || fail "telco-sim failure: $(cat "$T/err")"
unset PARLEY_TELCO_SIM
finish "chat checks passed"
