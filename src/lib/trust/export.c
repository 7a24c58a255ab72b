/* A customer's data as JSON: their conversations (redacted transcripts, as
 * the store keeps them) and consent grants with usage. One builder for the
 * HTTP API (transcripts, consents, export) and for a privacy request made
 * in chat, so both give the same document. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/internal.h"
#include "parley/trust.h"

static void iso(int64_t ms, char buf[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        (void)snprintf(buf, 32, "1970-01-01T00:00:00Z");
    else
        (void)strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Compact JSON text of `v` (released) that parley_trust_free() frees. */
static char *dump(json_t *v)
{
    char *s = v ? json_dumps(v, JSON_COMPACT) : NULL, *copy = s ? parley__strdup(s) : NULL;
    free(s);
    json_decref(v);
    return copy;
}

static int add_turn(const parley_store_turn *t, void *userdata)
{
    char when[32];
    iso(t->created, when);
    json_t *o = json_pack("{s:I, s:s, s:s, s:s}", "seq", (json_int_t)t->seq, "role",
                          parley_store_role_name(t->role), "text", t->text, "created", when);
    if (o && t->intent) {
        (void)json_object_set_new(o, "intent", json_string(t->intent));
        (void)json_object_set_new(o, "confidence", json_real(t->confidence));
    }
    return json_array_append_new(userdata, o) != 0;
}

static json_t *transcript(parley_store *store, const char *id, parley_error *err)
{
    parley_store_conversation c = {0};
    char created[32], updated[32];
    json_t *turns = json_array(), *out = NULL, *handoff = json_null(), *rating = json_null();
    if (parley_store_conversation_load(store, id, &c, err) != PARLEY_OK ||
        parley_store_turns_list(store, id, add_turn, turns, err) != PARLEY_OK) {
        json_decref(turns);
        parley_store_conversation_release(&c);
        return NULL;
    }
    iso(c.created, created);
    iso(c.updated, updated);
    if (c.handoff_reason) {
        char since[32];
        iso(c.handoff_at, since);
        handoff = json_pack("{s:s, s:s, s:s, s:s}", "queue", c.handoff_queue ? c.handoff_queue : "",
                            "reason", c.handoff_reason, "summary",
                            c.handoff_summary ? c.handoff_summary : "", "since", since);
    }
    if (c.rating)
        rating = json_pack("{s:i, s:s?}", "score", c.rating, "comment", c.rating_comment);
    out =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "conversation_id", id, "channel",
                  c.channel, "language", c.language, "state", c.status, "created", created,
                  "updated", updated, "handoff", handoff, "rating", rating, "turns", turns);
    parley_store_conversation_release(&c);
    if (!out)
        (void)parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    return out;
}

parley_err parley_trust_transcript_json(parley_store *store, const char *id, char **out,
                                        parley_error *err)
{
    parley_error e = PARLEY_ERROR_INIT;
    json_t *t;
    if (!store || !id || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot read transcript: bad argument");
    *out = NULL;
    if (!(t = transcript(store, id, &e)))
        return parley_error_set(err, e.code ? e.code : PARLEY_ERR_NOMEM, "%s", e.msg);
    if (!(*out = dump(t)))
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot read transcript: out of memory");
    return PARLEY_OK;
}

static json_t *grant(const parley_store_consent *g, const char *period, int64_t now)
{
    char created[32], expires[32], revoked[32];
    iso(g->created, created);
    iso(g->expires, expires);
    iso(g->revoked, revoked);
    json_t *limits = json_loads(g->limits, 0, NULL);
    int active = !g->revoked && (!g->expires || g->expires > now);
    return json_pack(
        "{s:s, s:s, s:o, s:s, s:s?, s:I, s:s, s:s?, s:s?, s:b, s:{s:s, s:f, s:f, s:I}}", "grant_id",
        g->id, "scope", g->scope, "limits", limits ? limits : json_object(), "channel", g->channel,
        "conversation_id", g->conversation_id[0] ? g->conversation_id : NULL, "turn",
        (json_int_t)g->turn, "created", created, "expires_at", g->expires ? expires : NULL,
        "revoked_at", g->revoked ? revoked : NULL, "active", active, "usage", "period", period,
        "gb", g->used_quantity, "amount", g->used_amount, "count", (json_int_t)g->used_count);
}

char *parley_trust_grant_json(const parley_store_consent *g, int64_t now_ms)
{
    char period[8];
    if (!g)
        return NULL;
    parley_trust_period(now_ms, period);
    return dump(grant(g, period, now_ms));
}

struct collect {
    json_t *list;
    const char *period;
    int64_t now;
};

static int add_grant(const parley_store_consent *g, void *userdata)
{
    struct collect *c = userdata;
    return json_array_append_new(c->list, grant(g, c->period, c->now)) != 0;
}

/* The store may not be called back from inside its own listing, so the
 * conversation ids are collected first. */
static int add_id(const char *id, void *userdata)
{
    return json_array_append_new(userdata, json_string(id)) != 0;
}

parley_err parley_trust_export(parley_store *store, const char *customer, int64_t now_ms,
                               char **out, parley_error *err)
{
    parley_error e = PARLEY_ERROR_INIT;
    char period[8], when[32];
    json_t *ids = json_array(), *convs = json_array(), *v, *doc = NULL;
    struct collect gc = {json_array(), period, now_ms};
    parley_err rc;
    size_t i;
    if (!store || !customer || !customer[0] || !out) {
        rc = parley_error_set(err, PARLEY_ERR_INVALID, "cannot export: bad argument");
        goto done;
    }
    *out = NULL;
    parley_trust_period(now_ms, period);
    rc = parley_store_customer_conversations(store, customer, add_id, ids, &e);
    json_array_foreach(ids, i, v)
    {
        json_t *t;
        if (rc != PARLEY_OK)
            break;
        if ((t = transcript(store, json_string_value(v), &e)) == NULL)
            rc = e.code ? e.code : PARLEY_ERR_NOMEM;
        else
            (void)json_array_append_new(convs, t);
    }
    if (rc == PARLEY_OK)
        rc = parley_store_consents(store, customer, period, add_grant, &gc, &e);
    if (rc != PARLEY_OK) {
        (void)parley_error_set(err, rc, "cannot export the customer's data: %s", e.msg);
        goto done;
    }
    iso(now_ms, when);
    doc = json_pack("{s:s, s:s, s:O, s:O}", "customer_id", customer, "exported_at", when,
                    "conversations", convs, "consents", gc.list);
    if (!(*out = dump(doc)))
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot export: out of memory");
done:
    json_decref(ids);
    json_decref(convs);
    json_decref(gc.list);
    return rc;
}
