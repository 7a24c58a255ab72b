#!/usr/bin/env python3
"""bench/learn_gen.py: a realistic large interaction log for bench/learn.sh.

Writes conversations until they hold TURNS turns. Recombines the public utterances of CLINC150 (150 intents and out of scope)
and BANKING77 (77 intents) with conversation structure: an agent's
greeting, the customer's opening (the utterance, sometimes with a greeting,
a courtesy word, a typo or a personal value: phone, e-mail, card, name),
the agent's answer, a customer follow-up and a closing. Each conversation
has a customer (a share of them without training_use consent), the
agent's reason code (RC_<intent>; some codes mean no intent, some are not
in the mapping) and a few malformed lines.

usage: bench/learn_gen.py DATASETS OUT_DIR TURNS [SEED]
writes OUT_DIR/logs.jsonl, OUT_DIR/map.tsv, OUT_DIR/consent.txt (customers
who consented) and OUT_DIR/gen.json (what was generated).
"""
import csv
import json
import random
import sys

CUSTOMERS = 200_000
NO_CONSENT = 0.1  # share of customers without training_use
GREET = ["hi", "hello", "hey there,", "good morning", "hi,", "hello!"]
COURTESY = ["thanks", "please", "thank you", "pls", "asap", "thx"]
AGENT_OPEN = ["Hello, how can I help you today?", "Hi! What can I do for you?",
              "Welcome, how may I help?"]
AGENT_ANSWER = ["Sure, let me check that for you.", "I can help with that.",
                "One moment while I look into it.", "Thanks, I see your account."]
FOLLOW = ["ok", "great thanks", "how long will it take?", "can you do it now?",
          "and what does it cost?", "fine", "perfect"]
AGENT_CLOSE = ["Is there anything else?", "Glad I could help, goodbye!",
               "Have a nice day."]
FIRST = ["John", "Maria", "Ahmed", "Yuki", "Olga", "Pierre", "Lucia", "Tom"]
LAST = ["Smith", "Garcia", "Khan", "Tanaka", "Ivanova", "Dubois", "Rossi", "Brown"]


def pii(rng):
    k = rng.randrange(4)
    if k == 0:
        return " my number is +1 415 %03d %04d" % (rng.randrange(200, 999), rng.randrange(10000))
    if k == 1:
        return " email me at %s.%s%d@example.com" % (rng.choice(FIRST).lower(),
                                                    rng.choice(LAST).lower(), rng.randrange(100))
    if k == 2:
        return " my card is 4111 1111 1111 1111"
    return " my name is %s %s" % (rng.choice(FIRST), rng.choice(LAST))


def typo(rng, s):
    if len(s) < 8:
        return s
    i = rng.randrange(1, len(s) - 1)
    return s[:i] + s[i + 1:]


def main(argv):
    if len(argv) not in (4, 5):
        sys.stderr.write(__doc__.split("\n\n")[2] + "\n")
        return 2
    data, out, target = argv[1], argv[2], int(argv[3])
    rng = random.Random(int(argv[4]) if len(argv) == 5 else 1)
    pool = []
    clinc = json.load(open(data + "/clinc150/data_full.json", encoding="utf-8"))
    for split in ("train", "val", "oos_train", "oos_val"):
        pool += [(t, i) for t, i in clinc[split]]
    with open(data + "/banking77/train.csv", encoding="utf-8") as f:
        pool += [(r["text"], "bank_" + r["category"]) for r in csv.DictReader(f)]
    intents = sorted({i for _, i in pool})
    consenting = set()
    turns = 0
    with open(out + "/logs.jsonl", "w", encoding="utf-8") as f:
        c = 0
        while turns < target:
            c += 1
            if c % 50_000 == 0:
                sys.stderr.write("\rgenerated %d conversations" % c)
            if rng.random() < 0.001:
                f.write('{"id": "broken-%d", "customer_id": 7, "turns": []}\n' % c)
                continue
            text, intent = rng.choice(pool)
            if rng.random() < 0.3:
                text = rng.choice(GREET) + " " + text
            if rng.random() < 0.15:
                text = typo(rng, text)
            if rng.random() < 0.2:
                text += pii(rng)
            if rng.random() < 0.2:
                text += " " + rng.choice(COURTESY)
            code = "RC_" + intent.upper()
            r = rng.random()
            if r < 0.03:
                code = "RC_MISC"
            elif r < 0.04:
                code = "RC_LEGACY_%d" % rng.randrange(20)
            cust = rng.randrange(CUSTOMERS)
            conv = {"id": "conv-%d" % c, "customer_id": "cust-%d" % cust, "language": "en",
                    "disposition": code, "outcome": rng.choice(["resolved", "escalated"]),
                    "turns": [
                        {"speaker": "agent", "text": rng.choice(AGENT_OPEN)},
                        {"speaker": "customer", "text": text, "time": "2026-03-01T10:00:00Z"},
                        {"speaker": "agent", "text": rng.choice(AGENT_ANSWER)},
                        {"speaker": "customer", "text": rng.choice(FOLLOW)},
                        {"speaker": "agent", "text": rng.choice(AGENT_CLOSE)}]}
            turns += 5
            f.write(json.dumps(conv, ensure_ascii=False) + "\n")
    sys.stderr.write("\n")
    for cust in range(CUSTOMERS):
        if random.Random(cust).random() >= NO_CONSENT:
            consenting.add(cust)
    with open(out + "/consent.txt", "w") as f:
        for cust in sorted(consenting):
            f.write("cust-%d\n" % cust)
    with open(out + "/map.tsv", "w") as f:
        f.write("# reason code\tintent (generated by bench/learn_gen.py)\n")
        for i in intents:
            f.write("RC_%s\t%s\n" % (i.upper(), i))
        f.write("RC_MISC\t-\n")
    json.dump({"target_turns": target, "conversations": c, "turns": turns, "intents": len(intents),
               "utterances": len(pool), "customers": CUSTOMERS,
               "consenting": len(consenting)}, open(out + "/gen.json", "w"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
