/* The agent side of the API: transcripts, the hand-off queue, agent
 * messages, handing back, and the outcome analytics a service manager
 * watches (docs/http-api.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parley/trust.h"
#include "server/internal.h"

json_t *transcript_json(struct parley_server *s, const char *id, parley_err *rc_out,
                        parley_error *e)
{
    char *text = NULL;
    json_t *out = NULL;
    *rc_out = parley_trust_transcript_json(s->store, id, &text, e);
    if (*rc_out == PARLEY_OK && !(out = json_loads(text, 0, NULL)))
        *rc_out = parley_error_set(e, PARLEY_ERR_NOMEM, "out of memory");
    parley_trust_free(text);
    return out;
}

void h_transcript(struct req *r)
{
    parley_error e = PARLEY_ERROR_INIT;
    parley_err rc;
    json_t *t = transcript_json(r->s, r->params[0], &rc, &e);
    if (!t) {
        req_fail(r, rc, &e);
        return;
    }
    r->status = 200;
    r->json = t;
}

static int add_handoff(const parley_store_handoff *h, void *userdata)
{
    char since[32];
    iso_time(h->since, since);
    return json_array_append_new(
               userdata, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "conversation_id",
                                   h->id, "queue", h->queue, "reason", h->reason, "summary",
                                   h->summary, "language", h->language, "intent", h->intent,
                                   "since", since, "turns", (json_int_t)h->customer_turns)) != 0;
}

void h_handoffs(struct req *r)
{
    json_t *list = json_array();
    parley_error e = PARLEY_ERROR_INIT;
    parley_err rc = parley_store_handoffs_list(r->s->store, 500, add_handoff, list, &e);
    if (rc != PARLEY_OK) {
        json_decref(list);
        req_fail(r, rc, &e);
        return;
    }
    r->status = 200;
    r->json = json_pack("{s:o}", "handoffs", list);
}

void h_agent_message(struct req *r)
{
    json_t *body = req_json(r), *text;
    const char *id = r->params[0];
    parley_error e = PARLEY_ERROR_INIT;
    int64_t seq = 0;

    if (!body)
        return;
    text = json_object_get(body, "text");
    if (json_object_size(body) != 1 || !json_is_string(text) || json_string_length(text) == 0 ||
        json_string_length(text) > PARLEY_DIALOG_MAX_MESSAGE ||
        strlen(json_string_value(text)) != json_string_length(text)) {
        req_error(r, 400, "bad_field", "the body must be {\"text\": \"...\"} with 1 to %u bytes",
                  PARLEY_DIALOG_MAX_MESSAGE);
        goto out;
    }
    struct engine *en = engine_get(r->s);
    pthread_mutex_t *mu = conv_lock(r->s, id);
    (void)pthread_mutex_lock(mu);
    parley_err rc = parley_dialog_agent_say(en->d, id, json_string_value(text),
                                            json_string_length(text), &seq, &e);
    (void)pthread_mutex_unlock(mu);
    engine_put(en);
    if (rc != PARLEY_OK) {
        req_fail(r, rc, &e);
        goto out;
    }
    atomic_fetch_add(&r->s->met.agent_messages, 1);
    /* The customer sees what the agent wrote; only the transcript is
     * redacted. */
    char *ev = turn_event(seq, "agent", json_string_value(text), "handed_off");
    if (ev)
        hub_publish(r->s->hub, id, ev);
    free(ev);
    r->status = 201;
    r->json = json_pack("{s:s, s:I}", "conversation_id", id, "seq", (json_int_t)seq);
out:
    json_decref(body);
}

void h_handback(struct req *r)
{
    const char *id = r->params[0];
    parley_error e = PARLEY_ERROR_INIT;
    struct engine *en = engine_get(r->s);
    pthread_mutex_t *mu = conv_lock(r->s, id);
    (void)pthread_mutex_lock(mu);
    parley_err rc = parley_dialog_handback(en->d, id, &e);
    (void)pthread_mutex_unlock(mu);
    engine_put(en);
    if (rc != PARLEY_OK) {
        req_fail(r, rc, &e);
        return;
    }
    hub_publish(r->s->hub, id, "event: state\ndata: {\"state\":\"active\"}\n\n");
    r->status = 200;
    r->json = json_pack("{s:s, s:s}", "conversation_id", id, "state", "active");
}

/* ---- analytics ------------------------------------------------------------ */

/* Parses YYYY-MM-DD as the Unix ms of that day's midnight UTC. */
static int parse_day(const char *s, int64_t *out)
{
    struct tm tm;
    int y, m, d;
    char tail;
    memset(&tm, 0, sizeof(tm));
    if (!s || strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || y < 1970 ||
        y > 9999 || m < 1 || m > 12 || d < 1 || d > 31 || s[4] != '-' || s[7] != '-')
        return 0;
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return 0;
    *out = (int64_t)t * 1000;
    return 1;
}

/* One group's outcome counters, kept in a JSON object while adding. */
static void add_outcome(json_t *o, const parley_store_outcome_row *row)
{
    const char *names[] = {"conversations", "contained", "handed_off", "ratings", "rating_sum"};
    json_int_t add[] = {row->conversations, row->handoff_reason[0] ? 0 : row->conversations,
                        row->handoff_reason[0] ? row->conversations : 0, row->ratings,
                        row->rating_sum};
    for (size_t i = 0; i < 5; i++) {
        json_t *v = json_object_get(o, names[i]);
        (void)json_object_set_new(o, names[i],
                                  json_integer((v ? json_integer_value(v) : 0) + add[i]));
    }
}

static json_t *group(json_t *map, const char *key)
{
    json_t *o = json_object_get(map, key);
    if (!o) {
        o = json_object();
        (void)json_object_set_new(map, key, o);
    }
    return o;
}

struct agg {
    json_t *totals, *intents, *langs, *days, *reasons;
    json_int_t dist[5];
};

static int on_row(const parley_store_outcome_row *row, void *userdata)
{
    struct agg *a = userdata;
    add_outcome(a->totals, row);
    add_outcome(group(a->intents, row->intent[0] ? row->intent : "none"), row);
    add_outcome(group(a->langs, row->language), row);
    add_outcome(group(a->days, row->day), row);
    if (row->handoff_reason[0]) {
        json_t *v = json_object_get(a->reasons, row->handoff_reason);
        (void)json_object_set_new(
            a->reasons, row->handoff_reason,
            json_integer((v ? json_integer_value(v) : 0) + row->conversations));
    }
    for (size_t i = 0; i < 5; i++)
        a->dist[i] += row->rating_count[i];
    return 0;
}

/* Turns summed counters into the published Outcome fields. */
static void finish_outcome(json_t *o)
{
    json_int_t n = json_integer_value(json_object_get(o, "conversations"));
    json_int_t c = json_integer_value(json_object_get(o, "contained"));
    json_int_t h = json_integer_value(json_object_get(o, "handed_off"));
    json_int_t rn = json_integer_value(json_object_get(o, "ratings"));
    json_int_t rs = json_integer_value(json_object_get(o, "rating_sum"));
    (void)json_object_set_new(o, "conversations", json_integer(n));
    (void)json_object_set_new(o, "contained", json_integer(c));
    (void)json_object_set_new(o, "handed_off", json_integer(h));
    (void)json_object_set_new(o, "containment", json_real(n ? (double)c / (double)n : 0.0));
    (void)json_object_set_new(o, "handoff_rate", json_real(n ? (double)h / (double)n : 0.0));
    (void)json_object_set_new(o, "ratings", json_integer(rn));
    (void)json_object_set_new(o, "rating_mean",
                              rn ? json_real((double)rs / (double)rn) : json_null());
    (void)json_object_del(o, "rating_sum");
}

static json_t *as_list(json_t *map, const char *key_name)
{
    json_t *list = json_array(), *v;
    const char *k;
    json_object_foreach(map, k, v)
    {
        json_t *o = json_deep_copy(v);
        finish_outcome(o);
        (void)json_object_set_new(o, key_name, json_string(k));
        (void)json_array_append_new(list, o);
    }
    return list;
}

void h_analytics(struct req *r)
{
    const char *from_s = req_query(r, "from"), *to_s = req_query(r, "to");
    int64_t now = (int64_t)time(NULL) * 1000, from, to;
    struct agg a;
    parley_error e = PARLEY_ERROR_INIT;
    char fbuf[32], tbuf[32];

    to = now - now % 86400000;
    if (to_s && !parse_day(to_s, &to))
        return (void)req_error(r, 400, "bad_field", "'to' must be a date YYYY-MM-DD");
    from = to - 29LL * 86400000;
    if (from_s && !parse_day(from_s, &from))
        return (void)req_error(r, 400, "bad_field", "'from' must be a date YYYY-MM-DD");
    if (from > to)
        return (void)req_error(r, 400, "bad_field", "'from' is after 'to'");
    memset(&a, 0, sizeof(a));
    a.totals = json_object();
    a.intents = json_object();
    a.langs = json_object();
    a.days = json_object();
    a.reasons = json_object();
    parley_err rc = parley_store_outcomes(r->s->store, from, to + 86400000, on_row, &a, &e);
    if (rc != PARLEY_OK) {
        req_fail(r, rc, &e);
    } else {
        json_int_t rn = 0, rs = 0;
        for (int i = 0; i < 5; i++) {
            rn += a.dist[i];
            rs += a.dist[i] * (i + 1);
        }
        finish_outcome(a.totals);
        iso_time(from, fbuf);
        iso_time(to, tbuf);
        fbuf[10] = tbuf[10] = '\0';
        r->status = 200;
        r->json = json_pack(
            "{s:s, s:s, s:O, s:O, s:{s:I, s:o, s:{s:I, s:I, s:I, s:I, s:I}}, s:o, s:o, s:o}",
            "from", fbuf, "to", tbuf, "totals", a.totals, "handoff_reasons", a.reasons, "ratings",
            "count", rn, "mean", rn ? json_real((double)rs / (double)rn) : json_null(),
            "distribution", "1", a.dist[0], "2", a.dist[1], "3", a.dist[2], "4", a.dist[3], "5",
            a.dist[4], "by_intent", as_list(a.intents, "intent"), "by_language",
            as_list(a.langs, "language"), "by_day", as_list(a.days, "day"));
    }
    json_decref(a.totals);
    json_decref(a.intents);
    json_decref(a.langs);
    json_decref(a.days);
    json_decref(a.reasons);
}
