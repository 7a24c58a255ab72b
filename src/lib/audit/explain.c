/* parley_audit_explain: the records of one conversation told in plain
 * language, one line per decision, from the body fields documented in
 * docs/audit.md. An action line says when the customer asked and
 * confirmed (from the turns named in the body) and how the identity was
 * last verified before it; a refusal says which rule refused. Bodies that
 * lack a field still give a line: the explanation never fails on them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "audit/internal.h"

struct item {
    int64_t time, turn;
    char kind[PARLEY_AUDIT_MAX_KIND + 1];
    json_t *body; /* NULL if it does not parse */
};

struct collect {
    struct item *items;
    size_t n, cap;
    parley_err rc;
};

static int collect_one(const parley_audit_record *rec, void *userdata)
{
    struct collect *c = userdata;
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 64;
        struct item *p = parley__realloc(c->items, ncap * sizeof(*p));
        if (!p) {
            c->rc = PARLEY_ERR_NOMEM;
            return 1;
        }
        c->items = p;
        c->cap = ncap;
    }
    struct item *it = &c->items[c->n++];
    it->time = rec->time;
    it->turn = rec->turn;
    (void)snprintf(it->kind, sizeof(it->kind), "%s", rec->kind);
    it->body = json_loads(rec->body, 0, NULL);
    return 0;
}

/* A line being built; `failed` sticks once an addition fails, so a line
 * cut short by a lack of memory is reported, never shown. */
struct line {
    struct parley_buf b;
    int failed;
};

static void add(struct line *l, const char *fmt, ...) PARLEY_PRINTF(2, 3);

static void add(struct line *l, const char *fmt, ...)
{
    char piece[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(piece, sizeof(piece), fmt, ap);
    va_end(ap);
    if (n < 0 || parley__buf_add(&l->b, piece, strlen(piece)) != PARLEY_OK)
        l->failed = 1;
}

static const char *str(json_t *body, const char *key)
{
    const char *s = json_string_value(json_object_get(body, key));
    return s && s[0] ? s : NULL;
}

static void hhmm(int64_t ms, int utc, char out[8])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!(utc ? gmtime_r(&t, &tm) : localtime_r(&t, &tm)))
        memset(&tm, 0, sizeof(tm));
    (void)snprintf(out, 8, "%02d:%02d", tm.tm_hour % 100, tm.tm_min % 100);
}

static const char *level_word(const char *level)
{
    if (!level)
        return "unknown";
    if (strcmp(level, "strong") == 0)
        return "strongly verified";
    return level;
}

static const char *method_word(const char *m)
{
    static const char *const map[][2] = {
        {"otp", "one-time code"}, {"knowledge", "knowledge check"}, {"claim", "account claim"},
        {"idle", "idle timeout"}, {"expiry", "idle timeout"},       {"switch", "switching account"},
        {"agent", "an agent"},
    };
    for (size_t i = 0; m && i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(m, map[i][0]) == 0)
            return map[i][1];
    return m ? m : "an unstated method";
}

/* Limits and remaining amounts: a string as is, else compact JSON. */
static void add_json_value(struct line *b, json_t *v)
{
    if (json_is_string(v)) {
        add(b, "%s", json_string_value(v));
        return;
    }
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s) {
        add(b, "%.200s", s);
        free(s);
    }
}

/* The time of the first record of `turn`, or 0. */
static int64_t turn_time(const struct collect *c, json_t *turn)
{
    if (!json_is_integer(turn))
        return 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->items[i].turn == json_integer_value(turn))
            return c->items[i].time;
    return 0;
}

/* Why a rule refused, in words, when the body gives no "reason". */
static void add_rule(struct line *b, const char *rule)
{
    if (!rule)
        add(b, "no rule given");
    else if (strncmp(rule, "consent:", 8) == 0)
        add(b, "no %s permission", rule + 8);
    else if (strncmp(rule, "identity:", 9) == 0)
        add(b, "needs %s identity", level_word(rule + 9));
    else if (strcmp(rule, "confirmation") == 0)
        add(b, "you did not confirm");
    else
        add(b, "rule %s", rule);
}

static void action_line(struct line *b, const struct collect *c, json_t *body,
                        const struct item *last_identity, int utc)
{
    const char *action = str(body, "action"), *decision = str(body, "decision");
    const char *summary = str(body, "summary"), *result = str(body, "result");
    const char *what = summary ? summary : action ? action : "an action";
    int proactive = json_is_true(json_object_get(body, "proactive"));
    char t[8];

    if (decision && strcmp(decision, "denied") == 0) {
        add(b, "did not %s%s: ", action ? action : "act", proactive ? " automatically" : "");
        if (str(body, "reason"))
            add(b, "%s", str(body, "reason"));
        else
            add_rule(b, str(body, "rule"));
        return;
    }
    if (decision && strcmp(decision, "needs_confirmation") == 0) {
        add(b, "asked you to confirm %s", what);
        return;
    }
    if (!result) {
        add(b, "%s allowed (%s)", action ? action : "an action",
            str(body, "rule") ? str(body, "rule") : "no rule given");
        return;
    }
    if (strcmp(result, "ok") != 0 && strcmp(result, "done") != 0) {
        add(b, "%s failed: %s", action ? action : "an action", result);
        return;
    }
    add(b, "%s: %s —", action ? action : "action", what);
    int64_t asked = turn_time(c, json_object_get(body, "asked_turn"));
    int64_t confirmed = turn_time(c, json_object_get(body, "confirmed_turn"));
    if (proactive) {
        add(b, " done automatically under your %s permission",
            str(body, "scope") ? str(body, "scope") : "standing");
    } else if (asked) {
        hhmm(asked, utc, t);
        add(b, " you asked at %s", t);
    } else {
        add(b, " requested in this conversation");
    }
    if (confirmed) {
        hhmm(confirmed, utc, t);
        add(b, ", confirmed at %s", t);
    }
    if (last_identity) {
        hhmm(last_identity->time, utc, t);
        add(b, "; identity %s by %s at %s", level_word(str(last_identity->body, "to")),
            method_word(str(last_identity->body, "method")), t);
    }
}

static void line_for(struct line *b, const struct collect *c, const struct item *it,
                     const struct item *last_identity, int utc)
{
    json_t *body = it->body;
    const char *k = it->kind;

    if (strcmp(k, "action") == 0) {
        action_line(b, c, body, last_identity, utc);
    } else if (strcmp(k, "intent") == 0) {
        json_t *conf = json_object_get(body, "confidence");
        add(b, "understood %s", str(body, "intent") ? str(body, "intent") : "?");
        if (json_is_number(conf))
            add(b, " (confidence %.2f)", json_number_value(conf));
        if (str(body, "language"))
            add(b, " in %s", str(body, "language"));
        if (str(body, "model"))
            add(b, ", model %s", str(body, "model"));
    } else if (strcmp(k, "identity") == 0) {
        add(b, "identity %s by %s (was %s)", level_word(str(body, "to")),
            method_word(str(body, "method")), level_word(str(body, "from")));
    } else if (strcmp(k, "disclosure") == 0) {
        const char *fact = str(body, "fact") ? str(body, "fact") : "a fact";
        if (json_is_true(json_object_get(body, "allowed")))
            add(b, "told you %s (needs %s identity, you were %s)", fact,
                level_word(str(body, "level_needed")), level_word(str(body, "level")));
        else
            add(b, "did not tell %s: needs %s identity, you were %s", fact,
                level_word(str(body, "level_needed")), level_word(str(body, "level")));
    } else if (strcmp(k, "consent") == 0) {
        const char *op = str(body, "op") ? str(body, "op") : "?";
        const char *scope = str(body, "scope") ? str(body, "scope") : "?";
        json_t *more = json_object_get(body, strcmp(op, "used") == 0 ? "remaining" : "limits");
        if (strcmp(op, "granted") == 0)
            add(b, "you granted the %s permission", scope);
        else if (strcmp(op, "used") == 0)
            add(b, "used your %s permission", scope);
        else if (strcmp(op, "revoked") == 0)
            add(b, "you revoked the %s permission", scope);
        else
            add(b, "permission %s: %s", scope, op);
        if (more && strcmp(op, "revoked") != 0) {
            add(b, strcmp(op, "used") == 0 ? " (remaining: " : " (limits: ");
            add_json_value(b, more);
            add(b, ")");
        }
    } else if (strcmp(k, "handoff") == 0) {
        add(b, "handed over to a person: %s",
            str(body, "reason") ? str(body, "reason") : "no reason given");
    } else if (strcmp(k, "privacy") == 0) {
        const char *r = str(body, "request");
        add(b, "you asked %s",
            !r                          ? "a privacy question"
            : strcmp(r, "export") == 0  ? "for a copy of your data"
            : strcmp(r, "opt_out") == 0 ? "to opt out of training use"
            : strcmp(r, "erase") == 0   ? "to erase your data"
                                        : r);
    } else {
        add(b, "%s: ", k);
        add_json_value(b, body);
    }
}

parley_err parley_audit_explain(parley_audit *a, const char *conversation, int64_t turn, int utc,
                                parley_audit_line_fn fn, void *userdata, parley_error *err)
{
    struct collect c = {NULL, 0, 0, PARLEY_OK};
    parley_audit_filter f = {conversation, NULL};
    struct line b = {PARLEY_BUF_INIT(4096), 0};
    const struct item *last_identity = NULL;
    parley_err rc;
    size_t shown = 0;

    if (!fn || !conversation || !conversation[0])
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot explain: no conversation id");
    if ((rc = parley_audit_list(a, &f, collect_one, &c, err)) != PARLEY_OK)
        goto out;
    if ((rc = c.rc) != PARLEY_OK) {
        (void)parley_error_set(err, rc, "cannot explain: out of memory");
        goto out;
    }
    for (size_t i = 0; i < c.n; i++) {
        const struct item *it = &c.items[i];
        char t[8];
        if (strcmp(it->kind, "identity") == 0 && it->body)
            last_identity = it;
        if (turn > 0 && it->turn != turn)
            continue;
        parley__buf_reset(&b.b);
        b.failed = 0;
        hhmm(it->time, utc, t);
        add(&b, "%s ", t);
        if (it->turn > 0)
            add(&b, "[turn %lld] ", (long long)it->turn);
        if (it->body)
            line_for(&b, &c, it, last_identity, utc);
        else
            add(&b, "%s: (body is not JSON)", it->kind);
        if (b.failed || !b.b.data) {
            rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot explain: out of memory");
            goto out;
        }
        fn(b.b.data, userdata);
        shown++;
    }
    if (shown == 0 && turn > 0)
        rc = parley_error_set(err, PARLEY_ERR_NOTFOUND,
                              "no audit record of conversation '%.64s' at turn %lld", conversation,
                              (long long)turn);
    else if (shown == 0)
        rc = parley_error_set(err, PARLEY_ERR_NOTFOUND, "no audit record of conversation '%.64s'",
                              conversation);
out:
    for (size_t i = 0; i < c.n; i++)
        json_decref(c.items[i].body);
    parley__free(c.items);
    parley__buf_release(&b.b);
    return rc;
}
