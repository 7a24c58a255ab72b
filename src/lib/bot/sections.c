/* Parsing bot.yml's top-level sections (languages, NLU, intents, slots,
 * connectors, actions, responses) and checking them against each other. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "bot/internal.h"
#include "parley/connect.h"
#include "parley/nlu.h"

static const char *const entity_kinds[] = {
    "phone", "data_amount", "money", "date", "yes_no", "plan", "city", "text", NULL,
};

/* ---- top-level sections ----------------------------------------------- */

void parley__bot_read_languages(struct ctx *c, yaml_node_t *n)
{
    if (!n) {
        parley__bot_problem(
            c, yaml_document_get_root_node(c->doc),
            "missing 'languages' (expected a list of language codes such as [en, fr])");
        return;
    }
    if (!parley__bot_is_kind(c, n, YAML_SEQUENCE_NODE, "'languages'"))
        return;
    FOR_ITEMS(n, it)
    {
        yaml_node_t *ln = parley__bot_node_at(c->doc, *it);
        const char *code = parley__bot_scalar(c, ln, "a language");
        size_t len;
        if (!code)
            continue;
        len = strlen(code);
        if (len < 2 || len > 3 || strspn(code, "abcdefghijklmnopqrstuvwxyz") != len) {
            parley__bot_problem(
                c, ln, "bad language code '%s' (expected two or three lowercase letters)", code);
            continue;
        }
        if (parley__bot_find_lang(c, code)) {
            parley__bot_problem(c, ln, "duplicate language '%s'", code);
            continue;
        }
        if (c->nlangs == MAX_LANGS) {
            parley__bot_problem(c, ln, "too many languages (at most %d)", MAX_LANGS);
            break;
        }
        c->langs[c->nlangs].code = code;
        c->langs[c->nlangs++].node = ln;
    }
    if (c->nlangs == 0 && n->data.sequence.items.start == n->data.sequence.items.top)
        parley__bot_problem(c, n, "'languages' is empty (expected at least one language)");
}

void parley__bot_read_nlu(struct ctx *c, yaml_node_t *n)
{
    static const char *const keys[] = {"files", "thresholds", NULL};
    static const char *const tkeys[] = {"confidence", "ambiguity_margin", NULL};
    yaml_node_t *v[3], *t[3];
    if (!n) {
        parley__bot_problem(c, yaml_document_get_root_node(c->doc),
                            "missing 'nlu' (expected 'files' naming an example file per language)");
        return;
    }
    if (!parley__bot_is_kind(c, n, YAML_MAPPING_NODE, "'nlu'"))
        return;
    parley__bot_read_keys(c, n, keys, v, "'nlu'");
    if (v[1] && parley__bot_is_kind(c, v[1], YAML_MAPPING_NODE, "'nlu.thresholds'")) {
        parley__bot_read_keys(c, v[1], tkeys, t, "'nlu.thresholds'");
        if (t[0])
            (void)parley__bot_read_number(c, t[0], "'confidence'", 0, 1, &c->confidence);
        if (t[1])
            (void)parley__bot_read_number(c, t[1], "'ambiguity_margin'", 0, 1, &c->margin);
    }
    if (!v[0]) {
        parley__bot_problem(
            c, n, "missing 'files' in 'nlu' (expected language: path, e.g. en: nlu/en.yml)");
        return;
    }
    if (!parley__bot_is_kind(c, v[0], YAML_MAPPING_NODE, "'nlu.files'"))
        return;
    FOR_PAIRS(v[0], p)
    {
        yaml_node_t *k = parley__bot_node_at(c->doc, p->key),
                    *val = parley__bot_node_at(c->doc, p->value);
        const char *code = parley__bot_scalar(c, k, "a language"), *rel;
        struct lang *l;
        if (!code)
            continue;
        l = parley__bot_find_lang(c, code);
        if (!l) {
            parley__bot_problem(c, k, "nlu file for '%s', which is not one of the bot's languages",
                                code);
            continue;
        }
        if (l->nlu_rel) {
            parley__bot_problem(c, k, "duplicate nlu file for '%s'", code);
            continue;
        }
        rel = parley__bot_scalar(c, val, "an nlu file path");
        if (!rel)
            continue;
        l->nlu_rel = rel;
        l->nlu_node = val;
    }
}

void parley__bot_read_intents(struct ctx *c, yaml_node_t *n)
{
    if (!n) {
        parley__bot_problem(c, yaml_document_get_root_node(c->doc),
                            "missing 'intents' (expected the list of intent names)");
        return;
    }
    if (!parley__bot_is_kind(c, n, YAML_SEQUENCE_NODE, "'intents'"))
        return;
    FOR_ITEMS(n, it)
    {
        yaml_node_t *in = parley__bot_node_at(c->doc, *it);
        const char *name = parley__bot_scalar(c, in, "an intent");
        if (!name)
            continue;
        if (!parley__bot_valid_name(name)) {
            parley__bot_problem(
                c, in, "bad intent name '%s' (expected lowercase letters, digits, _ and -)", name);
            continue;
        }
        if (parley__bot_find_intent(c, name) >= 0) {
            parley__bot_problem(c, in, "duplicate intent '%s'", name);
            continue;
        }
        if (c->nintents == MAX_INTENTS) {
            parley__bot_problem(c, in, "too many intents (at most %d)", MAX_INTENTS);
            break;
        }
        c->intents[c->nintents].name = name;
        c->intents[c->nintents++].node = in;
    }
}

/* Reads each language's NLU file: every example's intent must be declared,
 * and every declared intent must have examples in every language. */
void parley__bot_check_nlu_files(struct ctx *c)
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
            parley__bot_problem(
                c, l->node,
                "language '%s' has no nlu file (expected 'nlu.files.%s: path' to its "
                "examples)",
                l->code, l->code);
            continue;
        }
        l->nlu_path = parley__bot_join_path(c, l->nlu_rel);
        if (!l->nlu_path)
            break;
        if (parley_nlu_data_open(l->nlu_path, PARLEY_NLU_FORMAT_RASA, 0, &d, &e) != PARLEY_OK) {
            if (e.code == PARLEY_ERR_NOMEM)
                c->nomem = 1;
            else if (e.code == PARLEY_ERR_IO)
                parley__bot_problem(c, l->nlu_node, "cannot read nlu file '%s' for '%s': %s",
                                    l->nlu_rel, l->code, e.msg);
            else
                parley__bot_problem_from_message(c, l->nlu_path, e.msg);
            continue;
        }
        for (;;) {
            parley_nlu_example ex;
            int has = 0;
            parley_err rc = parley_nlu_data_next(d, &ex, &has, &e);
            long ii;
            if (rc != PARLEY_OK) {
                parley__bot_problem_from_message(c, l->nlu_path, e.msg);
                if (rc != PARLEY_ERR_FORMAT && rc != PARLEY_ERR_UTF8)
                    break;
                continue;
            }
            if (!has)
                break;
            ii = parley__bot_find_intent(c, ex.label);
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
                parley__bot_problem_at(
                    c, l->nlu_path, ex.line, 1,
                    "intent '%s' has examples but is not declared under 'intents' in "
                    "bot.yml",
                    ex.label);
                (void)snprintf(unknown[nunknown++], sizeof(unknown[0]), "%s", ex.label);
            }
        }
        parley_nlu_data_free(d);
        for (size_t ii = 0; ii < c->nintents; ii++)
            if (!have[ii * MAX_LANGS + li])
                parley__bot_problem(
                    c, c->intents[ii].node,
                    "intent '%s' has no examples in '%s' (expected some for each language)",
                    c->intents[ii].name, l->nlu_rel);
    }
    parley__free(have);
}

void parley__bot_read_slots(struct ctx *c, yaml_node_t *n)
{
    static const char *const keys[] = {"entity", "min", "max", "unit", NULL};
    if (!n)
        return;
    if (!parley__bot_is_kind(c, n, YAML_MAPPING_NODE, "'slots'"))
        return;
    FOR_PAIRS(n, p)
    {
        yaml_node_t *k = parley__bot_node_at(c->doc, p->key),
                    *v = parley__bot_node_at(c->doc, p->value), *f[5];
        const char *name = parley__bot_scalar(c, k, "a slot name"), *kind = NULL;
        double min = 0, max = 0;
        int has_min = 0, has_max = 0, numeric;
        if (!name || parley__bot_dup_key(c, n, p, name, k, "slot"))
            continue;
        if (c->nslots == MAX_SLOTS) {
            parley__bot_problem(c, k, "too many slots (at most %d)", MAX_SLOTS);
            break;
        }
        c->slots[c->nslots].name = name;
        c->slots[c->nslots++].node = k;
        if (!parley__bot_is_kind(c, v, YAML_MAPPING_NODE, "a slot"))
            continue;
        parley__bot_read_keys(c, v, keys, f, "a slot");
        if (!f[0]) {
            char expected[200];
            parley__bot_join(expected, sizeof(expected), entity_kinds);
            parley__bot_problem(c, v, "slot '%s' has no 'entity' (expected one of: %s)", name,
                                expected);
            continue;
        }
        kind = parley__bot_scalar(c, f[0], "'entity'");
        if (!kind)
            continue;
        if (parley__bot_in_list(kind, entity_kinds) < 0) {
            char expected[200];
            parley__bot_join(expected, sizeof(expected), entity_kinds);
            parley__bot_problem(c, f[0], "unknown entity kind '%s' (expected one of: %s)", kind,
                                expected);
            continue;
        }
        numeric = strcmp(kind, "data_amount") == 0 || strcmp(kind, "money") == 0;
        if ((f[1] || f[2]) && !numeric) {
            parley__bot_problem(c, f[1] ? f[1] : f[2],
                                "'min' and 'max' apply to data_amount and money slots, not %s",
                                kind);
            continue;
        }
        if (f[1])
            has_min = parley__bot_read_number(c, f[1], "'min'", -1e12, 1e12, &min);
        if (f[2])
            has_max = parley__bot_read_number(c, f[2], "'max'", -1e12, 1e12, &max);
        if (has_min && has_max && min > max)
            parley__bot_problem(c, f[2], "'max' (%g) is below 'min' (%g)", max, min);
        if (f[3]) {
            const char *u = parley__bot_scalar(c, f[3], "'unit'");
            if (u && strcmp(kind, "data_amount") != 0)
                parley__bot_problem(c, f[3], "'unit' applies to data_amount slots, not %s", kind);
            else if (u && strcmp(u, "mb") != 0 && strcmp(u, "gb") != 0)
                parley__bot_problem(c, f[3], "unknown unit '%s' (expected mb or gb)", u);
        }
    }
}

void parley__bot_read_connectors(struct ctx *c, yaml_node_t *n)
{
    if (!n)
        return;
    if (!parley__bot_is_kind(c, n, YAML_SEQUENCE_NODE, "'connectors'"))
        return;
    FOR_ITEMS(n, it)
    {
        yaml_node_t *cn = parley__bot_node_at(c->doc, *it);
        const char *rel = parley__bot_scalar(c, cn, "a connector file");
        struct connector *conn;
        parley_error e = PARLEY_ERROR_INIT;
        if (!rel)
            continue;
        if (c->nconns == MAX_CONNECTORS) {
            parley__bot_problem(c, cn, "too many connectors (at most %d)", MAX_CONNECTORS);
            break;
        }
        conn = &c->conns[c->nconns++];
        conn->path = parley__bot_join_path(c, rel);
        if (!conn->path)
            return;
        if (parley_connect_def_load(conn->path, &conn->def, &e) != PARLEY_OK) {
            if (e.code == PARLEY_ERR_NOMEM)
                c->nomem = 1;
            else if (e.code == PARLEY_ERR_IO)
                parley__bot_problem(c, cn, "cannot read connector '%s': %s", rel, e.msg);
            else
                parley__bot_problem_from_message(c, conn->path, e.msg);
            continue;
        }
        for (size_t i = 0; i + 1 < c->nconns; i++)
            if (c->conns[i].def && strcmp(parley_connect_def_name(c->conns[i].def),
                                          parley_connect_def_name(conn->def)) == 0)
                parley__bot_problem(c, cn, "duplicate connector name '%s'",
                                    parley_connect_def_name(conn->def));
    }
}

struct connector *parley__bot_connector_for(struct ctx *c, yaml_node_t *cnode, yaml_node_t *owner,
                                            const char *what)
{
    const char *cname;
    if (!cnode) {
        if (c->nconns == 1)
            return c->conns[0].def ? &c->conns[0] : NULL;
        parley__bot_problem(c, owner, "%s has no 'connector' (expected one when there are %zu)",
                            what, c->nconns);
        return NULL;
    }
    if (!(cname = parley__bot_scalar(c, cnode, "'connector'")))
        return NULL;
    for (size_t i = 0; i < c->nconns; i++)
        if (c->conns[i].def && strcmp(parley_connect_def_name(c->conns[i].def), cname) == 0)
            return &c->conns[i];
    parley__bot_problem(c, cnode,
                        "unknown connector '%s' (expected the name of a file under "
                        "'connectors')",
                        cname);
    return NULL;
}

int parley__bot_has_op(const parley_connect_def *def, const char *op)
{
    for (size_t i = 0; def && i < parley_connect_def_op_count(def); i++)
        if (strcmp(parley_connect_def_op_name(def, i), op) == 0)
            return 1;
    return 0;
}

static int fact_known(struct ctx *c, const char *name)
{
    return parley__bot_provided(c->global, c->nglobal, name, strlen(name));
}

/* Is `name` a parameter of operation `op` of `def`? */
static int has_param(const parley_connect_def *def, const char *op, const char *name)
{
    size_t np = parley_connect_def_param_count(def, op);
    for (size_t i = 0; i < np; i++)
        if (strcmp(parley_connect_def_param_name(def, op, i), name) == 0)
            return 1;
    return 0;
}

static void check_action_params(struct ctx *c, struct action *a, const char *opname,
                                yaml_node_t *params)
{
    const parley_connect_def *def = a->conn->def;
    size_t np = parley_connect_def_param_count(def, opname);
    if (params && parley__bot_is_kind(c, params, YAML_MAPPING_NODE, "'params'")) {
        FOR_PAIRS(params, p)
        {
            yaml_node_t *k = parley__bot_node_at(c->doc, p->key),
                        *v = parley__bot_node_at(c->doc, p->value);
            const char *pn = parley__bot_scalar(c, k, "a parameter name"), *src;
            if (!pn)
                continue;
            if (!has_param(def, opname, pn))
                parley__bot_problem(c, k, "operation '%s' has no parameter '%s'", opname, pn);
            src = parley__bot_scalar(c, v, "a parameter value");
            if (!src)
                continue;
            if (strncmp(src, "slot.", 5) == 0 && !parley__bot_find_slot(c, src + 5))
                parley__bot_problem(c, v, "unknown slot '%s' (expected one declared under 'slots')",
                                    src + 5);
            else if (strncmp(src, "fact.", 5) == 0 && !fact_known(c, src + 5))
                parley__bot_problem(
                    c, v,
                    "unknown fact '%s' (expected a fact of a connector operation or of "
                    "verify_identity)",
                    src + 5);
        }
    }
    for (size_t i = 0; i < np; i++) {
        const char *pn = parley_connect_def_param_name(def, opname, i);
        int mapped = params && params->type == YAML_MAPPING_NODE &&
                     parley__bot_map_get(c->doc, params, pn) != NULL;
        if (!mapped)
            parley__bot_problem(c, a->node,
                                "action '%s' does not map parameter '%s' of operation '%s' "
                                "(expected 'params: {%s: slot.NAME | fact.NAME | value}')",
                                a->name, pn, opname, pn);
    }
}

void parley__bot_read_actions(struct ctx *c, yaml_node_t *n)
{
    static const char *const keys[] = {"connector", "operation", "params", NULL};
    /* Facts every action may provide, for parameter mapping checks. */
    for (int i = 0; parley__bot_identity_facts[i]; i++)
        parley__bot_provide(c->global, &c->nglobal, MAX_PROVIDED, parley__bot_identity_facts[i]);
    for (int i = 0; parley__bot_engine_names[i]; i++)
        parley__bot_provide(c->global, &c->nglobal, MAX_PROVIDED, parley__bot_engine_names[i]);
    for (size_t i = 0; i < c->nslots; i++)
        parley__bot_provide(c->global, &c->nglobal, MAX_PROVIDED, c->slots[i].name);
    for (size_t i = 0; i < c->nconns; i++) {
        const parley_connect_def *def = c->conns[i].def;
        for (size_t o = 0; def && o < parley_connect_def_op_count(def); o++)
            parley__bot_op_facts(&c->conns[i], parley_connect_def_op_name(def, o), c->global,
                                 &c->nglobal, MAX_PROVIDED);
    }
    if (!n)
        return;
    if (!parley__bot_is_kind(c, n, YAML_MAPPING_NODE, "'actions'"))
        return;
    FOR_PAIRS(n, p)
    {
        yaml_node_t *k = parley__bot_node_at(c->doc, p->key),
                    *v = parley__bot_node_at(c->doc, p->value), *f[4];
        const char *name = parley__bot_scalar(c, k, "an action name"), *opname;
        char where[96];
        struct action *a;
        if (!name || parley__bot_dup_key(c, n, p, name, k, "action"))
            continue;
        if (c->nactions == MAX_ACTIONS) {
            parley__bot_problem(c, k, "too many actions (at most %d)", MAX_ACTIONS);
            break;
        }
        a = &c->actions[c->nactions++];
        a->name = name;
        a->node = k;
        if (!parley__bot_is_kind(c, v, YAML_MAPPING_NODE, "an action"))
            continue;
        parley__bot_read_keys(c, v, keys, f, "an action");
        (void)snprintf(where, sizeof(where), "action '%.60s'", name);
        a->conn = parley__bot_connector_for(c, f[0], v, where);
        if (!a->conn)
            continue;
        if (!a->conn->def) {
            a->conn = NULL; /* its own problem is reported */
            continue;
        }
        if (!f[1]) {
            parley__bot_problem(c, v,
                                "action '%s' has no 'operation' (expected an operation of '%s')",
                                name, parley_connect_def_name(a->conn->def));
            a->conn = NULL;
            continue;
        }
        opname = parley__bot_scalar(c, f[1], "'operation'");
        if (!opname) {
            a->conn = NULL;
            continue;
        }
        if (!parley__bot_has_op(a->conn->def, opname)) {
            parley__bot_problem(c, f[1], "connector '%s' has no operation '%s'",
                                parley_connect_def_name(a->conn->def), opname);
            a->conn = NULL;
            continue;
        }
        a->op = opname;
        check_action_params(c, a, opname, f[2]);
    }
}

void parley__bot_read_responses(struct ctx *c, yaml_node_t *n)
{
    if (!n)
        return;
    if (!parley__bot_is_kind(c, n, YAML_MAPPING_NODE, "'responses'"))
        return;
    FOR_PAIRS(n, p)
    {
        yaml_node_t *k = parley__bot_node_at(c->doc, p->key),
                    *v = parley__bot_node_at(c->doc, p->value);
        const char *key = parley__bot_scalar(c, k, "a response key");
        if (!key || parley__bot_dup_key(c, n, p, key, k, "response"))
            continue;
        if (c->nresponses == MAX_RESPONSES) {
            parley__bot_problem(c, k, "too many responses (at most %d)", MAX_RESPONSES);
            break;
        }
        c->responses[c->nresponses].key = key;
        c->responses[c->nresponses].node = k;
        c->responses[c->nresponses++].value = v;
        if (!parley__bot_is_kind(c, v, YAML_MAPPING_NODE, "a response (language: text)"))
            continue;
        FOR_PAIRS(v, q)
        {
            yaml_node_t *lk = parley__bot_node_at(c->doc, q->key);
            const char *code = parley__bot_scalar(c, lk, "a language");
            if (!code)
                continue;
            if (!parley__bot_find_lang(c, code))
                parley__bot_problem(c, lk,
                                    "response '%s' has text in '%s', which is not one of the bot's "
                                    "languages",
                                    key, code);
            else if (parley__bot_dup_key(c, v, q, code, lk, "language in a response"))
                continue;
            (void)parley__bot_scalar(c, parley__bot_node_at(c->doc, q->value), "a response text");
        }
        for (size_t i = 0; i < c->nlangs; i++)
            if (!parley__bot_map_get(c->doc, v, c->langs[i].code))
                parley__bot_problem(
                    c, k,
                    "response '%s' has no text in '%s' (expected one for each of the "
                    "bot's languages)",
                    key, c->langs[i].code);
    }
}

/* Checks the {placeholders} of every text of response `r` against the
 * `n` names at `names`; `flow` names the flow for the message ("rule X"
 * for a proactive rule), or NULL. */
void parley__bot_check_placeholders(struct ctx *c, struct response *r, const char *const *names,
                                    size_t n, const char *flow)
{
    if (!r->value || r->value->type != YAML_MAPPING_NODE)
        return;
    FOR_PAIRS(r->value, q)
    {
        yaml_node_t *tn = parley__bot_node_at(c->doc, q->value);
        const char *lang = parley__bot_sval(parley__bot_node_at(c->doc, q->key)),
                   *t = parley__bot_sval(tn);
        if (!lang || !t)
            continue;
        for (const char *s = strchr(t, '{'); s; s = strchr(s + 1, '{')) {
            const char *e = strchr(s + 1, '}');
            size_t len;
            if (!e) {
                parley__bot_problem(c, tn,
                                    "response '%s' (%s) has an unclosed '{' (expected {name})",
                                    r->key, lang);
                break;
            }
            len = (size_t)(e - s - 1);
            if (parley__bot_provided(names, n, s + 1, len))
                continue;
            if (flow && strncmp(flow, "rule ", 5) == 0)
                parley__bot_problem(c, tn,
                                    "placeholder '{%.*s}' in response '%s' (%s) is not known in "
                                    "rule '%s' (expected a field of its event, a fact of an action "
                                    "it runs, remaining_gb or remaining_amount)",
                                    (int)len, s + 1, r->key, lang, flow + 5);
            else if (flow)
                parley__bot_problem(
                    c, tn,
                    "placeholder '{%.*s}' in response '%s' (%s) is not provided in flow '%s' "
                    "(expected a slot it asks or a fact of a step it runs)",
                    (int)len, s + 1, r->key, lang, flow);
            else
                parley__bot_problem(
                    c, tn,
                    "placeholder '{%.*s}' in response '%s' (%s) is no slot or fact (expected "
                    "a slot or a fact of a connector operation)",
                    (int)len, s + 1, r->key, lang);
        }
    }
}
