#!/bin/sh
# End to end on public data: converts BANKING77 (train/test) and the xSID
# Japanese and Arabic splits, trains with the CLI and asserts accuracy
# floors well below the benchmark figures (a regression, not a benchmark).
# A missing dataset folder fails the test: set PARLEY_DATASETS.
set -eu
P=${PARLEY:?PARLEY must point at the parley binary}
SRC=${PARLEY_SOURCE_DIR:?}
DATA=${PARLEY_DATASETS:-$SRC/../shared/datasets}
if [ ! -f "$DATA/banking77/train.csv" ] || [ ! -f "$DATA/xsid/xsid-0.7.tsv" ]; then
    echo "FAIL: datasets not found under '$DATA' (set PARLEY_DATASETS; see docs/datasets.md)" >&2
    exit 1
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

check() { # name json-file floor
    acc=$(sed -n 's/.*"accuracy":\([0-9.]*\).*/\1/p' "$2")
    echo "$1 accuracy $acc (floor $3)"
    awk -v a="$acc" -v f="$3" 'BEGIN { exit !(a >= f) }' || {
        echo "FAIL: $1 accuracy $acc is below $3" >&2
        exit 1
    }
}

# BANKING77 read straight from its CSV (header text,category).
"$P" train --data "$DATA/banking77/train.csv" --out "$T/b.model" --threads 2 --epochs 8 --quiet
"$P" eval --model "$T/b.model" --data "$DATA/banking77/test.csv" --json >"$T/b.json"
check banking77 "$T/b.json" 0.88

# xSID: unspaced/pre-tokenized Japanese and Arabic script.
for lang in ja ar; do
    awk -F '\t' -v l="$lang" -v s=valid 'NR > 1 && $1 == l && $2 == s { print $5 "\t" $4 }' \
        "$DATA/xsid/xsid-0.7.tsv" >"$T/$lang-train.tsv"
    awk -F '\t' -v l="$lang" -v s=test 'NR > 1 && $1 == l && $2 == s { print $5 "\t" $4 }' \
        "$DATA/xsid/xsid-0.7.tsv" >"$T/$lang-test.tsv"
    "$P" train --data "$T/$lang-train.tsv" --out "$T/$lang.model" --holdout 0 --quiet
    "$P" eval --model "$T/$lang.model" --data "$T/$lang-test.tsv" --json >"$T/$lang.json"
    check "xsid-$lang" "$T/$lang.json" 0.75
done
