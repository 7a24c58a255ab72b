/* Checking bot.yml's flows: step types and keys, where each step leads,
 * reachability, and the slots and facts each flow provides. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "bot/internal.h"

enum step_type {
    ST_ASK,
    ST_VERIFY,
    ST_CALL,
    ST_BRANCH,
    ST_CONFIRM,
    ST_SAY,
    ST_HANDOFF,
    ST_END,
    ST_PICK,
    ST_CONSENT
};

static const char *const step_types[] = {
    "ask",  "verify_identity", "call", "branch", "confirm", "say", "handoff", "end",
    "pick", "consent",         NULL,
};

/* What a consent step does, and the facts it provides (docs/trust.md). */
static const char *const consent_ops[] = {
    "understand",   "describe",        "grant",         "revoke",         "list",
    "privacy_kind", "privacy_opt_out", "privacy_erase", "privacy_export", NULL};
static const char *const consent_facts[] = {"consent_scope_text",
                                            "consent_limits_text",
                                            "consents_text",
                                            "consents_count",
                                            "consent_revoked_text",
                                            "privacy_kind",
                                            NULL};

#define MAX_STEP_KEYS 7

/* Keys each step type accepts besides id and type. */
static const char *const step_keys[][MAX_STEP_KEYS] = {
    [ST_ASK] = {"slot", "prompt", "reprompt", "next", NULL},
    [ST_VERIFY] = {"next", "on_error", NULL},
    [ST_CALL] = {"action", "next", "on_error", NULL},
    [ST_BRANCH] = {"cases", "else", NULL},
    [ST_CONFIRM] = {"response", "yes", "no", NULL},
    [ST_SAY] = {"response", "next", NULL},
    [ST_HANDOFF] = {"response", NULL},
    [ST_END] = {"response", NULL},
    [ST_PICK] = {"from", "where", "equals", "as", "next", "none", NULL},
    [ST_CONSENT] = {"op", "next", "none", NULL},
};

/* ---- flows ------------------------------------------------------------ */

struct step {
    const char *id;
    yaml_node_t *node;
    int type; /* -1: unknown */
    yaml_node_t *f[MAX_STEP_KEYS];
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
        to = parley__bot_scalar(c, n, what);
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
    const char *key = parley__bot_scalar(c, n, what);
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
    if (!parley__bot_is_kind(c, sn, YAML_MAPPING_NODE, "a step"))
        return;
    idn = parley__bot_map_get(c->doc, sn, "id");
    typen = parley__bot_map_get(c->doc, sn, "type");
    if (!idn)
        parley__bot_problem(c, sn, "step has no 'id' (expected a name other steps can lead to)");
    else if ((st->id = parley__bot_scalar(c, idn, "'id'")) != NULL) {
        for (size_t i = 0; i + 1 < fs->nsteps; i++)
            if (fs->steps[i].id && strcmp(fs->steps[i].id, st->id) == 0) {
                parley__bot_problem(c, idn, "duplicate step id '%s' (first at line %lu)", st->id,
                                    (unsigned long)fs->steps[i].node->start_mark.line + 1);
                break;
            }
    }
    if (!typen) {
        char expected[200];
        parley__bot_join(expected, sizeof(expected), step_types);
        parley__bot_problem(c, sn, "step has no 'type' (expected one of: %s)", expected);
        return;
    }
    type = parley__bot_scalar(c, typen, "'type'");
    if (!type)
        return;
    st->type = parley__bot_in_list(type, step_types);
    if (st->type < 0) {
        char expected[200];
        parley__bot_join(expected, sizeof(expected), step_types);
        parley__bot_problem(c, typen, "unknown step type '%s' (expected one of: %s)", type,
                            expected);
        return;
    }
    {
        const char *keys[MAX_STEP_KEYS + 3];
        yaml_node_t *vals[MAX_STEP_KEYS + 3];
        size_t nk = 0;
        for (int i = 0; base[i]; i++)
            keys[nk++] = base[i];
        for (int i = 0; step_keys[st->type][i]; i++)
            keys[nk++] = step_keys[st->type][i];
        keys[nk] = NULL;
        parley__bot_read_keys(c, sn, keys, vals, "a step of this type");
        for (size_t i = 2; i < nk && i - 2 < MAX_STEP_KEYS; i++)
            st->f[i - 2] = vals[i];
    }
    if (st->type == ST_ASK && st->f[0]) {
        const char *slot = parley__bot_scalar(c, st->f[0], "'slot'");
        if (slot) {
            if (!parley__bot_find_slot(c, slot))
                parley__bot_problem(
                    c, st->f[0], "unknown slot '%s' (expected one declared under 'slots')", slot);
            else
                parley__bot_provide(fs->names, &fs->nnames, MAX_PROVIDED, slot);
        }
    } else if (st->type == ST_VERIFY) {
        for (int i = 0; parley__bot_identity_facts[i]; i++)
            parley__bot_provide(fs->names, &fs->nnames, MAX_PROVIDED,
                                parley__bot_identity_facts[i]);
    } else if (st->type == ST_CALL && st->f[0]) {
        const char *an = parley__bot_scalar(c, st->f[0], "'action'");
        struct action *a = an ? parley__bot_find_action(c, an) : NULL;
        if (an && !a)
            parley__bot_problem(c, st->f[0],
                                "unknown action '%s' (expected one declared under 'actions')", an);
        else if (a && a->conn)
            parley__bot_op_facts(a->conn, a->op, fs->names, &fs->nnames, MAX_PROVIDED);
        parley__bot_provide(fs->names, &fs->nnames, MAX_PROVIDED, "error_code");
    } else if (st->type == ST_CONSENT) {
        for (int i = 0; consent_facts[i]; i++)
            parley__bot_provide(fs->names, &fs->nnames, MAX_PROVIDED, consent_facts[i]);
    } else if (st->type == ST_PICK && st->f[3]) {
        const char *as = parley__bot_scalar(c, st->f[3], "'as'");
        if (as && !parley__bot_valid_name(as))
            parley__bot_problem(c, st->f[3],
                                "'as' must be a name of letters, digits and '_' (got '%s')", as);
        else if (as) {
            parley__bot_provide(fs->names, &fs->nnames, MAX_PROVIDED, as);
            parley__bot_provide(c->global, &c->nglobal, MAX_PROVIDED, as);
        }
    }
}

/* A fact or slot a step reads must be one the flow provides somewhere. */
static void need_provided(struct ctx *c, const struct flow_state *fs, yaml_node_t *n,
                          const char *kind, const char *what)
{
    const char *name = parley__bot_scalar(c, n, what);
    if (name && !parley__bot_provided(fs->names, fs->nnames, name, strlen(name)))
        parley__bot_problem(c, n,
                            "%s '%s' is not provided in this flow (expected a slot it asks or a "
                            "fact of a step it runs)",
                            kind, name);
}

/* A value is a literal, or slot.NAME / fact.NAME the flow provides. */
static void check_value(struct ctx *c, const struct flow_state *fs, yaml_node_t *n)
{
    const char *v = parley__bot_scalar(c, n, "a value");
    if (!v)
        return;
    if (strncmp(v, "slot.", 5) == 0 || strncmp(v, "fact.", 5) == 0) {
        if (!parley__bot_provided(fs->names, fs->nnames, v + 5, strlen(v + 5)))
            parley__bot_problem(c, n,
                                "%s '%s' is not provided in this flow (expected a slot it asks or "
                                "a fact of a step it runs)",
                                v[0] == 's' ? "slot" : "fact", v + 5);
    }
}

static void require(struct ctx *c, const struct step *st, int i, const char *key)
{
    if (!st->f[i])
        parley__bot_problem(c, st->node, "%s step '%s' has no '%s'", step_types[st->type],
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
        static const char *const ckeys[] = {"slot", "fact",       "equals",   "below", "above",
                                            "goto", "not_equals", "contains", NULL};
        yaml_node_t *cases = st->f[0];
        require(c, st, 0, "cases");
        if (cases && parley__bot_is_kind(c, cases, YAML_SEQUENCE_NODE, "'cases'")) {
            FOR_ITEMS(cases, it)
            {
                yaml_node_t *cn = parley__bot_node_at(c->doc, *it), *v[9], *value = NULL;
                const char *subject;
                int nops = 0;
                if (!parley__bot_is_kind(c, cn, YAML_MAPPING_NODE, "a case"))
                    continue;
                parley__bot_read_keys(c, cn, ckeys, v, "a branch case");
                if (!v[0] == !v[1]) {
                    parley__bot_problem(c, cn, "a case needs exactly one of 'slot' or 'fact'");
                } else if ((subject = parley__bot_scalar(c, v[0] ? v[0] : v[1],
                                                         "a case subject")) != NULL &&
                           !parley__bot_provided(fs->names, fs->nnames, subject, strlen(subject))) {
                    parley__bot_problem(
                        c, v[0] ? v[0] : v[1],
                        "%s '%s' is not provided in this flow (expected a slot it asks or a "
                        "fact of a step it runs)",
                        v[0] ? "slot" : "fact", subject);
                }
                for (int o = 2; o < 8; o++)
                    if (o != 5 && v[o]) {
                        nops++;
                        value = v[o];
                    }
                if (nops != 1)
                    parley__bot_problem(c, cn,
                                        "a case needs exactly one of 'equals', 'not_equals', "
                                        "'below', 'above' or 'contains'");
                else
                    check_value(c, fs, value);
                if (!v[5])
                    parley__bot_problem(c, cn, "a case has no 'goto' (expected a step id)");
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
    case ST_PICK:
        require(c, st, 0, "from");
        require(c, st, 3, "as");
        if (st->f[0])
            need_provided(c, fs, st->f[0], "fact", "'from'");
        if (st->f[1])
            need_provided(c, fs, st->f[1], "fact", "'where'");
        if (st->f[2])
            check_value(c, fs, st->f[2]);
        if (!st->f[1] != !st->f[2])
            parley__bot_problem(c, st->node,
                                "pick step '%s' needs both 'where' and 'equals', or neither",
                                st->id ? st->id : "?");
        add_edge(c, fs, i, st->f[4], "'next'");
        if (st->f[5])
            add_edge(c, fs, i, st->f[5], "'none'");
        break;
    case ST_CONSENT: {
        const char *op;
        char all[96];
        require(c, st, 0, "op");
        op = st->f[0] ? parley__bot_scalar(c, st->f[0], "'op'") : NULL;
        if (op && parley__bot_in_list(op, consent_ops) < 0) {
            parley__bot_join(all, sizeof(all), consent_ops);
            parley__bot_problem(c, st->f[0], "unknown consent op '%s' (expected one of %s)", op,
                                all);
        }
        add_edge(c, fs, i, st->f[1], "'next'");
        if (st->f[2])
            add_edge(c, fs, i, st->f[2], "'none'");
        break;
    }
    default:
        break;
    }
}

static void check_flow(struct ctx *c, const char *fname, yaml_node_t *steps, size_t *nsteps,
                       int *has_verify)
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
            parley__bot_problem(c, parley__bot_node_at(c->doc, *it), "too many steps (at most %d)",
                                MAX_STEPS);
            break;
        }
        read_step(c, fs, parley__bot_node_at(c->doc, *it));
    }
    *nsteps = fs->nsteps;
    for (size_t i = 0; i < fs->nsteps; i++)
        *has_verify |= fs->steps[i].type == ST_VERIFY;
    for (size_t i = 0; i < fs->nsteps; i++)
        link_step(c, fs, i);
    /* Targets exist; then everything must be reachable from the first step. */
    for (size_t e = 0; e < fs->nedges; e++)
        if (fs->edges[e].to && step_index(fs, fs->edges[e].to) < 0)
            parley__bot_problem(c, fs->edges[e].node,
                                "unknown step '%s' in flow '%s' (expected a step id)",
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
            parley__bot_problem(c, fs->steps[i].node,
                                "step '%s' in flow '%s' is unreachable (no step leads to it)",
                                fs->steps[i].id ? fs->steps[i].id : "?", fname);
    for (size_t r = 0; r < fs->nrefs; r++) {
        struct response *resp = parley__bot_find_response(c, fs->refs[r].key);
        if (!resp) {
            parley__bot_problem(c, fs->refs[r].node,
                                "unknown response '%s' (expected a key declared under 'responses')",
                                fs->refs[r].key);
            continue;
        }
        if (!resp->used)
            parley__bot_check_placeholders(c, resp, fs->names, fs->nnames, fname);
        resp->used = 1;
    }
    parley__free(fs);
}

void parley__bot_read_flows(struct ctx *c, yaml_node_t *n)
{
    static const char *const keys[] = {"intent", "description", "steps", NULL};
    if (!n)
        return;
    if (!parley__bot_is_kind(c, n, YAML_MAPPING_NODE, "'flows'"))
        return;
    FOR_PAIRS(n, p)
    {
        yaml_node_t *k = parley__bot_node_at(c->doc, p->key),
                    *v = parley__bot_node_at(c->doc, p->value), *f[3];
        const char *name = parley__bot_scalar(c, k, "a flow name"), *intent;
        size_t fi;
        if (!name || parley__bot_dup_key(c, n, p, name, k, "flow"))
            continue;
        if (c->nflows == MAX_FLOWS) {
            parley__bot_problem(c, k, "too many flows (at most %d)", MAX_FLOWS);
            break;
        }
        fi = c->nflows++;
        c->flows[fi].name = name;
        c->flows[fi].node = k;
        if (!parley__bot_is_kind(c, v, YAML_MAPPING_NODE, "a flow"))
            continue;
        parley__bot_read_keys(c, v, keys, f, "a flow");
        if (!f[0]) {
            parley__bot_problem(c, v, "flow '%s' has no 'intent' (expected the intent it serves)",
                                name);
        } else if ((intent = parley__bot_scalar(c, f[0], "'intent'")) != NULL) {
            c->flow_intent[fi] = intent;
            if (parley__bot_find_intent(c, intent) < 0)
                parley__bot_problem(c, f[0],
                                    "flow '%s' serves unknown intent '%s' (expected one listed "
                                    "under 'intents')",
                                    name, intent);
            for (size_t j = 0; j < fi; j++)
                if (c->flow_intent[j] && strcmp(c->flow_intent[j], intent) == 0)
                    parley__bot_problem(c, f[0], "intent '%s' already has flow '%s'", intent,
                                        c->flows[j].name);
        }
        if (!f[2]) {
            parley__bot_problem(c, v, "flow '%s' has no 'steps' (expected a list of steps)", name);
            continue;
        }
        if (!parley__bot_is_kind(c, f[2], YAML_SEQUENCE_NODE, "'steps'"))
            continue;
        if (f[2]->data.sequence.items.start == f[2]->data.sequence.items.top) {
            parley__bot_problem(c, f[2], "flow '%s' has no steps (expected at least one)", name);
            continue;
        }
        check_flow(c, name, f[2], &c->flow_steps[fi], &c->flow_has_verify[fi]);
    }
}
