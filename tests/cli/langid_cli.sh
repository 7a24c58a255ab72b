#!/bin/sh
# parley langid: train, predict (one label per line, --among, --prob),
# eval (text and JSON), usage errors (exit 2), bad files (exit 1), and the
# identifier parley bot train writes for a bot.
set -u
. "${PARLEY_SOURCE_DIR:?}/tests/lib/clitest.sh"

cat >"$T/train.txt" <<'DATA'
__label__fra je voudrais payer ma facture
__label__fra mon téléphone ne marche plus
__label__fra bonjour, je cherche mon forfait
__label__fra pouvez-vous m'aider avec ma ligne
__label__spa quiero pagar mi factura
__label__spa mi teléfono no funciona
__label__spa hola, busco mi plan
__label__spa puede ayudarme con mi línea
__label__deu ich möchte meine rechnung bezahlen
__label__deu mein telefon funktioniert nicht
__label__deu hallo, ich suche meinen tarif
__label__deu können sie mir mit meiner leitung helfen
DATA
expect_code 0 "train" "$P" langid train --data "$T/train.txt" --out "$T/m.model" --hash-bits 12
grep -q "3 languages" "$T/err" || fail "train summary: $(cat "$T/err")"
[ -s "$T/m.model" ] || fail "no model written"

printf 'je voudrais mon forfait\nmi teléfono\nmeine rechnung bitte\n' >"$T/in.txt"
expect_code 0 "predict" "$P" langid predict --model "$T/m.model" "$T/in.txt"
[ "$(tr '\n' ' ' <"$T/out")" = "fra spa deu " ] || fail "predict: $(cat "$T/out")"
"$P" langid predict --model "$T/m.model" <"$T/in.txt" >"$T/stdin.out" || fail "predict stdin"
cmp -s "$T/out" "$T/stdin.out" || fail "stdin and file predictions differ"
expect_code 0 "predict --among" "$P" langid predict --model "$T/m.model" --among spa,deu --prob \
    "$T/in.txt"
head -n 1 "$T/out" | grep -q '^\(spa\|deu\)	[01]\.[0-9]\{4\}$' || fail "--among --prob: $(cat "$T/out")"

printf '__label__fra mon forfait svp\n__label__deu mein tarif bitte\n__label__eng hello\n' >"$T/test.txt"
expect_code 0 "eval" "$P" langid eval --model "$T/m.model" --data "$T/test.txt"
grep -q "3 rows, accuracy 66.67%" "$T/out" || fail "eval: $(cat "$T/out")"
expect_code 0 "eval --json" "$P" langid eval --model "$T/m.model" --data "$T/test.txt" --json
grep -q '"accuracy":0.666667' "$T/out" || fail "eval --json: $(cat "$T/out")"
grep -q '"unknown_labels":1' "$T/out" || fail "eval --json unknown: $(cat "$T/out")"

# Usage errors: exit 2.
expect_code 2 "no subcommand" "$P" langid
expect_code 2 "bad subcommand" "$P" langid fly
expect_code 2 "train without --out" "$P" langid train --data "$T/train.txt"
expect_code 2 "bad char range" "$P" langid train --data "$T/train.txt" --out "$T/x" --char-ngrams 3-9
expect_code 2 "predict without model" "$P" langid predict "$T/in.txt"
expect_code 2 "empty --among" "$P" langid predict --model "$T/m.model" --among "fra,,spa"
expect_code 0 "help" "$P" langid -h
grep -q "usage: parley langid train" "$T/out" || fail "langid -h"

# Failures: exit 1 with the subject named.
expect_code 1 "unknown --among" "$P" langid predict --model "$T/m.model" --among fra,xx "$T/in.txt"
grep -q "'xx'" "$T/err" || fail "unknown language not named: $(cat "$T/err")"
printf 'not a model' >"$T/bad.model"
expect_code 1 "bad model" "$P" langid predict --model "$T/bad.model" "$T/in.txt"
grep -q "bad.model" "$T/err" || fail "bad model not named: $(cat "$T/err")"
expect_code 1 "missing data" "$P" langid train --data "$T/none.txt" --out "$T/x.model"
grep -q "none.txt" "$T/err" || fail "missing data not named: $(cat "$T/err")"
printf 'ok\n\377\n' >"$T/badutf.txt"
expect_code 1 "invalid UTF-8" "$P" langid predict --model "$T/m.model" "$T/badutf.txt"
[ "$(wc -l <"$T/out")" -eq 2 ] || fail "a bad line should still give one output line"
grep -q "badutf.txt:2" "$T/err" || fail "bad line not located: $(cat "$T/err")"

# parley bot train writes the bot's identifier as MODELS/langid.model.
"$P" bot train "$PARLEY_SOURCE_DIR/bots/carrier" --out "$T/bot" --threads 2 --quiet ||
    fail "bot train"
printf 'je voudrais payer ma facture\nich habe kein netz seit heute\nquiero cambiar de plan\nhow much data do i have left\nmerci\n' |
    "$P" langid predict --model "$T/bot/langid.model" --among en,fr,es,de >"$T/lang" ||
    fail "bot langid predict"
[ "$(tr '\n' ' ' <"$T/lang")" = "fr de es en fr " ] || fail "bot languages: $(cat "$T/lang")"

finish "langid cli: ok"
