#!/bin/sh
# parley predict --among: choosing among a subset of the model's labels
# (language identification for a bot's languages), its confidences summing
# to 1 over the subset, and clear errors for unknown or malformed label lists.
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
"$P" train --data "$T/train.txt" --out "$T/m.model" --word-ngrams 1 --char-ngrams 1-4 \
    --holdout 0 --quiet >"$T/out" 2>&1 || fail "train: $(cat "$T/out")"

printf 'je voudrais mon forfait\n' >"$T/fr.txt"
"$P" predict --model "$T/m.model" "$T/fr.txt" >"$T/out" 2>&1 || fail "predict: $(cat "$T/out")"
grep -q '"intent":"fra"' "$T/out" || fail "plain predict: $(cat "$T/out")"

# French excluded: the best of the others, and two confidences summing to 1.
"$P" predict --model "$T/m.model" --among spa,deu --top 2 "$T/fr.txt" >"$T/out" 2>"$T/err" ||
    fail "predict --among: $(cat "$T/err")"
grep -q '"intent":"fra"' "$T/out" && fail "--among spa,deu chose fra: $(cat "$T/out")"
# The first confidence is the decision's; the others are the top list's.
sum=$(grep -o '"confidence":[0-9.]*' "$T/out" | sed 1d | cut -d: -f2 |
    awk '{ s += $1 } END { printf "%.3f", s }')
case $sum in 0.999 | 1.000 | 1.001) ;; *) fail "--among confidences sum to $sum: $(cat "$T/out")" ;; esac

"$P" predict --model "$T/m.model" --among fra,spa,deu "$T/fr.txt" >"$T/out" 2>"$T/err" ||
    fail "predict --among all: $(cat "$T/err")"
grep -q '"intent":"fra"' "$T/out" || fail "--among fra,spa,deu: $(cat "$T/out")"

"$P" predict --model "$T/m.model" --among fra,eng,xx "$T/fr.txt" >"$T/out" 2>"$T/err"
[ $? -eq 1 ] || fail "--among with unknown labels should exit 1"
grep -q "'eng', 'xx'" "$T/err" || fail "unknown labels not named: $(cat "$T/err")"

for bad in "" "fra,,spa" "fra,"; do
    "$P" predict --model "$T/m.model" --among "$bad" "$T/fr.txt" >"$T/out" 2>"$T/err"
    [ $? -eq 2 ] || fail "--among '$bad' should be a usage error"
done
"$P" predict -h | grep -q -- "--among" || fail "predict -h does not document --among"

finish "among: ok"
