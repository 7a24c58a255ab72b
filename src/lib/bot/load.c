/* Loads a bot folder's bot.yml (libyaml's document API, which keeps every
 * node's line and column) and checks the whole definition against itself,
 * its NLU example files and its connector definitions: unknown and
 * duplicate keys, languages without NLU files, intents without examples,
 * slots, actions against connector operations, flow steps and where they
 * lead, reachability, responses in every language and their placeholders.
 * Every problem goes to the report; checking goes on after each one. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "bot/internal.h"
#include "parley/connect.h"
#include "parley/nlu.h"

#define MAX_LANGS      16
#define MAX_INTENTS    512
#define MAX_SLOTS      128
#define MAX_CONNECTORS 8
#define MAX_ACTIONS    256
#define MAX_FLOWS      256
#define MAX_STEPS      128
#define MAX_EDGES      (MAX_STEPS * 8)
#define MAX_PROVIDED   512
#define MAX_RESPONSES  2048

/* Facts the verify_identity step provides once the customer is verified. */
static const char *const identity_facts[] = {"customer_id", "line_id", "full_name", NULL};

static const char *const entity_kinds[] = {
    "phone", "data_amount", "money", "date", "yes_no", "plan", "city", "text", NULL,
};

enum step_type { ST_ASK, ST_VERIFY, ST_CALL, ST_BRANCH, ST_CONFIRM, ST_SAY, ST_HANDOFF, ST_END };

static const char *const step_types[] = {
    "ask", "verify_identity", "call", "branch", "confirm", "say", "handoff", "end", NULL,
};

/* Keys each step type accepts besides id and type. */
static const char *const step_keys[][6] = {
    [ST_ASK] = {"slot", "prompt", "reprompt", "next", NULL},
    [ST_VERIFY] = {"next", "on_error", NULL},
    [ST_CALL] = {"action", "next", "on_error", NULL},
    [ST_BRANCH] = {"cases", "else", NULL},
    [ST_CONFIRM] = {"response", "yes", "no", NULL},
    [ST_SAY] = {"response", "next", NULL},
    [ST_HANDOFF] = {"response", NULL},
    [ST_END] = {"response", NULL},
};

struct named {
    const char *name;
    yaml_node_t *node; /* where it is declared (the key) */
    yaml_node_t *value;
};

struct lang {
    const char *code;
    yaml_node_t *node;
    const char *nlu_rel;
    yaml_node_t *nlu_node;
    char *nlu_path;
};

struct slot {
    const char *name;
    yaml_node_t *node;
};

struct connector {
    parley_connect_def *def; /* NULL when it failed to load */
    char *path;
    yaml_document_t doc; /* for parameter and fact names */
    int doc_ok;
};

struct action {
    const char *name;
    yaml_node_t *node;
    struct connector *conn; /* NULL: unresolved */
    yaml_node_t *op;        /* the operation's mapping in conn->doc */
};

struct response {
    const char *key;
    yaml_node_t *node;
    yaml_node_t *value;
    int used;
};

struct ctx {
    const char *dir;
    char *path; /* dir/bot.yml */
    yaml_document_t *doc;
    parley_bot_report *rep;
    int nomem;

    const char *name;
    double confidence, margin;
    struct lang langs[MAX_LANGS];
    size_t nlangs;
    struct named intents[MAX_INTENTS];
    size_t nintents;
    struct slot slots[MAX_SLOTS];
    size_t nslots;
    struct connector conns[MAX_CONNECTORS];
    size_t nconns;
    struct action actions[MAX_ACTIONS];
    size_t nactions;
    struct named flows[MAX_FLOWS];
    size_t nflows;
    const char *flow_intent[MAX_FLOWS];
    size_t flow_steps[MAX_FLOWS];
    struct response responses[MAX_RESPONSES];
    size_t nresponses;
    /* Every fact any action or verify_identity can provide, and every slot:
     * what a response no flow uses may name. */
    const char *global[MAX_PROVIDED];
    size_t nglobal;
};

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

static void problem(struct ctx *c, const yaml_node_t *n, const char *fmt, ...) PARLEY_PRINTF(3, 4);

/* A problem at node `n` of bot.yml. */
static void problem(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vproblem(c, c->path, n ? (unsigned long)n->start_mark.line + 1 : 1UL,
             n ? (unsigned long)n->start_mark.column + 1 : 1UL, fmt, ap);
    va_end(ap);
}

static void problem_at(struct ctx *c, const char *file, unsigned long line, unsigned long col,
                       const char *fmt, ...) PARLEY_PRINTF(5, 6);

static void problem_at(struct ctx *c, const char *file, unsigned long line, unsigned long col,
                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vproblem(c, file, line, col, fmt, ap);
    va_end(ap);
}

/* Turns a library message "FILE:LINE[:COLUMN]: what" about `file` into a
 * problem with that position; other messages become whole-file problems. */
static void problem_from_message(struct ctx *c, const char *file, const char *msg)
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
    problem_at(c, file, line, col, "%s", p);
}

/* ---- YAML helpers ----------------------------------------------------- */

static yaml_node_t *node_at(yaml_document_t *doc, int id)
{
    return yaml_document_get_node(doc, id);
}

#define FOR_PAIRS(node, p)                                                                         \
    for (yaml_node_pair_t *p = (node)->data.mapping.pairs.start;                                   \
         p < (node)->data.mapping.pairs.top; p++)
#define FOR_ITEMS(node, it)                                                                        \
    for (yaml_node_item_t *it = (node)->data.sequence.items.start;                                 \
         it < (node)->data.sequence.items.top; it++)

static const char *sval(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The scalar text of `n`, or NULL after reporting that `what` must be one. */
static const char *scalar(struct ctx *c, const yaml_node_t *n, const char *what)
{
    const char *s = sval(n);
    if (!s)
        problem(c, n, "%s must be a single value", what);
    else if (!*s) {
        problem(c, n, "%s must not be empty", what);
        return NULL;
    }
    return s;
}

static int is_kind(struct ctx *c, const yaml_node_t *n, yaml_node_type_t t, const char *what)
{
    if (n && n->type == t)
        return 1;
    problem(c, n, "%s must be %s", what,
            t == YAML_MAPPING_NODE    ? "a mapping (key: value)"
            : t == YAML_SEQUENCE_NODE ? "a list"
                                      : "a single value");
    return 0;
}

static int in_list(const char *s, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return i;
    return -1;
}

static void join(char *out, size_t size, const char *const *list)
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
static void read_keys(struct ctx *c, yaml_node_t *m, const char *const *keys, yaml_node_t **vals,
                      const char *where)
{
    for (int i = 0; keys[i]; i++)
        vals[i] = NULL;
    FOR_PAIRS(m, p)
    {
        yaml_node_t *k = node_at(c->doc, p->key);
        const char *ks = scalar(c, k, "a key");
        int i;
        if (!ks)
            continue;
        i = in_list(ks, keys);
        if (i < 0) {
            char expected[300];
            join(expected, sizeof(expected), keys);
            problem(c, k, "unknown key '%s' in %s (expected one of: %s)", ks, where, expected);
        } else if (vals[i]) {
            problem(c, k, "duplicate key '%s' in %s", ks, where);
        } else {
            vals[i] = node_at(c->doc, p->value);
        }
    }
}

/* Reports a duplicate key within mapping `m` (for name-keyed tables). */
static int dup_key(struct ctx *c, yaml_node_t *m, yaml_node_pair_t *upto, const char *name,
                   yaml_node_t *k, const char *what)
{
    FOR_PAIRS(m, p)
    {
        if (p == upto)
            break;
        const char *s = sval(node_at(c->doc, p->key));
        if (s && strcmp(s, name) == 0) {
            problem(c, k, "duplicate %s '%s'", what, name);
            return 1;
        }
    }
    return 0;
}

static int read_number(struct ctx *c, yaml_node_t *n, const char *what, double min, double max,
                       double *out)
{
    const char *s = scalar(c, n, what);
    char *end;
    double v;
    if (!s)
        return 0;
    v = strtod(s, &end);
    if (end == s || *end || !(v >= min && v <= max)) {
        problem(c, n, "%s must be a number from %g to %g, not '%s'", what, min, max, s);
        return 0;
    }
    *out = v;
    return 1;
}

static int valid_name(const char *s)
{
    if (!s || !*s)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

static char *join_path(struct ctx *c, const char *rel)
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

static struct lang *find_lang(struct ctx *c, const char *code)
{
    for (size_t i = 0; i < c->nlangs; i++)
        if (strcmp(c->langs[i].code, code) == 0)
            return &c->langs[i];
    return NULL;
}

static long find_intent(struct ctx *c, const char *name)
{
    for (size_t i = 0; i < c->nintents; i++)
        if (strcmp(c->intents[i].name, name) == 0)
            return (long)i;
    return -1;
}

static struct slot *find_slot(struct ctx *c, const char *name)
{
    for (size_t i = 0; i < c->nslots; i++)
        if (strcmp(c->slots[i].name, name) == 0)
            return &c->slots[i];
    return NULL;
}

static struct action *find_action(struct ctx *c, const char *name)
{
    for (size_t i = 0; i < c->nactions; i++)
        if (strcmp(c->actions[i].name, name) == 0)
            return &c->actions[i];
    return NULL;
}

static struct response *find_response(struct ctx *c, const char *key)
{
    for (size_t i = 0; i < c->nresponses; i++)
        if (strcmp(c->responses[i].key, key) == 0)
            return &c->responses[i];
    return NULL;
}

/* The value of `key` in mapping `m` of document `doc`, or NULL. */
static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *m, const char *key)
{
    if (!m || m->type != YAML_MAPPING_NODE)
        return NULL;
    FOR_PAIRS(m, p)
    {
        const char *s = sval(node_at(doc, p->key));
        if (s && strcmp(s, key) == 0)
            return node_at(doc, p->value);
    }
    return NULL;
}

/* The operation mapping `op` in connector `conn`'s YAML, or NULL. */
static yaml_node_t *conn_op(struct connector *conn, const char *op)
{
    if (!conn->doc_ok)
        return NULL;
    return map_get(&conn->doc,
                   map_get(&conn->doc, yaml_document_get_root_node(&conn->doc), "operations"), op);
}

/* Calls fn(name) for each fact name of operation `op` of `conn`. */
static void op_facts(struct connector *conn, yaml_node_t *op, const char **names, size_t *n,
                     size_t cap)
{
    yaml_node_t *facts = map_get(&conn->doc, op, "facts");
    if (!facts || facts->type != YAML_SEQUENCE_NODE)
        return;
    FOR_ITEMS(facts, it)
    {
        const char *name = sval(map_get(&conn->doc, node_at(&conn->doc, *it), "name"));
        int dup = 0;
        if (!name)
            continue;
        for (size_t i = 0; i < *n; i++)
            dup |= strcmp(names[i], name) == 0;
        if (!dup && *n < cap)
            names[(*n)++] = name;
    }
}

static void provide(const char **names, size_t *n, size_t cap, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(names[i], name) == 0)
            return;
    if (*n < cap)
        names[(*n)++] = name;
}

static int provided(const char *const *names, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(names[i]) == len && strncmp(names[i], name, len) == 0)
            return 1;
    return 0;
}

/* ---- top-level sections ----------------------------------------------- */

static void read_languages(struct ctx *c, yaml_node_t *n)
{
    if (!n) {
        problem(c, yaml_document_get_root_node(c->doc),
                "missing 'languages' (expected a list of language codes such as [en, fr])");
        return;
    }
    if (!is_kind(c, n, YAML_SEQUENCE_NODE, "'languages'"))
        return;
    FOR_ITEMS(n, it)
    {
        yaml_node_t *ln = node_at(c->doc, *it);
        const char *code = scalar(c, ln, "a language");
        size_t len;
        if (!code)
            continue;
        len = strlen(code);
        if (len < 2 || len > 3 || strspn(code, "abcdefghijklmnopqrstuvwxyz") != len) {
            problem(c, ln, "bad language code '%s' (expected two or three lowercase letters)",
                    code);
            continue;
        }
        if (find_lang(c, code)) {
            problem(c, ln, "duplicate language '%s'", code);
            continue;
        }
        if (c->nlangs == MAX_LANGS) {
            problem(c, ln, "too many languages (at most %d)", MAX_LANGS);
            break;
        }
        c->langs[c->nlangs].code = code;
        c->langs[c->nlangs++].node = ln;
    }
    if (c->nlangs == 0 && n->data.sequence.items.start == n->data.sequence.items.top)
        problem(c, n, "'languages' is empty (expected at least one language)");
}

static void read_nlu(struct ctx *c, yaml_node_t *n)
{
    static const char *const keys[] = {"files", "thresholds", NULL};
    static const char *const tkeys[] = {"confidence", "ambiguity_margin", NULL};
    yaml_node_t *v[3], *t[3];
    if (!n) {
        problem(c, yaml_document_get_root_node(c->doc),
                "missing 'nlu' (expected 'files' naming an example file per language)");
        return;
    }
    if (!is_kind(c, n, YAML_MAPPING_NODE, "'nlu'"))
        return;
    read_keys(c, n, keys, v, "'nlu'");
    if (v[1] && is_kind(c, v[1], YAML_MAPPING_NODE, "'nlu.thresholds'")) {
        read_keys(c, v[1], tkeys, t, "'nlu.thresholds'");
        if (t[0])
            (void)read_number(c, t[0], "'confidence'", 0, 1, &c->confidence);
        if (t[1])
            (void)read_number(c, t[1], "'ambiguity_margin'", 0, 1, &c->margin);
    }
    if (!v[0]) {
        problem(c, n, "missing 'files' in 'nlu' (expected language: path, e.g. en: nlu/en.yml)");
        return;
    }
    if (!is_kind(c, v[0], YAML_MAPPING_NODE, "'nlu.files'"))
        return;
    FOR_PAIRS(v[0], p)
    {
        yaml_node_t *k = node_at(c->doc, p->key), *val = node_at(c->doc, p->value);
        const char *code = scalar(c, k, "a language"), *rel;
        struct lang *l;
        if (!code)
            continue;
        l = find_lang(c, code);
        if (!l) {
            problem(c, k, "nlu file for '%s', which is not one of the bot's languages", code);
            continue;
        }
        if (l->nlu_rel) {
            problem(c, k, "duplicate nlu file for '%s'", code);
            continue;
        }
        rel = scalar(c, val, "an nlu file path");
        if (!rel)
            continue;
        l->nlu_rel = rel;
        l->nlu_node = val;
    }
}

static void read_intents(struct ctx *c, yaml_node_t *n)
{
    if (!n) {
        problem(c, yaml_document_get_root_node(c->doc),
                "missing 'intents' (expected the list of intent names)");
        return;
    }
    if (!is_kind(c, n, YAML_SEQUENCE_NODE, "'intents'"))
        return;
    FOR_ITEMS(n, it)
    {
        yaml_node_t *in = node_at(c->doc, *it);
        const char *name = scalar(c, in, "an intent");
        if (!name)
            continue;
        if (!valid_name(name)) {
            problem(c, in, "bad intent name '%s' (expected lowercase letters, digits, _ and -)",
                    name);
            continue;
        }
        if (find_intent(c, name) >= 0) {
            problem(c, in, "duplicate intent '%s'", name);
            continue;
        }
        if (c->nintents == MAX_INTENTS) {
            problem(c, in, "too many intents (at most %d)", MAX_INTENTS);
            break;
        }
        c->intents[c->nintents].name = name;
        c->intents[c->nintents++].node = in;
    }
}

/* Reads each language's NLU file: every example's intent must be declared,
 * and every declared intent must have examples in every language. */
static void check_nlu_files(struct ctx *c)
{
    unsigned char *have = parley__calloc(MAX_INTENTS, MAX_LANGS);
    if (!have) {
        c->nomem = 1;
        return;
    }
    for (size_t li = 0; li < c->nlangs; li++) {
        struct lang *l = &c->langs[li];
        parley_nlu_data *d = NULL;
        parley_error e = PARLEY_ERROR_INIT;
        char unknown[32][128]; /* labels are borrowed: keep copies */
        size_t nunknown = 0;
        if (!l->nlu_rel) {
            problem(c, l->node,
                    "language '%s' has no nlu file (expected 'nlu.files.%s: path' to its "
                    "examples)",
                    l->code, l->code);
            continue;
        }
        l->nlu_path = join_path(c, l->nlu_rel);
        if (!l->nlu_path)
            break;
        if (parley_nlu_data_open(l->nlu_path, PARLEY_NLU_FORMAT_RASA, 0, &d, &e) != PARLEY_OK) {
            if (e.code == PARLEY_ERR_NOMEM)
                c->nomem = 1;
            else if (e.code == PARLEY_ERR_IO)
                problem(c, l->nlu_node, "cannot read nlu file '%s' for '%s': %s", l->nlu_rel,
                        l->code, e.msg);
            else
                problem_from_message(c, l->nlu_path, e.msg);
            continue;
        }
        for (;;) {
            parley_nlu_example ex;
            int has = 0;
            parley_err rc = parley_nlu_data_next(d, &ex, &has, &e);
            long ii;
            if (rc != PARLEY_OK) {
                problem_from_message(c, l->nlu_path, e.msg);
                if (rc != PARLEY_ERR_FORMAT && rc != PARLEY_ERR_UTF8)
                    break;
                continue;
            }
            if (!has)
                break;
            ii = find_intent(c, ex.label);
            if (ii >= 0) {
                have[(size_t)ii * MAX_LANGS + li] = 1;
                continue;
            }
            if (nunknown < 32) {
                int seen = 0;
                for (size_t k = 0; k < nunknown && !seen; k++)
                    seen = strncmp(unknown[k], ex.label, sizeof(unknown[k]) - 1) == 0;
                if (seen)
                    continue;
                problem_at(c, l->nlu_path, ex.line, 1,
                           "intent '%s' has examples but is not declared under 'intents' in "
                           "bot.yml",
                           ex.label);
                (void)snprintf(unknown[nunknown++], sizeof(unknown[0]), "%s", ex.label);
            }
        }
        parley_nlu_data_free(d);
        for (size_t ii = 0; ii < c->nintents; ii++)
            if (!have[ii * MAX_LANGS + li])
                problem(c, c->intents[ii].node,
                        "intent '%s' has no examples in '%s' (expected some for each language)",
                        c->intents[ii].name, l->nlu_rel);
    }
    parley__free(have);
}

static void read_slots(struct ctx *c, yaml_node_t *n)
{
    static const char *const keys[] = {"entity", "min", "max", "unit", NULL};
    if (!n)
        return;
    if (!is_kind(c, n, YAML_MAPPING_NODE, "'slots'"))
        return;
    FOR_PAIRS(n, p)
    {
        yaml_node_t *k = node_at(c->doc, p->key), *v = node_at(c->doc, p->value), *f[5];
        const char *name = scalar(c, k, "a slot name"), *kind = NULL;
        double min = 0, max = 0;
        int has_min = 0, has_max = 0, numeric;
        if (!name || dup_key(c, n, p, name, k, "slot"))
            continue;
        if (c->nslots == MAX_SLOTS) {
            problem(c, k, "too many slots (at most %d)", MAX_SLOTS);
            break;
        }
        c->slots[c->nslots].name = name;
        c->slots[c->nslots++].node = k;
        if (!is_kind(c, v, YAML_MAPPING_NODE, "a slot"))
            continue;
        read_keys(c, v, keys, f, "a slot");
        if (!f[0]) {
            char expected[200];
            join(expected, sizeof(expected), entity_kinds);
            problem(c, v, "slot '%s' has no 'entity' (expected one of: %s)", name, expected);
            continue;
        }
        kind = scalar(c, f[0], "'entity'");
        if (!kind)
            continue;
        if (in_list(kind, entity_kinds) < 0) {
            char expected[200];
            join(expected, sizeof(expected), entity_kinds);
            problem(c, f[0], "unknown entity kind '%s' (expected one of: %s)", kind, expected);
            continue;
        }
        numeric = strcmp(kind, "data_amount") == 0 || strcmp(kind, "money") == 0;
        if ((f[1] || f[2]) && !numeric) {
            problem(c, f[1] ? f[1] : f[2],
                    "'min' and 'max' apply to data_amount and money slots, not %s", kind);
            continue;
        }
        if (f[1])
            has_min = read_number(c, f[1], "'min'", -1e12, 1e12, &min);
        if (f[2])
            has_max = read_number(c, f[2], "'max'", -1e12, 1e12, &max);
        if (has_min && has_max && min > max)
            problem(c, f[2], "'max' (%g) is below 'min' (%g)", max, min);
        if (f[3]) {
            const char *u = scalar(c, f[3], "'unit'");
            if (u && strcmp(kind, "data_amount") != 0)
                problem(c, f[3], "'unit' applies to data_amount slots, not %s", kind);
            else if (u && strcmp(u, "mb") != 0 && strcmp(u, "gb") != 0)
                problem(c, f[3], "unknown unit '%s' (expected mb or gb)", u);
        }
    }
}

static void read_connectors(struct ctx *c, yaml_node_t *n)
{
    if (!n)
        return;
    if (!is_kind(c, n, YAML_SEQUENCE_NODE, "'connectors'"))
        return;
    FOR_ITEMS(n, it)
    {
        yaml_node_t *cn = node_at(c->doc, *it);
        const char *rel = scalar(c, cn, "a connector file");
        struct connector *conn;
        parley_error e = PARLEY_ERROR_INIT;
        char *buf = NULL;
        size_t len = 0;
        if (!rel)
            continue;
        if (c->nconns == MAX_CONNECTORS) {
            problem(c, cn, "too many connectors (at most %d)", MAX_CONNECTORS);
            break;
        }
        conn = &c->conns[c->nconns++];
        conn->path = join_path(c, rel);
        if (!conn->path)
            return;
        if (parley_connect_def_load(conn->path, &conn->def, &e) != PARLEY_OK) {
            if (e.code == PARLEY_ERR_NOMEM)
                c->nomem = 1;
            else if (e.code == PARLEY_ERR_IO)
                problem(c, cn, "cannot read connector '%s': %s", rel, e.msg);
            else
                problem_from_message(c, conn->path, e.msg);
            continue;
        }
        for (size_t i = 0; i + 1 < c->nconns; i++)
            if (c->conns[i].def && strcmp(parley_connect_def_name(c->conns[i].def),
                                          parley_connect_def_name(conn->def)) == 0)
                problem(c, cn, "duplicate connector name '%s'", parley_connect_def_name(conn->def));
        /* The definition is valid, so this second read only fails for
         * memory; it gives the operations' parameter and fact names. */
        if (parley__read_file(conn->path, PARLEY_CONNECT_MAX_DEF, &buf, &len, &e) == PARLEY_OK) {
            yaml_parser_t parser;
            if (yaml_parser_initialize(&parser)) {
                yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
                conn->doc_ok = yaml_parser_load(&parser, &conn->doc) != 0;
                yaml_parser_delete(&parser);
            }
            parley__free(buf);
        }
        if (!conn->doc_ok)
            c->nomem = 1;
    }
}

static struct connector *find_connector(struct ctx *c, const char *name)
{
    for (size_t i = 0; i < c->nconns; i++)
        if (c->conns[i].def && strcmp(parley_connect_def_name(c->conns[i].def), name) == 0)
            return &c->conns[i];
    return NULL;
}

static int fact_known(struct ctx *c, const char *name)
{
    return provided(c->global, c->nglobal, name, strlen(name));
}

static void check_action_params(struct ctx *c, struct action *a, const char *opname,
                                yaml_node_t *params)
{
    yaml_node_t *decl = map_get(&a->conn->doc, a->op, "params");
    if (params && is_kind(c, params, YAML_MAPPING_NODE, "'params'")) {
        FOR_PAIRS(params, p)
        {
            yaml_node_t *k = node_at(c->doc, p->key), *v = node_at(c->doc, p->value);
            const char *pn = scalar(c, k, "a parameter name"), *src;
            if (!pn)
                continue;
            if (!map_get(&a->conn->doc, decl, pn))
                problem(c, k, "operation '%s' has no parameter '%s'", opname, pn);
            src = scalar(c, v, "a parameter value");
            if (!src)
                continue;
            if (strncmp(src, "slot.", 5) == 0 && !find_slot(c, src + 5))
                problem(c, v, "unknown slot '%s' (expected one declared under 'slots')", src + 5);
            else if (strncmp(src, "fact.", 5) == 0 && !fact_known(c, src + 5))
                problem(c, v,
                        "unknown fact '%s' (expected a fact of a connector operation or of "
                        "verify_identity)",
                        src + 5);
        }
    }
    if (decl && decl->type == YAML_MAPPING_NODE) {
        FOR_PAIRS(decl, p)
        {
            const char *pn = sval(node_at(&a->conn->doc, p->key));
            int mapped = 0;
            if (!pn)
                continue;
            if (params && params->type == YAML_MAPPING_NODE)
                mapped = map_get(c->doc, params, pn) != NULL;
            if (!mapped)
                problem(c, a->node,
                        "action '%s' does not map parameter '%s' of operation '%s' (expected "
                        "'params: {%s: slot.NAME | fact.NAME | value}')",
                        a->name, pn, opname, pn);
        }
    }
}

static void read_actions(struct ctx *c, yaml_node_t *n)
{
    static const char *const keys[] = {"connector", "operation", "params", NULL};
    /* Facts every action may provide, for parameter mapping checks. */
    for (int i = 0; identity_facts[i]; i++)
        provide(c->global, &c->nglobal, MAX_PROVIDED, identity_facts[i]);
    for (size_t i = 0; i < c->nslots; i++)
        provide(c->global, &c->nglobal, MAX_PROVIDED, c->slots[i].name);
    for (size_t i = 0; i < c->nconns; i++) {
        yaml_node_t *ops;
        if (!c->conns[i].def || !c->conns[i].doc_ok)
            continue;
        ops =
            map_get(&c->conns[i].doc, yaml_document_get_root_node(&c->conns[i].doc), "operations");
        if (ops && ops->type == YAML_MAPPING_NODE)
            FOR_PAIRS(ops, p)
        op_facts(&c->conns[i], node_at(&c->conns[i].doc, p->value), c->global, &c->nglobal,
                 MAX_PROVIDED);
    }
    if (!n)
        return;
    if (!is_kind(c, n, YAML_MAPPING_NODE, "'actions'"))
        return;
    FOR_PAIRS(n, p)
    {
        yaml_node_t *k = node_at(c->doc, p->key), *v = node_at(c->doc, p->value), *f[4];
        const char *name = scalar(c, k, "an action name"), *cname = NULL, *opname;
        struct action *a;
        size_t nops;
        int found = 0;
        if (!name || dup_key(c, n, p, name, k, "action"))
            continue;
        if (c->nactions == MAX_ACTIONS) {
            problem(c, k, "too many actions (at most %d)", MAX_ACTIONS);
            break;
        }
        a = &c->actions[c->nactions++];
        a->name = name;
        a->node = k;
        if (!is_kind(c, v, YAML_MAPPING_NODE, "an action"))
            continue;
        read_keys(c, v, keys, f, "an action");
        if (f[0]) {
            cname = scalar(c, f[0], "'connector'");
            if (!cname)
                continue;
            a->conn = find_connector(c, cname);
            if (!a->conn) {
                problem(c, f[0],
                        "unknown connector '%s' (expected the name of a file under "
                        "'connectors')",
                        cname);
                continue;
            }
        } else if (c->nconns == 1) {
            a->conn = &c->conns[0];
        } else {
            problem(c, v, "action '%s' has no 'connector' (expected one when there are %zu)", name,
                    c->nconns);
            continue;
        }
        if (!a->conn->def) {
            a->conn = NULL; /* its own problem is reported */
            continue;
        }
        if (!f[1]) {
            problem(c, v, "action '%s' has no 'operation' (expected an operation of '%s')", name,
                    parley_connect_def_name(a->conn->def));
            a->conn = NULL;
            continue;
        }
        opname = scalar(c, f[1], "'operation'");
        if (!opname) {
            a->conn = NULL;
            continue;
        }
        nops = parley_connect_def_op_count(a->conn->def);
        for (size_t i = 0; i < nops && !found; i++)
            found = strcmp(parley_connect_def_op_name(a->conn->def, i), opname) == 0;
        if (!found) {
            problem(c, f[1], "connector '%s' has no operation '%s'",
                    parley_connect_def_name(a->conn->def), opname);
            a->conn = NULL;
            continue;
        }
        a->op = conn_op(a->conn, opname);
        if (!a->op) {
            a->conn = NULL;
            continue;
        }
        check_action_params(c, a, opname, f[2]);
    }
}

static void read_responses(struct ctx *c, yaml_node_t *n)
{
    if (!n)
        return;
    if (!is_kind(c, n, YAML_MAPPING_NODE, "'responses'"))
        return;
    FOR_PAIRS(n, p)
    {
        yaml_node_t *k = node_at(c->doc, p->key), *v = node_at(c->doc, p->value);
        const char *key = scalar(c, k, "a response key");
        if (!key || dup_key(c, n, p, key, k, "response"))
            continue;
        if (c->nresponses == MAX_RESPONSES) {
            problem(c, k, "too many responses (at most %d)", MAX_RESPONSES);
            break;
        }
        c->responses[c->nresponses].key = key;
        c->responses[c->nresponses].node = k;
        c->responses[c->nresponses++].value = v;
        if (!is_kind(c, v, YAML_MAPPING_NODE, "a response (language: text)"))
            continue;
        FOR_PAIRS(v, q)
        {
            yaml_node_t *lk = node_at(c->doc, q->key);
            const char *code = scalar(c, lk, "a language");
            if (!code)
                continue;
            if (!find_lang(c, code))
                problem(c, lk,
                        "response '%s' has text in '%s', which is not one of the bot's "
                        "languages",
                        key, code);
            else if (dup_key(c, v, q, code, lk, "language in a response"))
                continue;
            (void)scalar(c, node_at(c->doc, q->value), "a response text");
        }
        for (size_t i = 0; i < c->nlangs; i++)
            if (!map_get(c->doc, v, c->langs[i].code))
                problem(c, k,
                        "response '%s' has no text in '%s' (expected one for each of the "
                        "bot's languages)",
                        key, c->langs[i].code);
    }
}

/* Checks the {placeholders} of every text of response `r` against the
 * `n` names at `names`; `flow` names the flow for the message, or NULL. */
static void check_placeholders(struct ctx *c, struct response *r, const char *const *names,
                               size_t n, const char *flow)
{
    if (!r->value || r->value->type != YAML_MAPPING_NODE)
        return;
    FOR_PAIRS(r->value, q)
    {
        yaml_node_t *tn = node_at(c->doc, q->value);
        const char *lang = sval(node_at(c->doc, q->key)), *t = sval(tn);
        if (!lang || !t)
            continue;
        for (const char *s = strchr(t, '{'); s; s = strchr(s + 1, '{')) {
            const char *e = strchr(s + 1, '}');
            size_t len;
            if (!e) {
                problem(c, tn, "response '%s' (%s) has an unclosed '{' (expected {name})", r->key,
                        lang);
                break;
            }
            len = (size_t)(e - s - 1);
            if (provided(names, n, s + 1, len))
                continue;
            if (flow)
                problem(c, tn,
                        "placeholder '{%.*s}' in response '%s' (%s) is not provided in flow '%s' "
                        "(expected a slot it asks or a fact of a step it runs)",
                        (int)len, s + 1, r->key, lang, flow);
            else
                problem(c, tn,
                        "placeholder '{%.*s}' in response '%s' (%s) is no slot or fact (expected "
                        "a slot or a fact of a connector operation)",
                        (int)len, s + 1, r->key, lang);
        }
    }
}

/* ---- flows ------------------------------------------------------------ */

struct step {
    const char *id;
    yaml_node_t *node;
    int type; /* -1: unknown */
    yaml_node_t *f[6];
};

struct edge {
    size_t from;
    const char *to; /* NULL: the next step in the list */
    yaml_node_t *node;
};

struct flow_state {
    struct step steps[MAX_STEPS];
    size_t nsteps;
    struct edge edges[MAX_EDGES];
    size_t nedges;
    const char *names[MAX_PROVIDED];
    size_t nnames;
    struct {
        const char *key;
        yaml_node_t *node;
    } refs[MAX_STEPS * 2];
    size_t nrefs;
};

static long step_index(const struct flow_state *fs, const char *id)
{
    for (size_t i = 0; i < fs->nsteps; i++)
        if (fs->steps[i].id && strcmp(fs->steps[i].id, id) == 0)
            return (long)i;
    return -1;
}

static void add_edge(struct ctx *c, struct flow_state *fs, size_t from, yaml_node_t *n,
                     const char *what)
{
    const char *to = NULL;
    if (n) {
        to = scalar(c, n, what);
        if (!to)
            return;
    }
    if (fs->nedges < MAX_EDGES) {
        fs->edges[fs->nedges].from = from;
        fs->edges[fs->nedges].to = to;
        fs->edges[fs->nedges++].node = n;
    }
}

static void add_ref(struct ctx *c, struct flow_state *fs, yaml_node_t *n, const char *what)
{
    const char *key = scalar(c, n, what);
    if (key && fs->nrefs < MAX_STEPS * 2) {
        fs->refs[fs->nrefs].key = key;
        fs->refs[fs->nrefs++].node = n;
    }
}

/* First pass over one step: id, type, keys; what it provides. */
static void read_step(struct ctx *c, struct flow_state *fs, yaml_node_t *sn)
{
    static const char *const base[] = {"id", "type", NULL};
    struct step *st = &fs->steps[fs->nsteps++];
    yaml_node_t *idn = NULL, *typen = NULL;
    const char *type;
    st->node = sn;
    st->type = -1;
    if (!is_kind(c, sn, YAML_MAPPING_NODE, "a step"))
        return;
    idn = map_get(c->doc, sn, "id");
    typen = map_get(c->doc, sn, "type");
    if (!idn)
        problem(c, sn, "step has no 'id' (expected a name other steps can lead to)");
    else if ((st->id = scalar(c, idn, "'id'")) != NULL) {
        for (size_t i = 0; i + 1 < fs->nsteps; i++)
            if (fs->steps[i].id && strcmp(fs->steps[i].id, st->id) == 0) {
                problem(c, idn, "duplicate step id '%s' (first at line %lu)", st->id,
                        (unsigned long)fs->steps[i].node->start_mark.line + 1);
                break;
            }
    }
    if (!typen) {
        char expected[200];
        join(expected, sizeof(expected), step_types);
        problem(c, sn, "step has no 'type' (expected one of: %s)", expected);
        return;
    }
    type = scalar(c, typen, "'type'");
    if (!type)
        return;
    st->type = in_list(type, step_types);
    if (st->type < 0) {
        char expected[200];
        join(expected, sizeof(expected), step_types);
        problem(c, typen, "unknown step type '%s' (expected one of: %s)", type, expected);
        return;
    }
    {
        const char *keys[10];
        yaml_node_t *vals[10];
        size_t nk = 0;
        for (int i = 0; base[i]; i++)
            keys[nk++] = base[i];
        for (int i = 0; step_keys[st->type][i]; i++)
            keys[nk++] = step_keys[st->type][i];
        keys[nk] = NULL;
        read_keys(c, sn, keys, vals, "a step of this type");
        for (size_t i = 2; i < nk && i - 2 < 6; i++)
            st->f[i - 2] = vals[i];
    }
    if (st->type == ST_ASK && st->f[0]) {
        const char *slot = scalar(c, st->f[0], "'slot'");
        if (slot) {
            if (!find_slot(c, slot))
                problem(c, st->f[0], "unknown slot '%s' (expected one declared under 'slots')",
                        slot);
            else
                provide(fs->names, &fs->nnames, MAX_PROVIDED, slot);
        }
    } else if (st->type == ST_VERIFY) {
        for (int i = 0; identity_facts[i]; i++)
            provide(fs->names, &fs->nnames, MAX_PROVIDED, identity_facts[i]);
    } else if (st->type == ST_CALL && st->f[0]) {
        const char *an = scalar(c, st->f[0], "'action'");
        struct action *a = an ? find_action(c, an) : NULL;
        if (an && !a)
            problem(c, st->f[0], "unknown action '%s' (expected one declared under 'actions')", an);
        else if (a && a->conn)
            op_facts(a->conn, a->op, fs->names, &fs->nnames, MAX_PROVIDED);
    }
}

static void require(struct ctx *c, const struct step *st, int i, const char *key)
{
    if (!st->f[i])
        problem(c, st->node, "%s step '%s' has no '%s'", step_types[st->type],
                st->id ? st->id : "?", key);
}

/* Second pass: where the step leads, what it names. */
static void link_step(struct ctx *c, struct flow_state *fs, size_t i)
{
    struct step *st = &fs->steps[i];
    switch (st->type) {
    case ST_ASK:
        require(c, st, 0, "slot");
        require(c, st, 1, "prompt");
        if (st->f[1])
            add_ref(c, fs, st->f[1], "'prompt'");
        if (st->f[2])
            add_ref(c, fs, st->f[2], "'reprompt'");
        add_edge(c, fs, i, st->f[3], "'next'");
        break;
    case ST_VERIFY:
        add_edge(c, fs, i, st->f[0], "'next'");
        if (st->f[1])
            add_edge(c, fs, i, st->f[1], "'on_error'");
        break;
    case ST_CALL:
        require(c, st, 0, "action");
        add_edge(c, fs, i, st->f[1], "'next'");
        if (st->f[2])
            add_edge(c, fs, i, st->f[2], "'on_error'");
        break;
    case ST_BRANCH: {
        static const char *const ckeys[] = {"slot",  "fact", "equals", "below",
                                            "above", "goto", NULL};
        yaml_node_t *cases = st->f[0];
        require(c, st, 0, "cases");
        if (cases && is_kind(c, cases, YAML_SEQUENCE_NODE, "'cases'")) {
            FOR_ITEMS(cases, it)
            {
                yaml_node_t *cn = node_at(c->doc, *it), *v[7];
                const char *subject;
                if (!is_kind(c, cn, YAML_MAPPING_NODE, "a case"))
                    continue;
                read_keys(c, cn, ckeys, v, "a branch case");
                if (!v[0] == !v[1]) {
                    problem(c, cn, "a case needs exactly one of 'slot' or 'fact'");
                } else if ((subject = scalar(c, v[0] ? v[0] : v[1], "a case subject")) != NULL &&
                           !provided(fs->names, fs->nnames, subject, strlen(subject))) {
                    problem(c, v[0] ? v[0] : v[1],
                            "%s '%s' is not provided in this flow (expected a slot it asks or a "
                            "fact of a step it runs)",
                            v[0] ? "slot" : "fact", subject);
                }
                if ((v[2] != NULL) + (v[3] != NULL) + (v[4] != NULL) != 1)
                    problem(c, cn, "a case needs exactly one of 'equals', 'below' or 'above'");
                if (!v[5])
                    problem(c, cn, "a case has no 'goto' (expected a step id)");
                else
                    add_edge(c, fs, i, v[5], "'goto'");
            }
        }
        add_edge(c, fs, i, st->f[1], "'else'");
        break;
    }
    case ST_CONFIRM:
        require(c, st, 0, "response");
        require(c, st, 1, "yes");
        require(c, st, 2, "no");
        if (st->f[0])
            add_ref(c, fs, st->f[0], "'response'");
        if (st->f[1])
            add_edge(c, fs, i, st->f[1], "'yes'");
        if (st->f[2])
            add_edge(c, fs, i, st->f[2], "'no'");
        break;
    case ST_SAY:
        require(c, st, 0, "response");
        if (st->f[0])
            add_ref(c, fs, st->f[0], "'response'");
        add_edge(c, fs, i, st->f[1], "'next'");
        break;
    case ST_HANDOFF:
    case ST_END:
        if (st->f[0])
            add_ref(c, fs, st->f[0], "'response'");
        break;
    default:
        break;
    }
}

static void check_flow(struct ctx *c, const char *fname, yaml_node_t *steps, size_t *nsteps)
{
    struct flow_state *fs = parley__calloc(1, sizeof(*fs));
    long queue[MAX_STEPS];
    unsigned char seen[MAX_STEPS] = {0};
    size_t qh = 0, qt = 0;
    if (!fs) {
        c->nomem = 1;
        return;
    }
    FOR_ITEMS(steps, it)
    {
        if (fs->nsteps == MAX_STEPS) {
            problem(c, node_at(c->doc, *it), "too many steps (at most %d)", MAX_STEPS);
            break;
        }
        read_step(c, fs, node_at(c->doc, *it));
    }
    *nsteps = fs->nsteps;
    for (size_t i = 0; i < fs->nsteps; i++)
        link_step(c, fs, i);
    /* Targets exist; then everything must be reachable from the first step. */
    for (size_t e = 0; e < fs->nedges; e++)
        if (fs->edges[e].to && step_index(fs, fs->edges[e].to) < 0)
            problem(c, fs->edges[e].node, "unknown step '%s' in flow '%s' (expected a step id)",
                    fs->edges[e].to, fname);
    if (fs->nsteps) {
        queue[qt++] = 0;
        seen[0] = 1;
    }
    while (qh < qt) {
        size_t from = (size_t)queue[qh++];
        for (size_t e = 0; e < fs->nedges; e++) {
            long to;
            if (fs->edges[e].from != from)
                continue;
            to = fs->edges[e].to         ? step_index(fs, fs->edges[e].to)
                 : from + 1 < fs->nsteps ? (long)from + 1
                                         : -1;
            if (to >= 0 && !seen[to]) {
                seen[to] = 1;
                queue[qt++] = to;
            }
        }
    }
    for (size_t i = 0; i < fs->nsteps; i++)
        if (!seen[i])
            problem(c, fs->steps[i].node,
                    "step '%s' in flow '%s' is unreachable (no step leads to it)",
                    fs->steps[i].id ? fs->steps[i].id : "?", fname);
    for (size_t r = 0; r < fs->nrefs; r++) {
        struct response *resp = find_response(c, fs->refs[r].key);
        if (!resp) {
            problem(c, fs->refs[r].node,
                    "unknown response '%s' (expected a key declared under 'responses')",
                    fs->refs[r].key);
            continue;
        }
        if (!resp->used)
            check_placeholders(c, resp, fs->names, fs->nnames, fname);
        resp->used = 1;
    }
    parley__free(fs);
}

static void read_flows(struct ctx *c, yaml_node_t *n)
{
    static const char *const keys[] = {"intent", "description", "steps", NULL};
    if (!n)
        return;
    if (!is_kind(c, n, YAML_MAPPING_NODE, "'flows'"))
        return;
    FOR_PAIRS(n, p)
    {
        yaml_node_t *k = node_at(c->doc, p->key), *v = node_at(c->doc, p->value), *f[3];
        const char *name = scalar(c, k, "a flow name"), *intent;
        size_t fi;
        if (!name || dup_key(c, n, p, name, k, "flow"))
            continue;
        if (c->nflows == MAX_FLOWS) {
            problem(c, k, "too many flows (at most %d)", MAX_FLOWS);
            break;
        }
        fi = c->nflows++;
        c->flows[fi].name = name;
        c->flows[fi].node = k;
        if (!is_kind(c, v, YAML_MAPPING_NODE, "a flow"))
            continue;
        read_keys(c, v, keys, f, "a flow");
        if (!f[0]) {
            problem(c, v, "flow '%s' has no 'intent' (expected the intent it serves)", name);
        } else if ((intent = scalar(c, f[0], "'intent'")) != NULL) {
            c->flow_intent[fi] = intent;
            if (find_intent(c, intent) < 0)
                problem(c, f[0],
                        "flow '%s' serves unknown intent '%s' (expected one listed "
                        "under 'intents')",
                        name, intent);
            for (size_t j = 0; j < fi; j++)
                if (c->flow_intent[j] && strcmp(c->flow_intent[j], intent) == 0)
                    problem(c, f[0], "intent '%s' already has flow '%s'", intent, c->flows[j].name);
        }
        if (!f[2]) {
            problem(c, v, "flow '%s' has no 'steps' (expected a list of steps)", name);
            continue;
        }
        if (!is_kind(c, f[2], YAML_SEQUENCE_NODE, "'steps'"))
            continue;
        if (f[2]->data.sequence.items.start == f[2]->data.sequence.items.top) {
            problem(c, f[2], "flow '%s' has no steps (expected at least one)", name);
            continue;
        }
        check_flow(c, name, f[2], &c->flow_steps[fi]);
    }
}

/* ---- the bot ---------------------------------------------------------- */

static void check_root(struct ctx *c, yaml_node_t *root)
{
    static const char *const keys[] = {"version", "name",      "languages",  "nlu",
                                       "intents", "slots",     "connectors", "actions",
                                       "flows",   "responses", NULL};
    yaml_node_t *v[11];
    if (!root) {
        problem_at(c, c->path, 1, 1, "empty bot definition (expected name, languages, ...)");
        return;
    }
    if (!is_kind(c, root, YAML_MAPPING_NODE, "the bot definition"))
        return;
    read_keys(c, root, keys, v, "the bot definition");
    if (v[0]) {
        const char *ver = scalar(c, v[0], "'version'");
        if (ver && strcmp(ver, "1") != 0)
            problem(c, v[0], "unsupported version '%s' (expected 1)", ver);
    }
    if (!v[1])
        problem(c, root, "missing 'name' (expected the bot's name)");
    else
        c->name = scalar(c, v[1], "'name'");
    read_languages(c, v[2]);
    read_nlu(c, v[3]);
    read_intents(c, v[4]);
    check_nlu_files(c);
    read_slots(c, v[5]);
    read_connectors(c, v[6]);
    read_actions(c, v[7]);
    read_responses(c, v[9]);
    read_flows(c, v[8]);
    for (size_t i = 0; i < c->nresponses; i++)
        if (!c->responses[i].used)
            check_placeholders(c, &c->responses[i], c->global, c->nglobal, NULL);
}

static char *dup(struct ctx *c, const char *s)
{
    char *p = parley__strdup(s ? s : "");
    if (!p)
        c->nomem = 1;
    return p;
}

static parley_bot *build(struct ctx *c)
{
    parley_bot *b = parley__calloc(1, sizeof(*b));
    if (!b) {
        c->nomem = 1;
        return NULL;
    }
    b->confidence = c->confidence;
    b->margin = c->margin;
    b->name = dup(c, c->name);
    b->langs = parley__calloc(c->nlangs + 1, sizeof(*b->langs));
    b->intents = parley__calloc(c->nintents + 1, sizeof(*b->intents));
    b->flows = parley__calloc(c->nflows + 1, sizeof(*b->flows));
    if (!b->langs || !b->intents || !b->flows) {
        c->nomem = 1;
        return b;
    }
    for (size_t i = 0; i < c->nlangs; i++, b->nlangs++) {
        b->langs[i].code = dup(c, c->langs[i].code);
        b->langs[i].nlu_path = dup(c, c->langs[i].nlu_path);
    }
    for (size_t i = 0; i < c->nintents; i++, b->nintents++)
        b->intents[i] = dup(c, c->intents[i].name);
    for (size_t i = 0; i < c->nflows; i++, b->nflows++) {
        b->flows[i].name = dup(c, c->flows[i].name);
        b->flows[i].intent = dup(c, c->flow_intent[i]);
        b->flows[i].nsteps = c->flow_steps[i];
    }
    return b;
}

void parley_bot_free(parley_bot *b)
{
    if (!b)
        return;
    parley__free(b->name);
    for (size_t i = 0; i < b->nlangs; i++) {
        parley__free(b->langs[i].code);
        parley__free(b->langs[i].nlu_path);
    }
    parley__free(b->langs);
    for (size_t i = 0; i < b->nintents; i++)
        parley__free(b->intents[i]);
    parley__free(b->intents);
    for (size_t i = 0; i < b->nflows; i++) {
        parley__free(b->flows[i].name);
        parley__free(b->flows[i].intent);
    }
    parley__free(b->flows);
    parley__free(b);
}

/* Parses and checks bot.yml; builds the bot while the document (which the
 * tables borrow from) lives, when there was no problem. */
static parley_bot *parse_and_check(struct ctx *c, const char *buf, size_t len)
{
    parley_bot *bot = NULL;
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        c->nomem = 1;
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    if (!yaml_parser_load(&parser, &doc)) {
        if (parser.error == YAML_MEMORY_ERROR)
            c->nomem = 1;
        else
            problem_at(c, c->path, (unsigned long)parser.problem_mark.line + 1,
                       (unsigned long)parser.problem_mark.column + 1, "invalid yaml: %s%s%s",
                       parser.problem ? parser.problem : "syntax error", parser.context ? " " : "",
                       parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return NULL;
    }
    c->doc = &doc;
    check_root(c, yaml_document_get_root_node(&doc));
    if (!c->nomem && !c->rep->nomem && !c->rep->total)
        bot = build(c);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    c->doc = NULL;
    return bot;
}

parley_err parley_bot_load(const char *dir, parley_bot **out, parley_bot_report **report,
                           parley_error *err)
{
    struct ctx *c = NULL;
    parley_bot_report *rep = NULL;
    parley_bot *bot = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    char *buf = NULL;
    size_t len = 0;
    parley_err rc = PARLEY_OK;

    if (!dir || !*dir || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot load bot: bad argument");
    c = parley__calloc(1, sizeof(*c));
    rep = parley__calloc(1, sizeof(*rep));
    if (!c || !rep)
        goto nomem;
    c->dir = dir;
    c->rep = rep;
    c->confidence = 0.5;
    c->margin = 0.1;
    c->path = join_path(c, "bot.yml");
    if (!c->path)
        goto nomem;
    rc = parley__read_file(c->path, PARLEY_BOT_MAX_DEF, &buf, &len, &e);
    if (rc == PARLEY_ERR_NOMEM)
        goto nomem;
    if (rc != PARLEY_OK) {
        problem_at(c, c->path, 0, 0, "cannot read the bot definition: %s", e.msg);
        rc = parley_error_set(err, rc, "cannot load bot '%s': %s", dir, e.msg);
        goto out;
    }
    bot = parse_and_check(c, buf, len);
    if (c->nomem || rep->nomem) {
        parley_bot_free(bot);
        bot = NULL;
        goto nomem;
    }
    if (rep->total) {
        const parley_bot_problem *p = &rep->problems[0];
        parley__bot_report_sort(rep);
        rc = parley_error_set(
            err, PARLEY_ERR_FORMAT, "cannot load bot '%s': %s:%lu:%lu: %s (%zu problem%s in all)",
            dir, p->file, p->line, p->column, p->message, rep->total, rep->total == 1 ? "" : "s");
        goto out;
    }
    *out = bot;
    rc = PARLEY_OK;
    goto out;
nomem:
    rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot load bot '%s': out of memory", dir);
    parley_bot_report_free(rep);
    rep = NULL;
out:
    if (c) {
        for (size_t i = 0; i < c->nlangs; i++)
            parley__free(c->langs[i].nlu_path);
        for (size_t i = 0; i < c->nconns; i++) {
            parley_connect_def_free(c->conns[i].def);
            parley__free(c->conns[i].path);
            if (c->conns[i].doc_ok)
                yaml_document_delete(&c->conns[i].doc);
        }
        parley__free(c->path);
        parley__free(c);
    }
    parley__free(buf);
    if (report)
        *report = rep;
    else
        parley_bot_report_free(rep);
    return rc;
}

/* ---- accessors -------------------------------------------------------- */

const char *parley_bot_name(const parley_bot *b)
{
    return b ? b->name : NULL;
}

size_t parley_bot_language_count(const parley_bot *b)
{
    return b ? b->nlangs : 0;
}

const char *parley_bot_language(const parley_bot *b, size_t i)
{
    return b && i < b->nlangs ? b->langs[i].code : NULL;
}

const char *parley_bot_nlu_file(const parley_bot *b, const char *lang)
{
    if (!b || !lang)
        return NULL;
    for (size_t i = 0; i < b->nlangs; i++)
        if (strcmp(b->langs[i].code, lang) == 0)
            return b->langs[i].nlu_path;
    return NULL;
}

double parley_bot_confidence(const parley_bot *b)
{
    return b ? b->confidence : 0;
}

double parley_bot_ambiguity_margin(const parley_bot *b)
{
    return b ? b->margin : 0;
}

size_t parley_bot_intent_count(const parley_bot *b)
{
    return b ? b->nintents : 0;
}

const char *parley_bot_intent(const parley_bot *b, size_t i)
{
    return b && i < b->nintents ? b->intents[i] : NULL;
}

size_t parley_bot_flow_count(const parley_bot *b)
{
    return b ? b->nflows : 0;
}

const char *parley_bot_flow_name(const parley_bot *b, size_t i)
{
    return b && i < b->nflows ? b->flows[i].name : NULL;
}

const char *parley_bot_flow_intent(const parley_bot *b, size_t i)
{
    return b && i < b->nflows ? b->flows[i].intent : NULL;
}

size_t parley_bot_flow_step_count(const parley_bot *b, size_t i)
{
    return b && i < b->nflows ? b->flows[i].nsteps : 0;
}
