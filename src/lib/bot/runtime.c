/* Builds the runtime tables of a checked bot definition (flows with their
 * steps resolved to indices, slots, actions, responses, identity) and holds
 * their accessors. Runs only on a definition without problems, so it reads
 * the document without re-reporting anything. */
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "bot/internal.h"

/* ---- allocation ----------------------------------------------------- */

void *parley__bot_alloc(parley_bot *b, size_t size)
{
    struct bot_block *blk = b->blocks;
    size = (size + 15u) & ~(size_t)15u;
    if (!blk || blk->cap - blk->used < size) {
        size_t cap = size > 60000 ? size : 60000;
        blk = parley__malloc(sizeof(*blk) + cap);
        if (!blk)
            return NULL;
        blk->next = b->blocks;
        blk->used = 0;
        blk->cap = cap;
        b->blocks = blk;
    }
    blk->used += size;
    return memset(blk->data + blk->used - size, 0, size);
}

const char *parley__bot_strdup(parley_bot *b, const char *s, int *nomem)
{
    size_t n;
    char *p;
    if (!s)
        return NULL;
    n = strlen(s) + 1;
    p = parley__bot_alloc(b, n);
    if (!p) {
        *nomem = 1;
        return NULL;
    }
    return memcpy(p, s, n);
}

void parley__bot_free_runtime(parley_bot *b)
{
    while (b->blocks) {
        struct bot_block *next = b->blocks->next;
        parley__free(b->blocks);
        b->blocks = next;
    }
    for (size_t i = 0; i < b->nconns; i++)
        parley_connect_def_free(b->conns[i]);
    parley__free(b->conns);
}

/* ---- compiling ------------------------------------------------------ */

static const char *sval(struct ctx *c, yaml_node_t *m, const char *key)
{
    return parley__bot_sval(parley__bot_map_get(c->doc, m, key));
}

static long step_ref(yaml_node_t *steps, struct ctx *c, const char *id, long dflt)
{
    long i = 0;
    if (!id)
        return dflt;
    FOR_ITEMS(steps, it)
    {
        const char *sid = sval(c, parley__bot_node_at(c->doc, *it), "id");
        if (sid && strcmp(sid, id) == 0)
            return i;
        i++;
    }
    return -1;
}

static const char *const type_names[] = {
    "ask",  "verify_identity", "call", "branch", "confirm", "say", "handoff", "end",
    "pick", "consent",         NULL,
};

static int compile_cases(struct ctx *c, parley_bot *b, yaml_node_t *steps, yaml_node_t *cases,
                         parley_bot_step *st, int *nomem)
{
    static const char *const cmps[] = {"equals", "not_equals", "below", "above", "contains", NULL};
    size_t n = (size_t)(cases->data.sequence.items.top - cases->data.sequence.items.start), k = 0;
    parley_bot_case *cs = parley__bot_alloc(b, (n ? n : 1) * sizeof(*cs));
    if (!cs)
        return 0;
    FOR_ITEMS(cases, it)
    {
        yaml_node_t *cn = parley__bot_node_at(c->doc, *it);
        const char *slot = sval(c, cn, "slot");
        cs[k].subject_is_slot = slot != NULL;
        cs[k].subject = parley__bot_strdup(b, slot ? slot : sval(c, cn, "fact"), nomem);
        for (int o = 0; cmps[o]; o++) {
            const char *v = sval(c, cn, cmps[o]);
            if (v) {
                cs[k].cmp = (parley_bot_cmp)o;
                cs[k].value = parley__bot_strdup(b, v, nomem);
            }
        }
        cs[k].go = step_ref(steps, c, sval(c, cn, "goto"), -1);
        k++;
    }
    st->cases = cs;
    st->n_cases = k;
    return 1;
}

static int compile_flow(struct ctx *c, parley_bot *b, parley_bot_flow *f, const char *name,
                        yaml_node_t *fv, int *nomem)
{
    yaml_node_t *steps = parley__bot_map_get(c->doc, fv, "steps");
    size_t n = (size_t)(steps->data.sequence.items.top - steps->data.sequence.items.start), i = 0;
    parley_bot_step *ss = parley__bot_alloc(b, n * sizeof(*ss));
    if (!ss)
        return 0;
    f->name = parley__bot_strdup(b, name, nomem);
    f->intent = parley__bot_strdup(b, sval(c, fv, "intent"), nomem);
    f->description =
        parley__bot_strdup(b, sval(c, fv, "description") ? sval(c, fv, "description") : "", nomem);
    f->steps = ss;
    f->n_steps = n;
    FOR_ITEMS(steps, it)
    {
        yaml_node_t *sn = parley__bot_node_at(c->doc, *it), *cases;
        parley_bot_step *st = &ss[i];
        long following = i + 1 < n ? (long)i + 1 : -1;
        st->id = parley__bot_strdup(b, sval(c, sn, "id"), nomem);
        st->type = (parley_bot_step_type)parley__bot_in_list(sval(c, sn, "type"), type_names);
        st->slot = parley__bot_strdup(b, sval(c, sn, "slot"), nomem);
        st->prompt = parley__bot_strdup(b, sval(c, sn, "prompt"), nomem);
        st->reprompt = parley__bot_strdup(b, sval(c, sn, "reprompt"), nomem);
        st->response = parley__bot_strdup(b, sval(c, sn, "response"), nomem);
        st->action = parley__bot_strdup(b, sval(c, sn, "action"), nomem);
        st->next = step_ref(steps, c, sval(c, sn, "next"), following);
        st->on_error = step_ref(steps, c, sval(c, sn, "on_error"), -1);
        st->yes = step_ref(steps, c, sval(c, sn, "yes"), -1);
        st->no = step_ref(steps, c, sval(c, sn, "no"), -1);
        st->otherwise = step_ref(steps, c, sval(c, sn, "else"), following);
        st->from = parley__bot_strdup(b, sval(c, sn, "from"), nomem);
        st->where = parley__bot_strdup(b, sval(c, sn, "where"), nomem);
        st->as = parley__bot_strdup(b, sval(c, sn, "as"), nomem);
        st->equals = parley__bot_strdup(b, sval(c, sn, "equals"), nomem);
        st->none = step_ref(steps, c, sval(c, sn, "none"), st->next);
        st->op = parley__bot_strdup(b, sval(c, sn, "op"), nomem);
        cases = parley__bot_map_get(c->doc, sn, "cases");
        if (cases && cases->type == YAML_SEQUENCE_NODE &&
            !compile_cases(c, b, steps, cases, st, nomem))
            return 0;
        i++;
    }
    return 1;
}

static size_t pair_count(yaml_node_t *m)
{
    return m && m->type == YAML_MAPPING_NODE
               ? (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start)
               : 0;
}

static size_t conn_index(struct ctx *c, const char *name)
{
    for (size_t i = 0; name && i < c->nconns; i++)
        if (c->conns[i].def && strcmp(parley_connect_def_name(c->conns[i].def), name) == 0)
            return i;
    return 0;
}

static int compile_tables(struct ctx *c, parley_bot *b, yaml_node_t *root, int *nomem)
{
    yaml_node_t *flows = parley__bot_map_get(c->doc, root, "flows"),
                *slots = parley__bot_map_get(c->doc, root, "slots"),
                *actions = parley__bot_map_get(c->doc, root, "actions"),
                *resps = parley__bot_map_get(c->doc, root, "responses"),
                *ident = parley__bot_map_get(c->doc, root, "identity");
    size_t k;

    b->rflows = parley__bot_alloc(b, (pair_count(flows) + 1) * sizeof(*b->rflows));
    b->slots = parley__bot_alloc(b, (pair_count(slots) + 1) * sizeof(*b->slots));
    b->actions = parley__bot_alloc(b, (pair_count(actions) + 1) * sizeof(*b->actions));
    b->responses = parley__bot_alloc(b, (pair_count(resps) + 1) * sizeof(*b->responses));
    if (!b->rflows || !b->slots || !b->actions || !b->responses)
        return 0;
    k = 0;
    if (pair_count(flows))
        FOR_PAIRS(flows, p)
        {
            if (!compile_flow(c, b, &b->rflows[k++],
                              parley__bot_sval(parley__bot_node_at(c->doc, p->key)),
                              parley__bot_node_at(c->doc, p->value), nomem))
                return 0;
        }
    if (pair_count(slots))
        FOR_PAIRS(slots, p)
        {
            yaml_node_t *v = parley__bot_node_at(c->doc, p->value);
            parley_bot_slot *s = &b->slots[b->nslots++];
            const char *mn = sval(c, v, "min"), *mx = sval(c, v, "max"), *u = sval(c, v, "unit");
            s->name =
                parley__bot_strdup(b, parley__bot_sval(parley__bot_node_at(c->doc, p->key)), nomem);
            s->entity = parley__bot_strdup(b, sval(c, v, "entity"), nomem);
            s->unit_gb = u && strcmp(u, "gb") == 0;
            s->has_min = mn != NULL;
            s->has_max = mx != NULL;
            s->min = mn ? strtod(mn, NULL) : 0;
            s->max = mx ? strtod(mx, NULL) : 0;
        }
    if (pair_count(actions))
        FOR_PAIRS(actions, p)
        {
            yaml_node_t *v = parley__bot_node_at(c->doc, p->value),
                        *params = parley__bot_map_get(c->doc, v, "params");
            parley_bot_action *a = &b->actions[b->nactions++];
            parley_bot_param *ps;
            size_t np = pair_count(params), j = 0;
            a->name =
                parley__bot_strdup(b, parley__bot_sval(parley__bot_node_at(c->doc, p->key)), nomem);
            a->connector = conn_index(c, sval(c, v, "connector"));
            a->operation = parley__bot_strdup(b, sval(c, v, "operation"), nomem);
            ps = parley__bot_alloc(b, (np + 1) * sizeof(*ps));
            if (!ps)
                return 0;
            if (np)
                FOR_PAIRS(params, q)
                {
                    ps[j].name = parley__bot_strdup(
                        b, parley__bot_sval(parley__bot_node_at(c->doc, q->key)), nomem);
                    ps[j++].value = parley__bot_strdup(
                        b, parley__bot_sval(parley__bot_node_at(c->doc, q->value)), nomem);
                }
            a->params = ps;
            a->n_params = j;
        }
    if (pair_count(resps))
        FOR_PAIRS(resps, p)
        {
            yaml_node_t *v = parley__bot_node_at(c->doc, p->value);
            struct bot_response *r = &b->responses[b->nresponses++];
            r->key =
                parley__bot_strdup(b, parley__bot_sval(parley__bot_node_at(c->doc, p->key)), nomem);
            r->texts = parley__bot_alloc(b, (c->nlangs + 1) * sizeof(*r->texts));
            if (!r->texts)
                return 0;
            for (size_t l = 0; l < c->nlangs; l++)
                r->texts[l] = parley__bot_strdup(b, sval(c, v, c->langs[l].code), nomem);
        }
    if (!parley__bot_compile_consents(c, b, parley__bot_map_get(c->doc, root, "consents"), nomem) ||
        !parley__bot_compile_pii(c, b, parley__bot_map_get(c->doc, root, "pii"), nomem) ||
        !parley__bot_compile_events(c, b, parley__bot_map_get(c->doc, root, "events"), nomem) ||
        !parley__bot_compile_proactive(c, b, parley__bot_map_get(c->doc, root, "proactive"), nomem))
        return 0;
    if (ident && ident->type == YAML_MAPPING_NODE) {
        b->has_identity = 1;
        b->identity.connector = conn_index(c, sval(c, ident, "connector"));
        b->identity.by_phone = parley__bot_strdup(b, sval(c, ident, "by_phone"), nomem);
        b->identity.line = parley__bot_strdup(b, sval(c, ident, "line"), nomem);
        b->identity.send_code = parley__bot_strdup(b, sval(c, ident, "send_code"), nomem);
    }
    return 1;
}

int parley__bot_compile(struct ctx *c, parley_bot *b)
{
    int nomem = 0;
    b->dir = parley__bot_strdup(b, c->dir, &nomem);
    if (!compile_tables(c, b, yaml_document_get_root_node(c->doc), &nomem) || nomem)
        return 0;
    b->conns = parley__calloc(c->nconns + 1, sizeof(parley_connect_def *));
    if (!b->conns)
        return 0;
    for (size_t i = 0; i < c->nconns; i++) {
        b->conns[b->nconns++] = c->conns[i].def; /* moves ownership */
        c->conns[i].def = NULL;
    }
    return 1;
}

/* ---- accessors ------------------------------------------------------ */

const parley_bot_flow *parley_bot_flow_at(const parley_bot *b, size_t i)
{
    return b && i < b->nflows ? &b->rflows[i] : NULL;
}

const parley_bot_flow *parley_bot_flow_for(const parley_bot *b, const char *intent)
{
    for (size_t i = 0; b && intent && i < b->nflows; i++)
        if (strcmp(b->rflows[i].intent, intent) == 0)
            return &b->rflows[i];
    return NULL;
}

size_t parley_bot_slot_count(const parley_bot *b)
{
    return b ? b->nslots : 0;
}

const parley_bot_slot *parley_bot_slot_at(const parley_bot *b, size_t i)
{
    return b && i < b->nslots ? &b->slots[i] : NULL;
}

const parley_bot_slot *parley_bot_find_slot(const parley_bot *b, const char *name)
{
    for (size_t i = 0; b && name && i < b->nslots; i++)
        if (strcmp(b->slots[i].name, name) == 0)
            return &b->slots[i];
    return NULL;
}

const parley_bot_action *parley_bot_find_action(const parley_bot *b, const char *name)
{
    for (size_t i = 0; b && name && i < b->nactions; i++)
        if (strcmp(b->actions[i].name, name) == 0)
            return &b->actions[i];
    return NULL;
}

size_t parley_bot_connector_count(const parley_bot *b)
{
    return b ? b->nconns : 0;
}

const parley_connect_def *parley_bot_connector(const parley_bot *b, size_t i)
{
    return b && i < b->nconns ? b->conns[i] : NULL;
}

const parley_bot_identity *parley_bot_identity_ops(const parley_bot *b)
{
    return b && b->has_identity ? &b->identity : NULL;
}

const char *parley_bot_response(const parley_bot *b, const char *key, const char *lang)
{
    size_t l;
    if (!b || !key || !lang)
        return NULL;
    for (l = 0; l < b->nlangs && strcmp(b->langs[l].code, lang) != 0; l++)
        ;
    if (l == b->nlangs)
        return NULL;
    for (size_t i = 0; i < b->nresponses; i++)
        if (strcmp(b->responses[i].key, key) == 0)
            return b->responses[i].texts[l];
    return NULL;
}

const char *parley_bot_dir(const parley_bot *b)
{
    return b ? b->dir : NULL;
}
