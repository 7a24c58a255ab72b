#!/usr/bin/env python3
"""Converts the public benchmark datasets under $PARLEY_DATASETS into the
plain training formats Parley, fastText and liblinear read, in OUT_DIR.
Python standard library only; deterministic (fixed seed for splits)."""
import csv
import json
import os
import random
import sys


def clean(text):
    return " ".join(text.replace("\t", " ").split())


def write_ft(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for text, label in rows:
            text = clean(text)
            if text:
                f.write(f"__label__{label} {text}\n")


def clinc(src, out):
    with open(os.path.join(src, "clinc150", "data_full.json"), encoding="utf-8") as f:
        d = json.load(f)
    tr, va, te = d["train"], d["val"], d["test"]
    otr, ova, ote = d["oos_train"], d["oos_val"], d["oos_test"]
    # oos-train: the out-of-scope class is trained like any other.
    write_ft(f"{out}/clinc_oostrain_train.txt", tr + otr)
    # oos-threshold: train in-scope only; validation carries oos rows so a
    # confidence threshold can be picked.
    write_ft(f"{out}/clinc_inscope_train.txt", tr)
    write_ft(f"{out}/clinc_valid.txt", va + ova)
    write_ft(f"{out}/clinc_test.txt", te + ote)


def banking(src, out):
    def read(name):
        with open(os.path.join(src, "banking77", name), encoding="utf-8", newline="") as f:
            r = csv.reader(f)
            next(r)
            return [(row[0], row[1]) for row in r]
    train = read("train.csv")
    rng = random.Random(20240501)
    idx = list(range(len(train)))
    rng.shuffle(idx)
    nval = len(train) // 10
    val = set(idx[:nval])
    write_ft(f"{out}/banking_train.txt", [r for i, r in enumerate(train) if i not in val])
    write_ft(f"{out}/banking_valid.txt", [r for i, r in enumerate(train) if i in val])
    write_ft(f"{out}/banking_train_full.txt", train)
    write_ft(f"{out}/banking_test.txt", read("test.csv"))


def xsid(src, out):
    by = {}
    with open(os.path.join(src, "xsid", "xsid-0.7.tsv"), encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        col = {name: i for i, name in enumerate(header)}
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) < len(header):
                continue
            by.setdefault((p[col["lang"]], p[col["split"]]), []).append(
                (p[col["text"]], p[col["intent"]].replace("/", "-")))
    langs = sorted({lang for lang, _ in by})
    for lang in langs:
        for split in ("valid", "test"):
            write_ft(f"{out}/xsid_{lang}_{split}.txt", by.get((lang, split), []))
    with open(f"{out}/xsid_langs.txt", "w") as f:
        f.write(" ".join(langs) + "\n")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: prepare_data.py OUT_DIR")
    src = os.environ.get("PARLEY_DATASETS") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "datasets")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name in ("clinc150", "banking77", "xsid"):
        if not os.path.isdir(os.path.join(src, name)):
            sys.exit(f"prepare_data: dataset folder '{os.path.join(src, name)}' is missing "
                     "(set PARLEY_DATASETS; see docs/datasets.md)")
    clinc(src, out)
    banking(src, out)
    xsid(src, out)


if __name__ == "__main__":
    main()
