#!/bin/sh
# The adversarial conversation suite (tests/adversarial/*.yml, issue 6):
# attempts to get account data or actions without the right identity,
# consent or confirmation. Trains the reference bot's models once into the
# build folder (a mkdir lock keeps parallel ctest runs from training twice),
# then runs every scenario, each against its own telco-sim. A pending/
# folder, if any, holds known gaps and is not run.
set -eu
P=${PARLEY:?PARLEY must point at the parley binary}
SRC=${PARLEY_SOURCE_DIR:?}
BUILD=${PARLEY_BUILD_DIR:?}
MODELS=$BUILD/carrier-models-adv
LOCK=$MODELS.lock
if [ ! -f "$MODELS/intent-en.model" ]; then
    tries=0
    until mkdir "$LOCK" 2>/dev/null; do
        tries=$((tries + 1))
        [ "$tries" -le 600 ] || { echo "adversarial.sh: $LOCK held for 10 minutes" >&2; exit 1; }
        sleep 1
    done
    trap 'rmdir "$LOCK"' EXIT
    if [ ! -f "$MODELS/intent-en.model" ]; then
        "$P" bot train "$SRC/bots/carrier" --out "$MODELS" --threads 1 --quiet
    fi
    rmdir "$LOCK"
    trap - EXIT
fi
exec "$P" test "$SRC/tests/adversarial" --bot "$SRC/bots/carrier" --models "$MODELS" --jobs 2
