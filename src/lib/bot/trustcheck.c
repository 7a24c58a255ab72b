/* Warnings about flows the engine would partly refuse at run time: account
 * facts shown before identity is verified, account changes without a
 * confirmation or before verification (docs/bot-definition.md "Warnings"). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "bot/internal.h"

/* ---- what each name may show ------------------------------------------ */

/* Names with their sensitivity. A name several operations declare takes
 * the highest: the check must not miss the one that is account data. */
struct sens_table {
    const char *names[MAX_PROVIDED];
    int level[MAX_PROVIDED];
    size_t n;
};

/* The index of `name[0..len)` in `t`, or -1. */
static long sens_index(const struct sens_table *t, const char *name, size_t len)
{
    for (size_t i = 0; i < t->n; i++)
        if (strlen(t->names[i]) == len && strncmp(t->names[i], name, len) == 0)
            return (long)i;
    return -1;
}

static int sens_of(const struct sens_table *t, const char *name, size_t len)
{
    long i = sens_index(t, name, len);
    return i < 0 ? PARLEY_CONNECT_PUBLIC : t->level[i];
}

/* Raises `name` to `level`; 1 when that changed something. */
static int sens_raise(struct sens_table *t, const char *name, int level)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->names[i], name) == 0) {
            if (t->level[i] >= level)
                return 0;
            t->level[i] = level;
            return 1;
        }
    if (t->n == MAX_PROVIDED || level == PARLEY_CONNECT_PUBLIC)
        return 0;
    t->names[t->n] = name;
    t->level[t->n++] = level;
    return 1;
}

static void sens_of_op(struct sens_table *t, const parley_connect_def *def, const char *op)
{
    size_t n = parley_connect_def_fact_count(def, op);
    for (size_t i = 0; i < n; i++)
        (void)sens_raise(t, parley_connect_def_fact_name(def, op, i),
                         (int)parley_connect_def_fact_sensitivity(def, op, i));
}

/* Facts of the operations the bot's actions call, and what verification
 * sets: the by_phone operation's facts, then customer_id and line_id
 * (account) and full_name (sensitive), as src/lib/dialog/identity.c does. */
static void global_table(const parley_bot *b, struct sens_table *t)
{
    const parley_bot_identity *id = parley_bot_identity_ops(b);
    for (size_t i = 0; i < b->nactions; i++)
        sens_of_op(t, parley_bot_connector(b, b->actions[i].connector), b->actions[i].operation);
    if (id && id->by_phone)
        sens_of_op(t, parley_bot_connector(b, id->connector), id->by_phone);
    (void)sens_raise(t, "customer_id", PARLEY_CONNECT_ACCOUNT);
    (void)sens_raise(t, "line_id", PARLEY_CONNECT_ACCOUNT);
    (void)sens_raise(t, "full_name", PARLEY_CONNECT_SENSITIVE);
}

/* A pick step's `as` fact is an element of its `from` fact and the engine
 * gives it the same sensitivity; picks may chain, so repeat until stable. */
static void flow_picks(const parley_bot_flow *f, struct sens_table *t)
{
    int changed = 1;
    for (size_t pass = 0; changed && pass <= f->n_steps * 2; pass++) {
        changed = 0;
        for (size_t i = 0; i < f->n_steps; i++) {
            const parley_bot_step *s = &f->steps[i];
            if (s->type == PARLEY_STEP_PICK && s->from && s->as)
                changed |= sens_raise(t, s->as, sens_of(t, s->from, strlen(s->from)));
        }
    }
}

/* ---- the step graph ---------------------------------------------------- */

enum edge_kind {
    EDGE_PLAIN,
    EDGE_VERIFIED, /* a verify_identity step's success */
    EDGE_YES,      /* a confirm step's yes */
};

/* Edge `k` of step `s`: 1 with *to (-1: the flow ends) and *kind, 0 when
 * there is no edge `k`. Every way the engine can go on from a step. */
static int edge_at(const parley_bot_step *s, size_t k, long *to, int *kind)
{
    long two[2] = {-1, -1};
    *kind = EDGE_PLAIN;
    switch (s->type) {
    case PARLEY_STEP_BRANCH:
        if (k > s->n_cases)
            return 0;
        *to = k < s->n_cases ? s->cases[k].go : s->otherwise;
        return 1;
    case PARLEY_STEP_VERIFY:
        two[0] = s->next;
        two[1] = s->on_error; /* failed: not verified */
        if (k == 0)
            *kind = EDGE_VERIFIED;
        break;
    case PARLEY_STEP_CONFIRM:
        two[0] = s->yes;
        two[1] = s->no;
        if (k == 0)
            *kind = EDGE_YES;
        break;
    case PARLEY_STEP_CALL:
        two[0] = s->next;
        two[1] = s->on_error; /* -1: goes to next */
        break;
    case PARLEY_STEP_PICK:
    case PARLEY_STEP_CONSENT:
        two[0] = s->next;
        two[1] = s->none;
        break;
    case PARLEY_STEP_ASK:
    case PARLEY_STEP_SAY:
        two[0] = s->next;
        break;
    default:
        return 0;
    }
    if (k > 1)
        return 0;
    *to = two[k];
    return 1;
}

/* Marks the steps reachable from the first; with `unverified`, only along
 * paths that pass no verify_identity step's success. */
static void reach(const parley_bot_flow *f, int unverified, unsigned char *seen)
{
    size_t queue[MAX_STEPS], qh = 0, qt = 0;
    memset(seen, 0, f->n_steps);
    if (!f->n_steps)
        return;
    queue[qt++] = 0;
    seen[0] = 1;
    while (qh < qt) {
        const parley_bot_step *s = &f->steps[queue[qh++]];
        long to;
        int kind;
        for (size_t k = 0; edge_at(s, k, &to, &kind); k++) {
            if (to < 0 || (size_t)to >= f->n_steps || seen[to] ||
                (unverified && kind == EDGE_VERIFIED))
                continue;
            seen[to] = 1;
            queue[qt++] = (size_t)to;
        }
    }
}

/* ---- reporting --------------------------------------------------------- */

struct check {
    struct ctx *c;
    const parley_bot *b;
    parley_bot_report *w;
    size_t flow;
    const parley_bot_flow *f;
};

/* The node of step `step` of flow number `flow` in bot.yml (flows were
 * compiled in document order), for its position. */
static const yaml_node_t *step_node(struct check *k, size_t step)
{
    yaml_document_t *doc = k->c->doc;
    yaml_node_t *flows = parley__bot_map_get(doc, yaml_document_get_root_node(doc), "flows");
    size_t i = 0;
    if (!flows || flows->type != YAML_MAPPING_NODE)
        return NULL;
    FOR_PAIRS(flows, p)
    {
        yaml_node_t *steps;
        if (i++ != k->flow)
            continue;
        steps = parley__bot_map_get(doc, parley__bot_node_at(doc, p->value), "steps");
        if (!steps || steps->type != YAML_SEQUENCE_NODE ||
            step >= (size_t)(steps->data.sequence.items.top - steps->data.sequence.items.start))
            return NULL;
        return parley__bot_node_at(doc, steps->data.sequence.items.start[step]);
    }
    return NULL;
}

static void warn(struct check *k, size_t step, const char *fmt, ...) PARLEY_PRINTF(3, 4);

static void warn(struct check *k, size_t step, const char *fmt, ...)
{
    const yaml_node_t *n = step_node(k, step);
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    parley__bot_report_add(k->w, k->c->path, n ? (unsigned long)n->start_mark.line + 1 : 0,
                           n ? (unsigned long)n->start_mark.column + 1 : 0, msg);
}

/* ---- the checks -------------------------------------------------------- */

/* Warns about each non-public fact response `key` names in any language,
 * once per step and fact (`warned` holds the table indices reported). */
static void check_response(struct check *k, size_t step, const char *key,
                           const struct sens_table *t, long *warned, size_t *nwarned)
{
    for (size_t l = 0; key && l < k->b->nlangs; l++) {
        const char *text = parley_bot_response(k->b, key, k->b->langs[l].code);
        for (const char *s = text ? strchr(text, '{') : NULL; s; s = strchr(s + 1, '{')) {
            const char *e = strchr(s + 1, '}'), *name = s + 1;
            if (!e)
                break;
            /* {list:other} shows both lists side by side: check both. */
            while (name < e) {
                const char *colon = memchr(name, ':', (size_t)(e - name));
                const char *end = colon ? colon : e;
                long i = sens_index(t, name, (size_t)(end - name));
                size_t w;
                name = end + 1;
                /* Slots are what the customer said: the engine shows them. */
                if (i < 0 || t->level[i] == PARLEY_CONNECT_PUBLIC ||
                    parley_bot_find_slot(k->b, t->names[i]))
                    continue;
                for (w = 0; w < *nwarned && warned[w] != i; w++)
                    ;
                if (w < *nwarned)
                    continue;
                warned[(*nwarned)++] = i;
                warn(k, step,
                     "step '%s' of flow '%s' would show %s fact '%s' before identity is "
                     "verified; the engine withholds it (add a verify_identity step before it)",
                     k->f->steps[step].id, k->f->name,
                     t->level[i] == PARLEY_CONNECT_SENSITIVE ? "sensitive" : "account",
                     t->names[i]);
            }
        }
    }
}

/* Steps reachable without verification must not show account facts. */
static void check_disclosure(struct check *k, const struct sens_table *t,
                             const unsigned char *unverified)
{
    for (size_t i = 0; i < k->f->n_steps; i++) {
        const parley_bot_step *s = &k->f->steps[i];
        long warned[MAX_PROVIDED];
        size_t nwarned = 0;
        if (!unverified[i])
            continue;
        switch (s->type) {
        case PARLEY_STEP_ASK:
            check_response(k, i, s->prompt, t, warned, &nwarned);
            check_response(k, i, s->reprompt, t, warned, &nwarned);
            break;
        case PARLEY_STEP_CONFIRM:
        case PARLEY_STEP_SAY:
        case PARLEY_STEP_HANDOFF:
        case PARLEY_STEP_END:
            check_response(k, i, s->response, t, warned, &nwarned);
            break;
        default:
            break;
        }
    }
}

/* A call that changes the account must be entered only by a confirm
 * step's yes (so the customer agreed to exactly this) and only once
 * identity is verified. */
static void check_writes(struct check *k, const unsigned char *unverified,
                         const unsigned char *reachable)
{
    for (size_t i = 0; i < k->f->n_steps; i++) {
        const parley_bot_step *s = &k->f->steps[i];
        const parley_bot_action *a =
            s->type == PARLEY_STEP_CALL ? parley_bot_find_action(k->b, s->action) : NULL;
        int confirmed = i != 0; /* the first step is entered by the flow's start */
        if (!a ||
            !parley_connect_def_op_is_write(parley_bot_connector(k->b, a->connector), a->operation))
            continue;
        for (size_t j = 0; j < k->f->n_steps && confirmed; j++) {
            long to;
            int kind;
            if (!reachable[j])
                continue;
            for (size_t e = 0; edge_at(&k->f->steps[j], e, &to, &kind); e++)
                if (to == (long)i && kind != EDGE_YES)
                    confirmed = 0;
        }
        if (!confirmed)
            warn(k, i,
                 "step '%s' of flow '%s' calls '%s', which changes the account, without a "
                 "confirm step right before it (expected it to be reached only by a confirm "
                 "step's 'yes')",
                 s->id, k->f->name, s->action);
        if (unverified[i])
            warn(k, i,
                 "step '%s' of flow '%s' calls '%s', which changes the account, before identity "
                 "is verified (add a verify_identity step before it)",
                 s->id, k->f->name, s->action);
    }
}

/* Copies the sorted warnings into the bot as printable lines. */
static void keep_warnings(struct ctx *c, parley_bot *b, parley_bot_report *w)
{
    parley__bot_report_sort(w);
    if (!w->n)
        return;
    b->warnings = parley__bot_alloc(b, w->n * sizeof(*b->warnings));
    if (!b->warnings) {
        c->nomem = 1;
        return;
    }
    for (size_t i = 0; i < w->n; i++) {
        const parley_bot_problem *p = &w->problems[i];
        int len =
            snprintf(NULL, 0, "%s:%lu:%lu: warning: %s", p->file, p->line, p->column, p->message);
        char *line = len < 0 ? NULL : parley__bot_alloc(b, (size_t)len + 1);
        if (!line) {
            c->nomem = 1;
            return;
        }
        (void)snprintf(line, (size_t)len + 1, "%s:%lu:%lu: warning: %s", p->file, p->line,
                       p->column, p->message);
        b->warnings[b->nwarnings++] = line;
    }
}

void parley__bot_check_trust(struct ctx *c, parley_bot *b)
{
    struct sens_table *global = parley__calloc(1, sizeof(*global)),
                      *t = parley__calloc(1, sizeof(*t));
    parley_bot_report *w = parley__calloc(1, sizeof(*w));
    if (!global || !t || !w) {
        c->nomem = 1;
        goto out;
    }
    global_table(b, global);
    for (size_t fi = 0; fi < b->nflows; fi++) {
        const parley_bot_flow *f = &b->rflows[fi];
        unsigned char unverified[MAX_STEPS], reachable[MAX_STEPS];
        struct check k = {c, b, w, fi, f};
        if (f->n_steps > MAX_STEPS)
            continue; /* the loader refuses those */
        *t = *global;
        flow_picks(f, t);
        reach(f, 1, unverified);
        reach(f, 0, reachable);
        check_disclosure(&k, t, unverified);
        check_writes(&k, unverified, reachable);
    }
    if (w->nomem)
        c->nomem = 1;
    else
        keep_warnings(c, b, w);
out:
    parley__free(global);
    parley__free(t);
    parley_bot_report_free(w);
}

/* ---- accessors --------------------------------------------------------- */

size_t parley_bot_warning_count(const parley_bot *b)
{
    return b ? b->nwarnings : 0;
}

const char *parley_bot_warning(const parley_bot *b, size_t i)
{
    return b && i < b->nwarnings ? b->warnings[i] : NULL;
}
