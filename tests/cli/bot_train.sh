#!/bin/sh
# parley bot train: one intent model per language plus a language
# identifier, from the reference bot's examples; the models answer.
set -u
P=${PARLEY:?PARLEY must point at the parley binary}
SRC=${PARLEY_SOURCE_DIR:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
"$P" bot train -h | grep -q "usage: parley bot" || fail "bot train -h"
"$P" bot train >/dev/null 2>&1
[ $? -eq 2 ] || fail "bot train without a folder should exit 2"
"$P" bot train "$T/none" 2>"$T/err" && fail "a missing bot folder should fail"
"$P" bot train "$SRC/bots/carrier" --out "$T/m" --threads 2 --quiet || fail "bot train"
for f in intent-en intent-fr intent-es intent-de langid; do
    [ -s "$T/m/$f.model" ] || fail "missing $f.model"
done
ls -a "$T/m" | grep -q language-train && fail "temporary training file left behind"
printf 'je voudrais payer ma facture\nich habe kein netz seit heute\nquiero cambiar de plan\nhow much data do i have left\n' |
    "$P" langid predict --model "$T/m/langid.model" >"$T/lang" || fail "language predict"
[ "$(tr '\n' ' ' <"$T/lang")" = "fr de es en " ] ||
    fail "language identification: $(cat "$T/lang")"
echo "je voudrais payer ma facture" | "$P" predict --model "$T/m/intent-fr.model" |
    grep -q '"intent":"pay_bill"' || fail "French intent model"
echo "bot train checks passed"
