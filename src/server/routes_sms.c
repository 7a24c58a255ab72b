/* POST /v1/channels/sms: a customer's text message, as the carrier's SMS
 * gateway hands it over (telco-sim's --sms-url), continues that phone's SMS
 * conversation and the bot's answer goes back by SMS (docs/http-api.md,
 * docs/proactive.md "Replies"). Neither the number nor the text is logged. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <xxhash.h>

#include "server/internal.h"

#define SMS_MAX_PHONE 32

/* Member `key` of `body` as a string of 1..max bytes without NUL; else an
 * error answer naming it, and NULL. */
static const char *string_field(struct req *r, json_t *body, const char *key, size_t max,
                                const char *what)
{
    json_t *v = json_object_get(body, key);
    if (!v || json_is_null(v)) {
        req_error(r, 400, "bad_field", "'%s' is required: %s", key, what);
        return NULL;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max) {
        req_error(r, 400, "bad_field", "'%s' must be a string of 1 to %zu bytes: %s", key, max,
                  what);
        return NULL;
    }
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        req_error(r, 400, "bad_field", "'%s' must not contain NUL characters", key);
        return NULL;
    }
    return json_string_value(v);
}

/* A phone number as gateways write it: digits (7 to 15), with an optional
 * leading '+' and spaces, dots, dashes or parentheses between them. */
static int phone_ok(const char *p)
{
    size_t digits = 0;
    if (*p == '+')
        p++;
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits++;
        else if (!strchr(" .-()", *p))
            return 0;
    }
    return digits >= 7 && digits <= 15;
}

static double mono(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void h_sms(struct req *r)
{
    json_t *body = req_json(r);
    const char *phone, *text, *k;
    json_t *v;
    char id[PARLEY_STORE_ID_SIZE], key[40];
    parley_dialog_reply *rep = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    struct engine *en = NULL;
    int sent = 0;
    parley_err rc;

    if (!body)
        return;
    json_object_foreach(body, k, v)
    {
        if (strcmp(k, "phone") != 0 && strcmp(k, "text") != 0) {
            req_error(r, 400, "bad_field", "unknown field '%.64s' (expected 'phone' and 'text')",
                      k);
            goto out;
        }
    }
    if (!(phone = string_field(r, body, "phone", SMS_MAX_PHONE, "the sender's phone number")) ||
        !(text = string_field(r, body, "text", PARLEY_DIALOG_MAX_MESSAGE, "the message")))
        goto out;
    if (!phone_ok(phone)) {
        req_error(r, 400, "bad_field",
                  "'phone' must be a phone number: 7 to 15 digits, optionally with a leading '+' "
                  "and spaces, dots, dashes or parentheses");
        goto out;
    }
    en = engine_get(r->s);
    if ((rc = parley_dialog_sms_open(en->d, phone, id, &e)) != PARLEY_OK) {
        if (rc == PARLEY_ERR_NOTFOUND)
            req_error(r, 404, "not_found", "no account has the number in 'phone'");
        else
            req_fail(r, rc, &e);
        goto out;
    }
    pthread_mutex_t *mu = conv_lock(r->s, id);
    double t0 = mono();
    (void)pthread_mutex_lock(mu);
    rc = parley_dialog_sms_turn(en->d, id, phone, text, strlen(text), 0, &rep, &e);
    (void)pthread_mutex_unlock(mu);
    if (rc != PARLEY_OK) {
        if (rc == PARLEY_ERR_NOTFOUND)
            req_error(r, 404, "not_found", "no account has the number in 'phone'");
        else
            req_fail(r, rc, &e);
        goto out;
    }
    srv_record_turn(&r->s->met, rep, mono() - t0);
    if (rep->text[0]) {
        /* One key per stored turn: a gateway that redelivers the message
         * after a lost answer makes a new turn, never a double send. */
        char seed[96];
        (void)snprintf(seed, sizeof(seed), "%s/%lld", id, (long long)rep->seq);
        (void)snprintf(key, sizeof(key), "sms-%016llx",
                       (unsigned long long)XXH64(seed, strlen(seed), 0));
        if (parley_dialog_sms_send(en->d, phone, rep->text, key, &e) == PARLEY_OK)
            sent = 1;
        else
            PARLEY_LOG(PARLEY_LOG_WARN, "sms: conversation %s: reply not sent: %s", id, e.msg);
    }
    if (hub_count(r->s->hub)) {
        srv_publish_json(r->s, id, rep->seq,
                         json_pack("{s:I, s:s, s:s, s:s}", "seq", (json_int_t)rep->seq, "role",
                                   "customer", "text", rep->stored_text, "state", rep->state));
        if (rep->text[0])
            srv_publish_json(r->s, id, rep->seq + 1,
                             json_pack("{s:I, s:s, s:[{s:s, s:s}], s:s}", "seq",
                                       (json_int_t)rep->seq + 1, "role", "bot", "messages", "type",
                                       "text", "text", rep->text, "state", rep->state));
    }
    r->status = 200;
    r->json =
        json_pack("{s:s, s:I, s:s, s:s, s:b}", "conversation_id", id, "turn", (json_int_t)rep->turn,
                  "state", rep->state, "identity", rep->identity, "replied", sent);
out:
    if (en)
        engine_put(en);
    parley_dialog_reply_free(rep);
    json_decref(body);
}
