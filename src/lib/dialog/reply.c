/* parley_dialog_turn: loads the conversation, runs the message through the
 * engine, stores the new state with the (redacted) customer and bot turns,
 * and builds the reply. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "dialog/internal.h"

struct reply_box {
    parley_dialog_reply r; /* first: the public part */
    char *strings[24 + DLG_MAX_ENTITIES * 2];
    size_t nstrings;
    parley_dialog_action actions[DLG_MAX_ACTIONS];
    char *action_strings[DLG_MAX_ACTIONS * 3];
    size_t naction_strings;
    parley_dialog_entity entities[DLG_MAX_ENTITIES];
    char *choice_ptrs[DLG_MAX_CHOICES];
    const char *labels[DLG_MAX_CHOICES];
};

static const char *keep(struct reply_box *b, const char *s, int *nomem)
{
    char *c;
    if (b->nstrings == sizeof(b->strings) / sizeof(b->strings[0])) {
        *nomem = 1;
        return "";
    }
    c = parley__strdup(s ? s : "");
    if (!c) {
        *nomem = 1;
        return "";
    }
    b->strings[b->nstrings++] = c;
    return c;
}

void parley_dialog_reply_free(parley_dialog_reply *r)
{
    struct reply_box *b = (struct reply_box *)r;
    if (!b)
        return;
    for (size_t i = 0; i < b->nstrings; i++)
        parley__free(b->strings[i]);
    for (size_t i = 0; i < b->naction_strings; i++)
        parley__free(b->action_strings[i]);
    for (size_t i = 0; i < DLG_MAX_CHOICES; i++)
        parley__free(b->choice_ptrs[i]);
    parley__free(b);
}

/* The customer's text as stored: identity proof entirely hidden,
 * personal values replaced (redact.c). */
static char *redact(const struct dlg_turn *t)
{
    if (t->redact_all)
        return parley__strdup("[identity proof]");
    return dlg_redact(t->d, t->st, t->text, t->len, t->ents, t->nents);
}

static char *summary(const struct dlg_turn *t, const char *redacted, const char *flow_before)
{
    char *s = parley__malloc(1024);
    if (s)
        (void)snprintf(s, 1024,
                       "language %s; %s; last intent %s (%.2f); flow %s; actions this turn %zu; "
                       "last message: %.300s",
                       t->lang, t->st->id.verified ? "verified" : "not verified",
                       t->pred.intent ? t->pred.intent : "none", (double)t->pred.confidence,
                       flow_before[0] ? flow_before : "none", t->nactions, redacted);
    return s;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The customer asked in chat to erase their data and confirmed: every
 * conversation verified for them (this one too) and their grants go,
 * after the turn that asked is stored (the audit records it when it was
 * done: t->erase stays set). A failure is logged: the customer was
 * already answered, so it is retried by hand. */
/* Puts the customer's message of this turn in the review queue, where an
 * agent can say what it meant; the next `parley learn` learns from it.
 * A failure costs only the review, never the turn. */
static void queue_review(struct dlg_turn *t, const char *id, int64_t seq)
{
    parley_store_review r;
    parley_error e = PARLEY_ERROR_INIT;
    memset(&r, 0, sizeof(r));
    r.conversation_id = id;
    r.seq = seq;
    r.reason = t->review;
    r.language = t->lang ? t->lang : "";
    r.predicted = t->pred.n_top ? t->pred.top[0].intent : "";
    r.confidence = t->pred.n_top ? t->pred.top[0].confidence : 0.0;
    if (parley_store_review_add(t->d->store, &r, &e) != PARLEY_OK)
        PARLEY_LOG(PARLEY_LOG_WARN, "dialog: %s", e.msg);
}

static void erase_customer(struct dlg_turn *t)
{
    parley_error e = PARLEY_ERROR_INIT;
    size_t n = 0;
    if (parley_store_customer_erase(t->d->store, t->st->id.customer_id, &n, &e) != PARLEY_OK) {
        PARLEY_LOG(PARLEY_LOG_ERROR, "dialog: erasure requested in chat failed: %s", e.msg);
        t->erase = 0;
    }
}

/* A data export asked for in chat was built before the turn was stored
 * (privacy.c), when a conversation that verified the customer in this
 * very turn was not yet theirs; built again now it holds this conversation
 * and this request too. If that fails the first copy still stands. */
static void refresh_export(struct dlg_turn *t)
{
    parley_error e = PARLEY_ERROR_INIT;
    char *doc = NULL;
    if (parley_trust_export(t->d->store, t->st->id.customer_id, t->now, &doc, &e) != PARLEY_OK) {
        PARLEY_LOG(PARLEY_LOG_WARN, "dialog: data export kept without this turn: %s", e.msg);
        return;
    }
    parley_trust_free(t->export_json);
    t->export_json = doc;
}

/* What the conversation waits for, in the API's words. */
static const char *state_name(const struct dlg_turn *t)
{
    const parley_bot_flow *f = dlg_current_flow(t);
    if (t->erase)
        return "closed";
    if (t->handoff)
        return "handed_off";
    if (f && t->st->wait == WAIT_STEP && t->st->step >= 0 && (size_t)t->st->step < f->n_steps &&
        f->steps[t->st->step].type == PARLEY_STEP_CONFIRM)
        return "awaiting_confirmation";
    return "active";
}

parley_trust_level dlg_level(const struct dlg_state *st)
{
    if (st->id.verified)
        return st->id.strong ? PARLEY_TRUST_STRONG : PARLEY_TRUST_VERIFIED;
    return st->id.identified ? PARLEY_TRUST_IDENTIFIED : PARLEY_TRUST_ANONYMOUS;
}

const char *dlg_identity_level(const struct dlg_state *st)
{
    return parley_trust_level_name(dlg_level(st));
}

static parley_dialog_reply *build_reply(struct dlg_turn *t, const char *summary_text, int64_t seq,
                                        const char *stored)
{
    struct reply_box *b = parley__calloc(1, sizeof(*b));
    const parley_bot_flow *f;
    int nomem = 0;
    if (!b)
        return NULL;
    b->r.text = keep(b, t->out.data ? t->out.data : "", &nomem);
    b->r.language = keep(b, t->lang, &nomem);
    b->r.intent = keep(b, t->pred.intent ? t->pred.intent : "", &nomem);
    b->r.confidence = t->pred.confidence;
    b->r.flow = keep(b, t->st->flow, &nomem);
    f = dlg_current_flow(t);
    b->r.step =
        keep(b,
             f && t->st->wait == WAIT_STEP && t->st->step >= 0 && (size_t)t->st->step < f->n_steps
                 ? f->steps[t->st->step].id
                 : "",
             &nomem);
    b->r.handoff = t->handoff;
    b->r.summary = keep(b, summary_text ? summary_text : "", &nomem);
    b->r.seq = seq;
    b->r.stored_text = keep(b, stored, &nomem);
    b->r.turn = t->st->turns;
    b->r.state = state_name(t);
    b->r.identity = dlg_identity_level(t->st);
    b->r.handoff_reason = keep(b, t->handoff ? t->handoff_reason : "", &nomem);
    b->r.queue = t->handoff ? DLG_QUEUE : "";
    if (t->export_json) {
        b->r.attachment_name = keep(b, DLG_EXPORT_FILE, &nomem);
        b->r.attachment = keep(b, t->export_json, &nomem);
    }
    memcpy(b->actions, t->actions, sizeof(t->actions));
    memcpy(b->action_strings, t->action_strings, sizeof(t->action_strings));
    b->naction_strings = t->nstrings;
    b->r.actions = b->actions;
    b->r.n_actions = t->nactions;
    for (size_t i = 0; i < t->nents; i++) {
        b->entities[i].kind = parley_entity_kind_name(t->ents[i].kind);
        b->entities[i].value = keep(b, t->ents[i].value, &nomem);
        if (t->ents[i].end <= t->len && t->ents[i].start <= t->ents[i].end) {
            char *span =
                parley__strndup(t->text + t->ents[i].start, t->ents[i].end - t->ents[i].start);
            b->entities[i].text = keep(b, span ? span : "", &nomem);
            parley__free(span);
        } else {
            b->entities[i].text = "";
        }
    }
    b->r.entities = b->entities;
    b->r.n_entities = t->nents;
    if (t->st->wait == WAIT_CLARIFY) {
        for (size_t i = 0; i < t->st->nchoices; i++) {
            struct parley_buf label;
            b->choice_ptrs[i] = parley__strdup(t->st->choices[i]);
            nomem |= !b->choice_ptrs[i];
            dlg_label_of(t, t->st->choices[i], &label);
            b->labels[i] = keep(b, label.data ? label.data : t->st->choices[i], &nomem);
            parley__buf_release(&label);
        }
        b->r.choices = (const char *const *)b->choice_ptrs;
        b->r.choice_labels = b->labels;
        b->r.n_choices = t->st->nchoices;
    }
    if (nomem) {
        parley_dialog_reply_free(&b->r);
        return NULL;
    }
    return &b->r;
}

/* Stores a message sent while a person has the conversation: the
 * customer's turn alone, the state otherwise as it was. */
static parley_err commit_waiting(struct dlg_turn *t, const parley_store_conversation *conv,
                                 parley_dialog_reply **out, parley_error *err)
{
    parley_store_outcome oc = {.customer_turns = 1, .language = t->lang};
    parley_store_turn turn = {.role = PARLEY_ROLE_CUSTOMER};
    char *state = dlg_state_write(t->st), *red = redact(t);
    int64_t seq = 0;
    parley_err rc;

    if (!state || !red) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot run turn: out of memory");
        goto out;
    }
    turn.text = red;
    turn.intent = t->pred.intent;
    turn.confidence = t->pred.confidence;
    rc = parley_store_commit_outcome(t->d->store, t->conv_id, conv->version, state, &turn, 1, &oc,
                                     &seq, err);
    if (rc != PARLEY_OK)
        goto out;
    *out = build_reply(t, NULL, seq, red);
    if (!*out)
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot run turn: out of memory");
    else
        ((struct reply_box *)*out)->r.handoff = 0; /* not a new hand-off */
out:
    parley__free(state);
    parley__free(red);
    return rc;
}

parley_err parley_dialog_turn(parley_dialog *d, const char *id, const char *text, size_t len,
                              int64_t now, parley_dialog_reply **out, parley_error *err)
{
    return dlg_turn_run(d, id, text, len, now, NULL, NULL, out, err);
}

parley_err dlg_turn_run(parley_dialog *d, const char *id, const char *text, size_t len, int64_t now,
                        dlg_prepare_fn prepare, void *userdata, parley_dialog_reply **out,
                        parley_error *err)
{
    parley_store_conversation conv = {0};
    struct dlg_state *st = NULL;
    struct dlg_turn *t = NULL;
    parley_nlu_ctx *ctx = NULL;
    char *state = NULL, *red = NULL, *bot_red = NULL, *sum = NULL, *meta = NULL;
    char flow_before[DLG_MAX_NAME];
    parley_store_turn turns[2] = {{0}, {0}}, *bt;
    parley_store_outcome oc = {0};
    int64_t seq = 0;
    parley_err rc;

    if (!d || !id || (!text && len) || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot run turn: bad argument");
    if (len > PARLEY_DIALOG_MAX_MESSAGE)
        return parley_error_set(err, PARLEY_ERR_LIMIT,
                                "cannot run turn: message of %zu bytes is over the limit of %u",
                                len, PARLEY_DIALOG_MAX_MESSAGE);
    if ((rc = parley_text_validate(text ? text : "", len, NULL, err)) != PARLEY_OK)
        return rc;
    if ((rc = parley_store_conversation_load(d->store, id, &conv, err)) != PARLEY_OK)
        return rc;
    st = parley__calloc(1, sizeof(*st));
    t = parley__calloc(1, sizeof(*t));
    if (!st || !t || parley_nlu_ctx_new(&ctx) != PARLEY_OK) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot run turn: out of memory");
        goto out;
    }
    if (strcmp(conv.status, "closed") == 0) {
        rc = parley_error_set(err, PARLEY_ERR_CONFLICT, "conversation '%.64s' is closed", id);
        goto out;
    }
    if ((rc = dlg_state_read(st, conv.state, err)) != PARLEY_OK)
        goto out;
    t->d = d;
    t->st = st;
    t->conv_id = id;
    t->text = text ? text : "";
    t->len = len;
    t->now = now ? now : now_ms();
    t->out = (struct parley_buf)PARLEY_BUF_INIT(256 * 1024);
    t->call_ms = -1;
    st->turns++;
    (void)snprintf(flow_before, sizeof(flow_before), "%s", st->flow);
    if (prepare && (rc = prepare(t, userdata, err)) != PARLEY_OK)
        goto out;
    if (strcmp(conv.status, "handed_off") == 0) {
        /* A person has the conversation: the message is only understood
         * enough to be stored redacted, and the bot stays silent. */
        dlg_understand(t, ctx);
        t->handoff = 1;
        rc = commit_waiting(t, &conv, out, err);
        goto out;
    }
    st->handoff = 0;
    t->level_before = dlg_level(st);
    dlg_understand(t, ctx);
    dlg_decide(t);
    st->last_ms = t->now;
    if (t->failed) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot run turn: out of memory");
        goto out;
    }
    state = dlg_state_write(st);
    red = redact(t);
    /* The reply may name what was fetched (the customer's name, a bill
     * id): stored as redacted as the message. */
    bot_red = dlg_redact(d, st, t->out.data ? t->out.data : "", t->out.len, NULL, 0);
    if (t->handoff)
        sum = summary(t, red ? red : "", flow_before);
    if (!state || !red || !bot_red || (t->handoff && !sum)) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot run turn: out of memory");
        goto out;
    }
    turns[0].role = PARLEY_ROLE_CUSTOMER;
    turns[0].text = red;
    turns[0].intent = t->pred.intent;
    turns[0].confidence = t->pred.confidence;
    bt = &turns[1];
    bt->role = PARLEY_ROLE_BOT;
    bt->text = bot_red;
    if (sum) {
        json_t *m = json_pack("{s:s}", "handoff_summary", sum);
        char *ms = m ? json_dumps(m, JSON_COMPACT) : NULL;
        json_decref(m);
        meta = ms ? parley__strdup(ms) : NULL;
        free(ms);
        bt->metadata = meta;
    }
    /* The message and the reply land together, with the state. */
    oc.customer_turns = 1;
    oc.intent = t->intent_acted;
    oc.language = t->lang;
    oc.customer_id = st->id.verified ? st->id.customer_id : NULL;
    if (t->handoff) {
        oc.status = "handed_off";
        oc.handoff_reason = t->handoff_reason;
        oc.handoff_queue = DLG_QUEUE;
        oc.handoff_summary = sum;
    }
    rc = parley_store_commit_outcome(d->store, id, conv.version, state, turns, 2, &oc, &seq, err);
    if (rc != PARLEY_OK)
        goto out;
    if (t->review && !t->redact_all && !t->erase)
        queue_review(t, id, seq);
    if (t->erase)
        erase_customer(t);
    if (t->export_json)
        refresh_export(t);
    dlg_audit_turn(t);
    *out = build_reply(t, sum, seq, red);
    if (!*out)
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot run turn: out of memory");
    t->nstrings = 0; /* the reply owns the action strings now */
out:
    if (t) {
        for (size_t i = 0; i < t->nstrings; i++)
            parley__free(t->action_strings[i]);
        parley__buf_release(&t->out);
        parley_trust_free(t->export_json);
    }
    if (st)
        dlg_state_clear(st);
    parley__free(st);
    parley__free(t);
    parley_nlu_ctx_free(ctx);
    parley__free(state);
    parley__free(red);
    parley__free(bot_red);
    parley__free(sum);
    parley__free(meta);
    parley_store_conversation_release(&conv);
    return rc;
}

char *parley_dialog_reply_json(const parley_dialog_reply *r)
{
    json_t *o, *acts, *ents, *ch;
    char *s, *out = NULL;
    if (!r)
        return NULL;
    o = json_pack("{s:s, s:s, s:s, s:f, s:s, s:s, s:b, s:s, s:I}", "text", r->text, "language",
                  r->language, "intent", r->intent, "confidence", r->confidence, "flow", r->flow,
                  "step", r->step, "handoff", r->handoff, "summary", r->summary, "seq",
                  (json_int_t)r->seq);
    acts = json_array();
    ents = json_array();
    ch = json_array();
    if (!o || !acts || !ents || !ch) {
        json_decref(o);
        json_decref(acts);
        json_decref(ents);
        json_decref(ch);
        return NULL;
    }
    for (size_t i = 0; i < r->n_actions; i++)
        (void)json_array_append_new(acts, json_pack("{s:s, s:s, s:s?}", "name", r->actions[i].name,
                                                    "status", r->actions[i].status, "backend_code",
                                                    r->actions[i].backend_code));
    for (size_t i = 0; i < r->n_entities; i++)
        (void)json_array_append_new(ents, json_pack("{s:s, s:s}", "kind", r->entities[i].kind,
                                                    "value", r->entities[i].value));
    for (size_t i = 0; i < r->n_choices; i++)
        (void)json_array_append_new(ch, json_string(r->choices[i]));
    (void)json_object_set_new(o, "actions", acts);
    (void)json_object_set_new(o, "entities", ents);
    (void)json_object_set_new(o, "choices", ch);
    if (r->attachment)
        (void)json_object_set_new(o, "attachment",
                                  json_pack("{s:s, s:s, s:o?}", "name", r->attachment_name,
                                            "media_type", "application/json", "content",
                                            json_loads(r->attachment, 0, NULL)));
    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (s) {
        out = parley__strdup(s);
        free(s);
    }
    return out;
}
