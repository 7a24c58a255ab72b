#!/bin/sh
# Everything CI checks, from a fresh machine: installs what is missing,
# checks formatting and clang-tidy, builds with -Werror under ASan+UBSan and
# runs every test (unit, fuzz-corpus replays, CLI, end to end), builds the
# libFuzzer targets with clang and fuzzes each briefly, then runs the tests
# again in an optimized build.
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
export PARLEY_DATASETS="${PARLEY_DATASETS:-$(cd .. && pwd)/shared/datasets}"
JOBS=$(nproc)

echo "== sanitized debug build (ASan + UBSan, -Werror)" >&2
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DPARLEY_SANITIZE=address,undefined \
    -DPARLEY_TESTING=ON -DPARLEY_WERROR=ON >/dev/null
cmake --build build/asan -j"$JOBS"

echo "== lint (clang-format, clang-tidy)" >&2
scripts/lint.sh build/asan

echo "== tests (sanitized)" >&2
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build/asan --output-on-failure -j"$JOBS"

# A fixed seed and run count keep this step reproducible (the same code
# gives the same verdict); fuzz longer with PARLEY_FUZZ_RUNS=-1 and
# PARLEY_FUZZ_SECONDS=N.
echo "== fuzz targets (clang + libFuzzer, ${PARLEY_FUZZ_RUNS:-20000} runs each, seed 1)" >&2
cmake -S . -B build/fuzz -DCMAKE_C_COMPILER=clang -DPARLEY_FUZZ=ON -DBUILD_TESTING=OFF \
    -DCMAKE_BUILD_TYPE=Debug -DPARLEY_SANITIZE=address,undefined >/dev/null
cmake --build build/fuzz -j"$JOBS"
for f in build/fuzz/fuzz/fuzz_*; do
    name=$(basename "$f")
    corpus="fuzz/corpus/${name#fuzz_}"
    scratch=$(mktemp -d)
    "$f" -seed=1 -runs="${PARLEY_FUZZ_RUNS:-20000}" -max_total_time="${PARLEY_FUZZ_SECONDS:-60}" \
        -artifact_prefix="$scratch/" "$scratch" "$corpus" >"$scratch.log" 2>&1 || {
        tail -40 "$scratch.log" >&2
        echo "fuzz target $name failed" >&2
        exit 1
    }
    rm -rf "$scratch" "$scratch.log"
done

echo "== optimized build tests" >&2
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DPARLEY_WERROR=ON -DPARLEY_TESTING=ON >/dev/null
cmake --build build/release -j"$JOBS"
ctest --test-dir build/release --output-on-failure -j"$JOBS"
echo "all tests passed" >&2
