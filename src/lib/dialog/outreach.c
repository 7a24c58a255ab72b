/* Proactive messages inside a conversation: one put into an open,
 * verified conversation as a bot turn, remembered as the offer it makes,
 * and the customer's next message read as the answer to it (a yes runs the
 * rule's reply flow with its slots, a no is acknowledged). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialog/internal.h"

int dlg_offer_answer(struct dlg_turn *t)
{
    struct dlg_state *st = t->st;
    struct dlg_offer o = st->offer;
    const parley_bot_flow *f;
    int yn, same;
    if (!o.at)
        return 0;
    /* Whatever the message is, the offer was answered or passed over. */
    memset(&st->offer, 0, sizeof(st->offer));
    if (!o.intent[0] || t->now - o.at > DLG_OFFER_TTL_MS ||
        !(f = parley_bot_flow_for(t->d->bot, o.intent)))
        return 0;
    /* "RECHARGE", as the message suggests, is the offer's own intent. */
    same = t->pred.intent && !t->pred.out_of_scope && strcmp(t->pred.intent, o.intent) == 0 &&
           t->pred.confidence >= parley_bot_confidence(t->d->bot);
    yn = dlg_yes_no(t);
    if (same || (yn == 1 && dlg_clear_yes(t))) {
        dlg_flow_start_with(t, f, o.slots, o.nslots);
        return 1;
    }
    if (yn == 0) {
        if (!dlg_say(t, "proactive_declined"))
            (void)dlg_say(t, "nothing_changed");
        return 1;
    }
    return 0;
}

/* The offer `m` makes, as the conversation keeps it. */
static void offer_of(const parley_proactive_delivery *m, int64_t now, struct dlg_offer *o)
{
    memset(o, 0, sizeof(*o));
    (void)snprintf(o->rule, sizeof(o->rule), "%s", m->rule ? m->rule : "");
    (void)snprintf(o->message, sizeof(o->message), "%s", m->message ? m->message : "");
    (void)snprintf(o->intent, sizeof(o->intent), "%s", m->reply ? m->reply : "");
    (void)snprintf(o->event, sizeof(o->event), "%s", m->event_id ? m->event_id : "");
    for (size_t i = 0; i < m->n_slots && o->nslots < DLG_OFFER_SLOTS; i++) {
        if (strlen(m->slot_names[i]) >= DLG_MAX_NAME)
            continue;
        (void)snprintf(o->slots[o->nslots].name, DLG_MAX_NAME, "%s", m->slot_names[i]);
        (void)snprintf(o->slots[o->nslots].value, DLG_MAX_VALUE, "%s", m->slot_values[i]);
        o->nslots++;
    }
    o->at = now;
}

/* The turn's metadata: which rule and message it was (no text). */
static char *metadata(const parley_proactive_delivery *m)
{
    json_t *o =
        json_pack("{s:{s:s, s:s, s:s}}", "proactive", "rule", m->rule ? m->rule : "", "message",
                  m->message ? m->message : "", "event", m->event_id ? m->event_id : "");
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL, *out = s ? parley__strdup(s) : NULL;
    free(s);
    json_decref(o);
    return out;
}

parley_err parley_dialog_outreach(parley_dialog *d, const char *id,
                                  const parley_proactive_delivery *m, int64_t now_ms,
                                  int64_t *seq_out, parley_error *err)
{
    parley_store_conversation conv = {0};
    struct dlg_state *st = NULL;
    parley_entity ents[DLG_MAX_ENTITIES];
    char *state = NULL, *red = NULL, *meta = NULL;
    size_t n = 0, len;
    parley_err rc;

    if (!d || !id || !m || !m->customer || !m->text || !m->text[0])
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot deliver a message: bad argument");
    len = strlen(m->text);
    if (!now_ms)
        now_ms = parley__clock_ms();
    if ((rc = parley_store_conversation_load(d->store, id, &conv, err)) != PARLEY_OK)
        return rc;
    if (strcmp(conv.status, "active") != 0) {
        rc = parley_error_set(err, PARLEY_ERR_CONFLICT,
                              "cannot deliver a message: conversation '%.64s' is %s", id,
                              conv.status);
        goto out;
    }
    if (!(st = parley__calloc(1, sizeof(*st)))) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = dlg_state_read(st, conv.state, err)) != PARLEY_OK)
        goto out;
    /* Only the customer it is for, proven and not gone quiet for longer
     * than a verification lasts, sees it there. */
    if (!st->id.verified || strcmp(st->id.customer_id, m->customer) != 0 ||
        (st->last_ms && now_ms - st->last_ms > d->verify_idle_ms)) {
        rc = parley_error_set(err, PARLEY_ERR_CONFLICT,
                              "cannot deliver a message: conversation '%.64s' is not verified "
                              "for the customer",
                              id);
        goto out;
    }
    offer_of(m, now_ms, &st->offer);
    if (parley_nlu_entities(m->text, len, st->lang, NULL, ents, DLG_MAX_ENTITIES, &n, NULL) !=
        PARLEY_OK)
        n = 0;
    state = dlg_state_write(st);
    red = dlg_redact(d, st, m->text, len, ents, n < DLG_MAX_ENTITIES ? n : DLG_MAX_ENTITIES);
    meta = metadata(m);
    if (!state || !red || !meta) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
        goto out;
    }
    parley_store_turn turn = {.role = PARLEY_ROLE_BOT, .text = red, .metadata = meta};
    rc = parley_store_commit_outcome(d->store, id, conv.version, state, &turn, 1, NULL, seq_out,
                                     err);
out:
    parley__free(meta);
    parley__free(red);
    parley__free(state);
    if (st)
        dlg_state_clear(st);
    parley__free(st);
    parley_store_conversation_release(&conv);
    return rc;
}
