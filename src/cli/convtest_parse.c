/* Reads conversation test files (docs/conversation-tests.md) with libyaml
 * into struct ct_test, reporting every problem as FILE:LINE:COLUMN. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <yaml.h>

#include "convtest.h"
#include "parley/common.h"

#define MAX_DEPTH 64

/* One file being read. */
struct reader {
    const char *path;
    yaml_document_t *doc;
    size_t problems;
};

PARLEY_PRINTF(3, 4)
static void problem(struct reader *r, const yaml_node_t *at, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
    va_end(ap);
    fprintf(stderr, "%s:%lu:%lu: %s\n", r->path, (unsigned long)at->start_mark.line + 1,
            (unsigned long)at->start_mark.column + 1, msg);
    r->problems++;
}

static void *xcalloc(struct reader *r, const yaml_node_t *at, size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        problem(r, at, "out of memory");
    return p;
}

static char *xstrdup(struct reader *r, const yaml_node_t *at, const char *s)
{
    char *p = strdup(s);
    if (!p)
        problem(r, at, "out of memory");
    return p;
}

static yaml_node_t *node(struct reader *r, int id)
{
    return yaml_document_get_node(r->doc, id);
}

/* The text of a scalar node, or NULL (with a problem) for anything else. */
static const char *scalar(struct reader *r, const yaml_node_t *n, const char *key)
{
    if (n->type != YAML_SCALAR_NODE) {
        problem(r, n, "'%s' needs a single value, not a %s", key,
                n->type == YAML_MAPPING_NODE ? "map" : "list");
        return NULL;
    }
    return (const char *)n->data.scalar.value;
}

static int is_plain(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* Copies a scalar into `*dst`; reports a repeated key. */
static void take_string(struct reader *r, const yaml_node_t *key, const yaml_node_t *v, char **dst)
{
    const char *k = (const char *)key->data.scalar.value;
    const char *s = scalar(r, v, k);
    if (*dst) {
        problem(r, key, "'%s' is given twice", k);
        return;
    }
    if (s)
        *dst = xstrdup(r, v, s);
}

/* A plain scalar's JSON value: booleans, null, integers and reals; other
 * scalars are strings. */
static json_t *scalar_json(const yaml_node_t *n)
{
    const char *s = (const char *)n->data.scalar.value;
    char *end;
    if (!is_plain(n))
        return json_string(s);
    if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0)
        return json_true();
    if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0)
        return json_false();
    if (strcmp(s, "null") == 0 || strcmp(s, "~") == 0 || *s == '\0')
        return json_null();
    errno = 0;
    long long i = strtoll(s, &end, 10);
    if (*end == '\0' && errno == 0)
        return json_integer(i);
    double d = strtod(s, &end);
    if (*end == '\0' && errno == 0 && isfinite(d))
        return json_real(d);
    return json_string(s);
}

/* Converts a YAML node (a body) to JSON. */
static json_t *to_json(struct reader *r, const yaml_node_t *n, int depth)
{
    json_t *j = NULL;
    if (depth > MAX_DEPTH) {
        problem(r, n, "body nested too deeply");
        return NULL;
    }
    if (n->type == YAML_SCALAR_NODE) {
        j = scalar_json(n);
    } else if (n->type == YAML_SEQUENCE_NODE) {
        j = json_array();
        for (yaml_node_item_t *it = n->data.sequence.items.start;
             j && it < n->data.sequence.items.top; it++) {
            json_t *v = to_json(r, node(r, *it), depth + 1);
            if (!v || json_array_append_new(j, v) != 0) {
                json_decref(j);
                return NULL;
            }
        }
    } else {
        j = json_object();
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; j && p < n->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = node(r, p->key);
            if (k->type != YAML_SCALAR_NODE) {
                problem(r, k, "body keys must be plain names");
                json_decref(j);
                return NULL;
            }
            json_t *v = to_json(r, node(r, p->value), depth + 1);
            if (!v || json_object_set_new(j, (const char *)k->data.scalar.value, v) != 0) {
                json_decref(j);
                return NULL;
            }
        }
    }
    if (!j)
        problem(r, n, "out of memory");
    return j;
}

/* Reads {method, path, body} into `c`; `what` names it in messages. */
static void parse_call(struct reader *r, const yaml_node_t *n, struct ct_call *c, const char *what)
{
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    c->line = (unsigned long)n->start_mark.line + 1;
    if (n->type != YAML_MAPPING_NODE) {
        problem(r, n, "%s needs a map {method, path, body}", what);
        return;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(r, p->key), *v = node(r, p->value);
        const char *key = k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
        if (strcmp(key, "method") == 0) {
            take_string(r, k, v, &c->method);
            int known = 0;
            for (size_t i = 0; c->method && i < sizeof(methods) / sizeof(methods[0]); i++)
                known |= strcmp(c->method, methods[i]) == 0;
            if (c->method && !known)
                problem(r, v, "method '%s' is not one of GET, POST, PUT, PATCH, DELETE", c->method);
        } else if (strcmp(key, "path") == 0) {
            take_string(r, k, v, &c->path);
            if (c->path && c->path[0] != '/')
                problem(r, v, "path '%s' must start with '/'", c->path);
        } else if (strcmp(key, "body") == 0) {
            json_t *j = NULL;
            if (v->type == YAML_SCALAR_NODE) {
                json_error_t je;
                j = json_loads((const char *)v->data.scalar.value, 0, &je);
                if (!j)
                    problem(r, v, "body is not JSON: %s", je.text);
            } else {
                j = to_json(r, v, 0);
            }
            if (j && !c->body && !(c->body = json_dumps(j, JSON_COMPACT)))
                problem(r, v, "out of memory");
            json_decref(j);
        } else {
            problem(r, k, "unknown key '%s' in %s (expected method, path, body)", key, what);
        }
    }
    if (!c->method)
        problem(r, n, "%s needs a 'method'", what);
    if (!c->path)
        problem(r, n, "%s needs a 'path'", what);
}

/* "45m", "30s", "1.5h", "500ms" -> milliseconds; -1 when malformed. */
static int64_t parse_duration(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    double unit = strcmp(end, "ms") == 0  ? 1
                  : strcmp(end, "s") == 0 ? 1e3
                  : strcmp(end, "m") == 0 ? 60e3
                  : strcmp(end, "h") == 0 ? 3600e3
                                          : 0;
    if (end == s || errno || unit == 0 || !(v > 0) || v * unit > 366.0 * 86400e3)
        return -1;
    return (int64_t)llround(v * unit);
}

static void parse_action(struct reader *r, const yaml_node_t *n, struct ct_action *a)
{
    if (n->type != YAML_MAPPING_NODE) {
        problem(r, n, "'action' needs a map {name, status} (or a list of them)");
        return;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(r, p->key), *v = node(r, p->value);
        const char *key = k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
        if (strcmp(key, "name") == 0)
            take_string(r, k, v, &a->name);
        else if (strcmp(key, "status") == 0)
            take_string(r, k, v, &a->status);
        else
            problem(r, k, "unknown key '%s' in an action (expected name, status)", key);
    }
    if (!a->name)
        problem(r, n, "an action needs a 'name'");
}

/* `value` as a list of nodes: itself, or its items when it is a sequence. */
static size_t items_of(const yaml_node_t *v, const yaml_node_item_t **first)
{
    if (v->type == YAML_SEQUENCE_NODE) {
        *first = v->data.sequence.items.start;
        return (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    }
    *first = NULL;
    return 1;
}

static void compile(struct reader *r, const yaml_node_t *at, const char *pattern, regex_t *re,
                    char **dst)
{
    int rc = regcomp(re, pattern, REG_EXTENDED | REG_ICASE | REG_NOSUB);
    if (rc != 0) {
        char why[200];
        (void)regerror(rc, re, why, sizeof(why));
        problem(r, at, "bad regular expression '%s': %s", pattern, why);
        free(*dst);
        *dst = NULL;
    }
}

/* One `say` expectation key; returns 0 when `key` is not one. */
static int parse_expectation(struct reader *r, const yaml_node_t *k, const yaml_node_t *v,
                             struct ct_step *s)
{
    const char *key = (const char *)k->data.scalar.value;
    if (strcmp(key, "intent") == 0) {
        take_string(r, k, v, &s->intent);
    } else if (strcmp(key, "language") == 0) {
        take_string(r, k, v, &s->language);
    } else if (strcmp(key, "step") == 0) {
        take_string(r, k, v, &s->step);
    } else if (strcmp(key, "flow") == 0) {
        take_string(r, k, v, &s->flow);
    } else if (strcmp(key, "reply") == 0 || strcmp(key, "not_reply") == 0) {
        int neg = key[0] == 'n';
        char **dst = neg ? &s->not_reply : &s->reply;
        int had = *dst != NULL;
        take_string(r, k, v, dst);
        if (*dst && !had)
            compile(r, v, *dst, neg ? &s->not_reply_re : &s->reply_re, dst);
    } else if (strcmp(key, "attachment") == 0) {
        int had = s->attachment != NULL;
        take_string(r, k, v, &s->attachment);
        if (s->attachment && !had)
            compile(r, v, s->attachment, &s->attachment_re, &s->attachment);
    } else if (strcmp(key, "handoff") == 0) {
        const char *b = scalar(r, v, key);
        if (b && (strcmp(b, "true") == 0 || strcmp(b, "false") == 0))
            s->handoff = b[0] == 't';
        else if (b)
            problem(r, v, "'handoff' needs true or false, not '%s'", b);
    } else if (strcmp(key, "action") == 0 || strcmp(key, "no_action") == 0) {
        const yaml_node_item_t *first;
        size_t n = items_of(v, &first), *count;
        int neg = key[0] == 'n';
        if (neg ? s->no_actions != NULL : s->actions != NULL) {
            problem(r, k, "'%s' is given twice", key);
            return 1;
        }
        count = neg ? &s->n_no_actions : &s->n_actions;
        if (neg)
            s->no_actions = xcalloc(r, v, n, sizeof(*s->no_actions));
        else
            s->actions = xcalloc(r, v, n, sizeof(*s->actions));
        for (size_t i = 0; (neg ? (void *)s->no_actions : (void *)s->actions) && i < n; i++) {
            const yaml_node_t *item = first ? node(r, first[i]) : v;
            if (neg) {
                const char *name = scalar(r, item, key);
                s->no_actions[i] = name ? xstrdup(r, item, name) : NULL;
            } else {
                parse_action(r, item, &s->actions[i]);
            }
            (*count)++;
        }
    } else {
        return 0;
    }
    return 1;
}

/* `{sms_code:PHONE}` or `{sms_code:PHONE#N}` in a `say`: the code of the
 * latest (or N-th) SMS telco-sim sent to PHONE, filled in at run time. */
static void check_sms_codes(struct reader *r, const yaml_node_t *at, const char *say)
{
    for (const char *p = strstr(say, "{sms_code:"); p; p = strstr(p + 1, "{sms_code:")) {
        const char *q = p + strlen("{sms_code:");
        size_t phone = strspn(q, "0123456789-");
        q += phone;
        if (*q == '#' && q[1] >= '1' && q[1] <= '9')
            q += 1 + strspn(q + 1, "0123456789");
        if (phone == 0 || *q != '}')
            problem(r, at,
                    "'{sms_code:' needs a phone number and '}' (e.g. {sms_code:5551232002} "
                    "or {sms_code:5551232002#1})");
    }
}

static void parse_step(struct reader *r, const yaml_node_t *n, struct ct_step *s)
{
    const yaml_node_t *expectation = NULL;
    int kinds = 0;

    s->line = (unsigned long)n->start_mark.line + 1;
    s->handoff = -1;
    if (n->type != YAML_MAPPING_NODE) {
        problem(r, n, "a turn needs a map with 'say', 'wait', 'sim' or 'new_conversation'");
        return;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(r, p->key), *v = node(r, p->value);
        const char *key = k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
        if (strcmp(key, "say") == 0) {
            s->kind = CT_SAY;
            kinds++;
            take_string(r, k, v, &s->say);
            if (s->say)
                check_sms_codes(r, v, s->say);
        } else if (strcmp(key, "wait") == 0) {
            s->kind = CT_WAIT;
            kinds++;
            take_string(r, k, v, &s->wait_text);
            if (s->wait_text && (s->wait_ms = parse_duration(s->wait_text)) < 0)
                problem(r, v, "'wait' needs a duration such as 30s, 45m or 2h, not '%s'",
                        s->wait_text);
        } else if (strcmp(key, "new_conversation") == 0) {
            /* The same customer (or another) in a second conversation of
             * the same engine, store and backend: limits that span
             * conversations can be tested. */
            s->kind = CT_NEW;
            kinds++;
            take_string(r, k, v, &s->channel);
        } else if (strcmp(key, "sim") == 0) {
            s->kind = CT_SIM;
            kinds++;
            parse_call(r, v, &s->sim, "'sim'");
        } else if (*key && parse_expectation(r, k, v, s)) {
            if (!expectation)
                expectation = k;
        } else {
            problem(r, k,
                    "unknown key '%s' in a turn (expected say, wait or sim, and for say: "
                    "intent, language, reply, not_reply, attachment, step, flow, handoff, "
                    "action, "
                    "no_action)",
                    key);
        }
    }
    if (kinds != 1)
        problem(r, n, "a turn needs exactly one of 'say', 'wait', 'sim' or 'new_conversation'");
    else if (s->kind != CT_SAY && expectation)
        problem(r, expectation, "'%s' applies only to a 'say' turn",
                (const char *)expectation->data.scalar.value);
}

static void parse_expect(struct reader *r, const yaml_node_t *n, struct ct_expect *e)
{
    int ops = 0;
    e->line = (unsigned long)n->start_mark.line + 1;
    if (n->type != YAML_MAPPING_NODE) {
        problem(r, n, "an expectation needs a map {get, field, equals|not_equals|count}");
        return;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(r, p->key), *v = node(r, p->value);
        const char *key = k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
        if (strcmp(key, "get") == 0) {
            take_string(r, k, v, &e->get);
            if (e->get && e->get[0] != '/')
                problem(r, v, "'get' needs a path starting with '/', not '%s'", e->get);
        } else if (strcmp(key, "field") == 0) {
            take_string(r, k, v, &e->field);
        } else if (strcmp(key, "equals") == 0 || strcmp(key, "not_equals") == 0) {
            ops++;
            e->op = key[0] == 'e' ? CT_EQUALS : CT_NOT_EQUALS;
            take_string(r, k, v, &e->value);
            e->value_quoted = !is_plain(v);
        } else if (strcmp(key, "count") == 0) {
            const char *c = scalar(r, v, key);
            char *end;
            ops++;
            e->op = CT_COUNT;
            errno = 0;
            if (c) {
                e->count = strtoul(c, &end, 10);
                if (!*c || *end || *c == '-' || errno)
                    problem(r, v, "'count' needs a whole number, not '%s'", c);
            }
        } else {
            problem(r, k,
                    "unknown key '%s' in an expectation (expected get, field, equals, "
                    "not_equals, count)",
                    key);
        }
    }
    if (!e->get)
        problem(r, n, "an expectation needs 'get'");
    if (ops != 1)
        problem(r, n, "an expectation needs exactly one of equals, not_equals or count");
}

/* `where: {FIELD: VALUE, ...}`: body fields an audit record must equal. */
static void parse_where(struct reader *r, const yaml_node_t *k, const yaml_node_t *v,
                        struct ct_audit *a)
{
    size_t n;
    if (a->where) {
        problem(r, k, "'where' is given twice");
        return;
    }
    if (v->type != YAML_MAPPING_NODE) {
        problem(r, v, "'where' needs a map of body fields and values");
        return;
    }
    n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    if (!(a->where = xcalloc(r, v, n, sizeof(*a->where))))
        return;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *wk = node(r, p->key), *wv = node(r, p->value);
        struct ct_where *w = &a->where[a->n_where++];
        const char *name = scalar(r, wk, "where");
        const char *value = name ? scalar(r, wv, name) : NULL;
        w->field = name ? xstrdup(r, wk, name) : NULL;
        w->value = value ? xstrdup(r, wv, value) : NULL;
        w->value_quoted = !is_plain(wv);
    }
}

/* `audit:` items: {kind, field, equals|not_equals, absent|count}. */
static void parse_audit(struct reader *r, const yaml_node_t *n, struct ct_audit *a)
{
    const yaml_node_t *quantifier = NULL;
    a->line = (unsigned long)n->start_mark.line + 1;
    a->count = -1;
    if (n->type != YAML_MAPPING_NODE) {
        problem(r, n,
                "an audit expectation needs a map {kind, where, field, equals|not_equals, "
                "absent|count}");
        return;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(r, p->key), *v = node(r, p->value);
        const char *key = k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
        if (strcmp(key, "kind") == 0) {
            take_string(r, k, v, &a->kind);
            if (a->kind && (!*a->kind || strspn(a->kind, "abcdefghijklmnopqrstuvwxyz0123456789_") !=
                                             strlen(a->kind)))
                problem(r, v, "'kind' needs a record kind such as identity or disclosure, not '%s'",
                        a->kind);
        } else if (strcmp(key, "field") == 0) {
            take_string(r, k, v, &a->field);
        } else if (strcmp(key, "where") == 0) {
            parse_where(r, k, v, a);
        } else if (strcmp(key, "equals") == 0 || strcmp(key, "not_equals") == 0) {
            if (a->has_op) {
                problem(r, k, "an audit expectation takes one of equals or not_equals");
                continue;
            }
            a->has_op = 1;
            a->op = key[0] == 'e' ? CT_EQUALS : CT_NOT_EQUALS;
            take_string(r, k, v, &a->value);
            a->value_quoted = !is_plain(v);
        } else if (strcmp(key, "absent") == 0) {
            const char *b = scalar(r, v, key);
            if (quantifier)
                problem(r, k, "an audit expectation takes one of absent or count");
            quantifier = k;
            if (b && (strcmp(b, "true") == 0 || strcmp(b, "false") == 0))
                a->absent = b[0] == 't';
            else if (b)
                problem(r, v, "'absent' needs true or false, not '%s'", b);
        } else if (strcmp(key, "count") == 0) {
            const char *c = scalar(r, v, key);
            char *end;
            if (quantifier)
                problem(r, k, "an audit expectation takes one of absent or count");
            quantifier = k;
            errno = 0;
            if (c) {
                a->count = strtol(c, &end, 10);
                if (!*c || *end || *c == '-' || errno)
                    problem(r, v, "'count' needs a whole number, not '%s'", c);
            }
        } else {
            problem(r, k,
                    "unknown key '%s' in an audit expectation (expected kind, where, field, "
                    "equals, not_equals, absent, count)",
                    key);
        }
    }
    if (!a->kind)
        problem(r, n, "an audit expectation needs 'kind'");
    if (a->has_op && !a->field)
        problem(r, n, "an audit expectation with equals or not_equals needs 'field'");
}

/* The items of a sequence value into a new array of `size`-byte elements. */
static void *parse_list(struct reader *r, const yaml_node_t *v, const char *key, size_t size,
                        size_t *n)
{
    if (v->type != YAML_SEQUENCE_NODE) {
        problem(r, v, "'%s' needs a list", key);
        return NULL;
    }
    *n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    return xcalloc(r, v, *n, size);
}

static void parse_test(struct reader *r, const yaml_node_t *root, struct ct_test *t)
{
    const yaml_node_t *turns = NULL;
    t->line = (unsigned long)root->start_mark.line + 1;
    if (root->type != YAML_MAPPING_NODE) {
        problem(r, root, "a test needs a map with 'name' and 'turns'");
        return;
    }
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = node(r, p->key), *v = node(r, p->value);
        const char *key = k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
        const yaml_node_item_t *it =
            v->type == YAML_SEQUENCE_NODE ? v->data.sequence.items.start : NULL;
        if (strcmp(key, "name") == 0) {
            take_string(r, k, v, &t->name);
            if (t->name && !*t->name)
                problem(r, v, "'name' is empty");
        } else if (strcmp(key, "description") == 0) {
            (void)scalar(r, v, key);
        } else if (strcmp(key, "setup") == 0 && !t->setup) {
            t->setup = parse_list(r, v, key, sizeof(*t->setup), &t->n_setup);
            for (size_t i = 0; t->setup && i < t->n_setup; i++)
                parse_call(r, node(r, it[i]), &t->setup[i], "a setup call");
        } else if (strcmp(key, "turns") == 0 && !t->steps) {
            turns = v;
            t->steps = parse_list(r, v, key, sizeof(*t->steps), &t->n_steps);
            for (size_t i = 0; t->steps && i < t->n_steps; i++)
                parse_step(r, node(r, it[i]), &t->steps[i]);
        } else if (strcmp(key, "expect") == 0 && !t->expects) {
            t->expects = parse_list(r, v, key, sizeof(*t->expects), &t->n_expects);
            for (size_t i = 0; t->expects && i < t->n_expects; i++)
                parse_expect(r, node(r, it[i]), &t->expects[i]);
        } else if (strcmp(key, "audit") == 0 && !t->audits) {
            t->audits = parse_list(r, v, key, sizeof(*t->audits), &t->n_audits);
            for (size_t i = 0; t->audits && i < t->n_audits; i++)
                parse_audit(r, node(r, it[i]), &t->audits[i]);
        } else if (strcmp(key, "setup") == 0 || strcmp(key, "turns") == 0 ||
                   strcmp(key, "expect") == 0 || strcmp(key, "audit") == 0) {
            problem(r, k, "'%s' is given twice", key);
        } else {
            problem(r, k,
                    "unknown key '%s' (expected name, description, setup, turns, expect, audit)",
                    key);
        }
    }
    if (!t->name)
        problem(r, root, "a test needs a 'name'");
    if (!turns)
        problem(r, root, "a test needs 'turns'");
    else if (t->n_steps == 0)
        problem(r, turns, "'turns' is empty");
}

size_t ct_parse_file(const char *path, struct ct_suite *suite)
{
    struct reader r = {path, NULL, 0};
    yaml_parser_t parser;
    yaml_document_t doc;
    size_t docs = 0;
    FILE *f = fopen(path, "rb");

    if (!f) {
        fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
        return 1;
    }
    if (!yaml_parser_initialize(&parser)) {
        fprintf(stderr, "%s: out of memory\n", path);
        (void)fclose(f);
        return 1;
    }
    yaml_parser_set_input_file(&parser, f);
    for (;;) {
        if (!yaml_parser_load(&parser, &doc)) {
            fprintf(stderr, "%s:%lu:%lu: %s", path, (unsigned long)parser.problem_mark.line + 1,
                    (unsigned long)parser.problem_mark.column + 1,
                    parser.problem ? parser.problem : "malformed YAML");
            if (parser.context)
                fprintf(stderr, " %s (from line %lu, column %lu)", parser.context,
                        (unsigned long)parser.context_mark.line + 1,
                        (unsigned long)parser.context_mark.column + 1);
            fputc('\n', stderr);
            r.problems++;
            break;
        }
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (!root) {
            yaml_document_delete(&doc);
            break;
        }
        docs++;
        struct ct_test *grown = realloc(suite->tests, (suite->n_tests + 1) * sizeof(*suite->tests));
        if (!grown) {
            fprintf(stderr, "%s: out of memory\n", path);
            r.problems++;
            yaml_document_delete(&doc);
            break;
        }
        suite->tests = grown;
        struct ct_test *t = &suite->tests[suite->n_tests++];
        memset(t, 0, sizeof(*t));
        t->file = strdup(path);
        r.doc = &doc;
        parse_test(&r, root, t);
        yaml_document_delete(&doc);
    }
    if (docs == 0 && r.problems == 0) {
        fprintf(stderr, "%s:1:1: no test in this file\n", path);
        r.problems++;
    }
    yaml_parser_delete(&parser);
    (void)fclose(f);
    return r.problems;
}

size_t ct_check_unique(const struct ct_suite *suite)
{
    size_t dups = 0;
    for (size_t i = 0; i < suite->n_tests; i++) {
        const struct ct_test *a = &suite->tests[i];
        for (size_t j = 0; a->name && j < i; j++) {
            const struct ct_test *b = &suite->tests[j];
            if (b->name && strcmp(a->name, b->name) == 0) {
                fprintf(stderr, "%s:%lu:1: test name '%s' is already used at %s:%lu\n", a->file,
                        a->line, a->name, b->file, b->line);
                dups++;
                break;
            }
        }
    }
    return dups;
}

static void call_free(struct ct_call *c)
{
    free(c->method);
    free(c->path);
    free(c->body);
}

void ct_suite_free(struct ct_suite *suite)
{
    for (size_t i = 0; i < suite->n_tests; i++) {
        struct ct_test *t = &suite->tests[i];
        for (size_t j = 0; j < t->n_setup && t->setup; j++)
            call_free(&t->setup[j]);
        for (size_t j = 0; j < t->n_steps && t->steps; j++) {
            struct ct_step *s = &t->steps[j];
            free(s->say);
            free(s->intent);
            free(s->language);
            free(s->step);
            free(s->flow);
            if (s->reply)
                regfree(&s->reply_re);
            if (s->not_reply)
                regfree(&s->not_reply_re);
            if (s->attachment)
                regfree(&s->attachment_re);
            free(s->reply);
            free(s->not_reply);
            free(s->attachment);
            for (size_t k = 0; k < s->n_actions; k++) {
                free(s->actions[k].name);
                free(s->actions[k].status);
            }
            free(s->actions);
            for (size_t k = 0; k < s->n_no_actions; k++)
                free(s->no_actions[k]);
            free((void *)s->no_actions);
            free(s->wait_text);
            free(s->channel);
            call_free(&s->sim);
        }
        for (size_t j = 0; j < t->n_expects && t->expects; j++) {
            free(t->expects[j].get);
            free(t->expects[j].field);
            free(t->expects[j].value);
        }
        for (size_t j = 0; j < t->n_audits && t->audits; j++) {
            free(t->audits[j].kind);
            free(t->audits[j].field);
            free(t->audits[j].value);
            for (size_t w = 0; w < t->audits[j].n_where; w++) {
                free(t->audits[j].where[w].field);
                free(t->audits[j].where[w].value);
            }
            free(t->audits[j].where);
        }
        free(t->setup);
        free(t->steps);
        free(t->expects);
        free(t->audits);
        free(t->file);
        free(t->name);
    }
    free(suite->tests);
    suite->tests = NULL;
    suite->n_tests = 0;
}
