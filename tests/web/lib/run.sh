# Sourced by tests/web/*.sh: runs one browser scenario (a node file next to
# the wrapper) against a real `parley serve --demo` on loopback.
#
#   run_web_test NAME.mjs
#
# Needs PARLEY (the binary), PARLEY_SOURCE_DIR and PARLEY_BUILD_DIR (ctest
# sets them). Fails, never skips, when node, Chromium or playwright-core is
# missing. Trains the carrier bot once into $PARLEY_BUILD_DIR/carrier-models-web
# (a mkdir lock keeps parallel tests from training twice), starts the server
# with a fresh data folder, waits for its `listening on` line, runs node and
# always stops the server (SIGTERM) and removes the data folder.
# Screenshots go to $PARLEY_BUILD_DIR/web-screenshots, or to
# $PARLEY_SCREENSHOTS when set (docs/img to refresh the documentation).

P=${PARLEY:?PARLEY must point at the parley binary}
SRC=${PARLEY_SOURCE_DIR:?}
BUILD=${PARLEY_BUILD_DIR:?}
WEB_TESTS="$SRC/tests/web"
CHROMIUM=${PARLEY_CHROMIUM:-/usr/bin/chromium}

fail() {
    echo "web test: $*" >&2
    exit 1
}

command -v node >/dev/null 2>&1 || fail "node is missing (scripts/setup.sh installs it)"
[ -x "$CHROMIUM" ] || fail "$CHROMIUM is missing (scripts/setup.sh installs Debian's chromium)"
[ -f "$WEB_TESTS/node_modules/playwright-core/package.json" ] ||
    fail "playwright-core is missing: npm ci --prefix tests/web (scripts/setup.sh does it)"

# The bot's models, trained once per build folder.
train_models() {
    models="$BUILD/carrier-models-web"
    lock="$models.lock"
    waited=0
    while ! mkdir "$lock" 2>/dev/null; do
        # Another test is training; a lock older than 15 minutes is stale.
        if [ -n "$(find "$lock" -maxdepth 0 -mmin +15 2>/dev/null)" ]; then
            rmdir "$lock" 2>/dev/null || true
            continue
        fi
        waited=$((waited + 1))
        [ "$waited" -lt 1200 ] || fail "timed out waiting for $lock"
        sleep 0.5
    done
    if [ ! -d "$models" ]; then
        tmp="$models.tmp.$$"
        rm -rf "$tmp"
        if ! "$P" bot train "$SRC/bots/carrier" --out "$tmp" --threads 1 --quiet; then
            rm -rf "$tmp"
            rmdir "$lock"
            fail "parley bot train failed"
        fi
        mv "$tmp" "$models"
    fi
    rmdir "$lock"
    MODELS="$models"
}

SERVER_PID=""
DATA_DIR=""
stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
    [ -z "$DATA_DIR" ] || rm -rf "$DATA_DIR"
}

run_web_test() {
    script="$WEB_TESTS/$1"
    train_models
    DATA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/parley-web.XXXXXX")
    mkdir "$DATA_DIR/data"
    trap 'stop_server' EXIT
    trap 'exit 130' INT TERM
    : >"$DATA_DIR/stdout"
    "$P" serve --demo --port 0 --data-dir "$DATA_DIR/data" --bot "$SRC/bots/carrier" \
        --models "$MODELS" --web-dir "$SRC/web" >"$DATA_DIR/stdout" 2>"$DATA_DIR/stderr" &
    SERVER_PID=$!
    url=""
    tries=0
    while [ -z "$url" ]; do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            cat "$DATA_DIR/stderr" >&2
            SERVER_PID=""
            fail "parley serve exited before listening"
        fi
        url=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$DATA_DIR/stdout" | head -n 1)
        [ -s "$DATA_DIR/data/demo-keys.json" ] || url=""
        if [ -z "$url" ]; then
            tries=$((tries + 1))
            [ "$tries" -lt 600 ] || { cat "$DATA_DIR/stderr" >&2; fail "parley serve did not print 'listening on' and write demo-keys.json in 60 s"; }
            sleep 0.1
        fi
    done
    shots=${PARLEY_SCREENSHOTS:-$BUILD/web-screenshots}
    mkdir -p "$shots"
    status=0
    PARLEY_URL="$url" PARLEY_KEYS="$DATA_DIR/data/demo-keys.json" PARLEY_SCREENSHOTS="$shots" \
        PARLEY_CHROMIUM="$CHROMIUM" node "$script" || status=$?
    if [ "$status" -ne 0 ]; then
        echo "--- parley serve stderr (last 40 lines)" >&2
        tail -n 40 "$DATA_DIR/stderr" >&2
    fi
    stop_server
    return "$status"
}
