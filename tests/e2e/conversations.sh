#!/bin/sh
# The reference bot's conversation tests (tests/conversations/*.yml, see
# docs/conversation-tests.md): trains its models into the build folder, then
# runs every test, each against its own telco-sim.
set -eu
P=${PARLEY:?PARLEY must point at the parley binary}
SRC=${PARLEY_SOURCE_DIR:?}
BUILD=${PARLEY_BUILD_DIR:?}
"$P" bot train "$SRC/bots/carrier" --out "$BUILD/carrier-models" --threads 1 --quiet
exec "$P" test "$SRC/tests/conversations" --bot "$SRC/bots/carrier" \
    --models "$BUILD/carrier-models" --jobs 2
