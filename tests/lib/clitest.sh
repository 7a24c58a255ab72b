# Shared helpers of the shell tests (sourced, not run): a scratch folder $T
# removed on exit, failure counting, exit-code checks and the final verdict.
P=${PARLEY:?PARLEY must point at the parley binary}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0

# Records a failed check and goes on.
fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}

# expect_code CODE DESCRIPTION COMMAND...: runs COMMAND with stdout in
# $T/out and stderr in $T/err and checks its exit code.
expect_code() {
    want=$1
    what=$2
    shift 2
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    [ "$got" -eq "$want" ] || fail "$what: exit $got, wanted $want ($(head -c 300 "$T/err"))"
}

# Ends the test: exit 1 if any check failed.
finish() {
    if [ "$fails" -ne 0 ]; then
        echo "$fails check(s) failed" >&2
        exit 1
    fi
    echo "${1:-checks passed}"
}
