/* Reading bot.yml's YAML tree for the loader: problem reporting with node
 * positions, typed value and key helpers, and name lookups. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "bot/internal.h"

/* Facts the verify_identity step provides once the customer is verified. */
const char *const parley__bot_identity_facts[] = {"customer_id", "line_id", "full_name", NULL};
const char *const parley__bot_engine_names[] = {"choices",    "topic", "code",
                                                "error_code", "value", NULL};

/* ---- reporting -------------------------------------------------------- */

static void vproblem(struct ctx *c, const char *file, unsigned long line, unsigned long col,
                     const char *fmt, va_list ap) PARLEY_PRINTF(5, 0);

static void vproblem(struct ctx *c, const char *file, unsigned long line, unsigned long col,
                     const char *fmt, va_list ap)
{
    char msg[512];
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    parley__bot_report_add(c->rep, file, line, col, msg);
}

/* A problem at node `n` of bot.yml. */
void parley__bot_problem(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vproblem(c, c->path, n ? (unsigned long)n->start_mark.line + 1 : 1UL,
             n ? (unsigned long)n->start_mark.column + 1 : 1UL, fmt, ap);
    va_end(ap);
}

void parley__bot_problem_at(struct ctx *c, const char *file, unsigned long line, unsigned long col,
                            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vproblem(c, file, line, col, fmt, ap);
    va_end(ap);
}

/* Turns a library message "FILE:LINE[:COLUMN]: what" about `file` into a
 * problem with that position; other messages become whole-file problems. */
void parley__bot_problem_from_message(struct ctx *c, const char *file, const char *msg)
{
    size_t fl = strlen(file);
    unsigned long line = 0, col = 0;
    const char *p = msg;
    char *end;
    if (strncmp(msg, file, fl) == 0 && msg[fl] == ':') {
        p = msg + fl + 1;
        line = strtoul(p, &end, 10);
        if (end != p && *end == ':') {
            p = end + 1;
            col = strtoul(p, &end, 10);
            if (end != p && *end == ':')
                p = end + 1;
            else
                col = 1; /* a line-level message: its first column */
            while (*p == ' ')
                p++;
        } else {
            line = 0;
            p = msg;
        }
    }
    parley__bot_problem_at(c, file, line, col, "%s", p);
}

/* ---- YAML helpers ----------------------------------------------------- */

yaml_node_t *parley__bot_node_at(yaml_document_t *doc, int id)
{
    return yaml_document_get_node(doc, id);
}

const char *parley__bot_sval(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The scalar text of `n`, or NULL after reporting that `what` must be one. */
const char *parley__bot_scalar(struct ctx *c, const yaml_node_t *n, const char *what)
{
    const char *s = parley__bot_sval(n);
    if (!s)
        parley__bot_problem(c, n, "%s must be a single value", what);
    else if (!*s) {
        parley__bot_problem(c, n, "%s must not be empty", what);
        return NULL;
    }
    return s;
}

int parley__bot_is_kind(struct ctx *c, const yaml_node_t *n, yaml_node_type_t t, const char *what)
{
    if (n && n->type == t)
        return 1;
    parley__bot_problem(c, n, "%s must be %s", what,
                        t == YAML_MAPPING_NODE    ? "a mapping (key: value)"
                        : t == YAML_SEQUENCE_NODE ? "a list"
                                                  : "a single value");
    return 0;
}

int parley__bot_in_list(const char *s, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return i;
    return -1;
}

void parley__bot_join(char *out, size_t size, const char *const *list)
{
    size_t used = 0;
    out[0] = 0;
    for (int i = 0; list[i] && used < size; i++) {
        int w = snprintf(out + used, size - used, "%s%s", i ? ", " : "", list[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* Reports keys of mapping `m` not in `keys` and duplicate keys; fills
 * vals[i] with the value of keys[i] (first occurrence) or NULL. */
void parley__bot_read_keys(struct ctx *c, yaml_node_t *m, const char *const *keys,
                           yaml_node_t **vals, const char *where)
{
    for (int i = 0; keys[i]; i++)
        vals[i] = NULL;
    FOR_PAIRS(m, p)
    {
        yaml_node_t *k = parley__bot_node_at(c->doc, p->key);
        const char *ks = parley__bot_scalar(c, k, "a key");
        int i;
        if (!ks)
            continue;
        i = parley__bot_in_list(ks, keys);
        if (i < 0) {
            char expected[300];
            parley__bot_join(expected, sizeof(expected), keys);
            parley__bot_problem(c, k, "unknown key '%s' in %s (expected one of: %s)", ks, where,
                                expected);
        } else if (vals[i]) {
            parley__bot_problem(c, k, "duplicate key '%s' in %s", ks, where);
        } else {
            vals[i] = parley__bot_node_at(c->doc, p->value);
        }
    }
}

/* Reports a duplicate key within mapping `m` (for name-keyed tables). */
int parley__bot_dup_key(struct ctx *c, yaml_node_t *m, yaml_node_pair_t *upto, const char *name,
                        yaml_node_t *k, const char *what)
{
    FOR_PAIRS(m, p)
    {
        if (p == upto)
            break;
        const char *s = parley__bot_sval(parley__bot_node_at(c->doc, p->key));
        if (s && strcmp(s, name) == 0) {
            parley__bot_problem(c, k, "duplicate %s '%s'", what, name);
            return 1;
        }
    }
    return 0;
}

int parley__bot_read_number(struct ctx *c, yaml_node_t *n, const char *what, double min, double max,
                            double *out)
{
    const char *s = parley__bot_scalar(c, n, what);
    char *end;
    double v;
    if (!s)
        return 0;
    v = strtod(s, &end);
    if (end == s || *end || !(v >= min && v <= max)) {
        parley__bot_problem(c, n, "%s must be a number from %g to %g, not '%s'", what, min, max, s);
        return 0;
    }
    *out = v;
    return 1;
}

int parley__bot_valid_name(const char *s)
{
    if (!s || !*s)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

char *parley__bot_join_path(struct ctx *c, const char *rel)
{
    size_t dl = strlen(c->dir), n;
    char *p;
    while (dl > 1 && c->dir[dl - 1] == '/')
        dl--; /* "bots/carrier/" names the same folder */
    n = dl + strlen(rel) + 2;
    p = parley__malloc(n);
    if (!p) {
        c->nomem = 1;
        return NULL;
    }
    (void)snprintf(p, n, "%.*s/%s", (int)dl, c->dir, rel);
    return p;
}

/* ---- lookups ---------------------------------------------------------- */

struct lang *parley__bot_find_lang(struct ctx *c, const char *code)
{
    for (size_t i = 0; i < c->nlangs; i++)
        if (strcmp(c->langs[i].code, code) == 0)
            return &c->langs[i];
    return NULL;
}

long parley__bot_find_intent(struct ctx *c, const char *name)
{
    for (size_t i = 0; i < c->nintents; i++)
        if (strcmp(c->intents[i].name, name) == 0)
            return (long)i;
    return -1;
}

struct slot *parley__bot_find_slot(struct ctx *c, const char *name)
{
    for (size_t i = 0; i < c->nslots; i++)
        if (strcmp(c->slots[i].name, name) == 0)
            return &c->slots[i];
    return NULL;
}

struct action *parley__bot_find_action(struct ctx *c, const char *name)
{
    for (size_t i = 0; i < c->nactions; i++)
        if (strcmp(c->actions[i].name, name) == 0)
            return &c->actions[i];
    return NULL;
}

struct response *parley__bot_find_response(struct ctx *c, const char *key)
{
    for (size_t i = 0; i < c->nresponses; i++)
        if (strcmp(c->responses[i].key, key) == 0)
            return &c->responses[i];
    return NULL;
}

/* The value of `key` in mapping `m` of document `doc`, or NULL. */
yaml_node_t *parley__bot_map_get(yaml_document_t *doc, yaml_node_t *m, const char *key)
{
    if (!m || m->type != YAML_MAPPING_NODE)
        return NULL;
    FOR_PAIRS(m, p)
    {
        const char *s = parley__bot_sval(parley__bot_node_at(doc, p->key));
        if (s && strcmp(s, key) == 0)
            return parley__bot_node_at(doc, p->value);
    }
    return NULL;
}

/* Adds the fact names of operation `op` of `conn` to names[0..*n), once. */
void parley__bot_op_facts(const struct connector *conn, const char *op, const char **names,
                          size_t *n, size_t cap)
{
    size_t nf = parley_connect_def_fact_count(conn->def, op);
    for (size_t f = 0; f < nf; f++)
        parley__bot_provide(names, n, cap, parley_connect_def_fact_name(conn->def, op, f));
}

void parley__bot_provide(const char **names, size_t *n, size_t cap, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(names[i], name) == 0)
            return;
    if (*n < cap)
        names[(*n)++] = name;
}

int parley__bot_provided(const char *const *names, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(names[i]) == len && strncmp(names[i], name, len) == 0)
            return 1;
    return 0;
}
