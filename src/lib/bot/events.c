/* The 'events' section of a bot definition: the event types the bot accepts
 * at its intake (POST /v1/events) and the fields each carries, with their
 * kinds; checked with file:line:column problems, then compiled into the
 * table the intake validates against (docs/proactive.md "Events"). */
#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "bot/internal.h"

/* Most event types one bot declares, and fields per type: the intake
 * compares every field of every event against these, so they stay small. */
#define MAX_EVENT_TYPES  128
#define MAX_EVENT_FIELDS 64

static const char *const kind_names[] = {"string", "number", "boolean", "list", NULL};
/* Every event has these; a type cannot declare them again. */
static const char *const reserved[] = {"id", "type", "at", NULL};

const char *parley_bot_field_kind_name(parley_bot_field_kind kind)
{
    return (unsigned)kind < sizeof(kind_names) / sizeof(kind_names[0]) - 1 ? kind_names[kind] : "?";
}

/* Reads "KIND" or "KIND?" into *kind and *optional; -1 when unknown. */
static int parse_kind(const char *s, parley_bot_field_kind *kind, int *optional)
{
    char buf[16];
    size_t n = strlen(s);
    *optional = n > 0 && s[n - 1] == '?';
    if (*optional)
        n--;
    if (n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    int i = parley__bot_in_list(buf, kind_names);
    if (i < 0)
        return -1;
    *kind = (parley_bot_field_kind)i;
    return 0;
}

static void check_type(struct ctx *c, const char *type, yaml_node_t *m)
{
    char where[96];
    size_t count = 0;
    (void)snprintf(where, sizeof(where), "event type '%.60s'", type);
    if (!parley__bot_is_kind(c, m, YAML_MAPPING_NODE, where))
        return;
    FOR_PAIRS(m, p)
    {
        yaml_node_t *k = parley__bot_node_at(c->doc, p->key);
        yaml_node_t *v = parley__bot_node_at(c->doc, p->value);
        const char *name = parley__bot_scalar(c, k, "a field name");
        const char *kind;
        parley_bot_field_kind ignored;
        int optional;
        if (!name)
            continue;
        if (!parley__bot_valid_name(name)) {
            parley__bot_problem(c, k, "bad field name '%s' in %s (expected a-z, 0-9 and _)", name,
                                where);
            continue;
        }
        if (parley__bot_in_list(name, reserved) >= 0) {
            parley__bot_problem(c, k,
                                "field '%s' of %s is reserved (every event has 'id', 'type' and "
                                "'at'; declare only the type's own fields)",
                                name, where);
            continue;
        }
        if (parley__bot_dup_key(c, m, p, name, k, "field"))
            continue;
        if (++count > MAX_EVENT_FIELDS) {
            parley__bot_problem(c, k, "too many fields in %s (at most %d)", where,
                                MAX_EVENT_FIELDS);
            return;
        }
        kind = parley__bot_scalar(c, v, "a field kind");
        if (kind && parse_kind(kind, &ignored, &optional) != 0)
            parley__bot_problem(c, v,
                                "unknown kind '%s' for field '%s' of %s (expected string, number, "
                                "boolean or list, with a trailing '?' when optional)",
                                kind, name, where);
    }
}

void parley__bot_read_events(struct ctx *c, yaml_node_t *n)
{
    size_t count = 0;
    if (!n || !parley__bot_is_kind(c, n, YAML_MAPPING_NODE, "'events'"))
        return;
    FOR_PAIRS(n, p)
    {
        yaml_node_t *k = parley__bot_node_at(c->doc, p->key);
        const char *type = parley__bot_scalar(c, k, "an event type name");
        if (!type)
            continue;
        if (!parley__bot_valid_name(type)) {
            parley__bot_problem(c, k, "bad event type name '%s' (expected a-z, 0-9 and _)", type);
            continue;
        }
        if (parley__bot_dup_key(c, n, p, type, k, "event type"))
            continue;
        if (++count > MAX_EVENT_TYPES) {
            parley__bot_problem(c, k, "too many event types (at most %d)", MAX_EVENT_TYPES);
            return;
        }
        check_type(c, type, parley__bot_node_at(c->doc, p->value));
    }
}

static size_t pair_count(const yaml_node_t *m)
{
    return m && m->type == YAML_MAPPING_NODE
               ? (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start)
               : 0;
}

int parley__bot_compile_events(struct ctx *c, parley_bot *b, yaml_node_t *n, int *nomem)
{
    size_t k = 0;
    if (!pair_count(n))
        return 1;
    b->event_types = parley__bot_alloc(b, (pair_count(n) + 1) * sizeof(*b->event_types));
    if (!b->event_types)
        return 0;
    FOR_PAIRS(n, p)
    {
        yaml_node_t *m = parley__bot_node_at(c->doc, p->value);
        parley_bot_event_type *t = &b->event_types[k++];
        parley_bot_event_field *fields =
            parley__bot_alloc(b, (pair_count(m) + 1) * sizeof(*fields));
        size_t nf = 0;
        if (!fields)
            return 0;
        t->name =
            parley__bot_strdup(b, parley__bot_sval(parley__bot_node_at(c->doc, p->key)), nomem);
        if (pair_count(m))
            FOR_PAIRS(m, f)
            {
                parley_bot_event_field *fd = &fields[nf++];
                fd->name = parley__bot_strdup(
                    b, parley__bot_sval(parley__bot_node_at(c->doc, f->key)), nomem);
                /* Checked already: the kind parses. */
                (void)parse_kind(parley__bot_sval(parley__bot_node_at(c->doc, f->value)), &fd->kind,
                                 &fd->optional);
            }
        t->fields = fields;
        t->n_fields = nf;
    }
    b->nevent_types = k;
    return 1;
}

const parley_bot_event_type *parley_bot_event_types(const parley_bot *b, size_t *n)
{
    if (n)
        *n = b ? b->nevent_types : 0;
    return b ? b->event_types : NULL;
}

size_t parley_bot_event_type_count(const parley_bot *b)
{
    return b ? b->nevent_types : 0;
}

const parley_bot_event_type *parley_bot_event_type_at(const parley_bot *b, size_t i)
{
    return b && i < b->nevent_types ? &b->event_types[i] : NULL;
}

const parley_bot_event_type *parley_bot_find_event_type(const parley_bot *b, const char *name)
{
    for (size_t i = 0; b && name && i < b->nevent_types; i++)
        if (strcmp(b->event_types[i].name, name) == 0)
            return &b->event_types[i];
    return NULL;
}

const parley_bot_event_field *parley_bot_find_event_field(const parley_bot_event_type *t,
                                                          const char *name)
{
    for (size_t i = 0; t && name && i < t->n_fields; i++)
        if (strcmp(t->fields[i].name, name) == 0)
            return &t->fields[i];
    return NULL;
}
