#!/bin/sh
# Style gate: clang-format (dry run, warnings as errors) over every C file,
# and clang-tidy (.clang-tidy at the root) over the library and CLI using
# the compile database of the build directory given as $1.
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build/asan}
FILES=$(git ls-files '*.c' '*.h' 2>/dev/null || find src include tests bench fuzz -name '*.[ch]')
# shellcheck disable=SC2086
clang-format --dry-run -Werror $FILES
SOURCES=$(echo "$FILES" | tr ' ' '\n' | grep -E '^(src|bench|tools)/.*\.c$')
if [ ! -f "$BUILD/compile_commands.json" ]; then
    echo "lint: no compile database in '$BUILD'; configure that build first" >&2
    exit 1
fi
# One file per clang-tidy run: clang-tidy 14 reports false "uninitialized
# va_list" findings in every file after the first of a multi-file run.
# shellcheck disable=SC2086
echo "$SOURCES" | xargs -P "$(nproc)" -n 1 clang-tidy -p "$BUILD" --quiet 2>/dev/null >"$BUILD/clang-tidy.log" || true
if grep -E 'warning:|error:' "$BUILD/clang-tidy.log"; then
    echo "lint: clang-tidy found problems" >&2
    exit 1
fi
echo "lint: clean" >&2
