#!/bin/sh
# parley bot check: the carrier bot is clean (exit 0, one-line summary),
# broken fixtures fail (exit 1) with FILE:LINE:COLUMN messages, -h works.
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

finish "bot_check: ok"
