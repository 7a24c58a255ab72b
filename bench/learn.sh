#!/bin/sh
# The learning pipeline at scale (issue 9's bars: 10 million turns through
# the whole of `parley learn` in <= 10 minutes and <= 2 GB on this 2-core
# machine; the training step >= 2 million tokens/s on 2 threads): generates
# a log of five-turn conversations holding TURNS turns (default 10 million)
# from CLINC150 and BANKING77 utterances (bench/learn_gen.py;
# kept in $BENCH_DIR/learn and reused), gives 90% of its customers the
# training_use grant in a store, runs `parley learn` over it with the
# reason-code mapping, then trains fastText (Debian `fasttext`, softmax, the
# same epochs and 2 threads) on exactly the rows Parley trained on and scores
# both on Parley's held-out rows. Prints Markdown.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BENCH_DIR:-build-bench}
DATA=${PARLEY_DATASETS:-$(cd .. && pwd)/shared/datasets}
N=${TURNS:-10000000}
THREADS=${THREADS:-2}
W="$BUILD/learn"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target parley bench_learn_consent >/dev/null
P="$BUILD/parley"
mkdir -p "$W"
if [ ! -f "$W/gen.json" ] || ! grep -q "\"target_turns\": $N," "$W/gen.json"; then
    echo "generating $N turns of conversations into $W (once; reused while TURNS stays)" >&2
    rm -rf "$W/data" "$W/gen.json"
    python3 bench/learn_gen.py "$DATA" "$W" "$N"
fi
if [ ! -f "$W/data/parley.db" ]; then
    mkdir -p "$W/data"
    "$BUILD/bench/bench_learn_consent" "sqlite:$W/data/parley.db" "$W/consent.txt" >&2
fi
rm -rf "$W/reg"
EPOCHS=$("$P" train -h | sed -n 's/.*--epochs N.*default \([0-9]*\).*/\1/p' | head -n 1)
EPOCHS=${EPOCHS:-40}
echo "## Learning pipeline: run of $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo
echo "- Machine: $(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1);" \
    "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- Log: $(python3 -c 'import json,sys; g=json.load(open(sys.argv[1])); print("{:,} conversations, {:,} turns, {} intents from {:,} public utterances, {:,} customers ({:,} with training_use)".format(g["conversations"], g["turns"], g["intents"], g["utterances"], g["customers"], g["consenting"]))' "$W/gen.json"),"\
    "$(du -m "$W/logs.jsonl" | cut -f1) MB"
echo
/usr/bin/time -f '%e %M' -o "$W/time" "$P" learn --language en --data-dir "$W/data" \
    --map "$W/map.tsv" --registry "$W/reg" --threads "$THREADS" --curve 0 -q \
    --summary "$W/summary.json" --export "$W/train.jsonl" --export-test "$W/test.jsonl" \
    "$W/logs.jsonl" >"$W/learn.out"
python3 - "$W" "$THREADS" "$EPOCHS" <<'PY'
import json, sys
w, threads, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = json.load(open(w + "/summary.json"))
wall, rss_kb = open(w + "/time").read().split()
wall, rss = float(wall), int(rss_kb) / 1024
c = s["counts"]
t = s["timings"]
print("### parley learn over the whole log\n")
print("| what | figure |\n| --- | ---: |")
print("| conversations read | {:,} |".format(c["conversations"]))
print("| turns read | {:,} |".format(c["turns"]))
print("| MB read | {:,.0f} |".format(c["bytes"] / 1e6))
for k, v in c["dropped"].items():
    if v:
        print("| dropped: {} | {:,} |".format(k, v))
print("| personal values scrubbed | {:,} |".format(c["pii_findings"]))
print("| training rows / held-out rows | {:,} / {:,} |".format(c["train_rows"], c["test_rows"]))
print("| read, scrub, filter, de-duplicate, split | {:.1f} s |".format(t["prepare_s"]))
print("| train ({} threads) | {:.1f} s |".format(threads, t["train_s"]))
print("| evaluate | {:.1f} s |".format(t["eval_s"]))
print("| whole command (wall) | {:.1f} s |".format(wall))
print("| turns/s over the whole command | {:,.0f} |".format(c["turns"] / wall))
print("| peak memory (max RSS) | {:,.0f} MB |".format(rss))
print("| held-out accuracy / macro-F1 | {:.2%} / {:.4f} |".format(s["fresh"]["accuracy"], s["fresh"]["macro_f1"]))
print()
# The same rows for fastText: its text format, the same held-out rows.
def to_ft(src, dst):
    words = 0
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as g:
        for line in f:
            r = json.loads(line)
            text = " ".join(r["text"].split())
            words += len(text.split())
            g.write("__label__%s %s\n" % (r["intent"], text))
    return words
train_words = to_ft(w + "/train.jsonl", w + "/train.ft")
to_ft(w + "/test.jsonl", w + "/test.ft")
json.dump({"train_words": train_words, "train_s": t["train_s"], "accuracy": s["fresh"]["accuracy"],
           "turns": c["turns"], "wall": wall, "rss": rss},
          open(w + "/parley.json", "w"))
PY
# Scaling with threads: the same training step on one thread (the same rows,
# settings and feature buffer as parley learn), for the ratio.
/usr/bin/time -f '%e' -o "$W/t1.time" "$P" train --data "$W/train.jsonl" --out "$W/t1.model" \
    --threads 1 --buffer 67108864 --quiet
# fastText on the rows Parley trained on (the first FT_ROWS of them: it is
# an order of magnitude slower), the settings of bench/run.sh with the same
# number of epochs and threads.
FT_ARGS=${FASTTEXT_ARGS:-"-lr 1.0 -wordNgrams 2 -minn 2 -maxn 5 -dim 100 -bucket 2000000"}
head -n "${FT_ROWS:-50000}" "$W/train.ft" >"$W/train.sample.ft"
# shellcheck disable=SC2086
/usr/bin/time -f '%e %M' -o "$W/ft.time" fasttext supervised -input "$W/train.sample.ft" \
    -output "$W/ft" -epoch "$EPOCHS" -thread "$THREADS" -loss softmax $FT_ARGS -verbose 0
fasttext test "$W/ft.bin" "$W/test.ft" >"$W/ft.test"
python3 - "$W" "$THREADS" "$EPOCHS" "$FT_ARGS" <<'PY'
import json, sys
w, threads, epochs, ft_args = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
p = json.load(open(w + "/parley.json"))
s_turns, s_wall, s_rss = p["turns"], p["wall"], p["rss"]
ft_wall, ft_kb = open(w + "/ft.time").read().split()
ft_acc = float([l for l in open(w + "/ft.test") if l.startswith("P@1")][0].split()[1])
tokens = p["train_words"] * epochs
ft_words = sum(len(l.split()) - 1 for l in open(w + "/train.sample.ft", encoding="utf-8"))
ft_rows = sum(1 for _ in open(w + "/train.sample.ft", encoding="utf-8"))
p_rate, f_rate = tokens / p["train_s"], ft_words * epochs / float(ft_wall)
print("### Training step: Parley and fastText on the same rows\n")
print("Parley: {:,} words in its training rows x {} epochs = {:,} tokens processed. fastText: "
      "the first {:,} of those rows ({:,} words x {} epochs), `supervised -loss softmax {}`. "
      "{} threads each; held-out accuracy on Parley's held-out rows.\n".format(
          p["train_words"], epochs, tokens, ft_rows, ft_words, epochs, ft_args, threads))
print("| system | seconds | tokens/s | held-out accuracy | peak MB |\n| --- | ---: | ---: | ---: | ---: |")
print("| Parley (training step of parley learn) | {:.1f} | {:,.0f} | {:.2%} | (whole run above) |".format(
    p["train_s"], p_rate, p["accuracy"]))
print("| fastText | {:.1f} | {:,.0f} | {:.2%} | {:,.0f} |".format(float(ft_wall), f_rate, ft_acc, int(ft_kb) / 1024))
print("\nParley / fastText training speed: {:.1f}x\n".format(p_rate / f_rate))
t1 = float(open(w + "/t1.time").read())
print("Threads: `parley train --threads 1` on the same rows (same settings and buffer) took "
      "{:.1f} s ({:,.0f} tokens/s); the 2-thread training step {:.1f} s: {:.2f}x.\n".format(
          t1, tokens / t1, p["train_s"], t1 / p["train_s"]))
print("### Bars\n\n| bar | measured | status |\n| --- | --- | --- |")
print("| 10 million turns through parley learn in <= 10 min | {:,} turns in {:.0f} s | {} |".format(
    s_turns, s_wall, "**PASS**" if s_turns >= 10_000_000 and s_wall <= 600 else
    "**FAIL**" if s_turns >= 10_000_000 else "not measured (fewer turns)"))
print("| ... with <= 2 GB of memory | {:,.0f} MB | {} |".format(s_rss, "**PASS**" if s_rss <= 2048 else "**FAIL**"))
print("| training >= 2 million tokens/s on {} threads | {:,.0f} | {} |".format(
    threads, p_rate, "**PASS**" if p_rate >= 2e6 else "**FAIL**"))
PY
