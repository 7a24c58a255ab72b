#!/bin/sh
# server.openapi: docs/openapi.yaml against the real server. Every route
# `parley serve --routes` lists must be documented and nothing else; then a
# `parley serve --demo` on loopback gets every route with a success and the
# main errors, and each answer (status, content type, JSON body) must be
# what the document says (tests/server/openapi_check.py).
set -eu
P=${PARLEY:?PARLEY must point at the parley binary}
SRC=${PARLEY_SOURCE_DIR:?}
BUILD=${PARLEY_BUILD_DIR:?}
SPEC="$SRC/docs/openapi.yaml"
CHECK="$SRC/tests/server/openapi_check.py"

fail() {
    echo "server.openapi: $*" >&2
    exit 1
}

# A Python 3 with PyYAML and jsonschema (Debian's, when the first python3
# on PATH lacks them).
PY=""
for py in python3 /usr/bin/python3; do
    if "$py" -c 'import yaml, jsonschema' 2>/dev/null; then
        PY=$py
        break
    fi
done
[ -n "$PY" ] || fail "python3 with yaml and jsonschema is missing (scripts/setup.sh installs python3-yaml and python3-jsonschema)"

T=$(mktemp -d "${TMPDIR:-/tmp}/parley-openapi.XXXXXX")
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# a. The routes.
"$P" serve --routes >"$T/routes" || fail "parley serve --routes failed"
"$PY" "$CHECK" routes "$SPEC" "$T/routes" || fail "routes and docs/openapi.yaml differ"

# b. The bot's models, trained once per build folder (a mkdir lock keeps
# parallel runs from training twice; a lock older than 15 minutes is stale).
MODELS="$BUILD/carrier-models-openapi"
lock="$MODELS.lock"
waited=0
while ! mkdir "$lock" 2>/dev/null; do
    if [ -n "$(find "$lock" -maxdepth 0 -mmin +15 2>/dev/null)" ]; then
        rmdir "$lock" 2>/dev/null || true
        continue
    fi
    waited=$((waited + 1))
    [ "$waited" -lt 1200 ] || fail "timed out waiting for $lock"
    sleep 0.5
done
if [ ! -d "$MODELS" ]; then
    rm -rf "$MODELS.tmp.$$"
    if ! "$P" bot train "$SRC/bots/carrier" --out "$MODELS.tmp.$$" --threads 1 --quiet; then
        rm -rf "$MODELS.tmp.$$"
        rmdir "$lock"
        fail "parley bot train failed"
    fi
    mv "$MODELS.tmp.$$" "$MODELS"
fi
rmdir "$lock"

# The server, with a fresh data folder; its URL from the `listening on` line.
mkdir "$T/data"
"$P" serve --demo --port 0 --data-dir "$T/data" --bot "$SRC/bots/carrier" \
    --models "$MODELS" --web-dir "$SRC/web" >"$T/stdout" 2>"$T/stderr" &
SERVER_PID=$!
url=""
tries=0
while [ -z "$url" ]; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        cat "$T/stderr" >&2
        SERVER_PID=""
        fail "parley serve exited before listening"
    fi
    url=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$T/stdout" | head -n 1)
    [ -s "$T/data/demo-keys.json" ] || url=""
    if [ -z "$url" ]; then
        tries=$((tries + 1))
        [ "$tries" -lt 600 ] || {
            cat "$T/stderr" >&2
            fail "parley serve did not print 'listening on' and write demo-keys.json in 60 s"
        }
        sleep 0.1
    fi
done

# c. Every route, successes and errors, against the document.
status=0
"$PY" "$CHECK" live "$SPEC" "$url" "$T/data/demo-keys.json" || status=$?
if [ "$status" -ne 0 ]; then
    echo "--- parley serve stderr (last 40 lines)" >&2
    tail -n 40 "$T/stderr" >&2
    exit "$status"
fi
echo "server.openapi: docs/openapi.yaml matches the server"
