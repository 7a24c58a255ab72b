/* The event intake's check (docs/proactive.md "Events"): parses a batch,
 * checks each event against the bot's declared types, all or nothing, and
 * keeps each event's id, type, time and compact JSON for the ledger. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/internal.h"
#include "parley/proactive.h"

struct parley_proactive_events {
    parley_proactive_event *ev; /* strings owned */
    size_t n;
};

/* ---- checking ----------------------------------------------------------------- */

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "a list";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* UTF-8 characters in `s` (jansson has checked it is UTF-8). */
static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    return n;
}

static int has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 1;
    return 0;
}

/* "a, b, c" of the declared type names, cut to fit `size`. */
static void type_list(const parley_bot_event_type *types, size_t n, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && used + 1 < size; i++) {
        int w = snprintf(out + used, size - used, "%s%s", i ? ", " : "", types[i].name);
        if (w < 0 || (size_t)w >= size - used) {
            (void)snprintf(out + (size > 5 ? size - 5 : 0), size > 5 ? 5 : size, "...");
            return;
        }
        used += (size_t)w;
    }
}

static void field_list(const parley_bot_event_type *t, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < t->n_fields && used + 1 < size; i++) {
        int w = snprintf(out + used, size - used, "%s%s", i ? ", " : "", t->fields[i].name);
        if (w < 0 || (size_t)w >= size - used)
            return;
        used += (size_t)w;
    }
}

/* Checks one value against its declared kind; a message into `why`. */
static int check_kind(const parley_bot_event_field *f, json_t *v, char *why, size_t size)
{
    size_t i;
    json_t *item;
    if (json_is_null(v) && f->optional)
        return 1;
    switch (f->kind) {
    case PARLEY_FIELD_STRING:
        if (!json_is_string(v))
            break;
        if (json_string_length(v) > PARLEY_PROACTIVE_MAX_STRING) {
            (void)snprintf(why, size, "field '%s' is longer than %d bytes", f->name,
                           PARLEY_PROACTIVE_MAX_STRING);
            return 0;
        }
        return 1;
    case PARLEY_FIELD_NUMBER:
        if (json_is_number(v))
            return 1;
        break;
    case PARLEY_FIELD_BOOLEAN:
        if (json_is_boolean(v))
            return 1;
        break;
    case PARLEY_FIELD_LIST:
        if (!json_is_array(v))
            break;
        if (json_array_size(v) > PARLEY_PROACTIVE_MAX_LIST) {
            (void)snprintf(why, size, "field '%s' has more than %d items", f->name,
                           PARLEY_PROACTIVE_MAX_LIST);
            return 0;
        }
        json_array_foreach(v, i, item)
        {
            if (!json_is_string(item) || json_string_length(item) > PARLEY_PROACTIVE_MAX_STRING) {
                (void)snprintf(why, size, "field '%s' must be a list of strings (item %zu is %s)",
                               f->name, i, json_is_string(item) ? "too long" : json_kind(item));
                return 0;
            }
        }
        return 1;
    }
    (void)snprintf(why, size, "field '%s' must be %s (got %s)", f->name,
                   f->kind == PARLEY_FIELD_LIST      ? "a list of strings"
                   : f->kind == PARLEY_FIELD_NUMBER  ? "a number"
                   : f->kind == PARLEY_FIELD_BOOLEAN ? "true or false"
                                                     : "a string",
                   json_kind(v));
    return 0;
}

/* Checks event `ev`: fills *type and *at, or a message into `why`. */
static int check_event(const parley_bot_event_type *types, size_t ntypes, json_t *ev,
                       int64_t now_ms, const parley_bot_event_type **type_out, int64_t *at_out,
                       char *why, size_t size)
{
    char list[300];
    const parley_bot_event_type *t = NULL;
    json_t *id = json_object_get(ev, "id"), *type = json_object_get(ev, "type"),
           *at = json_object_get(ev, "at"), *v;
    const char *k;

    if (!json_is_string(id) || json_string_length(id) == 0 ||
        utf8_chars(json_string_value(id), json_string_length(id)) > PARLEY_PROACTIVE_MAX_ID) {
        (void)snprintf(why, size,
                       "%s'id' must be a non-empty string of at most %d characters, unique per "
                       "event",
                       id ? "" : "missing 'id': ", PARLEY_PROACTIVE_MAX_ID);
        return 0;
    }
    if (has_control(json_string_value(id))) {
        (void)snprintf(why, size, "'id' must not contain control characters");
        return 0;
    }
    type_list(types, ntypes, list, sizeof(list));
    if (!json_is_string(type)) {
        (void)snprintf(
            why, size, "%s'type' must be a string (expected one of %s)",
            type ? "" : "missing 'type': ", ntypes ? list : "none: the bot declares no events");
        return 0;
    }
    for (size_t i = 0; i < ntypes && !t; i++)
        if (strcmp(types[i].name, json_string_value(type)) == 0)
            t = &types[i];
    if (!t) {
        (void)snprintf(why, size, "unknown type '%.64s' (expected one of %s)",
                       json_string_value(type), ntypes ? list : "none: the bot declares no events");
        return 0;
    }
    *at_out = now_ms;
    if (at && !json_is_null(at) &&
        (!json_is_string(at) || parley_time_parse(json_string_value(at), at_out) != 0)) {
        (void)snprintf(why, size,
                       "'at' must be an RFC 3339 time such as 2025-02-25T10:00:00Z (got %s%.40s%s)",
                       json_is_string(at) ? "'" : "",
                       json_is_string(at) ? json_string_value(at) : json_kind(at),
                       json_is_string(at) ? "'" : "");
        return 0;
    }
    json_object_foreach(ev, k, v)
    {
        const parley_bot_event_field *f;
        if (strcmp(k, "id") == 0 || strcmp(k, "type") == 0 || strcmp(k, "at") == 0)
            continue;
        f = parley_bot_find_event_field(t, k);
        if (!f) {
            field_list(t, list, sizeof(list));
            (void)snprintf(why, size, "unknown field '%.64s' (type '%s' has %s%s)", k, t->name,
                           t->n_fields ? "" : "no fields", list);
            return 0;
        }
        if (!check_kind(f, v, why, size))
            return 0;
    }
    for (size_t i = 0; i < t->n_fields; i++)
        if (!t->fields[i].optional && !json_object_get(ev, t->fields[i].name)) {
            (void)snprintf(why, size, "missing field '%s' (%s, required by type '%s')",
                           t->fields[i].name, parley_bot_field_kind_name(t->fields[i].kind),
                           t->name);
            return 0;
        }
    *type_out = t;
    return 1;
}

void parley_proactive_events_free(parley_proactive_events *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++) {
        parley__free((char *)b->ev[i].id);
        parley__free((char *)b->ev[i].type);
        parley__free((char *)b->ev[i].doc);
    }
    parley__free(b->ev);
    parley__free(b);
}

/* Adds checked event `ev` of type `t` to `b`; 0 when out of memory. */
static int keep(parley_proactive_events *b, json_t *ev, const parley_bot_event_type *t, int64_t at)
{
    parley_proactive_event *e = &b->ev[b->n];
    char *doc = json_dumps(ev, JSON_COMPACT);
    if (!doc)
        return 0;
    e->doc = parley__strdup(doc);
    free(doc);
    e->id = parley__strdup(json_string_value(json_object_get(ev, "id")));
    e->type = parley__strdup(t->name);
    e->at = at;
    b->n++;
    return e->doc && e->id && e->type;
}

parley_err parley_proactive_validate(const parley_bot_event_type *types, size_t ntypes,
                                     const char *json, size_t len, int64_t now_ms,
                                     parley_proactive_events **out, parley_error *err)
{
    parley_proactive_events *b = NULL;
    json_error_t je;
    json_t *root = NULL, *ev;
    size_t n, i;
    parley_err rc = PARLEY_OK;

    if ((!types && ntypes) || !json || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot check events: bad argument");
    if (len > PARLEY_PROACTIVE_MAX_BATCH)
        return parley_error_set(err, PARLEY_ERR_LIMIT,
                                "too large: a batch of events is at most %d bytes (got %zu)",
                                PARLEY_PROACTIVE_MAX_BATCH, len);
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!root) {
        rc = parley_error_set(err, PARLEY_ERR_FORMAT, "not valid JSON: %s at line %d column %d",
                              je.text, je.line, je.column);
        goto out;
    }
    if (!json_is_object(root) && !json_is_array(root)) {
        rc = parley_error_set(err, PARLEY_ERR_INVALID,
                              "expected an event (a JSON object) or an array of events, not %s",
                              json_kind(root));
        goto out;
    }
    n = json_is_array(root) ? json_array_size(root) : 1;
    if (n == 0) {
        rc = parley_error_set(err, PARLEY_ERR_INVALID, "no events: the array is empty");
        goto out;
    }
    if (n > PARLEY_PROACTIVE_MAX_EVENTS) {
        rc = parley_error_set(err, PARLEY_ERR_LIMIT,
                              "too many events: a batch has at most %d (got %zu)",
                              PARLEY_PROACTIVE_MAX_EVENTS, n);
        goto out;
    }
    b = parley__calloc(1, sizeof(*b));
    if (!b || !(b->ev = parley__calloc(n, sizeof(*b->ev))))
        goto nomem;
    for (i = 0; i < n; i++) {
        const parley_bot_event_type *t = NULL;
        int64_t at = 0;
        char why[400];
        json_t *id;
        ev = json_is_array(root) ? json_array_get(root, i) : root;
        id = json_object_get(ev, "id");
        if (!json_is_object(ev)) {
            rc = parley_error_set(err, PARLEY_ERR_INVALID,
                                  "event %zu: must be a JSON object, not %s", i, json_kind(ev));
            goto out;
        }
        if (!check_event(types, ntypes, ev, now_ms, &t, &at, why, sizeof(why))) {
            /* The sender's id helps them find the event, when it is one. */
            if (json_is_string(id) && json_string_length(id) > 0 && json_string_length(id) <= 64 &&
                !has_control(json_string_value(id)))
                rc = parley_error_set(err, PARLEY_ERR_INVALID, "event %zu (%s): %s", i,
                                      json_string_value(id), why);
            else
                rc = parley_error_set(err, PARLEY_ERR_INVALID, "event %zu: %s", i, why);
            goto out;
        }
        if (!keep(b, ev, t, at))
            goto nomem;
    }
    *out = b;
    b = NULL;
    goto out;
nomem:
    rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot check events: out of memory");
out:
    parley_proactive_events_free(b);
    json_decref(root);
    return rc;
}

size_t parley_proactive_events_count(const parley_proactive_events *b)
{
    return b ? b->n : 0;
}

const parley_proactive_event *parley_proactive_events_at(const parley_proactive_events *b, size_t i)
{
    return b && i < b->n ? &b->ev[i] : NULL;
}
