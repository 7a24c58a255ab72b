#!/bin/sh
# CLI contract: -h on every command, exit codes (0 ok, 1 failure, 2 usage),
# train/eval/predict/model info/featurize on a tiny data set, bit-identical
# retraining, and clear errors for bad data and corrupt models.
set -u
. "${PARLEY_SOURCE_DIR:?}/tests/lib/clitest.sh"

for c in train eval predict model featurize; do
    expect_code 0 "$c -h" "$P" "$c" -h
    grep -q "usage: parley $c" "$T/out" || fail "$c -h prints no usage"
done
expect_code 0 "parley -h" "$P" -h
expect_code 2 "no command" "$P"
expect_code 2 "unknown command" "$P" frobnicate
grep -q "'frobnicate' is not a parley command" "$T/err" || fail "unknown command message"
expect_code 2 "train without --out" "$P" train --data x
expect_code 2 "bad epochs" "$P" train --data x --out y --epochs 0
grep -q "epochs" "$T/err" || fail "bad epochs message names the option"
expect_code 2 "bad char range" "$P" train --data x --out y --char-ngrams 5-2
expect_code 2 "unknown option" "$P" eval --bogus

cat >"$T/train.txt" <<'DATA'
__label__balance what is my balance
__label__balance how much money do i have
__label__balance show my account balance
__label__balance balance please
__label__card i lost my card
__label__card my card was stolen
__label__card block my card
__label__card freeze my lost card
__label__alarm set an alarm for 7
__label__alarm wake me up at six
__label__alarm alarm tomorrow at 5
__label__alarm please set my alarm
DATA
cp "$T/train.txt" "$T/test.txt"
expect_code 0 "train" "$P" train --data "$T/train.txt" --out "$T/m.model" --quiet
[ -s "$T/m.model" ] || fail "train wrote no model"
expect_code 0 "eval" "$P" eval --model "$T/m.model" --data "$T/test.txt" --json
grep -q '"accuracy":1.000000' "$T/out" || fail "eval on training rows is not perfect: $(cat "$T/out")"
expect_code 0 "eval text" "$P" eval --model "$T/m.model" --data "$T/test.txt"
grep -q "macro-F1" "$T/out" || fail "eval text report lacks macro-F1"

printf 'my card is gone\nwhat is my balance\n' >"$T/in.txt"
expect_code 0 "predict" "$P" predict --model "$T/m.model" --top 2 "$T/in.txt"
[ "$(wc -l <"$T/out")" -eq 2 ] || fail "predict: one line per input wanted"
head -1 "$T/out" | grep -q '^{"intent":"card","confidence":[0-9.]*,"top":\[{"intent":"card"' ||
    fail "predict output: $(head -1 "$T/out")"
printf 'balance\n' | "$P" predict --model "$T/m.model" >"$T/out" 2>&1 ||
    fail "predict from stdin"
grep -q '"intent":"balance"' "$T/out" || fail "predict from stdin: $(cat "$T/out")"
printf 'ok\n\377bad\n' | "$P" predict --model "$T/m.model" >"$T/out" 2>"$T/err"
[ $? -eq 1 ] || fail "predict with invalid UTF-8 should exit 1"
grep -q 'invalid UTF-8 at byte 0' "$T/err" || fail "invalid UTF-8 message: $(cat "$T/err")"
[ "$(wc -l <"$T/out")" -eq 2 ] || fail "predict keeps going after a bad line"

expect_code 0 "model info" "$P" model info "$T/m.model" --json --labels
grep -q '"labels":3' "$T/out" || fail "model info labels"
grep -q '"label_names":\["alarm","balance","card"\]' "$T/out" || fail "model info label names"
expect_code 0 "featurize" "$P" featurize --model "$T/m.model" --data "$T/test.txt"
[ "$(wc -l <"$T/out")" -eq 12 ] || fail "featurize: one line per row"
grep -qE '^2 [0-9]+:[0-9.e-]+' "$T/out" || fail "featurize libsvm format: $(head -1 "$T/out")"

# Same data, seed and one thread: a bit-identical model file.
expect_code 0 "retrain" "$P" train --data "$T/train.txt" --out "$T/m2.model" --quiet
cmp -s "$T/m.model" "$T/m2.model" || fail "retraining is not bit-identical"

# Bad data: file and line named; --skip-bad counts and continues.
printf '__label__a fine row\nno label here\n__label__b another\n' >"$T/bad.txt"
expect_code 1 "bad row" "$P" train --data "$T/bad.txt" --out "$T/x.model" --quiet
grep -q "bad.txt:2" "$T/err" || fail "bad row message lacks file:line: $(cat "$T/err")"
expect_code 0 "skip bad" "$P" train --data "$T/bad.txt" --out "$T/x.model" --skip-bad
grep -q "skipped 1 malformed" "$T/err" || fail "skip-bad warning: $(cat "$T/err")"
expect_code 1 "missing data" "$P" train --data "$T/nope.txt" --out "$T/x.model"
grep -q "nope.txt" "$T/err" || fail "missing file not named"

# Corrupt and truncated models are refused with a clear message.
head -c 100 "$T/m.model" >"$T/trunc.model"
expect_code 1 "truncated model" "$P" model info "$T/trunc.model"
grep -q "corrupt" "$T/err" || fail "truncated model message: $(cat "$T/err")"
cp "$T/m.model" "$T/flip.model"
printf 'X' | dd of="$T/flip.model" bs=1 seek=200 conv=notrunc 2>/dev/null
expect_code 1 "corrupt model" "$P" predict --model "$T/flip.model"
grep -q "checksum" "$T/err" || fail "corrupt model message: $(cat "$T/err")"
printf 'hello' >"$T/text.model"
expect_code 1 "not a model" "$P" eval --model "$T/text.model" --data "$T/test.txt"

finish "CLI checks passed"
