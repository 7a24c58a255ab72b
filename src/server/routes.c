/* The route table and the customer side of the API: starting a
 * conversation, a message and its Turn, closing, rating, the event stream;
 * plus reload, health and metrics (docs/http-api.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parley/bot.h"
#include "server/internal.h"

const struct route server_routes[] = {
    {"POST", "/v1/conversations", ROLE_CHANNEL, h_conversation_create},
    {"GET", "/v1/conversations/{id}", ROLE_CHANNEL | ROLE_AGENT, h_transcript},
    {"POST", "/v1/conversations/{id}/messages", ROLE_CHANNEL, h_message},
    {"POST", "/v1/conversations/{id}/close", ROLE_CHANNEL | ROLE_AGENT, h_close},
    {"POST", "/v1/conversations/{id}/rating", ROLE_CHANNEL, h_rating},
    {"GET", "/v1/conversations/{id}/stream", ROLE_CHANNEL | ROLE_AGENT, h_stream},
    {"POST", "/v1/conversations/{id}/agent-messages", ROLE_AGENT, h_agent_message},
    {"POST", "/v1/conversations/{id}/handback", ROLE_AGENT, h_handback},
    {"GET", "/v1/handoffs", ROLE_AGENT, h_handoffs},
    {"GET", "/v1/review", ROLE_AGENT, h_review_list},
    {"POST", "/v1/review/{id}", ROLE_AGENT, h_review_label},
    {"GET", "/v1/customers/{customer_id}/consents", ROLE_CHANNEL, h_consents_list},
    {"POST", "/v1/customers/{customer_id}/consents", ROLE_CHANNEL, h_consent_grant},
    {"DELETE", "/v1/customers/{customer_id}/consents/{grant_id}", ROLE_CHANNEL, h_consent_revoke},
    {"GET", "/v1/customers/{customer_id}/export", ROLE_CHANNEL, h_customer_export},
    {"POST", "/v1/customers/{customer_id}/erase", ROLE_CHANNEL, h_customer_erase},
    {"POST", "/v1/customers/{customer_id}/opt-out", ROLE_CHANNEL, h_customer_opt_out},
    {"GET", "/v1/analytics", ROLE_AGENT, h_analytics},
    {"GET", "/v1/audit", ROLE_AGENT, h_audit_list},
    {"GET", "/v1/audit/verify", ROLE_ADMIN, h_audit_verify},
    {"GET", "/v1/audit/explain", ROLE_AGENT, h_audit_explain},
    {"POST", "/v1/events", ROLE_EVENTS, h_events_post},
    {"POST", "/v1/channels/sms", ROLE_CHANNEL, h_sms},
    {"POST", "/v1/admin/reload", ROLE_ADMIN, h_reload},
    {"GET", "/healthz", ROLE_PUBLIC, h_healthz},
    {"GET", "/metrics", ROLE_PUBLIC, h_metrics},
};
const size_t server_route_count = sizeof(server_routes) / sizeof(server_routes[0]);

void iso_time(int64_t ms, char buf[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        (void)snprintf(buf, 32, "1970-01-01T00:00:00Z");
        return;
    }
    (void)strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

pthread_mutex_t *conv_lock(struct parley_server *s, const char *id)
{
    unsigned h = 2166136261u;
    for (const char *p = id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return &s->conv_mu[h % (sizeof(s->conv_mu) / sizeof(s->conv_mu[0]))];
}

/* The optional string member `key`; 0 with an error answer when it is
 * there but not a string of 1..max bytes. */
static int opt_string(struct req *r, json_t *body, const char *key, size_t max, const char **out)
{
    json_t *v = json_object_get(body, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 1;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max)
        return req_error(r, 400, "bad_field", "'%s' must be a string of 1 to %zu bytes", key, max);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return req_error(r, 400, "bad_field", "'%s' must not contain NUL characters", key);
    *out = json_string_value(v);
    return 1;
}

int only_keys(struct req *r, json_t *body, const char *const *allowed)
{
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v)
    {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            ok |= strcmp(*a, k) == 0;
        if (!ok)
            return req_error(r, 400, "bad_field", "unknown field '%.64s'", k);
    }
    return 1;
}

static json_t *text_reply(const char *type, const char *text)
{
    return json_pack("{s:s, s:s}", "type", type, "text", text);
}

void h_conversation_create(struct req *r)
{
    static const char *const allowed[] = {"channel", "language", NULL};
    json_t *body = req_json(r);
    const char *channel = NULL, *language = NULL;
    char id[PARLEY_STORE_ID_SIZE], *welcome = NULL;
    parley_error e = PARLEY_ERROR_INIT;

    if (!body)
        return;
    if (!only_keys(r, body, allowed) || !opt_string(r, body, "channel", 64, &channel) ||
        !opt_string(r, body, "language", 16, &language))
        goto out;
    struct engine *en = engine_get(r->s);
    if (language && !parley_dialog_has_language(en->d, language)) {
        engine_put(en);
        req_error(r, 422, "unprocessable", "the bot does not speak '%s'", language);
        goto out;
    }
    parley_err rc =
        parley_dialog_begin(en->d, channel ? channel : "api", language, id, &welcome, &e);
    engine_put(en);
    if (rc != PARLEY_OK) {
        req_fail(r, rc, &e);
        goto out;
    }
    atomic_fetch_add(&r->s->met.conversations, 1);
    json_t *msgs = json_array();
    if (welcome)
        (void)json_array_append_new(msgs, text_reply("text", welcome));
    r->status = 201;
    r->json = json_pack("{s:s, s:o}", "conversation_id", id, "messages", msgs);
out:
    parley_dialog_text_free(welcome);
    json_decref(body);
}

/* The API's words for an action's outcome. */
static const char *action_status(const parley_dialog_action *a)
{
    if (strcmp(a->status, "ok") == 0)
        return "done";
    if (strcmp(a->status, "rejected") == 0)
        return "denied";
    return "failed";
}

static json_t *entity_json(const parley_dialog_entity *en)
{
    if (strcmp(en->kind, "data_amount") == 0) {
        double mb = strtod(en->value, NULL);
        return json_pack("{s:s, s:s, s:f, s:s}", "type", en->kind, "text", en->text, "value",
                         mb / 1024.0, "unit", "GB");
    }
    return json_pack("{s:s, s:s, s:s}", "type", en->kind, "text", en->text, "value", en->value);
}

static json_t *messages_json(const parley_dialog_reply *rep)
{
    json_t *msgs = json_array();
    if (rep->handoff) {
        (void)json_array_append_new(msgs, json_pack("{s:s, s:s, s:s}", "type", "handoff", "text",
                                                    rep->text, "queue", rep->queue));
    } else if (rep->n_choices) {
        json_t *ch = json_array();
        for (size_t i = 0; i < rep->n_choices; i++) {
            char v[24];
            (void)snprintf(v, sizeof(v), "%zu", i + 1);
            (void)json_array_append_new(
                ch, json_pack("{s:s, s:s}", "label", rep->choice_labels[i], "value", v));
        }
        (void)json_array_append_new(msgs, json_pack("{s:s, s:s, s:o}", "type", "choices", "text",
                                                    rep->text, "choices", ch));
    } else if (rep->text[0]) {
        (void)json_array_append_new(msgs, text_reply("text", rep->text));
    }
    /* The customer's own data export, asked for in chat: a file message
     * after the text that announces it (docs/http-api.md "Messages"). */
    if (rep->attachment)
        (void)json_array_append_new(msgs, json_pack("{s:s, s:s, s:s, s:o?}", "type", "file", "name",
                                                    rep->attachment_name, "media_type",
                                                    "application/json", "content",
                                                    json_loads(rep->attachment, 0, NULL)));
    return msgs;
}

static json_t *turn_json(const char *id, const parley_dialog_reply *rep)
{
    json_t *ents = json_array(), *acts = json_array();
    for (size_t i = 0; i < rep->n_entities; i++)
        (void)json_array_append_new(ents, entity_json(&rep->entities[i]));
    for (size_t i = 0; i < rep->n_actions; i++) {
        const parley_dialog_action *a = &rep->actions[i];
        (void)json_array_append_new(acts, json_pack("{s:s, s:s, s:s?}", "name", a->name, "status",
                                                    action_status(a), "reason", a->backend_code));
    }
    return json_pack("{s:s, s:I, s:s, s:{s:s, s:f}, s:o, s:o, s:o, s:s, s:s}", "conversation_id",
                     id, "turn", (json_int_t)rep->turn, "language", rep->language, "intent", "name",
                     rep->intent[0] ? rep->intent : "out_of_scope", "confidence", rep->confidence,
                     "entities", ents, "messages", messages_json(rep), "actions", acts, "identity",
                     rep->identity, "state", rep->state);
}

char *turn_event(int64_t seq, const char *role, const char *text, const char *state)
{
    json_t *o;
    if (strcmp(role, "customer") == 0)
        o = json_pack("{s:I, s:s, s:s}", "seq", (json_int_t)seq, "role", role, "text", text);
    else
        o = json_pack("{s:I, s:s, s:[o]}", "seq", (json_int_t)seq, "role", role, "messages",
                      text_reply("text", text));
    if (o && state)
        (void)json_object_set_new(o, "state", json_string(state));
    char *data = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!data)
        return NULL;
    size_t n = strlen(data) + 64;
    char *ev = malloc(n);
    if (ev)
        (void)snprintf(ev, n, "id: %lld\nevent: turn\ndata: %s\n\n", (long long)seq, data);
    free(data);
    return ev;
}

void srv_publish_json(struct parley_server *s, const char *id, int64_t seq, json_t *o)
{
    char *data = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (data) {
        size_t n = strlen(data) + 64;
        char *ev = malloc(n);
        if (ev) {
            (void)snprintf(ev, n, "id: %lld\nevent: turn\ndata: %s\n\n", (long long)seq, data);
            hub_publish(s->hub, id, ev);
        }
        free(ev);
    }
    free(data);
    json_decref(o);
}

void srv_record_turn(struct metrics *m, const parley_dialog_reply *rep, double seconds)
{
    atomic_fetch_add(&m->turns, 1);
    met_observe(&m->turn_latency, seconds, 0);
    met_count(&m->intents, rep->intent[0] ? rep->intent : "out_of_scope");
    met_observe(&m->confidence, rep->confidence, 1);
    if (rep->handoff)
        met_count(&m->handoffs, rep->handoff_reason[0] ? rep->handoff_reason : "unknown");
    for (size_t i = 0; i < rep->n_actions; i++) {
        char label[96];
        (void)snprintf(label, sizeof(label), "%.60s|%s", rep->actions[i].name,
                       action_status(&rep->actions[i]));
        met_count(&m->actions, label);
        if (strcmp(rep->actions[i].status, "ok") != 0 &&
            strcmp(rep->actions[i].status, "rejected") != 0)
            met_count(&m->connector_errors, rep->actions[i].status);
        if (rep->actions[i].duration_ms >= 0)
            met_observe(&m->connector_latency, rep->actions[i].duration_ms / 1000.0, 0);
    }
}

static double mono(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void h_message(struct req *r)
{
    static const char *const allowed[] = {"text", NULL};
    json_t *body = req_json(r);
    const char *text = NULL, *id = r->params[0];
    parley_dialog_reply *rep = NULL;
    parley_error e = PARLEY_ERROR_INIT;

    if (!body)
        return;
    if (!only_keys(r, body, allowed) ||
        !opt_string(r, body, "text", PARLEY_DIALOG_MAX_MESSAGE, &text))
        goto out;
    if (!text) {
        req_error(r, 400, "bad_field", "'text' is required: the customer's message");
        goto out;
    }
    struct engine *en = engine_get(r->s);
    pthread_mutex_t *mu = conv_lock(r->s, id);
    double t0 = mono();
    (void)pthread_mutex_lock(mu);
    parley_err rc = parley_dialog_turn(en->d, id, text, strlen(text), 0, &rep, &e);
    (void)pthread_mutex_unlock(mu);
    double took = mono() - t0;
    engine_put(en);
    if (rc != PARLEY_OK) {
        req_fail(r, rc, &e);
        goto out;
    }
    srv_record_turn(&r->s->met, rep, took);
    r->status = 200;
    r->json = turn_json(id, rep);
    /* A verified conversation someone watches can take proactive messages. */
    if (strcmp(rep->identity, "anonymous") != 0 && hub_has(r->s->hub, id)) {
        en = engine_get(r->s);
        cix_note(r->s, en, id);
        engine_put(en);
    }
    if (hub_count(r->s->hub)) {
        srv_publish_json(r->s, id, rep->seq,
                         json_pack("{s:I, s:s, s:s, s:s}", "seq", (json_int_t)rep->seq, "role",
                                   "customer", "text", rep->stored_text, "state", rep->state));
        if (json_array_size(json_object_get(r->json, "messages")))
            srv_publish_json(r->s, id, rep->seq + 1,
                             json_pack("{s:I, s:s, s:O, s:s}", "seq", (json_int_t)rep->seq + 1,
                                       "role", "bot", "messages",
                                       json_object_get(r->json, "messages"), "state", rep->state));
    }
out:
    parley_dialog_reply_free(rep);
    json_decref(body);
}

static void publish_state(struct parley_server *s, const char *id, const char *state)
{
    char ev[96];
    (void)snprintf(ev, sizeof(ev), "event: state\ndata: {\"state\":\"%s\"}\n\n", state);
    hub_publish(s->hub, id, ev);
}

void h_close(struct req *r)
{
    parley_error e = PARLEY_ERROR_INIT;
    const char *id = r->params[0];
    struct engine *en = engine_get(r->s);
    pthread_mutex_t *mu = conv_lock(r->s, id);
    (void)pthread_mutex_lock(mu);
    parley_err rc = parley_dialog_end(en->d, id, &e);
    (void)pthread_mutex_unlock(mu);
    engine_put(en);
    if (rc != PARLEY_OK) {
        req_fail(r, rc, &e);
        return;
    }
    publish_state(r->s, id, "closed");
    cix_drop(r->s->cix, id);
    r->status = 200;
    r->json = json_pack("{s:s, s:s}", "conversation_id", id, "state", "closed");
}

void h_rating(struct req *r)
{
    static const char *const allowed[] = {"score", "comment", NULL};
    json_t *body = req_json(r), *score;
    const char *comment = NULL, *id = r->params[0];
    parley_error e = PARLEY_ERROR_INIT;

    if (!body)
        return;
    if (!only_keys(r, body, allowed) || !opt_string(r, body, "comment", 1000, &comment))
        goto out;
    score = json_object_get(body, "score");
    if (!json_is_integer(score) || json_integer_value(score) < 1 || json_integer_value(score) > 5) {
        req_error(r, 400, "bad_field", "'score' must be a whole number from 1 to 5");
        goto out;
    }
    struct engine *en = engine_get(r->s);
    parley_err rc = parley_dialog_rate(en->d, id, (int)json_integer_value(score), comment, &e);
    engine_put(en);
    if (rc != PARLEY_OK) {
        req_fail(r, rc, &e);
        goto out;
    }
    atomic_fetch_add(&r->s->met.ratings, 1);
    r->status = 200;
    r->json = json_pack("{s:s, s:I}", "conversation_id", id, "score", json_integer_value(score));
out:
    json_decref(body);
}

struct backlog {
    struct parley_buf b;
    int64_t after;
};

static int add_backlog(const parley_store_turn *t, void *userdata)
{
    struct backlog *bl = userdata;
    if (t->seq <= bl->after)
        return 0;
    char *ev = turn_event(t->seq, parley_store_role_name(t->role), t->text, NULL);
    if (ev)
        (void)parley__buf_add(&bl->b, ev, strlen(ev));
    free(ev);
    return 0;
}

void h_stream(struct req *r)
{
    const char *id = r->params[0];
    const char *after = req_query(r, "after");
    const char *last = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Last-Event-ID");
    struct backlog bl = {PARLEY_BUF_INIT(4 * 1024 * 1024), -1};
    parley_error e = PARLEY_ERROR_INIT;
    parley_store_conversation conv = {0};
    const char *from = last ? last : after;

    if (from) {
        char *end = NULL;
        long long v = strtoll(from, &end, 10);
        if (!from[0] || *end || v < 0)
            return (void)req_error(r, 400, "bad_field",
                                   "'after' / Last-Event-ID must be a turn number");
        bl.after = v;
    }
    parley_err rc = parley_store_conversation_load(r->s->store, id, &conv, &e);
    parley_store_conversation_release(&conv);
    if (rc == PARLEY_OK && bl.after >= 0)
        rc = parley_store_turns_list(r->s->store, id, add_backlog, &bl, &e);
    if (rc != PARLEY_OK) {
        parley__buf_release(&bl.b);
        req_fail(r, rc, &e);
        return;
    }
    r->special = hub_response(r->s->hub, r->conn, id, bl.b.data ? bl.b.data : "");
    parley__buf_release(&bl.b);
    if (!r->special)
        return (void)req_error(r, 503, "unavailable", "cannot open a stream now");
    r->status = 200;
    struct engine *en = engine_get(r->s);
    cix_note(r->s, en, id);
    engine_put(en);
}

void h_reload(struct req *r)
{
    static const char *const allowed[] = {"bot_dir", "models_dir", NULL};
    json_t *body = req_json(r), *langs;
    const char *bot = NULL, *models = NULL;
    parley_error e = PARLEY_ERROR_INIT;

    if (!body)
        return;
    if (!only_keys(r, body, allowed) || !opt_string(r, body, "bot_dir", 1000, &bot) ||
        !opt_string(r, body, "models_dir", 1000, &models))
        goto out;
    if (parley_server_reload(r->s, bot, models, &e) != PARLEY_OK) {
        req_error(r, 422, "unprocessable", "reload refused, the running bot stays: %s", e.msg);
        goto out;
    }
    struct engine *en = engine_get(r->s);
    const parley_bot *b = parley_dialog_bot(en->d);
    langs = json_array();
    for (size_t i = 0; i < parley_bot_language_count(b); i++)
        (void)json_array_append_new(langs, json_string(parley_bot_language(b, i)));
    r->status = 200;
    r->json = json_pack("{s:b, s:o, s:I}", "reloaded", 1, "languages", langs, "intents",
                        (json_int_t)parley_bot_intent_count(b));
    engine_put(en);
out:
    json_decref(body);
}

void h_healthz(struct req *r)
{
    if (atomic_load(&r->s->stopping)) {
        req_error(r, 503, "unavailable", "the server is stopping");
        return;
    }
    r->status = 200;
    r->json = json_pack("{s:s}", "status", "ok");
}

void h_metrics(struct req *r)
{
    char *text = met_render(&r->s->met, r->s);
    if (!text)
        return (void)req_error(r, 503, "unavailable", "out of memory");
    r->special = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
    parley__free(text);
    if (!r->special)
        return (void)req_error(r, 503, "unavailable", "out of memory");
    (void)MHD_add_response_header(r->special, "Content-Type",
                                  "text/plain; version=0.0.4; charset=utf-8");
    r->status = 200;
}
