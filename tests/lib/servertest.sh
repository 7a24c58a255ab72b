# Helpers of the server tests (sourced): trains the reference bot once per
# test into $T/models, starts `parley serve --demo` on a free loopback port
# and stops it. Needs tests/lib/clitest.sh sourced first.
SRC=${PARLEY_SOURCE_DIR:?}

train_bot() {
    "$P" bot train "$SRC/bots/carrier" --out "$T/models" --threads 1 --quiet
}

# start_server DATA_DIR [ENV=VALUE...]: starts the server (on $PORT, else a
# free port), sets $URL, $SPID and the keys $CH, $AG, $AD from
# DATA_DIR/demo-keys.json.
start_server() {
    d=$1
    shift
    mkdir -p "$d"
    env "$@" "$P" serve --demo --port "${PORT:-0}" --data-dir "$d" --bot "$SRC/bots/carrier" \
        --models "$T/models" --web-dir "$SRC/web" >"$d/out.log" 2>"$d/err.log" &
    SPID=$!
    i=0
    while ! grep -q '^listening on ' "$d/out.log" 2>/dev/null; do
        i=$((i + 1))
        if [ "$i" -gt 300 ] || ! kill -0 "$SPID" 2>/dev/null; then
            cat "$d/err.log" >&2
            echo "server did not start" >&2
            exit 1
        fi
        sleep 0.1
    done
    URL=$(sed -n 's/^listening on //p' "$d/out.log")
    CH=$(key "$d" channel)
    AG=$(key "$d" agent)
    AD=$(key "$d" admin)
}

# start_sim [ARG...]: starts telco-sim on a free port with its database in
# $T/sim.db and the given arguments; sets $SIM (its URL) and $SIMPID.
start_sim() {
    "${PARLEY_BUILD_DIR:?}/tools/telco-sim/telco-sim" --port 0 --db "$T/sim.db" "$@" \
        >"$T/sim.out" 2>"$T/sim.err" &
    SIMPID=$!
    i=0
    while ! grep -q '^listening on ' "$T/sim.out" 2>/dev/null; do
        i=$((i + 1))
        if [ "$i" -gt 100 ] || ! kill -0 "$SIMPID" 2>/dev/null; then
            cat "$T/sim.err" >&2
            echo "FAIL: telco-sim did not start" >&2
            exit 1
        fi
        sleep 0.1
    done
    SIM=$(sed -n 's/^listening on //p' "$T/sim.out")
}

key() {
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
        "$1/demo-keys.json" "$2"
}

stop_server() {
    kill -TERM "$SPID" 2>/dev/null || true
    wait "$SPID" 2>/dev/null || true
}

# req METHOD PATH KEY [BODY]: status in $T/status, body in $T/body, headers
# in $T/headers.
req() {
    if [ -n "${4:-}" ]; then
        curl -s -o "$T/body" -D "$T/headers" -w '%{http_code}' -X "$1" \
            -H "Authorization: Bearer $3" -H 'Content-Type: application/json' \
            --data-binary "$4" "$URL$2" >"$T/status"
    else
        curl -s -o "$T/body" -D "$T/headers" -w '%{http_code}' -X "$1" \
            -H "Authorization: Bearer $3" "$URL$2" >"$T/status"
    fi
}

# expect_status CODE WHAT: checks the last req's status.
expect_status() {
    got=$(cat "$T/status")
    [ "$got" = "$1" ] || fail "$2: status $got, wanted $1 ($(head -c 300 "$T/body"))"
}

# field PYTHON_EXPR: evaluates EXPR on the last body parsed as `j`.
field() {
    python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($1)" "$T/body"
}
