#!/bin/sh
# bench/run.sh: compares Parley's intent engine with fastText and liblinear on
# CLINC150, BANKING77 and xSID, on identical files, in one run. Prints a table,
# writes build-bench/results.json and the generated section of
# docs/benchmarks.md. Run from anywhere; `bench/run.sh -h` for options.

# PARLEY_ARGS, FASTTEXT_ARGS, LIBLINEAR_SOLVERS and PIN are word lists, split
# on purpose where they are used unquoted (globbing is off).
# shellcheck disable=SC2086
set -euf

# ---- settings (the main engineer tunes these; the doc records them) ----------
# Parley training options added to its defaults (plus --threads 2 --quiet);
# the defaults (20 epochs, lr 1.0, word 1-2-grams, char 3-5-grams) are tuned.
PARLEY_ARGS=${PARLEY_ARGS:-""}
# fastText supervised, tuned setting.
FASTTEXT_ARGS=${FASTTEXT_ARGS:-"-epoch 100 -lr 1.0 -wordNgrams 2 -minn 2 -maxn 5 -dim 100 -bucket 2000000 -thread 2"}
# liblinear solvers tried on Parley's features: 2 = L2-regularized L2-loss SVC
# (primal), 0 = L2-regularized logistic regression (primal). The one with the
# best validation accuracy is kept; without a validation file, the first.
LIBLINEAR_SOLVERS=${LIBLINEAR_SOLVERS:-"2 0"}
LIBLINEAR_C=${LIBLINEAR_C:-1}
# Throughput: test utterances repeated to at least this many lines.
THR_LINES=${THR_LINES:-200000}
THR_REPEAT=${THR_REPEAT:-3}

usage() {
    cat <<'EOF'
usage: bench/run.sh [--quick] [-h]

Builds Parley (Release, build-bench/), prepares the datasets, then trains and
tests Parley, fastText and liblinear (on Parley's features) on CLINC150
(oos-train and oos-threshold protocols), BANKING77 and every xSID language.
Prints a table on stdout (progress on stderr), writes build-bench/results.json
and rewrites the section of docs/benchmarks.md between the bench markers.

  --quick   BANKING77 and CLINC150 oos-train only, 50,000 throughput lines,
            one timing, liblinear -s 2 only; does not touch docs/benchmarks.md
  -h        this help

Environment:
  PARLEY            use this parley binary instead of building one
  BENCH_PREDICT     bench_predict binary (default: next to $PARLEY, or in
                    its bench/ folder; skipped with a warning if missing)
  PARLEY_DATASETS   dataset folder (default: ../shared/datasets beside the repo)
  BENCH_DIR         build and output folder, relative to the repository
                    root unless absolute (default: build-bench)
  WORK_DIR          prepared data (default: $BENCH_DIR/data)
  PARLEY_ARGS, FASTTEXT_ARGS, LIBLINEAR_SOLVERS, LIBLINEAR_C, THR_LINES,
  THR_REPEAT        override the settings at the top of this script
EOF
}

QUICK=0
WRITE_DOC=1
for arg in "$@"; do
    case $arg in
    --quick) QUICK=1 ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        echo "bench/run.sh: unknown argument '$arg'" >&2
        usage >&2
        exit 2
        ;;
    esac
done
MODE=full
if [ "$QUICK" = 1 ]; then
    MODE=quick
    WRITE_DOC=0
    THR_LINES=50000
    THR_REPEAT=1
    LIBLINEAR_SOLVERS=2
fi

# Paths given in the environment are relative to the caller's directory;
# BENCH_DIR and WORK_DIR are relative to the repository root.
abspath() {
    case $1 in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s/%s\n' "$(pwd)" "$1" ;;
    esac
}
[ -z "${PARLEY:-}" ] || PARLEY=$(abspath "$PARLEY")
[ -z "${BENCH_PREDICT:-}" ] || BENCH_PREDICT=$(abspath "$BENCH_PREDICT")
if [ -n "${PARLEY_DATASETS:-}" ]; then
    PARLEY_DATASETS=$(abspath "$PARLEY_DATASETS")
    export PARLEY_DATASETS
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BENCH_DIR=${BENCH_DIR:-build-bench}
WORK_DIR=${WORK_DIR:-$BENCH_DIR/data}
RUNS=$BENCH_DIR/runs
PY=/usr/bin/python3
START=$(date +%s)

log() {
    printf '[bench %4ss] %s\n' "$(($(date +%s) - START))" "$*" >&2
}
score() {
    "$PY" "$ROOT/bench/score.py" "$@"
}
die() {
    echo "bench/run.sh: $*" >&2
    exit 1
}

# Runs a command under GNU time, writing "WALL_S PEAK_KB" to $1.
gtime() {
    _out=$1
    shift
    /usr/bin/time -o "$_out" -f '%e %M' "$@"
}

for tool in /usr/bin/time fasttext liblinear-train liblinear-predict "$PY"; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "'$tool' is missing (scripts/setup.sh installs fasttext, liblinear-tools, time)"
done
CC_VERSION=""
PIN=""
if command -v taskset >/dev/null 2>&1 && taskset -c 0 true 2>/dev/null; then
    PIN="taskset -c 0"
fi
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "")

# ---- 1. build ------------------------------------------------------------------
if [ -n "${PARLEY:-}" ]; then
    [ -x "$PARLEY" ] || die "PARLEY='$PARLEY' is not an executable"
    if [ -z "${BENCH_PREDICT:-}" ]; then
        for c in "$(dirname "$PARLEY")/bench_predict" "$(dirname "$PARLEY")/bench/bench_predict"; do
            if [ -x "$c" ]; then
                BENCH_PREDICT=$c
                break
            fi
        done
    fi
    log "using PARLEY=$PARLEY"
else
    log "building Parley (Release) in $BENCH_DIR"
    cmake -S . -B "$BENCH_DIR" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
    cmake --build "$BENCH_DIR" -j "$(nproc)" --target parley bench_predict >/dev/null
    PARLEY=$BENCH_DIR/parley
    CC_VERSION=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$BENCH_DIR/CMakeCache.txt" | head -n 1)
    CC_VERSION=$("${CC_VERSION:-cc}" --version 2>/dev/null | head -n 1 || true)
    BENCH_PREDICT=${BENCH_PREDICT:-$BENCH_DIR/bench/bench_predict}
fi
case $PARLEY in /*) ;; *) PARLEY=$ROOT/$PARLEY ;; esac
case ${BENCH_PREDICT:-} in /* | "") ;; *) BENCH_PREDICT=$ROOT/$BENCH_PREDICT ;; esac
BENCH_PREDICT=${BENCH_PREDICT:-}
if [ -n "$BENCH_PREDICT" ] && [ ! -x "$BENCH_PREDICT" ]; then
    die "BENCH_PREDICT='$BENCH_PREDICT' is not an executable"
fi
[ -n "$BENCH_PREDICT" ] || log "warning: no bench_predict binary; in-process throughput skipped"

# ---- data ------------------------------------------------------------------------
log "preparing data in $WORK_DIR"
mkdir -p "$WORK_DIR"
"$PY" bench/prepare_data.py "$WORK_DIR"
D=$WORK_DIR
rm -rf "$RUNS"
mkdir -p "$RUNS"

# ---- systems -------------------------------------------------------------------
# Each cell $RUNS/DATASET/PROTOCOL/SYSTEM holds the raw measurements that
# score.py report gathers: train.time, model.bytes, metrics.json, thr_*.

# Plain-text utterance files for throughput: $1 = test file, $2 = cell folder.
make_thr_files() {
    score text "$1" "$2/big.txt" --repeat-to "$THR_LINES" >"$2/thr.lines"
    head -n 1 "$2/big.txt" >"$2/one.txt"
    score text "$1" "$2/test_text.txt" >/dev/null
}

# T(big) and T(one line), THR_REPEAT times each, interleaved; $1 = cell,
# $2 = parley|fasttext, $3 = model.
measure_thr() {
    cut -d' ' -f1 /proc/loadavg >"$1/thr.load" 2>/dev/null || true
    _i=1
    while [ "$_i" -le "$THR_REPEAT" ]; do
        for _f in one big; do
            if [ "$2" = parley ]; then
                gtime "$1/thr_$_f.time.$_i" $PIN "$PARLEY" predict --model "$3" \
                    <"$1/$_f.txt" >/dev/null
            else
                gtime "$1/thr_$_f.time.$_i" $PIN fasttext predict "$3" "$1/$_f.txt" >/dev/null
            fi
        done
        _i=$((_i + 1))
    done
}

# run_parley DATASET PROTOCOL TRAIN VALID|"" TEST THROUGHPUT(0|1)
run_parley() {
    _c=$RUNS/$1/$2/parley
    mkdir -p "$_c"
    log "$1 $2: Parley train"
    if [ -n "$4" ]; then
        gtime "$_c/train.time" "$PARLEY" train --data "$3" --valid "$4" --out "$_c/intent.model" \
            --threads 2 --quiet $PARLEY_ARGS
    else
        gtime "$_c/train.time" "$PARLEY" train --data "$3" --out "$_c/intent.model" \
            --threads 2 --quiet $PARLEY_ARGS
    fi
    stat -c %s "$_c/intent.model" >"$_c/model.bytes"
    "$PARLEY" eval --model "$_c/intent.model" --data "$5" --json >"$_c/metrics.json"
    "$PARLEY" model info "$_c/intent.model" --json --labels >"$_c/info.json"
    if [ "$6" = 1 ]; then
        log "$1 $2: Parley throughput"
        make_thr_files "$5" "$_c"
        measure_thr "$_c" parley "$_c/intent.model"
        if [ -n "$BENCH_PREDICT" ] &&
            ! $PIN "$BENCH_PREDICT" "$_c/intent.model" "$_c/test_text.txt" >"$_c/inproc.json"; then
            log "warning: bench_predict failed; in-process throughput not reported"
            rm -f "$_c/inproc.json"
        fi
        rm -f "$_c/big.txt"
    fi
}

# run_fasttext DATASET PROTOCOL TRAIN TEST THROUGHPUT(0|1)
run_fasttext() {
    _c=$RUNS/$1/$2/fasttext
    mkdir -p "$_c"
    log "$1 $2: fastText train"
    gtime "$_c/train.time" fasttext supervised -input "$3" -output "$_c/model" \
        $FASTTEXT_ARGS -verbose 0
    stat -c %s "$_c/model.bin" >"$_c/model.bytes"
    score text "$4" "$_c/test_text.txt" >/dev/null
    fasttext predict "$_c/model.bin" "$_c/test_text.txt" >"$_c/pred.txt"
    score ft "$4" "$_c/pred.txt" >"$_c/metrics.json"
    if [ "$5" = 1 ]; then
        log "$1 $2: fastText throughput"
        make_thr_files "$4" "$_c"
        measure_thr "$_c" fasttext "$_c/model.bin"
        rm -f "$_c/big.txt"
    fi
    # The .bin holds the full hashed n-gram matrix (about 800 MB with the
    # default -bucket); keep only its size.
    rm -f "$_c/model.bin" "$_c/model.vec"
}

# run_liblinear DATASET PROTOCOL TRAIN VALID|"" TEST SOLVERS; needs the
# Parley model of the same cell (its features and label order).
run_liblinear() {
    _c=$RUNS/$1/$2/liblinear
    _m=$RUNS/$1/$2/parley/intent.model
    _info=$RUNS/$1/$2/parley/info.json
    mkdir -p "$_c"
    log "$1 $2: liblinear (featurize, -s $6)"
    gtime "$_c/feat_train.time" "$PARLEY" featurize --model "$_m" --data "$3" >"$_c/train.svm"
    gtime "$_c/feat_test.time" "$PARLEY" featurize --model "$_m" --data "$5" >"$_c/test.svm"
    if [ -n "$4" ]; then
        gtime "$_c/feat_valid.time" "$PARLEY" featurize --model "$_m" --data "$4" >"$_c/valid.svm"
    fi
    for _s in $6; do
        _d=$_c/s$_s
        mkdir -p "$_d"
        gtime "$_d/train.time" liblinear-train -s "$_s" -c "$LIBLINEAR_C" -q "$_c/train.svm" \
            "$_d/model"
        stat -c %s "$_d/model" >"$_d/model.bytes"
        liblinear-predict "$_c/test.svm" "$_d/model" "$_d/test.pred" >/dev/null
        score ll "$5" "$_d/test.pred" "$_info" >"$_d/metrics.json"
        if [ -n "$4" ]; then
            liblinear-predict "$_c/valid.svm" "$_d/model" "$_d/valid.pred" >/dev/null
            score ll "$4" "$_d/valid.pred" "$_info" >"$_d/valid.json"
        fi
        rm -f "$_d/model"
    done
    rm -f "$_c/train.svm" "$_c/valid.svm" "$_c/test.svm"
}

# ---- 2. datasets ---------------------------------------------------------------
log "BANKING77"
run_parley banking77 standard "$D/banking_train.txt" "$D/banking_valid.txt" \
    "$D/banking_test.txt" 1
run_fasttext banking77 standard "$D/banking_train.txt" "$D/banking_test.txt" 1
run_liblinear banking77 standard "$D/banking_train.txt" "$D/banking_valid.txt" \
    "$D/banking_test.txt" "$LIBLINEAR_SOLVERS"

log "CLINC150 oos-train"
run_parley clinc150 oos-train "$D/clinc_oostrain_train.txt" "$D/clinc_valid.txt" \
    "$D/clinc_test.txt" 1
run_fasttext clinc150 oos-train "$D/clinc_oostrain_train.txt" "$D/clinc_test.txt" 1
run_liblinear clinc150 oos-train "$D/clinc_oostrain_train.txt" "$D/clinc_valid.txt" \
    "$D/clinc_test.txt" "$LIBLINEAR_SOLVERS"

if [ "$QUICK" = 0 ]; then
    log "CLINC150 oos-threshold (Parley only)"
    run_parley clinc150 oos-threshold "$D/clinc_inscope_train.txt" "$D/clinc_valid.txt" \
        "$D/clinc_test.txt" 0

    # xSID: train on each language's valid split, test on its test split; no
    # validation file, so liblinear keeps its first solver.
    _first_solver=${LIBLINEAR_SOLVERS%% *}
    read -r XSID_LANGS <"$D/xsid_langs.txt"
    for lang in $XSID_LANGS; do
        log "xSID $lang"
        run_parley "xsid-$lang" standard "$D/xsid_${lang}_valid.txt" "" \
            "$D/xsid_${lang}_test.txt" 0
        run_fasttext "xsid-$lang" standard "$D/xsid_${lang}_valid.txt" \
            "$D/xsid_${lang}_test.txt" 0
        run_liblinear "xsid-$lang" standard "$D/xsid_${lang}_valid.txt" "" \
            "$D/xsid_${lang}_test.txt" "$_first_solver"
    done
fi

# ---- 3. report -----------------------------------------------------------------
ENV_FILE=$RUNS/env.txt
{
    echo "MODE=$MODE"
    echo "PARLEY_ARGS=$PARLEY_ARGS"
    echo "FASTTEXT_ARGS=$FASTTEXT_ARGS"
    _tried=""
    for s in $LIBLINEAR_SOLVERS; do
        case $s in
        0) _tried="$_tried; -s 0 (L2-regularized logistic regression, primal)" ;;
        1) _tried="$_tried; -s 1 (L2-regularized L2-loss SVC, dual)" ;;
        2) _tried="$_tried; -s 2 (L2-regularized L2-loss SVC, primal)" ;;
        *) _tried="$_tried; -s $s" ;;
        esac
    done
    printf 'LIBLINEAR_DESC=%s%s%s\n' "\`liblinear-train -c $LIBLINEAR_C\` on \`parley featurize\` " \
        "output. Solvers tried: ${_tried#; }. Kept: the best validation accuracy where a " \
        "validation file exists, else the first"
    echo "THR_LINES=$THR_LINES"
    echo "THR_REPEAT=$THR_REPEAT"
    echo "PIN=$PIN"
    echo "PARLEY_VERSION=$("$PARLEY" --version 2>/dev/null | head -n 1 || echo parley)"
    echo "PARLEY_BINARY=${PARLEY#"$ROOT"/}"
    echo "CC_VERSION=$CC_VERSION"
    echo "LOAD_BEFORE=$LOAD_BEFORE"
    echo "LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "")"
    echo "RUN_SECONDS=$(($(date +%s) - START))"
} >"$ENV_FILE"

if [ "$WRITE_DOC" = 1 ]; then
    score report "$RUNS" --results "$BENCH_DIR/results.json" --env "$ENV_FILE" \
        --doc docs/benchmarks.md
    log "wrote $BENCH_DIR/results.json and docs/benchmarks.md"
else
    score report "$RUNS" --results "$BENCH_DIR/results.json" --env "$ENV_FILE"
    log "wrote $BENCH_DIR/results.json (quick run: docs/benchmarks.md left alone)"
fi
