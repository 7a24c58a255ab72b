"""telco-sim end-to-end checks: run by telco_sim.sh with the binary and the
tau2-telecom data folder; exits 1 with FAIL lines when any check fails."""
import http.client
import http.server
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

BIN, DATA = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="telco-sim-test.")
FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL: " + what, file=sys.stderr)
    return cond


class Server:
    def __init__(self, db, *extra):
        self.proc = subprocess.Popen(
            [BIN, "--port", "0", "--db", db, "--seed", DATA + "/db.toml", *extra],
            stdout=subprocess.PIPE, stderr=open(os.path.join(TMP, "stderr.log"), "a"), text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on http://127.0.0.1:"):
            self.proc.kill()
            raise SystemExit("FAIL: telco-sim did not start: %r" % line)
        self.port = int(line.rsplit(":", 1)[1])

    def req(self, method, path, body=None, key=None, raw=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        h = dict(headers or {})
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if key:
            h["Idempotency-Key"] = key
        if data is not None:
            h["Content-Type"] = "application/json"
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            text = r.read().decode()
            try:
                doc = json.loads(text)
            except ValueError:
                doc = None
                check(False, "%s %s: body is not JSON: %r" % (method, path, text[:200]))
            return r.status, doc, text, r.headers
        except (http.client.RemoteDisconnected, ConnectionResetError):
            return None, None, None, None
        finally:
            c.close()

    def get(self, path):
        return self.req("GET", path)[:2]

    def post(self, path, body=None, key=None):
        return self.req("POST", path, body, key)[:2]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = "hung"
        check(rc == 0, "SIGTERM: clean exit, got %r" % rc)


def err(doc):
    return (doc or {}).get("error", {}).get("code")


def expect(resp, status, code=None, what=""):
    st, doc = resp
    ok = st == status and (code is None or err(doc) == code)
    check(ok, "%s: wanted %s %s, got %s %s" % (what, status, code or "", st, json.dumps(doc)[:300]))
    return doc or {}


class Collector(http.server.BaseHTTPRequestHandler):
    got = []  # event bodies POSTed to /hook, in arrival order
    seen = []  # (path, Authorization header or None), one per request
    sms = []  # inbound SMS bodies POSTed to /sms

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(n))
        Collector.seen.append((self.path, self.headers.get("Authorization")))
        if self.path == "/hook":
            Collector.got.append(body)
        if self.path == "/sms":
            Collector.sms.append(body)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


def events(s, after=0):
    return expect(s.get("/events?after=%d" % after), 200, what="events").get("events", [])


def main_suite():
    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    db = os.path.join(TMP, "main.db")
    s = Server(db, "--events-url", "http://127.0.0.1:%d/hook" % hook.server_address[1],
               "--events-key", "sim-key-1", "--fault-seed", "7")

    # plans and customers
    expect(s.get("/healthz"), 200, what="healthz")
    plans = expect(s.get("/plans"), 200, what="plans")["plans"]
    check(len(plans) == 5 and plans[1]["plan_id"] == "P1002", "five plans from the seed")
    check(expect(s.get("/plans/P1002"), 200, what="plan")["data_refueling_price_per_gb"] == 2.0,
          "P1002 refuel price")
    expect(s.get("/plans/P9"), 404, "plan_not_found", "unknown plan")
    c = expect(s.get("/customers?phone=%2B1%20555-123-2002"), 200, what="lookup by phone")
    check(c.get("customer_id") == "C1001", "customer by phone is C1001")
    check(c["payment_methods"][0]["last4"] == "1235" and "account_number_last_4" not in
          c["payment_methods"][0], "payment method shows only last4")
    check(c.get("language") == "en" and c.get("time_zone") == "America/Los_Angeles",
          "C1001 (CA) defaults to en + America/Los_Angeles: %s %s" %
          (c.get("language"), c.get("time_zone")))
    c = expect(s.get("/customers?phone=5551232001"), 200, what="lookup by line phone")
    check(c.get("customer_id") == "C1001", "customer by line phone is C1001")
    c = expect(s.get("/customers?full_name=Sarah%20Johnson&date_of_birth=1990-11-22"), 200,
               what="lookup by name+dob")
    check(c.get("customer_id") == "C1002", "customer by name is C1002")
    check(c.get("language") == "en" and c.get("time_zone") == "America/Chicago",
          "C1002 (IL) defaults to en + America/Chicago by name lookup")
    expect(s.get("/customers?full_name=Sarah%20Johnson&date_of_birth=1990-11-23"), 404,
           "customer_not_found", "wrong dob")
    expect(s.get("/customers?full_name=Sarah%20Johnson"), 400, "invalid_query", "name without dob")
    expect(s.get("/customers?full_name=X&date_of_birth=22/11/1990"), 400, "invalid_query",
           "bad dob")
    expect(s.get("/customers"), 400, "invalid_query", "no query")
    expect(s.get("/customers?phone=555-123-2002&x=1"), 400, "invalid_query", "unknown param")
    expect(s.get("/customers?phone=555-000-0000"), 404, "customer_not_found", "unknown phone")
    c = expect(s.get("/customers/C1002"), 200, what="customer by id")
    check(c.get("line_ids") == ["L1004", "L1005", "L1006", "L1007", "L1008"], "C1002 lines")
    expect(s.get("/customers/C9"), 404, "customer_not_found", "unknown customer")

    # customer language and time zone lever
    c = expect(s.post("/sim/customers/C1002/profile",
                      {"language": "fr", "time_zone": "Europe/Paris"}), 200, what="profile")
    check(c.get("customer_id") == "C1002" and c.get("language") == "fr" and
          c.get("time_zone") == "Europe/Paris", "profile answers the updated customer")
    c = expect(s.get("/customers/C1002"), 200, what="customer after profile")
    check((c.get("language"), c.get("time_zone")) == ("fr", "Europe/Paris"), "profile stored")
    c = s.get("/customers?full_name=Sarah%20Johnson&date_of_birth=1990-11-22")[1]
    check((c.get("language"), c.get("time_zone")) == ("fr", "Europe/Paris"),
          "name lookup shows the profile")
    c = expect(s.post("/sim/customers/C1003/profile", {"time_zone": "America/Argentina/Buenos_Aires"}),
               200, what="profile time zone only")
    check((c.get("language"), c.get("time_zone")) == ("en", "America/Argentina/Buenos_Aires"),
          "time zone alone keeps the default language")
    c = expect(s.post("/sim/customers/C1003/profile", {"language": "es"}), 200,
               what="profile language only")
    check((c.get("language"), c.get("time_zone")) == ("es", "America/Argentina/Buenos_Aires"),
          "language alone keeps the stored time zone")
    for body, field in (({"language": "it"}, "language"), ({"language": "EN"}, "language"),
                        ({"language": 1}, "language"), ({"time_zone": "Paris"}, "time_zone"),
                        ({"time_zone": "Europe//Paris"}, "time_zone"),
                        ({"time_zone": "Europe/Paris/"}, "time_zone"),
                        ({"time_zone": "Etc/GMT+5"}, "time_zone"),
                        ({"time_zone": "Europe/Par is"}, "time_zone"),
                        ({"time_zone": "A/" + "b" * 63}, "time_zone"),
                        ({"language": "fr", "tz": "Europe/Paris"}, "tz"), ({}, "language")):
        d = expect(s.post("/sim/customers/C1002/profile", body), 400, "invalid_field",
                   "profile %s" % body)
        check("'%s'" % field in d.get("error", {}).get("message", ""),
              "profile %s: error names '%s': %s" % (body, field, d))
    expect(s.post("/sim/customers/C9/profile", {"language": "de"}), 404, "customer_not_found",
           "profile of an unknown customer")
    c = s.get("/customers/C1002")[1]
    check((c.get("language"), c.get("time_zone")) == ("fr", "Europe/Paris"),
          "refused profile changes nothing")
    bills = expect(s.get("/customers/C1002/bills"), 200, what="bills")["bills"]
    check([b["bill_id"] for b in bills] == ["B1004", "B1005"], "C1002 bills")
    check(expect(s.get("/bills/B1005"), 200, what="bill")["status"] == "overdue", "B1005 overdue")
    expect(s.get("/bills/B9"), 404, "bill_not_found", "unknown bill")

    # lines: refuel, plan, roaming
    line = expect(s.get("/lines/L1001"), 200, what="line")
    check(line["status"] == "active" and line["plan_id"] == "P1001", "L1001 seeded state")
    r = expect(s.post("/lines/L1001/refuel", {"gb": 1.5}), 200, what="refuel")
    check(r.get("charged") == 7.5, "refuel 1.5 GB on P1001 costs 7.5")
    check(s.get("/lines/L1001")[1]["data_refueling_gb"] == 1.5, "refuel recorded")
    expect(s.post("/lines/L1001/refuel", {"gb": 2.5}), 422, "refuel_too_large", "refuel 2.5")
    expect(s.post("/lines/L1001/refuel", {"gb": 0}), 422, "refuel_too_large", "refuel 0")
    expect(s.post("/lines/L1001/refuel", {"gb": "1"}), 400, "invalid_field", "refuel string")
    expect(s.post("/lines/L1003/refuel", {"gb": 1}), 409, "line_not_active", "refuel suspended")
    expect(s.post("/lines/L9/refuel", {"gb": 1}), 404, "line_not_found", "refuel unknown line")
    line = expect(s.post("/lines/L1001/plan", {"plan_id": "P1002"}), 200, what="change plan")
    check(line.get("plan_id") == "P1002" and line.get("last_plan_change_date") == "2025-02-25",
          "plan changed and dated")
    expect(s.post("/lines/L1001/plan", {"plan_id": "P9999"}), 404, "plan_not_found", "bad plan")
    expect(s.post("/lines/L1001/plan", {}), 400, "invalid_field", "plan without plan_id")
    expect(s.post("/lines/L1001/roaming", {"enabled": True}), 200, what="roaming on")
    check(s.get("/lines/L1001")[1]["roaming_enabled"] is True, "roaming stored")
    expect(s.post("/lines/L1001/roaming", {"enabled": "yes"}), 400, "invalid_field", "roaming str")

    # suspension, payment requests, payments, resume
    expect(s.post("/lines/L1001/resume"), 409, "line_not_suspended", "resume active line")
    expect(s.post("/sim/lines/L1004/suspend", {"reason": "overdue_bill"}), 200, what="suspend")
    expect(s.post("/lines/L1004/resume"), 409, "overdue_bill", "resume with overdue bill")
    expect(s.post("/bills/B1005/pay", {"payment_method_id": "PM-C1002-2"}), 409,
           "no_payment_request", "pay without request")
    b = expect(s.post("/customers/C1002/payment-requests", {"bill_id": "B1005"}), 200,
               what="payment request")
    check(b.get("status") == "awaiting_payment", "bill awaiting payment")
    expect(s.post("/customers/C1002/payment-requests", {"bill_id": "B1005"}), 409,
           "payment_request_pending", "second payment request")
    expect(s.post("/customers/C1001/payment-requests", {"bill_id": "B1001"}), 409,
           "bill_not_payable", "request for a paid bill")
    expect(s.post("/customers/C1001/payment-requests", {"bill_id": "B1005"}), 404,
           "bill_not_found", "request for another customer's bill")
    expect(s.post("/customers/C9/payment-requests", {"bill_id": "B1005"}), 404,
           "customer_not_found", "request for unknown customer")
    sms = expect(s.get("/sim/sms?phone=555-123-1002"), 200, what="sms list")["messages"]
    check(len(sms) == 1 and "B1005" in sms[0]["text"], "payment request sent an SMS")
    expect(s.post("/bills/B1005/pay", {"payment_method_id": "PM-X"}), 404,
           "payment_method_not_found", "pay with unknown method")
    b = expect(s.post("/bills/B1005/pay", {"payment_method_id": "PM-C1002-2"}), 200, what="pay")
    check(b.get("status") == "paid", "bill paid")
    check(s.get("/bills/B1005")[1]["status"] == "paid", "paid bill stored")
    line = expect(s.post("/lines/L1004/resume"), 200, what="resume after payment")
    check(line.get("status") == "active" and "suspension_start_date" not in line, "L1004 active")
    check(expect(s.post("/lines/L1003/resume"), 200, what="resume L1003")["status"] == "active",
          "L1003 resumed")

    # device, diagnostics, speed test, remote fixes
    dev = expect(s.get("/lines/L1002/device"), 200, what="device")
    check(dev.get("airplane_mode") is False and dev["apn_settings"]["apn_name"] == "internet",
          "device defaults from user_db.toml")

    def speed(expected, what):
        r = expect(s.get("/lines/L1002/speedtest"), 200, what="speedtest")
        check(r.get("result") == expected, "%s: speed %s, wanted %s" % (what, r, expected))

    def act(body, status=200, code=None):
        return expect(s.post("/lines/L1002/device/actions", body), status, code, str(body))

    speed("excellent", "all good")
    check(act({"action": "toggle_airplane_mode"}).get("airplane_mode") is True, "airplane on")
    speed("no_service", "airplane mode")
    d = expect(s.get("/lines/L1002/diagnostics"), 200, what="diagnostics")
    check(d.get("network_status") == "no_service" and "airplane_mode_on" in d["issues"],
          "diagnostics name airplane mode")
    act({"action": "toggle_airplane_mode"})
    act({"action": "toggle_data_saver"})
    speed("poor", "data saver")
    act({"action": "toggle_data_saver", "enabled": False})
    act({"action": "set_apn", "apn_name": "wrong"})
    speed("no_service", "wrong apn")
    check("apn_incorrect" in s.get("/lines/L1002/diagnostics")[1]["issues"], "apn issue named")
    act({"action": "reset_apn"})
    act({"action": "set_network_mode", "mode": "2g_only"})
    speed("poor", "2g only")
    act({"action": "set_network_mode", "mode": "4g_5g_preferred"})
    act({"action": "connect_vpn"})
    speed("fair", "vpn connected")
    act({"action": "disconnect_vpn"})
    expect(s.post("/sim/lines/L1002/device", {"sim_status": "missing"}), 200, what="pull sim")
    speed("no_service", "sim missing")
    act({"action": "reseat_sim"})
    speed("excellent", "all fixed")

    # device_misconfigured: only the breaking lever, once per newly appearing problem
    def new_events(after):
        return [e for e in events(s, after) if e["type"] == "device_misconfigured"]

    def dev_break(body):
        expect(s.post("/sim/lines/L1002/device", body), 200, what="break %s" % body)

    seq_d = max([e["seq"] for e in events(s)] + [0])
    dev_break({"data_saver": True})
    got = new_events(seq_d)
    check([(e.get("line_id"), e.get("customer_id"), e.get("problem")) for e in got] ==
          [("L1002", "C1001", "data_saver_on")], "data saver on emits one event: %s" % got)
    dev_break({"data_saver": True, "wifi_calling": True})
    check(len(new_events(seq_d)) == 1, "a problem already there is not reported again")
    dev_break({"apn_settings": {"apn_name": "broken", "mms_apn": "", "mmsc_url": ""}})
    check([e["problem"] for e in new_events(seq_d)] == ["data_saver_on", "apn_incorrect"],
          "wrong APN emits apn_incorrect")
    seq_f = max(e["seq"] for e in events(s))
    act({"action": "reset_apn"})
    act({"action": "toggle_data_saver", "enabled": False})
    act({"action": "set_apn", "apn_name": "wrong"})
    act({"action": "toggle_data_saver", "enabled": True})
    check(new_events(seq_f) == [], "customer-facing device actions emit no device_misconfigured")
    act({"action": "reset_apn"})
    act({"action": "toggle_data_saver", "enabled": False})
    dev_break({"mobile_data": True, "signal_strength": "good"})
    check(new_events(seq_f) == [], "a harmless device change emits nothing")
    dev_break({"data_saver": True, "apn_settings": {"apn_name": "x", "mmsc_url": "y"}})
    check(sorted(e["problem"] for e in new_events(seq_f)) == ["apn_incorrect", "data_saver_on"],
          "two problems at once: two events")
    expect(s.post("/sim/lines/L1002/device", {"data_saver": "on"}), 400, "invalid_field",
           "refused device change")
    check(len(new_events(seq_f)) == 2, "refused lever emits nothing")
    expect(s.post("/sim/lines/L9/device", {"data_saver": True}), 404, "line_not_found",
           "break an unknown line")
    act({"action": "reset_apn"})
    act({"action": "toggle_data_saver", "enabled": False})
    speed("excellent", "fixed again")
    act({"action": "fly"}, 422, "unknown_action")
    act({"action": "set_network_mode", "mode": "6g"}, 422, "invalid_network_mode")
    act({}, 400, "invalid_field")
    expect(s.post("/sim/lines/L1002/device", {"airplane_mode": 3}), 400, "invalid_field",
           "device patch wrong type")

    # usage thresholds, roaming detection, suspension -> events
    seq0 = max([e["seq"] for e in events(s)] + [0])
    for gb in (10.5, 2, 1):  # L1001: P1002 15 GB + 1.5 refuelled, 3.2 used
        expect(s.post("/sim/lines/L1001/usage", {"gb": gb}), 200, what="usage")
    types = [e["type"] for e in events(s, seq0)]
    check(types == ["usage_80", "usage_90", "usage_100"], "usage events in order: %s" % types)
    check(all(e.get("customer_id") == "C1001" and e.get("line_id") == "L1001"
              for e in events(s, seq0)), "usage events carry line_id and customer_id")
    check("data_limit_reached" in s.get("/lines/L1001/diagnostics")[1]["issues"],
          "data limit reached after 100%")
    expect(s.post("/sim/lines/L1001/travel", {"abroad": True, "country": "FR"}), 200, what="travel")
    ev = events(s, seq0)[-1]
    check(ev["type"] == "roaming_detected" and ev["country"] == "FR", "roaming_detected event")
    all_types = [e["type"] for e in events(s)]
    check("line_suspended" in all_types, "line_suspended event")

    # outages
    o = expect(s.post("/sim/outages", {"cities": ["Anytown"], "expected_end": "2025-02-26"}), 200,
               what="open outage")
    oid = o.get("outage_id")
    outs = expect(s.get("/outages"), 200, what="outages")["outages"]
    check(any(x["outage_id"] == oid and x["status"] == "open" for x in outs), "outage listed")
    check(s.get("/lines/L1002/diagnostics")[1]["outage"] is True, "outage hits Anytown line")
    speed("no_service", "outage")
    expect(s.post("/sim/outages/%s/close" % oid), 200, what="close outage")
    expect(s.post("/sim/outages/%s/close" % oid), 409, "outage_not_open", "close twice")
    expect(s.post("/sim/outages/O999/close"), 404, "outage_not_found", "close unknown")
    expect(s.post("/sim/outages", {"cities": []}), 400, "invalid_field", "outage no cities")
    speed("excellent", "outage closed")
    tail = events(s, seq0)[-2:]
    check([e["type"] for e in tail] == ["outage_opened", "outage_closed"],
          "outage events: %s" % tail)
    check(tail[0].get("expected_end") == "2025-02-26" and tail[0].get("cities") == ["Anytown"],
          "outage_opened carries cities and expected_end: %s" % tail[0])
    check(tail[1].get("outage_id") == oid and tail[1].get("cities") == ["Anytown"],
          "outage_closed carries cities: %s" % tail[1])
    o2 = expect(s.post("/sim/outages", {"cities": ["Nowhere"]}), 200, what="open-ended outage")
    ev = events(s, seq0)[-1]
    check(ev["type"] == "outage_opened" and "expected_end" in ev and ev["expected_end"] is None,
          "open-ended outage_opened has expected_end null: %s" % ev)
    expect(s.post("/sim/outages/%s/close" % o2.get("outage_id")), 200, what="close open-ended")
    feed = events(s)
    check(all(e.get("id") == "ev-%d" % e["seq"] for e in feed), "every event has id ev-<seq>")
    check(len({e["id"] for e in feed}) == len(feed), "event ids are unique")
    expect(s.get("/events?after=abc"), 400, "invalid_query", "events bad after")
    expect(s.get("/events?after=-1"), 400, "invalid_query", "events negative after")
    check(len(expect(s.get("/events?after=0&limit=2"), 200, what="limit")["events"]) == 2,
          "events limit")
    deadline = time.time() + 10
    while time.time() < deadline and "outage_closed" not in [e["type"] for e in Collector.got]:
        time.sleep(0.1)
    check("outage_opened" in [e["type"] for e in Collector.got] and
          "outage_closed" in [e["type"] for e in Collector.got], "events POSTed to --events-url")
    # every event since start-up arrives once, in feed order, with its id and
    # the bearer key (one request per event)
    feed = events(s)
    deadline = time.time() + 10
    while time.time() < deadline and len(Collector.got) < len(feed):
        time.sleep(0.1)
    check([e.get("id") for e in Collector.got] == [e["id"] for e in feed],
          "deliveries match the feed in order: %s vs %s" %
          ([e.get("id") for e in Collector.got], [e["id"] for e in feed]))
    check(Collector.got == feed, "delivered events are the feed's objects")
    check(len(Collector.seen) == len(Collector.got) and
          all(a == "Bearer sim-key-1" for _, a in Collector.seen),
          "each delivery carries Authorization: Bearer KEY: %s" % Collector.seen[:3])

    # SMS gateway
    m = expect(s.post("/sim/sms", {"phone": "+1 555-123-2001", "text": "hello"}), 200, what="sms")
    msgs = s.get("/sim/sms?phone=5551232001")[1]["messages"]
    check(any(x["message_id"] == m.get("message_id") and x["text"] == "hello" for x in msgs),
          "sms in the outbox")
    expect(s.post("/sim/sms", {"phone": "5551232001"}), 400, "invalid_field", "sms without text")
    expect(s.post("/sim/sms", {"phone": "12", "text": "x"}), 400, "invalid_field", "sms bad phone")

    # idempotency
    st1, d1, t1, _ = s.req("POST", "/lines/L1002/refuel", {"gb": 1}, key="k-refuel-1")
    st2, d2, t2, h2 = s.req("POST", "/lines/L1002/refuel", {"gb": 1}, key="k-refuel-1")
    check(st1 == 200 and st2 == 200 and t1 == t2, "replay returns the same body")
    check(h2 is not None and h2.get("Idempotent-Replayed") == "true", "replay is marked")
    check(s.get("/lines/L1002")[1]["data_refueling_gb"] == 1, "replayed refuel applied once")
    expect(s.post("/lines/L1002/refuel", {"gb": 2}, key="k-refuel-1"), 422,
           "idempotency_key_reused", "same key, other body")
    st, d, _, _ = s.req("POST", "/lines/L1002/refuel", {"gb": 9}, key="k-refuel-bad")
    st_b, _, _, _ = s.req("POST", "/lines/L1002/refuel", {"gb": 9}, key="k-refuel-bad")
    check(st == 422 and st_b == 422, "refusals replay too")

    # dropped response, then retry with the same key
    expect(s.post("/sim/faults", {"route": "/lines/*/refuel", "drop_rate": 1}), 200, what="drop")
    st, _, _, _ = s.req("POST", "/lines/L1002/refuel", {"gb": 0.5}, key="k-drop-1")
    check(st is None, "dropped response closes the connection, got %s" % st)
    expect(s.req("DELETE", "/sim/faults")[:2], 200, what="clear faults")
    check(s.get("/lines/L1002")[1]["data_refueling_gb"] == 1.5, "dropped request was applied")
    st, d, _, _ = s.req("POST", "/lines/L1002/refuel", {"gb": 0.5}, key="k-drop-1")
    check(st == 200 and d["line"]["data_refueling_gb"] == 1.5, "retry replays the first result")
    check(s.get("/lines/L1002")[1]["data_refueling_gb"] == 1.5, "retry did not apply twice")

    # injected errors and latency
    expect(s.post("/sim/faults", {"route": "/plans", "error_rate": 1}), 200, what="error fault")
    expect(s.get("/plans"), 503, "fault_injected", "injected 503")
    check(len(s.get("/sim/faults")[1]["faults"]) == 1, "faults listed")
    expect(s.post("/sim/faults", {"route": "/healthz", "latency_ms": 300}), 200, what="latency")
    t = time.time()
    expect(s.get("/healthz"), 200, what="slow healthz")
    check(time.time() - t >= 0.3, "latency injected")
    expect(s.req("DELETE", "/sim/faults")[:2], 200, what="clear faults")
    expect(s.get("/plans"), 200, what="plans after clearing faults")
    expect(s.post("/sim/faults", {"route": "*", "error_rate": 2}), 400, "invalid_field",
           "error_rate > 1")

    # bad input shapes
    def raw(method, path, data, status, code, what, headers=None):
        st, doc, _, _ = s.req(method, path, raw=data, headers=headers)
        check(st == status and err(doc) == code, "%s: got %s %s" % (what, st, doc))

    raw("POST", "/lines/L1001/refuel", "{gb: 1", 400, "invalid_json", "broken json")
    raw("POST", "/lines/L1001/refuel", "[1,2]", 400, "invalid_json", "json array body")
    raw("POST", "/lines/L1001/refuel", '{"gb":1,"gb":2}', 400, "invalid_json", "duplicate keys")
    raw("POST", "/lines/L1001/refuel", b'{"gb":"\xff"}', 400, "invalid_json", "bad utf-8")
    raw("POST", "/sim/sms", '{"phone":"5551232001","text":"' + "x" * 70000 + '"}', 413,
        "body_too_large", "huge body")
    raw("GET", "/nope", None, 404, "not_found", "unknown route")
    raw("DELETE", "/plans", None, 405, "method_not_allowed", "wrong method")
    raw("GET", "/lines/" + "x" * 2000, None, 414, "uri_too_long", "long path")
    raw("GET", "/a/b/c/d/e/f/g/h/i/j", None, 404, "not_found", "deep path")
    raw("POST", "/lines/L1001/refuel", '{"gb":1e999}', 400, "invalid_json", "huge number")
    raw("POST", "/lines/L1001/roaming", '{"enabled":true}', 400, "invalid_idempotency_key",
        "oversized key", headers={"Idempotency-Key": "k" * 300})
    expect(s.get("/healthz"), 200, what="still alive after bad input")
    s.stop()

    # restart on the same database: state, events and idempotency survive
    s = Server(db)
    line = s.get("/lines/L1001")[1]
    check(line["plan_id"] == "P1002" and line["data_refueling_gb"] == 1.5, "line state survives")
    check(s.get("/bills/B1005")[1]["status"] == "paid", "paid bill survives (no reseed)")
    check("outage_closed" in [e["type"] for e in events(s)], "events survive")
    check([e["id"] for e in events(s)][:len(feed)] == [e["id"] for e in feed],
          "event ids survive a restart")
    c = s.get("/customers/C1002")[1]
    check((c.get("language"), c.get("time_zone")) == ("fr", "Europe/Paris"),
          "customer profile survives a restart")
    st, d, t3, _ = s.req("POST", "/lines/L1002/refuel", {"gb": 1}, key="k-refuel-1")
    check(st == 200 and t3 == t1, "idempotency key survives restart")
    check(s.get("/lines/L1002")[1]["data_refueling_gb"] == 1.5, "no reapply after restart")
    s.stop()


CUSTOM_SEED = """# a small seed exercising the TOML reader and the rarer rules
[[plans]]
plan_id = "P1"
name = "Tiny \\"Plan\\""
data_limit_gb = 1
price_per_month = 9.5
data_refueling_price_per_gb = 4.0

[[lines]]
line_id = "LX1"   # contract already over
phone_number = "555-000-1111"
status = "Suspended"
plan_id = "P1"
data_used_gb = 0.0
data_refueling_gb = 0.0
roaming_enabled = false
contract_end_date = "2024-12-31"
suspension_start_date = "2025-01-01"

[[customers]]
customer_id = "CX1"
full_name = "Ada  Lovelace"
date_of_birth = "1815-12-10"
phone_number = "555-000-1111"
account_status = "Active"
language = "de"
time_zone = "Europe/Berlin"
line_ids = ["LX1"]
bill_ids = ["BX1"]
payment_methods = [
  { method_type = "Credit Card", account_number_last_4 = "4242", expiration_date = "01/2025" },
]
[customers.address]
city = "Nowhere"

[[bills]]
bill_id = "BX1"
customer_id = "CX1"
total_due = 12.0
status = "Overdue"
line_items = []
"""


def custom_suite():
    seed = os.path.join(TMP, "custom.toml")
    with open(seed, "w") as f:
        f.write(CUSTOM_SEED)
    # deliveries without --events-key carry no Authorization header
    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    p = subprocess.Popen([BIN, "--port", "0", "--db", ":memory:", "--seed", seed, "--user-db",
                          DATA + "/user_db.toml", "--events-url",
                          "http://127.0.0.1:%d/nokey" % hook.server_address[1]],
                         stdout=subprocess.PIPE, text=True,
                         stderr=open(os.path.join(TMP, "stderr.log"), "a"))
    line = p.stdout.readline().strip()
    s = Server.__new__(Server)
    s.proc, s.port = p, int(line.rsplit(":", 1)[1])
    check(s.get("/plans/P1")[1]["name"] == 'Tiny "Plan"', "toml string escapes")
    c = expect(s.get("/customers?full_name=ada%20lovelace&date_of_birth=1815-12-10"), 200,
               what="name lookup folds case and spaces")
    check(c.get("payment_methods", [{}])[0].get("last4") == "4242", "inline table array")
    check((c.get("language"), c.get("time_zone")) == ("de", "Europe/Berlin"),
          "seeded language and time zone: %s %s" % (c.get("language"), c.get("time_zone")))
    expect(s.post("/lines/LX1/resume"), 409, "overdue_bill", "overdue before contract")
    expect(s.post("/customers/CX1/payment-requests", {"bill_id": "BX1"}), 200, what="request")
    expect(s.post("/bills/BX1/pay", {}), 402, "payment_failed", "expired card")
    check("payment_failed" in [e["type"] for e in events(s)], "payment_failed event")
    deadline = time.time() + 10
    while time.time() < deadline and not any(p == "/nokey" for p, _ in Collector.seen):
        time.sleep(0.1)
    nokey = [a for p, a in Collector.seen if p == "/nokey"]
    check(nokey and all(a is None for a in nokey), "no --events-key: no Authorization header")
    hook.shutdown()
    check(s.get("/bills/BX1")[1]["status"] == "awaiting_payment", "failed payment leaves bill")
    # on an earlier simulation date the card is valid and the contract still running
    s.stop()
    p = subprocess.Popen([BIN, "--port", "0", "--db", ":memory:", "--seed", seed, "--user-db",
                          DATA + "/user_db.toml", "--today", "2024-12-01"],
                         stdout=subprocess.PIPE, text=True,
                         stderr=open(os.path.join(TMP, "stderr.log"), "a"))
    s.proc, s.port = p, int(p.stdout.readline().strip().rsplit(":", 1)[1])
    expect(s.post("/customers/CX1/payment-requests", {"bill_id": "BX1"}), 200, what="request")
    expect(s.post("/bills/BX1/pay", {}), 200, what="pay with a valid card")
    expect(s.post("/lines/LX1/resume"), 200, what="contract not over yet on 2024-12-01")
    s.stop()
    s = Server(os.path.join(TMP, "c2.db"), "--seed", seed, "--user-db", DATA + "/user_db.toml")
    expect(s.post("/sim/lines/LX1/usage", {"gb": 0.1}), 200, what="usage on a suspended line")
    s.stop()


def contract_suite():
    seed = os.path.join(TMP, "contract.toml")
    with open(seed, "w") as f:
        f.write(CUSTOM_SEED.replace('status = "Overdue"', 'status = "Paid"'))
    s = Server(":memory:", "--seed", seed, "--user-db", DATA + "/user_db.toml")
    expect(s.post("/lines/LX1/resume"), 409, "contract_ended", "contract ended")
    s.stop()


def bad_seed_suite():
    seed = os.path.join(TMP, "bad.toml")
    with open(seed, "w") as f:
        f.write('[[plans]]\nplan_id = "P1"\nname = "unterminated\n')
    r = subprocess.run([BIN, "--port", "0", "--db", ":memory:", "--seed", seed], text=True,
                       capture_output=True, timeout=30)
    check(r.returncode == 1 and seed + ":3: unterminated string" in r.stderr,
          "bad seed reports file:line: %r" % r.stderr)
    with open(seed, "w") as f:
        f.write('[[plans]]\nplan_id = "P1"\nplan_id = "P2"\n')
    r = subprocess.run([BIN, "--port", "0", "--db", ":memory:", "--seed", seed], text=True,
                       capture_output=True, timeout=30)
    check(r.returncode == 1 and ":3: duplicate key 'plan_id'" in r.stderr, "duplicate key error")
    with open(seed, "w") as f:
        f.write(CUSTOM_SEED.replace('language = "de"', 'language = "it"'))
    r = subprocess.run([BIN, "--port", "0", "--db", ":memory:", "--seed", seed, "--user-db",
                        DATA + "/user_db.toml"], text=True, capture_output=True, timeout=30)
    check(r.returncode == 1 and "customer 'CX1': language" in r.stderr,
          "bad seeded language is a seed error: %r" % r.stderr)
    with open(seed, "w") as f:
        f.write(CUSTOM_SEED.replace('"Europe/Berlin"', '"Berlin"'))
    r = subprocess.run([BIN, "--port", "0", "--db", ":memory:", "--seed", seed, "--user-db",
                        DATA + "/user_db.toml"], text=True, capture_output=True, timeout=30)
    check(r.returncode == 1 and "customer 'CX1': time_zone" in r.stderr,
          "bad seeded time zone is a seed error: %r" % r.stderr)
    r = subprocess.run([BIN, "-h"], text=True, capture_output=True, timeout=30)
    check(r.returncode == 0 and "usage: telco-sim" in r.stdout and "--events-key" in r.stdout,
          "-h prints usage, --events-key included")
    for bad in ("", "two words", "line\nbreak", "k" * 1025):
        r = subprocess.run([BIN, "--port", "0", "--db", ":memory:", "--events-url",
                            "http://127.0.0.1:9/x", "--events-key", bad], text=True,
                           capture_output=True, timeout=30)
        check(r.returncode == 2 and (not bad or bad not in r.stderr),
              "bad --events-key %r exits 2 without echoing it: %r" % (bad[:20], r.stderr))
    r = subprocess.run([BIN, "--port", "x"], text=True, capture_output=True, timeout=30)
    check(r.returncode == 2, "bad option exits 2")


def synthetic_suite():
    db = os.path.join(TMP, "synth.db")
    s = Server(db, "--synthetic", "2000")
    c = expect(s.get("/customers/CS0000020"), 200, what="synthetic customer")
    check(c.get("line_ids") == ["LS0000020"], "synthetic customer has a line")
    c2 = expect(s.get("/customers?phone=" + c["phone_number"]), 200, what="synthetic by phone")
    check(c2.get("customer_id") == "CS0000020", "synthetic phone lookup")
    check(s.get("/lines/LS0000020")[1]["status"] == "suspended", "every 20th line suspended")
    expect(s.post("/lines/LS0000020/resume"), 409, "overdue_bill", "synthetic overdue")
    check(len(s.get("/customers/CS0002000/bills")[1]["bills"]) == 2, "synthetic bills")
    expect(s.get("/customers/CS0002001"), 404, "customer_not_found", "only N synthetic")
    got = [(x.get("language"), x.get("time_zone")) for x in
           (s.get("/customers/CS%07d" % i)[1] for i in range(1, 9))]
    check(got == [("fr", "Europe/Paris"), ("es", "Europe/Madrid"), ("de", "Europe/Berlin"),
                  ("en", "America/Chicago"), ("fr", "Europe/Paris"), ("es", "Europe/Madrid"),
                  ("de", "Europe/Berlin"), ("en", "America/Denver")],
          "synthetic customers spread over four languages and zones: %s" % got)
    c = s.get("/customers?phone=" + s.get("/customers/CS0000007")[1]["phone_number"])[1]
    check(c.get("language") == "de", "phone lookup of a synthetic customer has its language")
    s.stop()
    with open(os.path.join(TMP, "stderr.log")) as f:
        check("synthetic customers 2000/2000" in f.read(), "synthetic progress on stderr")


def migration_suite():
    """A database made before the language/time_zone columns existed opens,
    gains them, serves defaults and takes the lever."""
    db = os.path.join(TMP, "old.db")
    s = Server(db, "--synthetic", "3")
    s.stop()
    con = sqlite3.connect(db)
    con.executescript(
        "CREATE TABLE c_old(id TEXT PRIMARY KEY, phone TEXT, name_dob TEXT, doc TEXT NOT NULL);"
        "INSERT INTO c_old SELECT id, phone, name_dob, doc FROM customers;"
        "DROP TABLE customers; ALTER TABLE c_old RENAME TO customers;"
        "CREATE INDEX customers_phone ON customers(phone);"
        "CREATE INDEX customers_name_dob ON customers(name_dob);")
    con.close()
    s = Server(db)
    c = expect(s.get("/customers/CS0000003"), 200, what="customer in a migrated database")
    check((c.get("language"), c.get("time_zone")) == ("de", "Europe/Berlin"),
          "migrated database serves the default profile")
    c = expect(s.post("/sim/customers/C1001/profile", {"language": "es"}), 200,
               what="profile in a migrated database")
    check((c.get("language"), c.get("time_zone")) == ("es", "America/Los_Angeles"),
          "lever works after migration")
    s.stop()
    con = sqlite3.connect(db)
    cols = [r[1] for r in con.execute("PRAGMA table_info(customers)")]
    row = con.execute("SELECT language, time_zone FROM customers WHERE id='C1001'").fetchone()
    con.close()
    check("language" in cols and "time_zone" in cols, "columns added: %s" % cols)
    check(row == ("es", None), "lever stored only what it set: %s" % (row,))
    s = Server(db)
    check(s.get("/customers/C1001")[1].get("language") == "es", "migrated profile persists")
    s.stop()


def inbound_sms_suite():
    """Customers' SMS (POST /sim/sms/inbound) go to --sms-url with the key,
    in order, and their delivery is listed."""
    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    s = Server(os.path.join(TMP, "inbound.db"), "--sms-url",
               "http://127.0.0.1:%d/sms" % hook.server_address[1], "--sms-key", "sms-key-1")
    m = expect(s.post("/sim/sms/inbound", {"phone": "+1 555-123-2002", "text": "oui"}), 200,
               what="inbound SMS")
    check(m.get("message_id") == "I1" and m.get("status") == "pending", "inbound queued: %s" % m)
    expect(s.post("/sim/sms/inbound", {"phone": "555-123-2002", "text": "encore"}), 200,
           what="second inbound SMS")
    expect(s.post("/sim/sms/inbound", {"phone": "+1 555-123-2002"}), 400, "invalid_field",
           "inbound SMS without text")
    expect(s.post("/sim/sms/inbound", {"phone": "12", "text": "x"}), 400, "invalid_field",
           "inbound SMS from no number")
    deadline = time.time() + 10
    while time.time() < deadline and len(Collector.sms) < 2:
        time.sleep(0.05)
    check(Collector.sms == [{"phone": "+1 555-123-2002", "text": "oui"},
                            {"phone": "555-123-2002", "text": "encore"}],
          "inbound SMS delivered in order: %s" % Collector.sms)
    auths = [a for p, a in Collector.seen if p == "/sms"]
    check(auths and all(a == "Bearer sms-key-1" for a in auths), "--sms-key sent: %s" % auths)
    deadline = time.time() + 5
    listed = []
    while time.time() < deadline:
        listed = expect(s.get("/sim/sms/inbound"), 200, what="inbound list")["messages"]
        if all(x["status"] != "pending" for x in listed):
            break
        time.sleep(0.05)
    check([(x["status"], x["http_status"]) for x in listed] == [("delivered", 204)] * 2,
          "inbound deliveries listed: %s" % listed)
    s.stop()
    hook.shutdown()
    s = Server(os.path.join(TMP, "inbound2.db"))
    expect(s.post("/sim/sms/inbound", {"phone": "+15551232002", "text": "oui"}), 409,
           "no_sms_url", "inbound SMS without --sms-url")
    s.stop()
    r = subprocess.run([BIN, "-h"], text=True, capture_output=True, timeout=30)
    check("--sms-url" in r.stdout and "--sms-key" in r.stdout, "-h shows --sms-url, --sms-key")
    r = subprocess.run([BIN, "--port", "0", "--db", ":memory:", "--sms-url",
                        "http://127.0.0.1:9/x", "--sms-key", "two words"], text=True,
                       capture_output=True, timeout=30)
    check(r.returncode == 2 and "two words" not in r.stderr, "bad --sms-key exits 2: %r" % r.stderr)


main_suite()
inbound_sms_suite()
custom_suite()
contract_suite()
bad_seed_suite()
synthetic_suite()
migration_suite()
if FAILS:
    print("telco-sim: %d check(s) failed; logs in %s" % (len(FAILS), TMP), file=sys.stderr)
    sys.exit(1)
shutil.rmtree(TMP, ignore_errors=True)
print("telco-sim: all checks passed")
