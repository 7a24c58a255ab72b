#!/usr/bin/env python3
"""Checks docs/openapi.yaml against a running `parley serve` (tests/server/openapi.sh).

  openapi_check.py routes SPEC ROUTES_FILE   every "METHOD PATH" line of
      `parley serve --routes` is documented, and nothing else is.
  openapi_check.py live SPEC URL KEYS_JSON   calls every route, with a success
      and the main errors; each JSON request body must be valid against the
      documented request schema when the server accepts it and invalid when
      it answers 400; each answer's status must be the expected one and
      documented for the route, its content type documented for that status and
      its JSON body valid against the documented schema. Response objects are
      checked as closed (a field the document does not name fails), and every
      documented operation must have answered a success at least once.

Standard library plus PyYAML and jsonschema (Debian: python3-yaml,
python3-jsonschema).
"""
import http.client
import json
import re
import sys
import urllib.parse

import jsonschema
import yaml

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ERROR_CODES = {400: ("bad_json", "bad_field"), 401: ("unauthorized",), 403: ("forbidden",),
               404: ("not_found",), 405: ("method_not_allowed",), 409: ("conflict",),
               413: ("too_large",), 422: ("unprocessable",), 429: ("rate_limited",),
               503: ("unavailable",)}


def spec_routes(spec):
    return {(m.upper(), p) for p, item in spec["paths"].items() for m in item if m in METHODS}


def check_routes(spec, routes_file):
    with open(routes_file, encoding="utf-8") as f:
        server = {tuple(line.split(None, 1)) for line in f.read().splitlines() if line.strip()}
    documented = spec_routes(spec)
    bad = 0
    for m, p in sorted(server - documented):
        print(f"FAIL: the server registers {m} {p}; docs/openapi.yaml does not describe it")
        bad += 1
    for m, p in sorted(documented - server):
        print(f"FAIL: docs/openapi.yaml describes {m} {p}; the server does not register it")
        bad += 1
    if not server:
        print("FAIL: `parley serve --routes` printed no routes")
        bad += 1
    print(f"routes: {len(server)} registered, {len(documented)} documented")
    return bad


class Schemas:
    """OpenAPI 3.0 schemas as JSON Schema (draft 4 style, which 3.0 follows)."""

    def __init__(self, spec):
        self.spec = spec

    def deref(self, node):
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise ValueError(f"only local $ref are supported: {ref}")
            node = self.spec
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def convert(self, node):
        """Resolves $ref, turns `nullable` into a null type, merges allOf of
        objects and drops the OpenAPI-only keywords."""
        node = self.deref(node)
        if isinstance(node, list):
            return [self.convert(n) for n in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for k, v in node.items():
            if k in ("nullable", "discriminator", "example", "readOnly", "writeOnly", "xml",
                     "externalDocs", "deprecated") or k.startswith("x-"):
                continue
            if k == "properties":
                out[k] = {name: self.convert(s) for name, s in v.items()}
            elif k in ("items", "additionalProperties", "not") and isinstance(v, dict):
                out[k] = self.convert(v)
            elif k in ("allOf", "oneOf", "anyOf"):
                out[k] = [self.convert(s) for s in v]
            else:
                out[k] = v
        if "allOf" in out and all(s.get("type") == "object" for s in out["allOf"]):
            parts = out.pop("allOf")
            out.setdefault("type", "object")
            out["properties"] = {k: s for p in parts for k, s in p.get("properties", {}).items()}
            out["required"] = sorted({r for p in parts for r in p.get("required", [])})
        if node.get("nullable"):
            if "type" in out:
                out["type"] = [out["type"], "null"]
                if "enum" in out:
                    out["enum"] = list(out["enum"]) + [None]
            else:
                out = {"anyOf": [out, {"type": "null"}]}
        return out

    @staticmethod
    def closed(s):
        """Objects that name their properties accept no others."""
        if isinstance(s, list):
            return [Schemas.closed(x) for x in s]
        if not isinstance(s, dict):
            return s
        s = {k: (Schemas.closed(v) if k in ("items", "additionalProperties", "not", "allOf",
                                             "oneOf", "anyOf") else v) for k, v in s.items()}
        if "properties" in s:
            s["properties"] = {k: Schemas.closed(v) for k, v in s["properties"].items()}
            s.setdefault("additionalProperties", False)
        return s

    def response_schema(self, schema):
        return self.closed(self.convert(schema))


class Live:
    def __init__(self, spec, url, keys):
        self.spec = spec
        self.schemas = Schemas(spec)
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.keys = keys
        self.fails = 0
        self.calls = 0
        self.succeeded = set()

    def fail(self, what):
        print(f"FAIL: {what}")
        self.fails += 1

    def operation(self, method, template):
        item = self.spec["paths"].get(template)
        if item is None:
            return None
        return item.get(method.lower())

    def documented(self, method, template, status):
        """The response object for this status, or None."""
        item = self.spec["paths"].get(template, {})
        op = item.get(method.lower())
        if op is not None:
            r = op["responses"].get(str(status))
            return self.schemas.deref(r) if r is not None else None
        # A method the path does not have: 405 must be documented by every
        # operation of the path.
        ops = [o for m, o in item.items() if m in METHODS]
        rs = [o["responses"].get(str(status)) for o in ops]
        if ops and all(r is not None for r in rs):
            return self.schemas.deref(rs[0])
        return None

    def request(self, method, path, body=None, key=None, headers=None):
        h = dict(headers or {})
        if key is not None:
            h["Authorization"] = f"Bearer {key}"
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        if body is not None:
            h["Content-Type"] = "application/json"
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=h)
            resp = conn.getresponse()
            return resp.status, resp.getheader("Content-Type", ""), resp.read()
        finally:
            conn.close()

    def check(self, method, template, status, ctype, raw, what):
        """Status documented, content type documented, body valid."""
        resp = self.documented(method, template, status)
        if resp is None:
            self.fail(f"{what}: status {status} is not documented for {method} {template}")
            return None
        media = ctype.split(";")[0].strip().lower()
        content = resp.get("content", {})
        if media not in content:
            self.fail(f"{what}: {status} answered {media or 'no content type'}; documented: "
                      f"{', '.join(content) or 'no body'}")
            return None
        if media != "application/json":
            return raw
        try:
            doc = json.loads(raw)
        except ValueError as e:
            self.fail(f"{what}: the body is not JSON ({e}): {raw[:200]!r}")
            return None
        schema = self.schemas.response_schema(content[media]["schema"])
        err = jsonschema.exceptions.best_match(jsonschema.Draft4Validator(schema).iter_errors(doc))
        if err is not None:
            where = "/".join(str(p) for p in err.absolute_path) or "(top)"
            self.fail(f"{what}: the {status} body does not match the document at {where}: "
                      f"{err.message}\n  body: {json.dumps(doc)[:600]}")
            return None
        return doc

    def check_request(self, method, template, body, want, what):
        """The document must accept the JSON bodies the server accepts and
        reject the ones it refuses as bad fields (400)."""
        op = self.operation(method, template)
        if op is None or not (want < 300 or want == 400) or isinstance(body, str):
            return
        rb = self.schemas.deref(op.get("requestBody"))
        if rb is None:
            if body is not None:
                self.fail(f"{what}: sends a body; none is documented")
            return
        if body is None:
            if rb.get("required") and want < 300:
                self.fail(f"{what}: the server accepts no body; the document requires one")
            return
        schema = self.schemas.convert(rb["content"]["application/json"]["schema"])
        valid = jsonschema.Draft4Validator(schema).is_valid(body)
        if want < 300 and not valid:
            self.fail(f"{what}: the server accepts {json.dumps(body)}; the document does not")
        if want == 400 and valid:
            self.fail(f"{what}: the server refuses {json.dumps(body)}; the document accepts it")

    def call(self, want, method, template, params=(), body=None, key="", query="",
             headers=None, what=None):
        """One request; `key` is a role name, None for no key, or a literal
        key after 'raw:'. Returns the parsed body (None on failure)."""
        path = template
        for p in params:
            path = re.sub(r"\{[a-z_]+\}", lambda _m: urllib.parse.quote(p, safe=""), path,
                          count=1)
        path += query
        if key and key.startswith("raw:"):
            k = key[4:]
        else:
            k = self.keys[key] if key else None
        what = what or f"{method} {path} ({key or 'no key'})"
        self.check_request(method, template, body, want, what)
        self.calls += 1
        status, ctype, raw = self.request(method, path, body, k, headers)
        if status != want:
            self.fail(f"{what}: status {status}, expected {want}: {raw[:300]!r}")
        doc = self.check(method, template, status, ctype, raw, what)
        if status < 300 and self.operation(method, template) is not None and doc is not None:
            self.succeeded.add((method, template))
        if status >= 400 and isinstance(doc, dict) and status in ERROR_CODES:
            code = doc["error"]["code"]
            if code not in ERROR_CODES[status]:
                self.fail(f"{what}: {status} with error code {code!r}")
        return doc

    def first_event(self, conn, what):
        """Reads up to the first complete event (comments skipped; the
        connection's 10 s timeout bounds the wait); returns (event name, id,
        data text)."""
        event, eid, data = "message", None, []
        resp = conn.stream_resp
        while True:
            line = resp.readline()
            if not line:
                self.fail(f"{what}: the stream ended before an event")
                return None
            if b"\0" in line:
                self.fail(f"{what}: a NUL byte in the event stream")
                return None
            line = line.decode().rstrip("\r\n")
            if line == "":
                if data:
                    return event, eid, "\n".join(data)
                continue
            if line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                event = value
            elif field == "id":
                eid = value
            elif field == "data":
                data.append(value)

    def open_stream(self, conv, key, query="", headers=None, what="stream"):
        """Opens the stream and checks status and content type; returns the
        connection (caller closes) or None."""
        template = "/v1/conversations/{id}/stream"
        path = template.replace("{id}", urllib.parse.quote(conv, safe="")) + query
        h = {"Authorization": f"Bearer {self.keys[key]}"}
        h.update(headers or {})
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        conn.request("GET", path, headers=h)
        resp = conn.getresponse()
        self.calls += 1
        ctype = resp.getheader("Content-Type", "")
        if resp.status != 200:
            self.fail(f"{what}: status {resp.status}: {resp.read()[:300]!r}")
            conn.close()
            return None
        if self.check("GET", template, 200, ctype, b"", what) is None:
            conn.close()
            return None
        self.succeeded.add(("GET", template))
        conn.stream_resp = resp
        return conn

    def check_event(self, conn, what, want_event, want_role=None):
        ev = self.first_event(conn, what)
        if ev is None:
            return None
        name, eid, data = ev
        if name != want_event:
            self.fail(f"{what}: event {name!r}, expected {want_event!r}: {data[:200]}")
            return None
        schema_name = {"turn": "StreamTurn", "state": "StreamState"}[name]
        schema = self.schemas.response_schema({"$ref": f"#/components/schemas/{schema_name}"})
        try:
            doc = json.loads(data)
        except ValueError as e:
            self.fail(f"{what}: event data is not JSON ({e}): {data[:200]}")
            return None
        err = jsonschema.exceptions.best_match(jsonschema.Draft4Validator(schema).iter_errors(doc))
        if err is not None:
            self.fail(f"{what}: event data does not match {schema_name}: {err.message}: {data}")
            return None
        if name == "turn" and eid != str(doc["seq"]):
            self.fail(f"{what}: event id {eid!r} is not the turn's seq {doc['seq']}")
        if want_role and doc.get("role") != want_role:
            self.fail(f"{what}: first event's role {doc.get('role')!r}, expected {want_role!r}")
        return doc


def run_live(spec, url, keys_file):
    with open(keys_file, encoding="utf-8") as f:
        keys = json.load(f)
    t = Live(spec, url, keys)
    C, T, M = "/v1/conversations", "/v1/conversations/{id}", "/v1/conversations/{id}/messages"
    CLOSE, RATE = "/v1/conversations/{id}/close", "/v1/conversations/{id}/rating"
    STREAM = "/v1/conversations/{id}/stream"
    AGENT_MSG, BACK = "/v1/conversations/{id}/agent-messages", "/v1/conversations/{id}/handback"
    HANDOFFS, ANALYTICS, RELOAD = "/v1/handoffs", "/v1/analytics", "/v1/admin/reload"
    nobody = "nope-" + "0" * 40

    # Public routes.
    t.call(200, "GET", "/healthz", key=None)
    t.call(405, "POST", "/healthz", key=None)
    t.call(200, "GET", "/metrics", key=None)
    t.call(405, "DELETE", "/metrics", key=None)

    # Starting conversations.
    t.call(401, "POST", C, body={}, key=None)
    t.call(401, "POST", C, body={}, key="raw:" + nobody)
    t.call(403, "POST", C, body={}, key="agent")
    t.call(400, "POST", C, body="{", key="channel", what="create with bad JSON")
    t.call(400, "POST", C, body="[]", key="channel", what="create with an array")
    t.call(400, "POST", C, body={"channel": "web", "colour": "red"}, key="channel",
           what="create with an unknown field")
    t.call(400, "POST", C, body={"channel": 5}, key="channel", what="create with channel 5")
    t.call(422, "POST", C, body={"language": "xx"}, key="channel", what="create in language xx")
    t.call(413, "POST", C, body='{"channel": "' + "a" * 70000 + '"}', key="channel",
           what="create with a 70 kB body")
    t.call(413, "POST", C, body='{"channel": ' + "[" * 20 + "]" * 20 + "}", key="channel",
           what="create nested 21 deep")
    t.call(405, "GET", C, key="channel")
    created = t.call(201, "POST", C, body={"channel": "web", "language": "en"}, key="channel")
    other = t.call(201, "POST", C, key="channel", what="create without a body")
    t.call(201, "POST", C, body={}, key="admin", what="create with an admin key")
    if not created or not other:
        print("cannot go on without conversations")
        return t
    c1, c2 = created["conversation_id"], other["conversation_id"]

    # Messages.
    t.call(200, "POST", M, [c1], {"text": "how much is my bill?"}, "channel")
    t.call(400, "POST", M, [c1], "not json", "channel", what="message with bad JSON")
    t.call(400, "POST", M, [c1], {}, "channel", what="message without text")
    t.call(400, "POST", M, [c1], {"text": ""}, "channel", what="message with empty text")
    t.call(400, "POST", M, [c1], {"text": "hi", "lang": "en"}, "channel",
           what="message with an unknown field")
    t.call(401, "POST", M, [c1], {"text": "hi"}, None)
    t.call(403, "POST", M, [c1], {"text": "hi"}, "agent")
    t.call(404, "POST", M, ["no-such-conversation"], {"text": "hi"}, "channel")
    t.call(405, "GET", M, [c1], key="channel")
    handoff = t.call(200, "POST", M, [c2], {"text": "i need to talk to an actual human"},
                     "channel", what="message asking for a person")
    if handoff and handoff.get("state") != "handed_off":
        t.fail(f"asking for a person did not hand off: {json.dumps(handoff)[:300]}")
    parked = t.call(200, "POST", M, [c2], {"text": "hello?"}, "channel",
                    what="message while handed off")
    if parked and (parked["messages"] or parked["state"] != "handed_off"):
        t.fail(f"the bot answered a handed-off conversation: {json.dumps(parked)[:300]}")

    # Transcripts.
    t.call(200, "GET", T, [c1], key="channel")
    t.call(200, "GET", T, [c2], key="agent", what="transcript of a handed-off conversation")
    t.call(401, "GET", T, [c1], key=None)
    t.call(404, "GET", T, ["no-such-conversation"], key="agent")
    t.call(405, "DELETE", T, [c1], key="channel")

    # The hand-off queue and the agent's side.
    queue = t.call(200, "GET", HANDOFFS, key="agent")
    if queue and c2 not in [h["conversation_id"] for h in queue["handoffs"]]:
        t.fail(f"{c2} is handed off but not in GET /v1/handoffs")
    t.call(403, "GET", HANDOFFS, key="channel")
    t.call(401, "GET", HANDOFFS, key=None)
    t.call(405, "POST", HANDOFFS, body={}, key="agent")

    # The review queue: a message nobody understands, labelled by an agent.
    REVIEW, REVIEW_ITEM = "/v1/review", "/v1/review/{id}"
    t.call(200, "POST", M, [c1], {"text": "zorblax quintuple wibbling frobnicator"}, "channel",
           what="a message the bot does not understand")
    items = t.call(200, "GET", REVIEW, key="agent")
    t.call(200, "GET", REVIEW, key="admin", query="?status=any&limit=5&after=0")
    t.call(400, "GET", REVIEW, key="agent", query="?status=sideways", what="review, bad status")
    t.call(400, "GET", REVIEW, key="agent", query="?limit=0", what="review, limit 0")
    t.call(403, "GET", REVIEW, key="channel")
    t.call(401, "GET", REVIEW, key=None)
    t.call(405, "DELETE", REVIEW, key="agent")
    if not items or not items["items"]:
        t.fail("the message nobody understands is not in GET /v1/review")
    else:
        rid = str(items["items"][0]["id"])
        label = items["intents"][0]
        t.call(400, "POST", REVIEW_ITEM, [rid], {"intent": label, "dismiss": True}, "agent",
               what="label and dismiss at once")
        t.call(400, "POST", REVIEW_ITEM, [rid], {"colour": "red"}, "agent",
               what="label with an unknown field")
        t.call(422, "POST", REVIEW_ITEM, [rid], {"intent": "no_such_intent"}, "agent",
               what="label with an unknown intent")
        t.call(404, "POST", REVIEW_ITEM, ["999999"], {"dismiss": True}, "agent")
        t.call(403, "POST", REVIEW_ITEM, [rid], {"dismiss": True}, "channel")
        t.call(200, "POST", REVIEW_ITEM, [rid], {"intent": label}, "agent")
        t.call(200, "POST", REVIEW_ITEM, [rid], {"dismiss": True}, "agent", what="dismiss")
        t.call(405, "GET", REVIEW_ITEM, [rid], key="agent")

    stream = t.open_stream(c2, "agent", what="live stream of the handed-off conversation")
    t.call(201, "POST", AGENT_MSG, [c2], {"text": "Hello, this is Sam."}, "agent")
    if stream:
        t.check_event(stream, "live stream, agent message", "turn", "agent")
    t.call(409, "POST", AGENT_MSG, [c1], {"text": "hi"}, "agent",
           what="agent message to a conversation not handed off")
    t.call(400, "POST", AGENT_MSG, [c2], {"text": "hi", "x": 1}, "agent",
           what="agent message with an unknown field")
    t.call(400, "POST", AGENT_MSG, [c2], {}, "agent", what="agent message without text")
    t.call(400, "POST", AGENT_MSG, [c2], "{]", "agent", what="agent message with bad JSON")
    t.call(403, "POST", AGENT_MSG, [c2], {"text": "hi"}, "channel")
    t.call(404, "POST", AGENT_MSG, ["no-such-conversation"], {"text": "hi"}, "agent")
    t.call(405, "GET", AGENT_MSG, [c2], key="agent")

    t.call(409, "POST", BACK, [c1], key="agent", what="hand back a conversation not handed off")
    t.call(403, "POST", BACK, [c2], key="channel")
    t.call(404, "POST", BACK, ["no-such-conversation"], key="agent")
    t.call(405, "GET", BACK, [c2], key="agent")
    t.call(200, "POST", BACK, [c2], key="agent")
    if stream:
        t.check_event(stream, "live stream, hand back", "state")
        stream.close()

    # Streams: replay, resume, errors.
    for query, headers, what in (("?after=0", None, "stream ?after=0"),
                                 ("", {"Last-Event-ID": "0"}, "stream with Last-Event-ID 0"),
                                 ("?after=abc", {"Last-Event-ID": "0"},
                                  "stream: Last-Event-ID wins over after")):
        s = t.open_stream(c1, "channel", query, headers, what)
        if s:
            t.check_event(s, what, "turn")
            s.close()
    t.call(400, "GET", STREAM, [c1], key="channel", query="?after=abc")
    t.call(400, "GET", STREAM, [c1], key="channel", headers={"Last-Event-ID": "-1"},
           what="stream with Last-Event-ID -1")
    t.call(401, "GET", STREAM, [c1], key=None)
    t.call(404, "GET", STREAM, ["no-such-conversation"], key="agent")
    t.call(405, "POST", STREAM, [c1], key="channel")

    # Rating, closing.
    t.call(200, "POST", RATE, [c1], {"score": 5, "comment": "quick, thanks"}, "channel")
    t.call(400, "POST", RATE, [c1], {"score": 6}, "channel", what="rating 6")
    t.call(400, "POST", RATE, [c1], {"score": "5"}, "channel", what="rating '5'")
    t.call(400, "POST", RATE, [c1], {}, "channel", what="rating without score")
    t.call(400, "POST", RATE, [c1], {"score": 4, "stars": 4}, "channel",
           what="rating with an unknown field")
    t.call(400, "POST", RATE, [c1], "{", "channel", what="rating with bad JSON")
    t.call(403, "POST", RATE, [c1], {"score": 4}, "agent")
    t.call(404, "POST", RATE, ["no-such-conversation"], {"score": 4}, "channel")
    t.call(405, "GET", RATE, [c1], key="channel")
    t.call(200, "GET", T, [c1], key="agent", what="transcript of a rated conversation")

    t.call(200, "POST", CLOSE, [c1], key="channel")
    t.call(200, "POST", CLOSE, [c1], key="channel", what="closing again")
    t.call(200, "POST", CLOSE, [c2], key="agent", what="an agent closes")
    t.call(409, "POST", M, [c1], {"text": "hello"}, "channel", what="message to a closed conversation")
    t.call(401, "POST", CLOSE, [c1], key=None)
    t.call(404, "POST", CLOSE, ["no-such-conversation"], key="channel")
    t.call(405, "GET", CLOSE, [c1], key="channel")
    t.call(200, "GET", T, [c1], key="channel", what="transcript of a closed conversation")

    # Analytics.
    t.call(200, "GET", ANALYTICS, key="agent")
    t.call(200, "GET", ANALYTICS, key="agent", query="?from=2020-01-01&to=2030-12-31")
    t.call(400, "GET", ANALYTICS, key="agent", query="?from=yesterday")
    t.call(400, "GET", ANALYTICS, key="agent", query="?from=2030-01-02&to=2030-01-01",
           what="analytics from after to")
    t.call(403, "GET", ANALYTICS, key="channel")
    t.call(405, "POST", ANALYTICS, body={}, key="agent")

    # Reload.
    t.call(200, "POST", RELOAD, key="admin", what="reload without a body")
    t.call(200, "POST", RELOAD, body={}, key="admin")
    t.call(422, "POST", RELOAD, body={"bot_dir": "/nonexistent/bot"}, key="admin",
           what="reload a missing bot")
    t.call(400, "POST", RELOAD, body={"bot": "x"}, key="admin", what="reload with an unknown field")
    t.call(400, "POST", RELOAD, body="nope", key="admin", what="reload with bad JSON")
    t.call(403, "POST", RELOAD, body={}, key="agent")
    t.call(403, "POST", RELOAD, body={}, key="channel")
    t.call(401, "POST", RELOAD, body={}, key=None)

    # ---- events
    EV = "/v1/events"
    ev = {"id": "oa-1", "type": "outage_closed", "outage_id": "O1", "cities": ["Anytown"]}
    t.call(202, "POST", EV, body=ev, key="admin")
    t.call(202, "POST", EV, body=[ev, dict(ev, id="oa-2", at="2025-02-25T10:00:00Z")],
           key="admin", what="a batch with a redelivery")
    t.call(400, "POST", EV, body=[ev, {"type": "outage_closed"}], key="admin",
           what="a batch with an event without id")
    t.call(400, "POST", EV, body=[], key="admin", what="an empty batch")
    t.call(400, "POST", EV, body=[5], key="admin", what="a batch of a number")
    t.call(400, "POST", EV, body="{", key="admin", what="events with bad JSON")
    t.call(403, "POST", EV, body=ev, key="channel")
    t.call(403, "POST", EV, body=ev, key="agent")
    t.call(401, "POST", EV, body=ev, key=None)
    t.call(405, "GET", EV, key="admin")

    # ---- the SMS channel (telco-sim's inbound SMS)
    SMS = "/v1/channels/sms"
    t.call(200, "POST", SMS, body={"phone": "+1 555-123-2001", "text": "hello"}, key="channel")
    t.call(400, "POST", SMS, body={"text": "hello"}, key="channel", what="SMS without phone")
    t.call(400, "POST", SMS, body={"phone": "x", "text": "hello"}, key="channel",
           what="SMS from no number")
    t.call(404, "POST", SMS, body={"phone": "+1 999 000 1234", "text": "hello"}, key="channel",
           what="SMS from an unknown number")
    t.call(403, "POST", SMS, body={"phone": "+15551232001", "text": "hi"}, key="agent")
    t.call(401, "POST", SMS, body={"phone": "+15551232001", "text": "hi"}, key=None)

    # ---- privacy
    EXP, ERA, OPT = ("/v1/customers/{customer_id}/export", "/v1/customers/{customer_id}/erase",
                     "/v1/customers/{customer_id}/opt-out")
    t.call(200, "GET", EXP, ["C1003"], key="admin")
    t.call(403, "GET", EXP, ["C1003"], key="channel", what="export by a channel key alone")
    t.call(200, "POST", OPT, ["C1003"], key="admin")
    t.call(200, "POST", ERA, ["C1003"], key="admin")
    t.call(403, "POST", ERA, ["C1003"], key="agent")

    # ---- audit
    AUD, AVER, AEXP = "/v1/audit", "/v1/audit/verify", "/v1/audit/explain"
    recs = t.call(200, "GET", AUD, query=f"?conversation_id={c1}", key="agent")
    if recs is not None and not recs["records"]:
        t.fail("the audit log has no record of a conversation that ran turns")
    t.call(403, "GET", AUD, query="?customer_id=C1001", key="agent",
           what="agent reading a customer's records")
    t.call(200, "GET", AUD, query="?customer_id=C1001", key="admin")
    t.call(400, "GET", AUD, key="admin", what="audit without a filter")
    v = t.call(200, "GET", AVER, key="admin")
    if v is not None and not v.get("ok"):
        t.fail(f"audit chain does not verify: {v}")
    t.call(403, "GET", AVER, key="agent")
    t.call(200, "GET", AEXP, query=f"?conversation_id={c1}", key="agent")
    t.call(400, "GET", AEXP, key="agent", what="explain without a conversation")

    # ---- consents
    CONS = "/v1/customers/{customer_id}/consents"
    CREV = "/v1/customers/{customer_id}/consents/{grant_id}"
    g = t.call(201, "POST", CONS, ["C1001"], key="admin",
               body={"scope": "auto_refuel", "limits": {"max_gb_per_month": 2},
                     "expires_at": "2099-01-01T00:00:00Z"})
    t.call(422, "POST", CONS, ["C1001"], body={"scope": "nope"}, key="admin",
           what="grant an unknown scope")
    t.call(422, "POST", CONS, ["C1001"], key="admin", what="grant a limit the scope lacks",
           body={"scope": "auto_refuel", "limits": {"max_count_per_month": 1}})
    t.call(400, "POST", CONS, ["C1001"], body={"scope": "auto_refuel", "x": 1}, key="admin",
           what="grant with an unknown field")
    t.call(403, "GET", CONS, ["C1001"], key="channel", what="channel key without a conversation")
    t.call(403, "GET", CONS, ["C1001"], key="agent")
    t.call(200, "GET", CONS, ["C1001"], key="admin")
    if g:
        t.call(200, "DELETE", CREV, ["C1001", g["grant_id"]], key="admin")
        t.call(404, "DELETE", CREV, ["C1001", g["grant_id"]], key="admin",
               what="revoke twice")
    t.call(405, "GET", RELOAD, key="admin")
    t.call(200, "GET", "/healthz", key=None, what="healthz after the reloads")

    for m, p in sorted(spec_routes(spec) - t.succeeded):
        t.fail(f"{m} {p} never answered a success in this test")
    return t


def main(argv):
    if len(argv) < 3 or argv[1] not in ("routes", "live"):
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[2], encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    if spec.get("openapi") != "3.0.3":
        print(f"FAIL: {argv[2]} is not OpenAPI 3.0.3")
        return 1
    if argv[1] == "routes":
        return 1 if check_routes(spec, argv[3]) else 0
    t = run_live(spec, argv[3], argv[4])
    print(f"live: {t.calls} requests, {t.fails} failure(s)")
    return 1 if t.fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
