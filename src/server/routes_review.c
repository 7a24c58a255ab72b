/* The review queue over HTTP: customer turns the bot did not understand,
 * listed for agents, who label them with the intent they meant (or dismiss
 * them); `parley learn --review` trains on the labels (docs/learning.md). */
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"

#define REVIEW_PAGE     100
#define REVIEW_MAX_PAGE 500

static int add_item(const parley_store_review *it, void *userdata)
{
    char created[32], labelled[32];
    iso_time(it->created, created);
    iso_time(it->labelled_at, labelled);
    json_t *o = json_pack("{s:I, s:s, s:I, s:s, s:s, s:s, s:f, s:s, s:s, s:s, s:s*, s:s*, s:b}",
                          "id", (json_int_t)it->id, "conversation_id", it->conversation_id, "seq",
                          (json_int_t)it->seq, "text", it->text, "reason", it->reason, "language",
                          it->language, "confidence", it->confidence, "predicted", it->predicted,
                          "created", created, "status", it->status, "intent",
                          it->intent[0] ? it->intent : NULL, "labelled_at",
                          it->labelled_at ? labelled : NULL, "verified", it->customer_id[0] != 0);
    return !o || json_array_append_new(userdata, o) != 0;
}

void h_review_list(struct req *r)
{
    const char *status = req_query(r, "status"), *after = req_query(r, "after"),
               *limit_s = req_query(r, "limit");
    long long after_id = 0, limit = REVIEW_PAGE;
    char *end = NULL;
    parley_error e = PARLEY_ERROR_INIT;

    if (!status)
        status = "open";
    else if (strcmp(status, "any") == 0)
        status = NULL;
    else if (strcmp(status, "open") != 0 && strcmp(status, "labelled") != 0 &&
             strcmp(status, "dismissed") != 0) {
        req_error(r, 400, "bad_field", "'status' must be open, labelled, dismissed or any");
        return;
    }
    if (after && (after_id = strtoll(after, &end, 10), !*after || *end || after_id < 0)) {
        req_error(r, 400, "bad_field", "'after' must be a review item id");
        return;
    }
    if (limit_s && (limit = strtoll(limit_s, &end, 10),
                    !*limit_s || *end || limit < 1 || limit > REVIEW_MAX_PAGE)) {
        req_error(r, 400, "bad_field", "'limit' must be 1 to %d", REVIEW_MAX_PAGE);
        return;
    }
    json_t *items = json_array();
    parley_err rc = items ? parley_store_review_list(r->s->store, status, after_id, (size_t)limit,
                                                     add_item, items, &e)
                          : parley_error_set(&e, PARLEY_ERR_NOMEM, "out of memory");
    if (rc != PARLEY_OK) {
        json_decref(items);
        req_fail(r, rc, &e);
        return;
    }
    struct engine *en = engine_get(r->s);
    const parley_bot *b = parley_dialog_bot(en->d);
    json_t *intents = json_array();
    for (size_t i = 0; intents && i < parley_bot_intent_count(b); i++)
        (void)json_array_append_new(intents, json_string(parley_bot_intent(b, i)));
    engine_put(en);
    r->status = 200;
    r->json = json_pack("{s:o, s:o}", "items", items, "intents", intents ? intents : json_array());
}

void h_review_label(struct req *r)
{
    static const char *const allowed[] = {"intent", "dismiss", NULL};
    json_t *body = req_json(r), *intent_v, *dismiss_v;
    const char *intent = NULL;
    char *end = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    long long id = strtoll(r->params[0], &end, 10);

    if (!body)
        return;
    if (!*r->params[0] || *end || id < 1) {
        req_error(r, 404, "not_found", "no review item '%.40s'", r->params[0]);
        goto out;
    }
    if (!only_keys(r, body, allowed))
        goto out;
    intent_v = json_object_get(body, "intent");
    dismiss_v = json_object_get(body, "dismiss");
    if ((intent_v != NULL) == (dismiss_v != NULL) || (dismiss_v && !json_is_true(dismiss_v)) ||
        (intent_v && !json_is_string(intent_v))) {
        req_error(r, 400, "bad_field",
                  "the body must be {\"intent\": \"an intent of the bot\"} or {\"dismiss\": true}");
        goto out;
    }
    if (intent_v) {
        intent = json_string_value(intent_v);
        struct engine *en = engine_get(r->s);
        const parley_bot *b = parley_dialog_bot(en->d);
        int known = 0;
        for (size_t i = 0; !known && i < parley_bot_intent_count(b); i++)
            known = strcmp(parley_bot_intent(b, i), intent) == 0;
        engine_put(en);
        if (!known) {
            req_error(r, 422, "unprocessable", "'%.100s' is not an intent of the bot", intent);
            goto out;
        }
    }
    char who[40];
    (void)snprintf(who, sizeof(who), "key %s", r->key_id);
    parley_err rc = parley_store_review_label(r->s->store, id, intent, who, &e);
    if (rc != PARLEY_OK) {
        req_fail(r, rc, &e);
        goto out;
    }
    r->status = 200;
    r->json = json_pack("{s:I, s:s, s:s*}", "id", (json_int_t)id, "status",
                        intent ? "labelled" : "dismissed", "intent", intent);
out:
    json_decref(body);
}
