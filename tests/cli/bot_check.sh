#!/bin/sh
# parley bot check: the carrier bot is clean (exit 0, one-line summary, no
# warning), broken fixtures fail (exit 1) with FILE:LINE:COLUMN messages,
# trust warnings are printed but only fail with --strict, -h works.
set -u
S=${PARLEY_SOURCE_DIR:?PARLEY_SOURCE_DIR must point at the source tree}
. "${PARLEY_SOURCE_DIR:?}/tests/lib/clitest.sh"

expect_code 0 "bot -h" "$P" bot -h
grep -q "usage: parley bot check DIR" "$T/out" || fail "bot -h prints no usage"
expect_code 0 "bot check -h" "$P" bot check -h
expect_code 2 "bot without subcommand" "$P" bot
expect_code 2 "bot check without folder" "$P" bot check

expect_code 0 "carrier bot" "$P" bot check "$S/bots/carrier"
grep -q "^bot 'carrier' is valid: 4 languages, 23 intents" "$T/out" || fail "carrier summary: $(cat "$T/out")"
[ "$(wc -l <"$T/out")" -eq 1 ] || fail "carrier summary is not one line"

F=$S/tests/fixtures/bots
expect_code 1 "unknown step" "$P" bot check "$F/unknown_step"
grep -q "bot.yml:21:55: unknown step 'aply' in flow 'refuel'" "$T/err" || fail "unknown step message: $(cat "$T/err")"
grep -q "bot.yml:22:9: step 'apply' in flow 'refuel' is unreachable" "$T/err" || fail "every problem is reported"

expect_code 1 "yaml error" "$P" bot check "$F/yaml_error"
grep -q "yaml_error/bot.yml:5:8: invalid yaml" "$T/err" || fail "yaml error message: $(cat "$T/err")"

expect_code 1 "missing folder" "$P" bot check "$T/nothing"
grep -q "bot.yml" "$T/err" || fail "missing folder message names bot.yml"

# Warnings: printed on stderr, counted in the summary, exit 0 unless --strict.
expect_code 0 "bot check -h mentions --strict" "$P" bot check -h
grep -q -- "--strict" "$T/out" || fail "bot check -h does not document --strict"
expect_code 0 "carrier bot, strict" "$P" bot check --strict "$S/bots/carrier"
[ ! -s "$T/err" ] || fail "carrier bot has warnings: $(cat "$T/err")"

expect_code 0 "account fact before verify" "$P" bot check "$F/warn_disclosure"
grep -q "warn_disclosure/bot.yml:20:9: warning: step 'tell' of flow 'balance' would show account fact 'balance_due' before identity is verified; the engine withholds it" "$T/err" ||
    fail "disclosure warning: $(cat "$T/err")"
grep -q "bot.yml:20:9: warning: step 'tell' of flow 'balance' would show account fact 'first_balance'" "$T/err" ||
    fail "a picked fact keeps its sensitivity: $(cat "$T/err")"
grep -q "bot.yml:23:9: warning: step 'bye' of flow 'balance' would show sensitive fact 'full_name'" "$T/err" ||
    fail "verification's on_error path is not verified: $(cat "$T/err")"
[ "$(wc -l <"$T/err")" -eq 3 ] || fail "disclosure warnings: $(cat "$T/err")"
grep -q "^bot 'tiny' is valid: .*, 3 warnings$" "$T/out" || fail "summary with warnings: $(cat "$T/out")"
expect_code 1 "strict with warnings" "$P" bot check --strict "$F/warn_disclosure"
expect_code 1 "strict after the folder" "$P" bot check "$F/warn_disclosure" --strict

expect_code 0 "write without confirm" "$P" bot check "$F/warn_write"
grep -q "warn_write/bot.yml:19:9: warning: step 'apply' of flow 'pay' calls 'pay', which changes the account, without a confirm step right before it" "$T/err" ||
    fail "write warning: $(cat "$T/err")"
grep -q "warn_write/bot.yml:25:9: warning: step 'apply' of flow 'quick' calls 'pay', which changes the account, before identity is verified" "$T/err" ||
    fail "unverified write warning: $(cat "$T/err")"
[ "$(wc -l <"$T/err")" -eq 2 ] || fail "write warnings: $(cat "$T/err")"
grep -q ", 2 warnings$" "$T/out" || fail "write summary: $(cat "$T/out")"

expect_code 0 "facts after verify, write after confirm" "$P" bot check --strict "$F/trust_ok"
[ ! -s "$T/err" ] || fail "trust_ok has warnings: $(cat "$T/err")"
grep -q "steps$" "$T/out" || fail "a summary without warnings names none: $(cat "$T/out")"
expect_code 2 "unknown option" "$P" bot check --lenient "$F/trust_ok"

# The events section: every mistake reported where it is.
expect_code 1 "bad events" "$P" bot check "$F/bad_events"
for want in \
    "bad_events/bot.yml:49:3: bad event type name 'Usage-95' (expected a-z, 0-9 and _)" \
    "bad_events/bot.yml:50:27: unknown kind 'lists' for field 'cities' of event type 'outage_opened'" \
    "bad_events/bot.yml:51:3: duplicate event type 'usage_90'" \
    "bad_events/bot.yml:52:20: field 'id' of event type 'payment_failed' is reserved" \
    "bad_events/bot.yml:53:39: duplicate field 'line_id'" \
    "bad_events/bot.yml:54:19: event type 'line_suspended' must be a mapping"; do
    grep -qF "$want" "$T/err" || fail "bad events: no '$want' in: $(cat "$T/err")"
done
grep -q "has 6 problems" "$T/err" || fail "bad events: problem count: $(cat "$T/err")"

# The proactive section: each rule's mistake reported where it is.
expect_code 1 "bad rules" "$P" bot check "$F/bad_rules"
for want in \
    "bad_rules/bot.yml:48:19: placeholder '{nickname}' in response 'offer_bad' (en) is not known in rule 'bad_placeholder'" \
    "bad_rules/bot.yml:76:5: bad rule name 'Bad-Name'" \
    "bad_rules/bot.yml:77:25: unknown event type 'usage_95' in rule 'no_such_event'" \
    "bad_rules/bot.yml:78:41: action 'refuel' changes data and cannot be fetched" \
    "bad_rules/bot.yml:79:37: bad condition 'fact.data_used_gb >> 1'" \
    "bad_rules/bot.yml:80:42: condition: the event has no field 'percent'" \
    "bad_rules/bot.yml:81:34: rule 'no_scope' runs 'refuel' without a 'scope'" \
    "bad_rules/bot.yml:82:5: rule 'no_slot' does not give slot 'amount'" \
    "bad_rules/bot.yml:83:43: unknown response 'nope' in rule 'unknown_response'" \
    "bad_rules/bot.yml:85:5: rule 'no_customer': event type 'outage_opened' has no 'customer_id'" \
    "bad_rules/bot.yml:86:5: rule 'nothing' does nothing" \
    "bad_rules/bot.yml:87:54: unknown intent 'top_up' in 'reply' of rule 'reply_unknown'" \
    "bad_rules/bot.yml:88:57: rule 'reply_undeclined' has 'reply' but the bot has no 'proactive_declined' response"; do
    grep -qF "$want" "$T/err" || fail "bad rules: no '$want' in: $(cat "$T/err")"
done
grep -q "has 13 problems" "$T/err" || fail "bad rules: problem count: $(cat "$T/err")"

finish "bot_check: ok"
