#!/bin/sh
# The reference bot's intent data stays learnable: per language, a model
# trained on bots/carrier/nlu/LANG.yml must reach 90% on the held-out
# bots/carrier/nlu/test/LANG.yml (the bar of the conversation issue).
set -eu
P=${PARLEY:?PARLEY must point at the parley binary}
SRC=${PARLEY_SOURCE_DIR:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for lang in en fr es de; do
    "$P" train --data "$SRC/bots/carrier/nlu/$lang.yml" --out "$T/$lang.model" --quiet
    "$P" eval --model "$T/$lang.model" --data "$SRC/bots/carrier/nlu/test/$lang.yml" --json \
        >"$T/$lang.json"
    acc=$(sed -n 's/.*"accuracy":\([0-9.]*\).*/\1/p' "$T/$lang.json")
    echo "$lang held-out accuracy $acc (floor 0.90)"
    awk -v a="$acc" 'BEGIN { exit !(a >= 0.90) }' || {
        echo "FAIL: $lang accuracy $acc is below 0.90" >&2
        exit 1
    }
done
