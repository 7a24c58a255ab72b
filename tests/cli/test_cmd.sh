#!/bin/sh
# parley test: malformed test files are reported as FILE:LINE:COLUMN and
# nothing runs (exit 2); a failing test names its first failed expectation,
# turn and file:line with the transcript (exit 1); passing tests exit 0;
# --filter, -v, --jobs and duplicate names (fixtures: tests/fixtures/convtests).
set -u
. "${PARLEY_SOURCE_DIR:?}/tests/lib/clitest.sh"
SRC=$PARLEY_SOURCE_DIR
BOT=$SRC/bots/carrier
FX=$SRC/tests/fixtures/convtests

expect_code 0 "test -h" "$P" test -h
grep -q "usage: parley test" "$T/out" || fail "test -h prints no usage"
expect_code 2 "test without --bot" "$P" test "$FX/pass"
expect_code 2 "test without files" "$P" test --bot "$BOT"
expect_code 2 "test of a missing file" "$P" test --bot "$BOT" "$T/none.yml"
expect_code 2 "bad --jobs" "$P" test --bot "$BOT" --jobs 0 "$FX/pass"

# Malformed files: every problem of every file, nothing run.
cd "$SRC" || exit 1
expect_code 2 "malformed files" "$P" test --bot "$BOT" tests/fixtures/convtests/malformed
for want in \
    "tests/fixtures/convtests/malformed/syntax.yml:5:1: found unexpected end of stream" \
    "tests/fixtures/convtests/malformed/keys.yml:4:5: unknown key 'intnet' in a turn" \
    "tests/fixtures/convtests/malformed/keys.yml:5:11: 'wait' needs a duration" \
    "tests/fixtures/convtests/malformed/keys.yml:7:12: bad regular expression '(unclosed'" \
    "tests/fixtures/convtests/malformed/keys.yml:8:19: method 'FETCH' is not one of" \
    "tests/fixtures/convtests/malformed/keys.yml:9:5: 'intent' applies only to a 'say' turn" \
    "tests/fixtures/convtests/malformed/keys.yml:11:5: an expectation needs exactly one of" \
    "tests/fixtures/convtests/malformed/no_turns.yml:1:1: a test needs a 'name'" \
    "nothing was run"; do
    grep -qF "$want" "$T/err" || fail "malformed: no '$want' in: $(cat "$T/err")"
done
[ -s "$T/out" ] && fail "malformed files: something ran: $(cat "$T/out")"
# A malformed file among good ones still stops everything.
expect_code 2 "one malformed file" "$P" test --bot "$BOT" "$FX/pass" "$FX/malformed/keys.yml"
[ -s "$T/out" ] && fail "one malformed file: something ran"

# Malformed audit expectations and sms_code placeholders, FILE:LINE:COLUMN.
cat >"$T/audit_bad.yml" <<'EOF2'
name: bad audit
turns:
  - say: "code {sms_code:}"
audit:
  - {field: to, equals: verified}
  - {kind: identity, equals: verified}
  - {kind: identity, absent: true, count: 1}
  - {kind: identity, where: 3, colour: red}
  - {kind: Identity, absent: maybe}
EOF2
expect_code 2 "malformed audit" "$P" test --bot "$BOT" "$T/audit_bad.yml"
for want in \
    "audit_bad.yml:3:10: '{sms_code:' needs a phone number" \
    "audit_bad.yml:5:5: an audit expectation needs 'kind'" \
    "audit_bad.yml:6:5: an audit expectation with equals or not_equals needs 'field'" \
    "audit_bad.yml:7:36: an audit expectation takes one of absent or count" \
    "audit_bad.yml:8:29: 'where' needs a map" \
    "audit_bad.yml:8:32: unknown key 'colour' in an audit expectation" \
    "audit_bad.yml:9:12: 'kind' needs a record kind" \
    "audit_bad.yml:9:30: 'absent' needs true or false"; do
    grep -qF "$want" "$T/err" || fail "malformed audit: no '$want' in: $(cat "$T/err")"
done

# The models the engine needs.
"$P" bot train "$BOT" --out "$T/m" --threads 2 --quiet || fail "bot train"
M="--models $T/m"

# shellcheck disable=SC2086
expect_code 0 "passing test" "$P" test --bot "$BOT" $M "$FX/pass"
grep -q "^ok   fixture passes ([0-9.]* s)$" "$T/out" || fail "pass line: $(cat "$T/out")"
grep -q "^1 passed, 0 failed$" "$T/out" || fail "pass summary: $(cat "$T/out")"
grep -q "you>" "$T/out" && fail "a passing test printed its transcript without -v"
# shellcheck disable=SC2086
expect_code 0 "passing test -v" "$P" test -v --bot "$BOT" $M "$FX/pass/backend_only.yml"
grep -q "^    you> hello$" "$T/out" || fail "-v prints no transcript: $(cat "$T/out")"
grep -q "^    bot> " "$T/out" || fail "-v prints no reply: $(cat "$T/out")"
grep -q "^    ~ wait 45m$" "$T/out" || fail "-v prints no wait: $(cat "$T/out")"

# shellcheck disable=SC2086
expect_code 1 "wrong intent" "$P" test --bot "$BOT" $M tests/fixtures/convtests/fail/wrong_intent.yml
grep -q "^FAIL fixture fails on intent (" "$T/out" || fail "FAIL line: $(cat "$T/out")"
grep -q "^  tests/fixtures/convtests/fail/wrong_intent.yml:5: turn 2: intent: expected 'list_plans', got '" \
    "$T/out" || fail "intent failure message: $(cat "$T/out")"
grep -q "^    you> I want to pay my bill$" "$T/out" || fail "transcript so far: $(cat "$T/out")"
grep -q "never reached" "$T/out" && fail "steps after the failure ran"
grep -q "^0 passed, 1 failed$" "$T/out" || fail "fail summary: $(cat "$T/out")"

# shellcheck disable=SC2086
expect_code 1 "wrong state" "$P" test --bot "$BOT" $M "$FX/fail/wrong_state.yml"
grep -q "wrong_state.yml:6: expect 1: GET /lines/L1002 field 'data_used_gb': expected 99, got 8.7" \
    "$T/out" || fail "state failure message: $(cat "$T/out")"

# Audit expectations read the test's own in-memory audit log; {sms_code:}
# types the code telco-sim received.
cat >"$T/audit_ok.yml" <<'EOF2'
name: audit passes
turns:
  - say: "how much data have I used"
  - say: "555-123-2002"
  - say: "send me a code"
  - say: "{sms_code:5551232002}"
    reply: "verified"
audit:
  - {kind: identity, field: to, equals: strong}
  - {kind: identity, where: {from: anonymous, to: identified}, count: 1}
  - {kind: consent, absent: true}
  - {kind: action, field: action}
EOF2
# shellcheck disable=SC2086
expect_code 0 "audit expectations" "$P" test --bot "$BOT" $M "$T/audit_ok.yml"
sed 's/^name: audit passes/name: audit fails/; s/equals: strong}/equals: strong, absent: true}/' \
    "$T/audit_ok.yml" >"$T/audit_fail.yml"
# shellcheck disable=SC2086
expect_code 1 "failing audit expectation" "$P" test --bot "$BOT" $M "$T/audit_fail.yml"
grep -q "audit_fail.yml:9: audit 1: found 1 'identity' record with to = strong, expected none" \
    "$T/out" || fail "audit failure message: $(cat "$T/out")"
grep -q '^    audit> \[turn 4\] identity {"from":"identified","to":"strong"' "$T/out" ||
    fail "audit records in the transcript: $(cat "$T/out")"

# Several files in parallel: reports keep the files' order.
# shellcheck disable=SC2086
expect_code 1 "--jobs 3" "$P" test --bot "$BOT" $M --jobs 3 "$FX/fail" "$FX/pass"
[ "$(grep -E '^(ok|FAIL)' "$T/out" | cut -c1-4 | tr '\n' ' ')" = "FAIL FAIL ok   " ] ||
    fail "--jobs order: $(cat "$T/out")"
grep -q "^1 passed, 2 failed$" "$T/out" || fail "--jobs summary: $(cat "$T/out")"
# shellcheck disable=SC2086
expect_code 0 "--filter" "$P" test --bot "$BOT" $M --filter passes "$FX/fail" "$FX/pass"
grep -q "^1 passed, 0 failed$" "$T/out" || fail "--filter: $(cat "$T/out")"
# shellcheck disable=SC2086
expect_code 2 "--filter matching nothing" "$P" test --bot "$BOT" $M --filter zzz "$FX/pass"

# Test names are unique across files.
cp "$FX/pass/backend_only.yml" "$T/a.yml"
cp "$FX/pass/backend_only.yml" "$T/b.yml"
expect_code 2 "duplicate names" "$P" test --bot "$BOT" "$T/a.yml" "$T/b.yml"
grep -q "b.yml:3:1: test name 'fixture passes' is already used at .*a.yml:3$" "$T/err" ||
    fail "duplicate name message: $(cat "$T/err")"

# A telco-sim that cannot start fails the test with its reason.
export PARLEY_TELCO_SIM=/bin/false
# shellcheck disable=SC2086
expect_code 1 "no telco-sim" "$P" test --bot "$BOT" $M "$FX/pass"
unset PARLEY_TELCO_SIM
grep -q "telco-sim '/bin/false' exited" "$T/out" || fail "telco-sim failure: $(cat "$T/out")"
finish "test command checks passed"
