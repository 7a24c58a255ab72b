/* The 'pii' section of a bot definition: the identifiers the bot's backend
 * uses (customer, line, bill ids...), which the personal-data detectors
 * then find and redact like any other personal value. */
#include <string.h>

#include "bot/internal.h"
#include "parley/pii.h"

/* Most identifier classes one bot may declare. */
#define MAX_IDENTIFIERS 32

/* Each pattern is compiled by the detectors themselves, so bot check
 * reports exactly what the engine would refuse. */
static void check_pattern(struct ctx *c, yaml_node_t *at, const char *name, const char *pattern)
{
    parley_pii_identifier id = {name, pattern};
    parley_pii_options o = {
        .types = PARLEY_PII_BIT(PARLEY_PII_ID), .identifiers = &id, .n_identifiers = 1};
    parley_pii *p = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    if (!pattern[0]) {
        parley__bot_problem(c, at,
                            "identifier '%s' has an empty pattern (expected a regular "
                            "expression for its whole value, e.g. \"C[0-9]{4}\")",
                            name);
        return;
    }
    if (parley_pii_create(&o, &p, &e) != PARLEY_OK) {
        if (e.code == PARLEY_ERR_NOMEM)
            c->nomem = 1;
        else
            parley__bot_problem(c, at, "identifier '%s': %s", name, e.msg);
    }
    parley_pii_destroy(p);
}

void parley__bot_read_pii(struct ctx *c, yaml_node_t *n)
{
    static const char *const keys[] = {"identifiers", NULL};
    yaml_node_t *v[1];
    size_t count = 0;
    if (!n || !parley__bot_is_kind(c, n, YAML_MAPPING_NODE, "'pii'"))
        return;
    parley__bot_read_keys(c, n, keys, v, "'pii'");
    if (!v[0] || !parley__bot_is_kind(c, v[0], YAML_MAPPING_NODE, "'identifiers'"))
        return;
    FOR_PAIRS(v[0], p)
    {
        yaml_node_t *k = parley__bot_node_at(c->doc, p->key);
        yaml_node_t *val = parley__bot_node_at(c->doc, p->value);
        const char *name = parley__bot_scalar(c, k, "an identifier name");
        const char *pattern;
        if (!name)
            continue;
        if (!parley__bot_valid_name(name)) {
            parley__bot_problem(c, k, "bad identifier name '%s' (expected a-z, 0-9 and _)", name);
            continue;
        }
        if (parley__bot_dup_key(c, v[0], p, name, k, "identifier"))
            continue;
        if (++count > MAX_IDENTIFIERS) {
            parley__bot_problem(c, k, "too many identifiers (at most %d)", MAX_IDENTIFIERS);
            return;
        }
        pattern = parley__bot_scalar(c, val, "a pattern");
        if (pattern)
            check_pattern(c, val, name, pattern);
    }
}

int parley__bot_compile_pii(struct ctx *c, parley_bot *b, yaml_node_t *n, int *nomem)
{
    yaml_node_t *ids = parley__bot_map_get(c->doc, n, "identifiers");
    size_t k = 0;
    if (!ids || ids->type != YAML_MAPPING_NODE)
        return 1;
    b->pii_ids = parley__bot_alloc(
        b, (size_t)(ids->data.mapping.pairs.top - ids->data.mapping.pairs.start + 1) *
               sizeof(*b->pii_ids));
    if (!b->pii_ids)
        return 0;
    FOR_PAIRS(ids, p)
    {
        b->pii_ids[k].name =
            parley__bot_strdup(b, parley__bot_sval(parley__bot_node_at(c->doc, p->key)), nomem);
        b->pii_ids[k].pattern =
            parley__bot_strdup(b, parley__bot_sval(parley__bot_node_at(c->doc, p->value)), nomem);
        k++;
    }
    b->npii_ids = k;
    return 1;
}

const parley_pii_identifier *parley_bot_pii_identifiers(const parley_bot *b, size_t *n)
{
    *n = b ? b->npii_ids : 0;
    return b ? b->pii_ids : NULL;
}
