#!/bin/sh
# Actions are decided again when they are about to run (issue 6): a copy of
# the reference bot whose refuel flow is miswired (the quote's "no" leads to
# the refuel; bot check warns about it) must still refuse the refuel at
# execution time: not called, audited as denied with its rule, handed off
# with action_refused, and telco-sim unchanged.
set -u
. "${PARLEY_SOURCE_DIR:?}/tests/lib/clitest.sh"
SRC=$PARLEY_SOURCE_DIR

cp -R "$SRC/bots/carrier" "$T/bot"
rm -rf "$T/bot/models"
python3 - "$T/bot/bot.yml" <<'PY'
import sys
p = sys.argv[1]
s = open(p, encoding="utf-8").read()
old = "{id: quote, type: confirm, response: refuel_quote, yes: apply, no: cancelled}"
assert old in s, "the refuel flow's confirm step is not where this test expects it"
s = s.replace(old, "{id: quote, type: confirm, response: refuel_quote, yes: cancelled, no: apply}")
open(p, "w", encoding="utf-8").write(s)
PY
[ $? -eq 0 ] || fail "cannot edit the bot copy"

expect_code 0 "bot check of the unsafe copy" "$P" bot check "$T/bot"
grep -q "warning: .*refuel_data" "$T/out" "$T/err" ||
    fail "bot check does not warn about the unconfirmed refuel: $(cat "$T/out" "$T/err")"
expect_code 1 "bot check --strict of the unsafe copy" "$P" bot check --strict "$T/bot"

expect_code 0 "train the copy" "$P" bot train "$T/bot" --out "$T/models" --threads 1 --quiet

cat >"$T/refused.yml" <<'YML'
name: "a refuel reached by a no is refused when it is about to run"
turns:
  - say: "I'd like to add 1 GB of data"
    intent: refuel_data
  - say: "555-123-2002"
  - say: "John Smith, 15/06/1985"
    step: quote
  - say: "no, don't"
    action: {name: refuel_data, status: refused}
    handoff: true
expect:
  - {get: /lines/L1002, field: data_refueling_gb, equals: 0}
audit:
  - {kind: action, where: {action: refuel_data, decision: denied, result: not_run}, count: 1}
  - {kind: action, where: {action: refuel_data, decision: allowed}, absent: true}
  - {kind: handoff, field: reason, equals: action_refused}
YML
expect_code 0 "the refusal conversation" "$P" test "$T/refused.yml" --bot "$T/bot" --models "$T/models"
grep -q "^ok" "$T/out" || fail "the refusal conversation did not pass: $(cat "$T/out" "$T/err")"
finish
