#!/usr/bin/env python3
"""bench/langid_prep.py: data preparation and scoring for bench/langid.sh.

  langid_prep.py split TSV OUT_DIR LID_LABELS
      Splits Tatoeba (ISO 639-3 code TAB sentence) per language,
      deterministically (seed 1): 80% train / 20% test, and 10% of train
      carved out as validation (used for tuning, never test). Writes
      train.txt, valid.txt, test.txt (fastText lines) and plain sentence /
      gold-code files for three test sets: all (every language), shared
      (languages lid.176 also has, per MAP below, restricted to the labels
      listed in LID_LABELS, one per line) and bot (fra, spa, deu; Tatoeba's
      LASER set has no English, the pivot of its pairs).
  langid_prep.py repeat TEXT OUT MIN_LINES
      Repeats TEXT's lines to at least MIN_LINES lines; prints the count.
  langid_prep.py score parley|fasttext GOLD PRED [--among L1,L2,...]
      Prints accuracy as "correct total". Parley predictions are language
      codes, one per line, from `parley langid predict` (or JSON lines from
      `parley predict`); fastText ones `__label__xx` lines, or with
      --among `predict-prob ... -1` lines (label prob pairs) restricted to
      the given ISO 639-3 codes (mapped).
  langid_prep.py doc SECTION_FILE DOC
      Replaces the "## Language identification (bench/langid.sh)" section
      of DOC (up to the next "## " heading) with SECTION_FILE, or appends it.
"""
import json
import random
import sys

SEED = 1
TEST_SHARE = 0.2
VALID_SHARE = 0.1
BOT = ["fra", "spa", "deu"]

# Tatoeba's ISO 639-3 codes to lid.176's labels (ISO 639-1 where one
# exists, else the 639-3 / Wikipedia code lid.176 uses). Codes with no
# lid.176 counterpart are absent. Macrolanguage calls: Tatoeba's cmn is
# lid.176's zh, pes is fa, zsm is ms, lvs is lv, swh is sw, nob is no, gsw
# (Swiss German) is als (Alemannic).
MAP = {
    "afr": "af", "amh": "am", "ara": "ar", "arz": "arz", "ast": "ast", "aze": "az",
    "bel": "be", "ben": "bn", "bos": "bs", "bre": "br", "bul": "bg", "cat": "ca",
    "cbk": "cbk", "ceb": "ceb", "ces": "cs", "cmn": "zh", "cor": "kw", "cym": "cy",
    "dan": "da", "deu": "de", "dsb": "dsb", "ell": "el", "epo": "eo", "est": "et",
    "eus": "eu", "fin": "fi", "fra": "fr", "fry": "fy", "gla": "gd", "gle": "ga",
    "glg": "gl", "gsw": "als", "heb": "he", "hin": "hi", "hrv": "hr", "hsb": "hsb",
    "hun": "hu", "hye": "hy", "ido": "io", "ile": "ie", "ina": "ia", "ind": "id",
    "isl": "is", "ita": "it", "jav": "jv", "jpn": "ja", "kat": "ka", "kaz": "kk",
    "khm": "km", "kor": "ko", "kur": "ku", "lat": "la", "lit": "lt", "lvs": "lv",
    "mal": "ml", "mar": "mr", "mhr": "mhr", "mkd": "mk", "mon": "mn", "nds": "nds",
    "nld": "nl", "nno": "nn", "nob": "no", "oci": "oc", "pam": "pam", "pes": "fa",
    "pms": "pms", "pol": "pl", "por": "pt", "ron": "ro", "rus": "ru", "slk": "sk",
    "slv": "sl", "spa": "es", "sqi": "sq", "srp": "sr", "swe": "sv", "swh": "sw",
    "tam": "ta", "tat": "tt", "tel": "te", "tgl": "tl", "tha": "th", "tuk": "tk",
    "tur": "tr", "uig": "ug", "ukr": "uk", "urd": "ur", "uzb": "uz", "vie": "vi",
    "war": "war", "wuu": "wuu", "yid": "yi", "yue": "yue", "zsm": "ms",
}


def clean(text):
    return " ".join(text.split())


def split(tsv, out, lid_labels):
    with open(lid_labels, encoding="utf-8") as f:
        known = {line.strip() for line in f if line.strip()}
    by_lang = {}
    with open(tsv, encoding="utf-8") as f:
        for line in f:
            code, _, text = line.rstrip("\n").partition("\t")
            text = clean(text)
            if code and text:
                by_lang.setdefault(code, []).append(text)
    files = {
        name: open(f"{out}/{name}", "w", encoding="utf-8")
        for name in ["train.txt", "valid.txt", "test.txt", "all.text", "all.gold",
                     "shared.text", "shared.gold", "bot.text", "bot.gold"]
    }
    shared_langs = []
    counts = {"train": 0, "valid": 0, "test": 0}
    for code in sorted(by_lang):
        rows = by_lang[code]
        random.Random(f"{SEED}:{code}").shuffle(rows)
        n_test = max(1, round(len(rows) * TEST_SHARE))
        test, train = rows[:n_test], rows[n_test:]
        n_valid = max(1, round(len(train) * VALID_SHARE))
        valid, train = train[:n_valid], train[n_valid:]
        for part, name in ((train, "train"), (valid, "valid"), (test, "test")):
            for text in part:
                files[f"{name}.txt"].write(f"__label__{code} {text}\n")
            counts[name] += len(part)
        shared = MAP.get(code) in known
        if shared:
            shared_langs.append(code)
        for text in test:
            files["all.text"].write(text + "\n")
            files["all.gold"].write(code + "\n")
            if shared:
                files["shared.text"].write(text + "\n")
                files["shared.gold"].write(code + "\n")
            if code in BOT:
                files["bot.text"].write(text + "\n")
                files["bot.gold"].write(code + "\n")
    for f in files.values():
        f.close()
    json.dump({"languages": len(by_lang), "shared_languages": shared_langs, **counts},
              sys.stdout)
    print()


def repeat(src, out, min_lines):
    with open(src, encoding="utf-8") as f:
        lines = f.readlines()
    n = 0
    with open(out, "w", encoding="utf-8") as f:
        while n < min_lines:
            f.writelines(lines)
            n += len(lines)
    print(n)


def score(system, gold_path, pred_path, among):
    with open(gold_path, encoding="utf-8") as f:
        gold = [line.strip() for line in f]
    allowed = {MAP[c] for c in among} if among else None
    preds = []
    with open(pred_path, encoding="utf-8") as f:
        for line in f:
            if system == "parley":
                # `parley langid predict`: a code per line (optionally a tab
                # and a probability); `parley predict`: JSON objects.
                preds.append(json.loads(line)["intent"] if line.startswith("{")
                             else line.split("\t")[0].strip())
            elif allowed is None:
                preds.append(line.split()[0].replace("__label__", "", 1))
            else:
                # "__label__xx p __label__yy p ...", best first.
                toks = line.split()
                best = next((t.replace("__label__", "", 1) for t in toks[0::2]
                             if t.replace("__label__", "", 1) in allowed), "")
                preds.append(best)
    if len(preds) != len(gold):
        sys.exit(f"langid_prep.py: {pred_path}: {len(preds)} predictions for {len(gold)} rows")
    if system == "parley":
        right = sum(p == g for p, g in zip(preds, gold))
    else:
        right = sum(p == MAP.get(g) for p, g in zip(preds, gold))
    print(right, len(gold))


def doc(section_file, doc_path):
    heading = "## Language identification (bench/langid.sh)"
    with open(section_file, encoding="utf-8") as f:
        section = f.read().rstrip("\n") + "\n"
    with open(doc_path, encoding="utf-8") as f:
        text = f.read()
    start = text.find(heading)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(heading))
        rest = "" if end < 0 else text[end:]
        text = text[:start] + section + rest
    with open(doc_path, "w", encoding="utf-8") as f:
        f.write(text)


def main(argv):
    if len(argv) >= 5 and argv[1] == "split":
        split(argv[2], argv[3], argv[4])
    elif len(argv) == 5 and argv[1] == "repeat":
        repeat(argv[2], argv[3], int(argv[4]))
    elif len(argv) in (5, 7) and argv[1] == "score":
        among = argv[6].split(",") if len(argv) == 7 and argv[5] == "--among" else None
        score(argv[2], argv[3], argv[4], among)
    elif len(argv) == 4 and argv[1] == "doc":
        doc(argv[2], argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
