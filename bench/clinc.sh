#!/bin/sh
# The intent engine on CLINC150 from a fresh machine: installs what is
# missing, builds Parley, trains on CLINC150 and prints its evaluation and a
# few predictions (the main demo before the server existed).
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh

BUILD=${PARLEY_BUILD:-build/release}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$BUILD" -j"$(nproc)" >/dev/null

echo "== preparing CLINC150 from ${PARLEY_DATASETS:-../shared/datasets}" >&2
python3 bench/prepare_data.py build/data

echo "== training on CLINC150 (150 intents + out-of-scope, 15,100 rows)" >&2
"$BUILD/parley" train --data build/data/clinc_oostrain_train.txt \
    --valid build/data/clinc_valid.txt --out build/clinc150.model --threads 2

echo "== evaluating on the CLINC150 test set (4,500 in scope + 1,000 out of scope)" >&2
"$BUILD/parley" eval --model build/clinc150.model --data build/data/clinc_test.txt | head -8

echo "== a few predictions" >&2
printf '%s\n' "how much money do i have in my checking account" \
    "please set an alarm for 6 am tomorrow" \
    "what is the meaning of life, the universe and everything" \
    "¿cuál es el tipo de cambio del euro?" |
    "$BUILD/parley" predict --model build/clinc150.model --top 2
