"""Load for tests/server/durability.sh: conversations send messages from
several threads and record every acknowledged turn (HTTP 200) as
`conversation_id seq` lines, until the server dies (killed by the test).
Usage: durability_load.py URL CHANNEL_KEY OUT_FILE SECONDS"""
import json
import sys
import threading
import time
import urllib.error
import urllib.request

URL, KEY, OUT, SECONDS = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
MESSAGES = ["hello", "what is my balance", "I want to add 1 GB of data", "no thanks",
            "my internet is slow", "how much is roaming in Spain", "thanks, bye"]
lock = threading.Lock()
out = open(OUT, "w", encoding="utf-8")


def post(path, body):
    data = json.dumps(body).encode()
    rq = urllib.request.Request(URL + path, data=data, method="POST", headers={
        "Authorization": "Bearer " + KEY, "Content-Type": "application/json"})
    with urllib.request.urlopen(rq, timeout=5) as r:
        return r.status, json.loads(r.read())


def worker(n):
    end = time.time() + SECONDS
    try:
        while time.time() < end:
            _, c = post("/v1/conversations", {"channel": "load"})
            cid = c["conversation_id"]
            for i in range(len(MESSAGES)):
                status, turn = post(f"/v1/conversations/{cid}/messages",
                                    {"text": MESSAGES[(i + n) % len(MESSAGES)]})
                if status == 200:
                    with lock:
                        out.write(f"{cid} {turn['turn']}\n")
                        out.flush()
    except (urllib.error.URLError, ConnectionError, OSError):
        return  # the server was killed


threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
for t in threads:
    t.start()
for t in threads:
    t.join()
out.close()
