#!/bin/sh
# Held-out intent accuracy of the reference carrier bot: for each language,
# trains on bots/carrier/nlu/LANG.yml and evaluates on the independently
# written bots/carrier/nlu/test/LANG.yml. Prints accuracy, macro-F1 and the
# most confused pairs per language.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BENCH_DIR:-build-bench}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target parley >/dev/null
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
printf '%-5s %8s %8s %8s  %s\n' lang train test accuracy "macro-F1 / most confused"
for lang in en fr es de; do
    train=bots/carrier/nlu/$lang.yml
    test=bots/carrier/nlu/test/$lang.yml
    [ -f "$train" ] && [ -f "$test" ] || { echo "missing $train or $test" >&2; exit 1; }
    "$BUILD/parley" train --data "$train" --out "$T/$lang.model" --threads 2 --quiet
    "$BUILD/parley" eval --model "$T/$lang.model" --data "$test" --json >"$T/$lang.json"
    python3 - "$T/$lang.json" "$lang" "$train" "$test" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
count = lambda f: sum(1 for l in open(f, encoding="utf-8") if l.strip().startswith("- "))
conf = ", ".join(f"{c['gold']}->{c['predicted']} {c['count']}" for c in r["confusions"][:3])
print(f"{sys.argv[2]:<5} {count(sys.argv[3]):>8} {r['rows']:>8} {100*r['accuracy']:7.2f}%  "
      f"{100*r['macro_f1']:.2f}% / {conf}")
PY
done
