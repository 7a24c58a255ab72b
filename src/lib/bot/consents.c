/* The 'consents' catalogue of a bot definition: the scopes a customer may
 * grant for proactive actions, the limits each supports, the action it
 * covers and the words that name it in each language; checked with
 * file:line:column problems, then compiled for the engine. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "bot/internal.h"

static const char *const limit_names[] = {"max_gb_per_month",    "max_amount_per_month",
                                          "max_count_per_month", "channels",
                                          "quiet_hours",         NULL};

const char *parley_bot_limit_name(unsigned bit)
{
    for (unsigned i = 0; limit_names[i]; i++)
        if (bit == 1u << i)
            return limit_names[i];
    return NULL;
}

static void check_scope(struct ctx *c, const char *scope, yaml_node_t *m)
{
    static const char *const keys[] = {"limits", "action", "words", NULL};
    yaml_node_t *v[3];
    char key[128], where[96];
    (void)snprintf(where, sizeof(where), "consent scope '%.60s'", scope);
    if (!parley__bot_is_kind(c, m, YAML_MAPPING_NODE, where))
        return;
    parley__bot_read_keys(c, m, keys, v, where);
    if (v[0] && parley__bot_is_kind(c, v[0], YAML_SEQUENCE_NODE, "'limits'"))
        FOR_ITEMS(v[0], it)
        {
            yaml_node_t *n = parley__bot_node_at(c->doc, *it);
            const char *name = parley__bot_scalar(c, n, "a limit name");
            char all[160];
            if (name && parley__bot_in_list(name, limit_names) < 0) {
                parley__bot_join(all, sizeof(all), limit_names);
                parley__bot_problem(c, n, "unknown limit '%s' (expected one of %s)", name, all);
            }
        }
    if (v[1]) {
        const char *a = parley__bot_scalar(c, v[1], "'action'");
        if (a && !parley__bot_find_action(c, a))
            parley__bot_problem(c, v[1], "unknown action '%s' (expected one under 'actions')", a);
    }
    if (!v[2]) {
        parley__bot_problem(
            c, m, "%s has no 'words' (expected, per language, phrases that name it)", where);
    } else if (parley__bot_is_kind(c, v[2], YAML_MAPPING_NODE, "'words'")) {
        for (size_t l = 0; l < c->nlangs; l++) {
            yaml_node_t *w = parley__bot_map_get(c->doc, v[2], c->langs[l].code);
            if (!w || w->type != YAML_SEQUENCE_NODE ||
                w->data.sequence.items.top == w->data.sequence.items.start)
                parley__bot_problem(c, w ? w : v[2], "%s has no words in '%s' (expected a list)",
                                    where, c->langs[l].code);
            else
                FOR_ITEMS(w, it)
            (void)parley__bot_scalar(c, parley__bot_node_at(c->doc, *it), "a phrase");
        }
        FOR_PAIRS(v[2], p)
        {
            const char *code = parley__bot_sval(parley__bot_node_at(c->doc, p->key));
            if (code && !parley__bot_find_lang(c, code))
                parley__bot_problem(c, parley__bot_node_at(c->doc, p->key),
                                    "words in '%s', which is not one of the bot's languages", code);
        }
    }
    (void)snprintf(key, sizeof(key), "consent_%s", scope);
    if (!parley__bot_find_response(c, key))
        parley__bot_problem(c, m,
                            "consent scope '%s' has no response '%s' (expected a plain-language "
                            "description per language of what it allows)",
                            scope, key);
}

void parley__bot_read_consents(struct ctx *c, yaml_node_t *n)
{
    if (!n || !parley__bot_is_kind(c, n, YAML_MAPPING_NODE, "'consents'"))
        return;
    FOR_PAIRS(n, p)
    {
        yaml_node_t *k = parley__bot_node_at(c->doc, p->key);
        const char *scope = parley__bot_scalar(c, k, "a consent scope name");
        if (!scope)
            continue;
        if (!parley__bot_valid_name(scope)) {
            parley__bot_problem(c, k, "bad consent scope name '%s' (expected a-z, 0-9 and _)",
                                scope);
            continue;
        }
        if (parley__bot_dup_key(c, n, p, scope, k, "consent scope"))
            continue;
        check_scope(c, scope, parley__bot_node_at(c->doc, p->value));
    }
}

/* A lowercase copy of a phrase (ASCII letters only: the matcher folds the
 * message the same way). */
static const char *lower(parley_bot *b, const char *s, int *nomem)
{
    char buf[256];
    size_t i;
    for (i = 0; s[i] && i + 1 < sizeof(buf); i++)
        buf[i] = (char)tolower((unsigned char)s[i]);
    buf[i] = '\0';
    return parley__bot_strdup(b, buf, nomem);
}

int parley__bot_compile_consents(struct ctx *c, parley_bot *b, yaml_node_t *n, int *nomem)
{
    size_t k = 0;
    if (!n || n->type != YAML_MAPPING_NODE)
        return 1;
    b->consents =
        parley__bot_alloc(b, (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start + 1) *
                                 sizeof(*b->consents));
    if (!b->consents)
        return 0;
    FOR_PAIRS(n, p)
    {
        yaml_node_t *m = parley__bot_node_at(c->doc, p->value);
        yaml_node_t *lim = parley__bot_map_get(c->doc, m, "limits");
        yaml_node_t *words = parley__bot_map_get(c->doc, m, "words");
        parley_bot_consent *sc = &b->consents[k++];
        const char *const **per_lang = parley__bot_alloc(b, (c->nlangs + 1) * sizeof(*per_lang));
        if (!per_lang)
            return 0;
        sc->scope =
            parley__bot_strdup(b, parley__bot_sval(parley__bot_node_at(c->doc, p->key)), nomem);
        sc->action = parley__bot_strdup(
            b, parley__bot_sval(parley__bot_map_get(c->doc, m, "action")), nomem);
        if (lim && lim->type == YAML_SEQUENCE_NODE)
            FOR_ITEMS(lim, it)
            {
                int i = parley__bot_in_list(parley__bot_sval(parley__bot_node_at(c->doc, *it)),
                                            limit_names);
                if (i >= 0)
                    sc->limits |= 1u << i;
            }
        for (size_t l = 0; l < c->nlangs; l++) {
            yaml_node_t *w = parley__bot_map_get(c->doc, words, c->langs[l].code);
            size_t nw = w && w->type == YAML_SEQUENCE_NODE
                            ? (size_t)(w->data.sequence.items.top - w->data.sequence.items.start)
                            : 0;
            const char **list = parley__bot_alloc(b, (nw + 1) * sizeof(*list));
            size_t j = 0;
            if (!list)
                return 0;
            if (nw)
                FOR_ITEMS(w, it)
            list[j++] = lower(b, parley__bot_sval(parley__bot_node_at(c->doc, *it)), nomem);
            per_lang[l] = list;
        }
        sc->words = per_lang;
    }
    b->nconsents = k;
    return 1;
}

size_t parley_bot_consent_count(const parley_bot *b)
{
    return b ? b->nconsents : 0;
}

const parley_bot_consent *parley_bot_consent_at(const parley_bot *b, size_t i)
{
    return b && i < b->nconsents ? &b->consents[i] : NULL;
}

const parley_bot_consent *parley_bot_find_consent(const parley_bot *b, const char *scope)
{
    for (size_t i = 0; b && scope && i < b->nconsents; i++)
        if (strcmp(b->consents[i].scope, scope) == 0)
            return &b->consents[i];
    return NULL;
}
