#!/usr/bin/env python3
"""bench/pii_labels.py: how generated_large.json labels addresses, by layout.

Prints a Markdown table: for each address layout (line breaks inside the
address, a suite/apartment number or not), how many texts label the
address as one ADDRESS span and how many cut it into pieces (house number,
street, suite, postcode, with city and country as LOCATION between). The
same layout labelled both ways is why the personal-data bars are judged
per word (presidio-research's own method) rather than per span.

usage: bench/pii_labels.py DATASET.json
"""
import collections
import json
import re
import sys

ADDRESS = {"ADDRESS", "STREET_ADDRESS"}
UNIT = re.compile(r"(?i)\b(suite|apt\.?|apartment)\s*\d")


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__.strip().splitlines()[-1] + "\n")
        return 2
    try:
        with open(argv[1], encoding="utf-8") as f:
            texts = json.load(f)
    except (OSError, ValueError) as e:
        sys.stderr.write("bench/pii_labels.py: %s: %s\n" % (argv[1], e))
        return 1
    by_layout = collections.defaultdict(lambda: [0, 0, 0])  # whole texts, piece texts, pieces
    for i, t in enumerate(texts):
        try:
            spans = [s for s in t["spans"] if s["entity_type"] in ADDRESS]
            if not spans:
                continue
            start = min(s["start_position"] for s in spans)
            end = max(s["end_position"] for s in spans)
            region = t["full_text"][start:end]
        except (KeyError, TypeError) as e:
            sys.stderr.write("bench/pii_labels.py: text %d: missing field %s\n" % (i, e))
            return 1
        row = by_layout[(region.count("\n"), bool(UNIT.search(region)))]
        if len(spans) == 1:
            row[0] += 1
        else:
            row[1] += 1
            row[2] += len(spans)
    print("#### How the dataset labels addresses, by layout\n")
    print("| line breaks in the address | suite or apt. | texts: one span | "
          "texts: pieces (spans) |")
    print("| ---: | --- | ---: | ---: |")
    total = [0, 0, 0]
    for (breaks, unit), row in sorted(by_layout.items()):
        print("| %d | %s | %d | %d (%d) |" % (breaks, "yes" if unit else "no", *row))
        total = [a + b for a, b in zip(total, row)]
    print("| all | | %d | %d (%d) |" % tuple(total))
    both = sum(1 for row in by_layout.values() if row[0] and row[1])
    gold = total[0] + total[2]
    best = total[0] + total[1]  # one matched span per text, at most
    recall = best / max(1, gold)
    print("\n%d of %d layouts are labelled both ways. Scored per span, a detector that "
          "marks each address as one span can match at most one gold span per text: %d "
          "of %d (recall ≤ %.3f, so F1 ≤ %.3f even with no false positive); one that "
          "cuts addresses into pieces pays false positives on the %d texts labelled "
          "whole, in the same layouts.\n"
          % (both, len(by_layout), best, gold, recall, 2 * recall / (1 + recall), total[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
