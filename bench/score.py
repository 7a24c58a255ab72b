#!/usr/bin/python3
"""Scoring and reporting helpers for bench/run.sh (Python standard library only).

  score.py text FT_FILE OUT [--repeat-to N]   label-free utterances of a fastText-format
                                              file, repeated until OUT has >= N lines
  score.py ft GOLD PRED                       score `fasttext predict` output
  score.py ll GOLD PRED MODEL_INFO_JSON       score `liblinear-predict` output (1-based
                                              indexes of the Parley model's labels)
  score.py report RUNS_DIR --results JSON [--doc MD] [--env FILE]
                                              gather the raw files run.sh wrote under
                                              RUNS_DIR, print the table, write the
                                              results JSON and the doc's generated section

Metrics (all systems, same definitions as `parley eval`): accuracy = rows predicted
exactly (out of scope counted as a class); in-scope accuracy = in-scope rows predicted
exactly; OOS recall = out-of-scope rows predicted out of scope. Rows labelled `oos` or
`out_of_scope` are out of scope.
"""
import datetime
import json
import os
import platform
import re
import subprocess
import sys

OOS = {"oos", "out_of_scope"}
LABEL_PREFIX = "__label__"
BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"
MB = 1e6  # sizes and memory are reported in MB = 10^6 bytes


def die(msg):
    sys.exit(f"score.py: {msg}")


# ---------------------------------------------------------------- data files


def read_ft(path):
    """(label, text) per line of a fastText-format file (first label only)."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            toks = line.split(" ")
            i = 0
            labels = []
            while i < len(toks) and toks[i].startswith(LABEL_PREFIX):
                labels.append(toks[i][len(LABEL_PREFIX):])
                i += 1
            if not labels:
                die(f"{path}:{n}: no {LABEL_PREFIX} label")
            rows.append((labels[0], " ".join(toks[i:])))
    return rows


def cmd_text(args):
    if len(args) not in (2, 4) or (len(args) == 4 and args[2] != "--repeat-to"):
        die("usage: score.py text FT_FILE OUT [--repeat-to N]")
    texts = [t for _, t in read_ft(args[0]) if t]
    if not texts:
        die(f"{args[0]}: no utterances")
    want = int(args[3]) if len(args) == 4 else len(texts)
    reps = max(1, -(-want // len(texts)))
    with open(args[1], "w", encoding="utf-8") as f:
        block = "\n".join(texts) + "\n"
        for _ in range(reps):
            f.write(block)
    print(reps * len(texts))


def metrics(gold, pred):
    """Scores predicted labels against gold labels (lists of equal length)."""
    if len(gold) != len(pred):
        die(f"{len(pred)} predictions for {len(gold)} gold rows")
    n = len(gold)
    correct = sum(g == p for g, p in zip(gold, pred))
    ins = [(g, p) for g, p in zip(gold, pred) if g not in OOS]
    oos = [(g, p) for g, p in zip(gold, pred) if g in OOS]
    stats = {}
    for g, p in zip(gold, pred):
        stats.setdefault(g, [0, 0, 0])[0] += 1  # support
        stats.setdefault(p, [0, 0, 0])[1] += 1  # predicted
        if g == p:
            stats[g][2] += 1
    f1s = []
    for label, (sup, prd, cor) in stats.items():
        if sup == 0:
            continue
        prec = cor / prd if prd else 0.0
        rec = cor / sup
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return {
        "rows": n,
        "in_scope_rows": len(ins),
        "oos_rows": len(oos),
        "accuracy": correct / n if n else 0.0,
        "in_scope_accuracy": sum(g == p for g, p in ins) / len(ins) if ins else 0.0,
        "oos_recall": sum(p in OOS for _, p in oos) / len(oos) if oos else 0.0,
        "macro_f1": sum(f1s) / len(f1s) if f1s else 0.0,
        "empty_predictions": sum(1 for p in pred if p == ""),
    }


def cmd_ft(args):
    if len(args) != 2:
        die("usage: score.py ft GOLD PRED")
    gold = [label for label, _ in read_ft(args[0])]
    pred = []
    with open(args[1], encoding="utf-8") as f:
        for line in f:
            tok = line.split()
            # fastText prints an empty line when no word of the text is known.
            pred.append(tok[0][len(LABEL_PREFIX):] if tok and tok[0].startswith(LABEL_PREFIX)
                        else "")
    print(json.dumps(metrics(gold, pred)))


def cmd_ll(args):
    if len(args) != 3:
        die("usage: score.py ll GOLD PRED MODEL_INFO_JSON")
    gold = [label for label, _ in read_ft(args[0])]
    with open(args[2], encoding="utf-8") as f:
        names = json.load(f)["label_names"]
    pred = []
    with open(args[1], encoding="utf-8") as f:
        for line in f:
            idx = int(float(line.split()[0]))
            pred.append(names[idx - 1] if 1 <= idx <= len(names) else "")
    print(json.dumps(metrics(gold, pred)))


# ---------------------------------------------------------------- gathering


def read_time(path):
    """(wall s, peak RSS MB) from a GNU time '%e %M' file, or None."""
    try:
        with open(path) as f:
            last = f.read().strip().splitlines()[-1].split()
        return float(last[0]), int(last[1]) * 1024 / MB
    except (OSError, IndexError, ValueError):
        return None


def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def read_num(path):
    try:
        with open(path) as f:
            return float(f.read().split()[0])
    except (OSError, IndexError, ValueError):
        return None


def min_time(cell, prefix):
    times = []
    for name in sorted(os.listdir(cell)):
        if name.startswith(prefix):
            t = read_time(os.path.join(cell, name))
            if t:
                times.append(t[0])
    return min(times) if times else None


def throughput(cell):
    lines = read_num(os.path.join(cell, "thr.lines"))
    big, one = min_time(cell, "thr_big.time"), min_time(cell, "thr_one.time")
    if lines is None or big is None or one is None:
        return None
    diff = big - one
    load = read_num(os.path.join(cell, "thr.load"))
    return {
        "load_1min": load,
        "lines": int(lines),
        "t_big_s": big,
        "t_one_s": one,
        "utterances_per_s": lines / diff if diff > 0 else None,
    }


def gather_cell(cell, dataset, protocol, system):
    r = {"dataset": dataset, "protocol": protocol, "system": system}
    t = read_time(os.path.join(cell, "train.time"))
    if system == "liblinear":
        feats = {}
        for split in ("train", "valid", "test"):
            ft = read_time(os.path.join(cell, f"feat_{split}.time"))
            if ft:
                feats[split] = {"wall_s": ft[0], "peak_mb": ft[1]}
        r["featurize"] = feats
        solvers = {}
        for name in sorted(os.listdir(cell)):
            sub = os.path.join(cell, name)
            if not (name.startswith("s") and os.path.isdir(sub)):
                continue
            st = read_time(os.path.join(sub, "train.time"))
            solvers[name] = {
                "solver": f"-s {name[1:]}",
                "train_s": st[0] if st else None,
                "train_peak_mb": st[1] if st else None,
                "model_mb": (read_num(os.path.join(sub, "model.bytes")) or 0) / MB,
                "test": read_json(os.path.join(sub, "metrics.json")),
                "valid": read_json(os.path.join(sub, "valid.json")),
            }
        r["solvers"] = solvers
        # Keep the solver with the best validation accuracy (never the test
        # score); without a validation file, the first listed (-s 2).
        best = None
        for name, s in solvers.items():
            if s["test"] is None:
                continue
            key = s["valid"]["accuracy"] if s["valid"] else -1.0
            if best is None or key > best[0] or (key == best[0] and name == "s2"):
                best = (key, name)
        if best:
            s = solvers[best[1]]
            r.update(metrics=s["test"], train_s=s["train_s"], train_peak_mb=s["train_peak_mb"],
                     model_mb=s["model_mb"], solver=s["solver"],
                     chosen_on="validation accuracy" if s["valid"] else "default")
        return r
    r["metrics"] = read_json(os.path.join(cell, "metrics.json"))
    if t:
        r["train_s"], r["train_peak_mb"] = t
    size = read_num(os.path.join(cell, "model.bytes"))
    if size is not None:
        r["model_mb"] = size / MB
    thr = throughput(cell)
    if thr:
        r["throughput_cli"] = thr
    inproc = read_json(os.path.join(cell, "inproc.json"))
    if inproc:
        r["throughput_inproc"] = inproc
    info = read_json(os.path.join(cell, "info.json"))
    if info:
        r["model_info"] = {k: info.get(k) for k in (
            "labels", "features", "oos_threshold", "temperature", "oos_label", "oos_trained")}
    return r


def gather(runs):
    results = []
    for dataset in sorted(os.listdir(runs)):
        dpath = os.path.join(runs, dataset)
        if not os.path.isdir(dpath):
            continue
        for protocol in sorted(os.listdir(dpath)):
            ppath = os.path.join(dpath, protocol)
            for system in ("parley", "fasttext", "liblinear"):
                cell = os.path.join(ppath, system)
                if os.path.isdir(cell):
                    results.append(gather_cell(cell, dataset, protocol, system))
    return results


def find(results, dataset, protocol, system):
    for r in results:
        if (r["dataset"], r["protocol"], r["system"]) == (dataset, protocol, system):
            return r
    return None


# ---------------------------------------------------------------- environment


def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False,
                              timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ram = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    ram = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    return {
        "nproc": int(sh(["nproc"]) or os.cpu_count() or 0),
        "cpu": cpu or platform.processor() or "unknown",
        "ram_gb": round(ram / 1e9, 1) if ram else None,
        "kernel": platform.release(),
    }


def deb_version(pkg):
    return sh(["dpkg-query", "-W", "-f=${Version}", pkg]) or "unknown"


def read_env(path):
    """KEY=VALUE lines written by run.sh (values verbatim)."""
    env = {}
    if path:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip("\n").split("=", 1)
                    env[k] = v
    return env


# ---------------------------------------------------------------- formatting


def pct(x):
    return "–" if x is None else f"{100 * x:.2f}%"


def num(x, fmt="{:.2f}"):
    return "–" if x is None else fmt.format(x)


def rate(x):
    return "–" if x is None else f"{x:,.0f}"


def system_name(r):
    if r["system"] == "liblinear":
        return f"liblinear {r.get('solver', '')}".strip()
    return {"parley": "Parley", "fasttext": "fastText"}[r["system"]]


DATASET_NAMES = {"clinc150": "CLINC150", "banking77": "BANKING77"}


def main_rows(results):
    """Rows of the main table: CLINC150 and BANKING77, one per protocol and system."""
    rows = []
    for dataset in ("clinc150", "banking77"):
        for protocol in ("oos-train", "oos-threshold", "standard"):
            for system in ("parley", "fasttext", "liblinear"):
                r = find(results, dataset, protocol, system)
                if not r or not r.get("metrics"):
                    continue
                m = r["metrics"]
                clinc = dataset == "clinc150"
                thr = r.get("throughput_cli", {}).get("utterances_per_s")
                rows.append([
                    DATASET_NAMES[dataset], protocol if clinc else "–", system_name(r),
                    pct(m["in_scope_accuracy"] if clinc else m["accuracy"]),
                    pct(m["oos_recall"]) if clinc else "–",
                    num(r.get("train_s")), num(r.get("train_peak_mb"), "{:.0f}"),
                    num(r.get("model_mb"), "{:.1f}"), rate(thr),
                ])
    return rows


MAIN_HEADER = ["dataset", "protocol", "system", "accuracy¹", "OOS recall", "train s",
               "train peak MB", "model MB", "predict utt/s²"]


def xsid_table(results):
    langs = sorted({r["dataset"][5:] for r in results if r["dataset"].startswith("xsid-")})
    if not langs:
        return None, None
    systems = [("parley", "Parley"), ("fasttext", "fastText"), ("liblinear", "liblinear")]
    header = ["language", "test rows"] + [name for _, name in systems]
    rows, sums, macro = [], {s: [] for s, _ in systems}, {}
    for lang in langs:
        row = [lang, ""]
        for s, _ in systems:
            r = find(results, f"xsid-{lang}", "standard", s)
            acc = r["metrics"]["accuracy"] if r and r.get("metrics") else None
            if r and r.get("metrics"):
                row[1] = str(r["metrics"]["rows"])
            if acc is not None:
                sums[s].append(acc)
            row.append(pct(acc))
        rows.append(row)
    for s, _ in systems:
        macro[s] = sum(sums[s]) / len(sums[s]) if len(sums[s]) == len(langs) else None
    rows.append(["**macro-average**", ""] + [f"**{pct(macro[s])}**" for s, _ in systems])
    return (header, rows), macro


def xsid_cost(results):
    """Total training time and largest peak memory / model over the xSID languages."""
    out = {}
    for s in ("parley", "fasttext", "liblinear"):
        rs = [r for r in results if r["dataset"].startswith("xsid-") and r["system"] == s]
        if rs:
            out[s] = {
                "train_s_total": sum(r.get("train_s") or 0 for r in rs),
                "train_peak_mb_max": max(r.get("train_peak_mb") or 0 for r in rs),
                "model_mb_max": max(r.get("model_mb") or 0 for r in rs),
            }
    return out


def throughput_rows(results):
    rows, ratios = [], {}
    for dataset, protocol in (("banking77", "standard"), ("clinc150", "oos-train"),
                              ("clinc150", "oos-threshold")):
        p = find(results, dataset, protocol, "parley")
        f = find(results, dataset, protocol, "fasttext")
        pc = p.get("throughput_cli") if p else None
        if not pc:
            continue
        fc = f.get("throughput_cli") if f else None
        pi = p.get("throughput_inproc") if p else None
        ratio = None
        if fc and pc.get("utterances_per_s") and fc.get("utterances_per_s"):
            ratio = pc["utterances_per_s"] / fc["utterances_per_s"]
        ratios[(dataset, protocol)] = ratio
        name = DATASET_NAMES[dataset] + (f" {protocol}" if dataset == "clinc150" else "")
        rows.append([
            name, f"{pc['lines']:,}",
            f"{rate(pc['utterances_per_s'])} ({pc['t_big_s']:.2f} − {pc['t_one_s']:.2f} s)",
            rate(pi["utterances_per_s"]) if pi else "not measured",
            f"{rate(fc['utterances_per_s'])} ({fc['t_big_s']:.2f} − {fc['t_one_s']:.2f} s)"
            if fc else "–",
            num(ratio, "{:.2f}×"),
            f"{num(pc.get('load_1min'))} / {num(fc.get('load_1min')) if fc else '–'}",
        ])
    return rows, ratios


THR_HEADER = ["model", "lines", "Parley CLI utt/s (T(big) − T(1))", "Parley in-process utt/s",
              "fastText CLI utt/s (T(big) − T(1))", "Parley / fastText",
              "load avg (Parley / fastText)³"]


def bars(results, ratios):
    out = []

    def bar(name, measured, ok):
        out.append({"bar": name, "measured": measured,
                    "status": "n/a" if ok is None else ("PASS" if ok else "FAIL")})

    parts, ok = [], None
    for protocol in ("oos-train", "oos-threshold"):
        r = find(results, "clinc150", protocol, "parley")
        if r and r.get("metrics"):
            m = r["metrics"]
            hit = m["in_scope_accuracy"] >= 0.92 and m["oos_recall"] >= 0.50
            ok = bool(ok) or hit
            parts.append(f"{protocol}: {pct(m['in_scope_accuracy'])} / {pct(m['oos_recall'])}")
    bar("CLINC150 in-scope accuracy ≥ 92.0% with OOS recall ≥ 50% (either protocol)",
        "; ".join(parts) or "not run", ok)

    b = find(results, "banking77", "standard", "parley")
    bm = b.get("metrics") if b else None
    bar("BANKING77 accuracy ≥ 91.0%", pct(bm["accuracy"]) if bm else "not run",
        bm["accuracy"] >= 0.91 if bm else None)
    bt = b.get("train_s") if b else None
    bar("BANKING77 training ≤ 10 s wall (2 threads)", f"{num(bt)} s",
        bt <= 10.0 if bt is not None else None)
    bp = b.get("train_peak_mb") if b else None
    bar("BANKING77 peak training memory ≤ 300 MB", f"{num(bp, '{:.0f}')} MB",
        bp <= 300.0 if bp is not None else None)
    bs = b.get("model_mb") if b else None
    bar("BANKING77 model ≤ 50 MB", f"{num(bs, '{:.1f}')} MB",
        bs <= 50.0 if bs is not None else None)

    for dataset, protocol in (("banking77", "standard"), ("clinc150", "oos-train")):
        p = find(results, dataset, protocol, "parley")
        pc = p.get("throughput_cli") if p else None
        if not pc:
            continue
        name = DATASET_NAMES[dataset] + (f" {protocol}" if dataset == "clinc150" else "")
        # The absolute bar is the library's own rate with the model loaded
        # (bench_predict); the CLI figure adds line reading and JSON output.
        pi = p.get("throughput_inproc")
        u = pi.get("utterances_per_s") if pi else None
        extra = f" (CLI {rate(pc.get('utterances_per_s'))})"
        bar(f"{name}: prediction ≥ 300,000 utt/s on one thread (in-process, model loaded)",
            f"{rate(u)} utt/s{extra}", u >= 300000 if u else None)
        ratio = ratios.get((dataset, protocol))
        bar(f"{name}: prediction ≥ 3× fastText's throughput (CLI, same method)",
            num(ratio, "{:.2f}×"), ratio >= 3.0 if ratio is not None else None)
    return out


def md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def text_table(header, rows):
    cells = [header] + rows
    widths = [max(len(str(r[i]).replace("**", "")) for r in cells) for i in range(len(header))]
    out = []
    for k, row in enumerate(cells):
        out.append("  ".join(str(c).replace("**", "").ljust(w) for c, w in zip(row, widths))
                   .rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def solver_notes(results):
    notes = []
    for r in results:
        if r["system"] != "liblinear" or r["dataset"].startswith("xsid-"):
            continue
        tried = ", ".join(
            f"{s['solver']}: validation {pct(s['valid']['accuracy']) if s['valid'] else '–'}"
            f" / test {pct(s['test']['accuracy']) if s['test'] else '–'}"
            f" ({num(s['train_s'])} s)" for s in r["solvers"].values())
        feats = r.get("featurize", {})
        ftime = sum(v["wall_s"] for v in feats.values())
        name = DATASET_NAMES[r["dataset"]] + (
            f" {r['protocol']}" if r["dataset"] == "clinc150" else "")
        notes.append(f"liblinear on {name}: kept {r.get('solver')} (by {r.get('chosen_on')}); "
                     f"accuracy over all rows (out of scope as a class) for {tried}; "
                     f"`parley featurize` of train+valid+test took {ftime:.2f} s "
                     "(not included in liblinear's training time)")
    return notes


def cmd_report(args):
    if not args:
        die("usage: score.py report RUNS_DIR --results JSON [--doc MD] [--env FILE]")
    runs, opts = args[0], {}
    rest = args[1:]
    while rest:
        if rest[0] not in ("--results", "--doc", "--env") or len(rest) < 2:
            die(f"unexpected argument '{rest[0]}'")
        opts[rest[0][2:]] = rest[1]
        rest = rest[2:]
    env = read_env(opts.get("env"))
    results = gather(runs)
    if not results:
        die(f"no results under '{runs}'")

    main = main_rows(results)
    xsid, macro = xsid_table(results)
    thr_rows, ratios = throughput_rows(results)
    bar_list = bars(results, ratios)
    now = datetime.datetime.now(datetime.timezone.utc)
    mach = machine()
    tools = {
        "parley": env.get("PARLEY_VERSION", "unknown"),
        "parley_binary": env.get("PARLEY_BINARY", ""),
        "fasttext": deb_version("fasttext"),
        "liblinear-tools": deb_version("liblinear-tools"),
        "cc": env.get("CC_VERSION", ""),
        "python": platform.python_version(),
    }
    settings = {
        "PARLEY_ARGS": env.get("PARLEY_ARGS", ""),
        "parley_fixed_args": "--threads 2 --quiet",
        "FASTTEXT_ARGS": env.get("FASTTEXT_ARGS", ""),
        "liblinear": env.get("LIBLINEAR_DESC", ""),
        "throughput_lines": int(env.get("THR_LINES", "0") or 0),
        "throughput_repeats": int(env.get("THR_REPEAT", "0") or 0),
        "pin": env.get("PIN", ""),
        "mode": env.get("MODE", "full"),
    }
    doc = {
        "date": now.isoformat(timespec="seconds"),
        "machine": mach,
        "load_before": env.get("LOAD_BEFORE", ""),
        "load_after": env.get("LOAD_AFTER", ""),
        "run_seconds": float(env.get("RUN_SECONDS", "0") or 0),
        "tools": tools,
        "settings": settings,
        "results": results,
        "xsid_macro_accuracy": macro,
        "xsid_cost": xsid_cost(results),
        "bars": bar_list,
    }
    if "results" in opts:
        with open(opts["results"], "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")

    # Text report on stdout.
    print(text_table(MAIN_HEADER, main))
    if xsid:
        print()
        print("xSID accuracy (train on valid, test on test)")
        print(text_table(*xsid))
    if thr_rows:
        print()
        print(text_table(THR_HEADER, thr_rows))
    print()
    print(text_table(["bar", "measured", ""], [[b["bar"], b["measured"], b["status"]]
                                               for b in bar_list]))

    if "doc" in opts:
        write_doc(opts["doc"], generated_md(doc, main, xsid, thr_rows, bar_list, results))


def generated_md(doc, main, xsid, thr_rows, bar_list, results):
    m, t, s = doc["machine"], doc["tools"], doc["settings"]
    out = []
    out.append(f"Generated by `bench/run.sh` on {doc['date']} "
               f"({s['mode']} run, {doc['run_seconds']:.0f} s). All figures come from this "
               "one run on a shared machine; rerun for your own hardware.")
    out.append("")
    out.append(f"- Machine: {m['nproc']} CPUs (`nproc`), {m['cpu']}, {m['ram_gb']} GB RAM, "
               f"Linux {m['kernel']}; load average before / after the run: "
               f"{doc['load_before'] or '?'} / {doc['load_after'] or '?'}")
    binary = f" (binary `{t['parley_binary']}`)" if t["parley_binary"] else ""
    cc = f"built with {t['cc']}; " if t["cc"] else ""
    out.append(f"- Tools: {t['parley']}{binary}, {cc}fastText {t['fasttext']} (Debian "
               f"`fasttext`); liblinear {t['liblinear-tools']} (Debian `liblinear-tools`); "
               f"Python {t['python']}")
    out.append(f"- Parley: `parley train {s['parley_fixed_args']} {s['PARLEY_ARGS']}` "
               "(PARLEY_ARGS), other options at their defaults")
    out.append(f"- fastText: `fasttext supervised {s['FASTTEXT_ARGS']}` (FASTTEXT_ARGS)")
    out.append(f"- liblinear: {s['liblinear']}")
    reps = s["throughput_repeats"]
    timing = f"best of {reps} timings each" if reps > 1 else "one timing each"
    pin = f"pinned with `{s['pin']}`" if s["pin"] else "not pinned (no taskset)"
    out.append(f"- Throughput: at least {s['throughput_lines']:,} lines, {timing}, {pin}")
    out.append("")
    out.append("### CLINC150 and BANKING77")
    out.append("")
    out.append(md_table(MAIN_HEADER, main))
    out.append("")
    out.append("¹ CLINC150: in-scope accuracy on the test set; BANKING77: test accuracy.  ")
    out.append("² One thread, CLI, model loading excluded (see the throughput table).")
    notes = []
    for protocol in ("oos-train", "oos-threshold"):
        r = find(results, "clinc150", protocol, "parley")
        if r and r.get("metrics"):
            mt, mi = r["metrics"], r.get("model_info") or {}
            notes.append(
                f"Parley CLINC150 {protocol}: confidence threshold "
                f"{num(mi.get('oos_threshold'), '{:.3f}')} picked on validation; without it "
                f"in-scope accuracy {pct(mt.get('in_scope_accuracy_nothreshold'))}, "
                f"OOS recall {pct(mt.get('oos_recall_nothreshold'))}.")
    notes += [n + "." for n in solver_notes(results)]
    if notes:
        out.append("")
        out += [f"- {n}" for n in notes]
    if xsid:
        cost = doc["xsid_cost"]
        out.append("")
        out.append("### xSID (accuracy per language)")
        out.append("")
        out.append(md_table(*xsid))
        out.append("")
        parts = [f"{name} {c['train_s_total']:.1f} s in total, peak {c['train_peak_mb_max']:.0f} "
                 f"MB, model ≤ {c['model_mb_max']:.1f} MB"
                 for name, c in (("Parley", cost.get("parley")),
                                 ("fastText", cost.get("fasttext")),
                                 ("liblinear", cost.get("liblinear"))) if c]
        out.append("Training cost over all languages: " + "; ".join(parts) + ".")
    if thr_rows:
        out.append("")
        out.append("### Prediction throughput (one thread)")
        out.append("")
        out.append(md_table(THR_HEADER, thr_rows))
        out.append("")
        out.append("³ 1-minute load average when the measurement started; above 1 the pinned "
                   "core was likely shared with other work, which lowers the figures.")
    out.append("")
    out.append("### Bars from the issue")
    out.append("")
    out.append(md_table(["bar", "measured (Parley)", "status"],
                        [[b["bar"], b["measured"], f"**{b['status']}**"] for b in bar_list]))
    out.append("")
    out.append("Raw numbers: `build-bench/results.json`.")
    return "\n".join(out)


def write_doc(path, body):
    section = f"{BEGIN}\n{body}\n{END}"
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        text = "# Benchmarks\n\n"
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    cmds = {"text": cmd_text, "ft": cmd_ft, "ll": cmd_ll, "report": cmd_report}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.stderr.write(__doc__)
        sys.exit(2)
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
