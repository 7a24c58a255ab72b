/* The SMS channel: a customer's text message from their phone continues
 * that phone's SMS conversation (or opens one), verified by possession of
 * the phone (docs/trust.md), with the latest proactive SMS sent to them as
 * the offer it may answer; replies go back through the bot's SMS gateway. */
#include <stdio.h>
#include <string.h>

#include "dialog/internal.h"

/* The account of `phone` through the bot's identity lookup. `*out` (caller
 * frees) is set on PARLEY_OK. */
static parley_err lookup_phone(parley_dialog *d, const char *phone, parley_connect_result **out,
                               parley_error *err)
{
    const parley_bot_identity *ops = parley_bot_identity_ops(d->bot);
    parley_connect_param p = {"phone", phone};
    parley_connect_result *r = NULL;
    parley_connect_code code;
    parley_err rc;
    if (!ops || !ops->by_phone || ops->connector >= d->nconns)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "the bot has no 'identity' lookup by phone: SMS cannot be "
                                "answered");
    if ((rc = parley_connect_call_keyed(d->conns[ops->connector], ops->by_phone, &p, 1, NULL, &r,
                                        err)) != PARLEY_OK)
        return rc;
    code = parley_connect_result_code(r);
    if (code == PARLEY_CONNECT_OK && parley_connect_result_find(r, "customer_id")) {
        *out = r;
        return PARLEY_OK;
    }
    parley_connect_result_free(r);
    if (code == PARLEY_CONNECT_REJECTED || code == PARLEY_CONNECT_BAD_REQUEST ||
        code == PARLEY_CONNECT_OK)
        return parley_error_set(err, PARLEY_ERR_NOTFOUND, "no account has this phone number");
    return parley_error_set(err, PARLEY_ERR_UNAVAILABLE,
                            "cannot look the phone number up: the backend answered %s",
                            parley_connect_code_name(code));
}

struct ids {
    char (*ids)[PARLEY_STORE_MAX_ID + 1];
    size_t n, cap;
    int nomem;
};

static int add_id(const char *id, void *userdata)
{
    struct ids *l = userdata;
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        void *p = parley__realloc(l->ids, ncap * sizeof(*l->ids));
        if (!p) {
            l->nomem = 1;
            return 1;
        }
        l->ids = p;
        l->cap = ncap;
    }
    (void)snprintf(l->ids[l->n++], PARLEY_STORE_MAX_ID + 1, "%s", id);
    return 0;
}

/* The customer's latest open SMS conversation from `phone`, into `id_out`;
 * 0 when there is none. */
static parley_err find_sms_conversation(parley_dialog *d, const char *customer, const char *phone,
                                        char id_out[PARLEY_STORE_ID_SIZE], int *found,
                                        parley_error *err)
{
    struct ids l = {0};
    struct dlg_state *st = parley__calloc(1, sizeof(*st));
    int64_t best = -1;
    parley_err rc;
    *found = 0;
    if (!st)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    /* Listed first, loaded after: the store is not re-entered mid-listing. */
    rc = parley_store_customer_conversations(d->store, customer, add_id, &l, err);
    if (rc == PARLEY_OK && l.nomem)
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    for (size_t i = 0; rc == PARLEY_OK && i < l.n; i++) {
        parley_store_conversation conv = {0};
        parley_error e = PARLEY_ERROR_INIT;
        if (parley_store_conversation_load(d->store, l.ids[i], &conv, &e) != PARLEY_OK)
            continue;
        if (strcmp(conv.channel, "sms") == 0 && strcmp(conv.status, "closed") != 0 &&
            conv.updated > best && strlen(conv.id) < PARLEY_STORE_ID_SIZE &&
            dlg_state_read(st, conv.state, &e) == PARLEY_OK &&
            dlg_phone_equal(st->id.phone, phone)) {
            best = conv.updated;
            (void)snprintf(id_out, PARLEY_STORE_ID_SIZE, "%.32s", conv.id);
            *found = 1;
        }
        dlg_state_clear(st);
        parley_store_conversation_release(&conv);
    }
    parley__free(l.ids);
    parley__free(st);
    return rc;
}

parley_err parley_dialog_sms_open(parley_dialog *d, const char *phone,
                                  char id_out[PARLEY_STORE_ID_SIZE], parley_error *err)
{
    parley_connect_result *r = NULL;
    const parley_connect_fact *cust, *lang;
    char customer[DLG_MAX_NAME];
    int found = 0;
    parley_err rc;
    if (!d || !phone || !phone[0] || !id_out)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot open an SMS conversation: "
                                "bad argument");
    if ((rc = lookup_phone(d, phone, &r, err)) != PARLEY_OK)
        return rc;
    cust = parley_connect_result_find(r, "customer_id");
    (void)snprintf(customer, sizeof(customer), "%s", cust && cust->present ? cust->text : "");
    rc = find_sms_conversation(d, customer, phone, id_out, &found, err);
    if (rc == PARLEY_OK && !found) {
        lang = parley_connect_result_find(r, "language");
        rc = parley_dialog_begin(
            d, "sms",
            lang && lang->present && parley_dialog_has_language(d, lang->text) ? lang->text : NULL,
            id_out, NULL, err);
    }
    parley_connect_result_free(r);
    return rc;
}

/* The offer of the latest SMS a rule sent the customer, unless the
 * conversation has seen it already. A slot whose value is a literal in
 * the rule comes with it; one read from the event or facts does not (the
 * flow asks for it). */
static parley_err sms_offer(struct dlg_turn *t, parley_error *err)
{
    const parley_bot_proactive *pr = parley_bot_proactive_rules(t->d->bot);
    struct dlg_state *st = t->st;
    parley_store_effect_ref ref;
    const parley_bot_rule *rule = NULL;
    struct dlg_offer *o = &st->offer;
    parley_err rc = parley_store_effect_latest(t->d->store, st->id.customer_id, "sms",
                                               t->now - DLG_OFFER_TTL_MS, &ref, err);
    if (rc == PARLEY_ERR_NOTFOUND)
        return PARLEY_OK;
    if (rc != PARLEY_OK || ref.at <= st->offer_seen)
        return rc;
    st->offer_seen = ref.at;
    for (size_t i = 0; i < pr->n_rules && !rule; i++)
        if (strcmp(pr->rules[i].name, ref.rule) == 0)
            rule = &pr->rules[i];
    memset(o, 0, sizeof(*o));
    (void)snprintf(o->rule, sizeof(o->rule), "%.63s", ref.rule);
    (void)snprintf(o->message, sizeof(o->message), "%.63s", ref.message);
    (void)snprintf(o->event, sizeof(o->event), "%.127s", ref.event_id);
    o->at = ref.at;
    /* A report of what the grant allowed (the rule's `say` after its
     * action) offers nothing; the engine hands the same to conversations. */
    if (!rule || !rule->reply || (rule->action && rule->say && strcmp(rule->say, ref.message) == 0))
        return PARLEY_OK;
    (void)snprintf(o->intent, sizeof(o->intent), "%s", rule->reply);
    for (size_t i = 0; i < rule->n_slots && o->nslots < DLG_OFFER_SLOTS; i++) {
        const char *v = rule->slots[i].value;
        if (strncmp(v, "event.", 6) == 0 || strncmp(v, "fact.", 5) == 0 ||
            strlen(rule->slots[i].name) >= DLG_MAX_NAME)
            continue;
        (void)snprintf(o->slots[o->nslots].name, DLG_MAX_NAME, "%s", rule->slots[i].name);
        (void)snprintf(o->slots[o->nslots].value, DLG_MAX_VALUE, "%s", v);
        o->nslots++;
    }
    return PARLEY_OK;
}

/* Before the message is decided: the phone proves the account, and the
 * latest proactive SMS is what it may answer. */
static parley_err sms_prepare(struct dlg_turn *t, void *userdata, parley_error *err)
{
    const char *phone = userdata;
    int r = dlg_identity_possession(t, phone);
    if (r < 0)
        return parley_error_set(err, PARLEY_ERR_UNAVAILABLE,
                                "cannot look the phone number up: the backend did not answer");
    if (r == 0)
        return parley_error_set(err, PARLEY_ERR_NOTFOUND, "no account has this phone number");
    return sms_offer(t, err);
}

parley_err parley_dialog_sms_turn(parley_dialog *d, const char *id, const char *phone,
                                  const char *text, size_t len, int64_t now_ms,
                                  parley_dialog_reply **out, parley_error *err)
{
    if (!d || !id || !phone || !phone[0])
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot run an SMS turn: bad argument");
    return dlg_turn_run(d, id, text, len, now_ms, sms_prepare, (void *)phone, out, err);
}

parley_err parley_dialog_sms_send(parley_dialog *d, const char *phone, const char *text,
                                  const char *key, parley_error *err)
{
    const parley_bot_proactive *pr = d ? parley_bot_proactive_rules(d->bot) : NULL;
    parley_connect_param params[16];
    parley_connect_result *r = NULL;
    parley_err rc;
    size_t n = 0;
    if (!d || !phone || !text)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot send an SMS: bad argument");
    if (!pr->sms_operation || pr->sms_connector >= d->nconns)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot send an SMS: the bot has no SMS gateway ('proactive: sms' "
                                "in bot.yml)");
    /* The gateway's parameters as the rules map them: the text, a phone
     * fact (the number the customer wrote from), literals. */
    for (size_t i = 0; i < pr->n_sms_params && n < 16; i++) {
        const char *src = pr->sms_params[i].value;
        params[n].name = pr->sms_params[i].name;
        if (strcmp(src, "message") == 0)
            params[n].value = text;
        else if (strncmp(src, "fact.", 5) == 0 && strstr(src, "phone"))
            params[n].value = phone;
        else if (strncmp(src, "fact.", 5) == 0 || strncmp(src, "event.", 6) == 0)
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "cannot send an SMS reply: gateway parameter '%s' needs '%s', "
                                    "which a reply does not have",
                                    params[n].name, src);
        else
            params[n].value = src;
        n++;
    }
    if ((rc = parley_connect_call_keyed(d->conns[pr->sms_connector], pr->sms_operation, params, n,
                                        key, &r, err)) != PARLEY_OK)
        return rc;
    if (parley_connect_result_code(r) != PARLEY_CONNECT_OK)
        rc = parley_error_set(err, PARLEY_ERR_UNAVAILABLE,
                              "cannot send an SMS: the gateway "
                              "answered %s",
                              parley_connect_code_name(parley_connect_result_code(r)));
    parley_connect_result_free(r);
    return rc;
}
