/* Running a flow: each step type (ask, verify_identity, call, branch,
 * pick, confirm, say, handoff, end), slot values taken from entities, and
 * corrections of slots already given. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <xxhash.h>

#include "dialog/internal.h"

const parley_bot_flow *dlg_current_flow(const struct dlg_turn *t)
{
    if (!t->st->flow[0])
        return NULL;
    for (size_t i = 0; i < parley_bot_flow_count(t->d->bot); i++) {
        const parley_bot_flow *f = parley_bot_flow_at(t->d->bot, i);
        if (strcmp(f->name, t->st->flow) == 0)
            return f;
    }
    return NULL;
}

void dlg_record_action(struct dlg_turn *t, const char *name, const char *status,
                       const char *backend_code)
{
    parley_dialog_action *a;
    if (t->nactions == DLG_MAX_ACTIONS)
        return;
    a = &t->actions[t->nactions];
    a->name = t->action_strings[t->nstrings++] = parley__strdup(name);
    a->status = t->action_strings[t->nstrings++] = parley__strdup(status);
    a->backend_code =
        backend_code ? (t->action_strings[t->nstrings++] = parley__strdup(backend_code)) : NULL;
    a->duration_ms = t->call_ms;
    t->call_ms = -1;
    if (!a->name || !a->status || (backend_code && !a->backend_code)) {
        t->failed = 1;
        return;
    }
    t->nactions++;
}

void dlg_handoff(struct dlg_turn *t, const char *key, const char *reason)
{
    if (!key || !dlg_say(t, key))
        (void)dlg_say(t, "handoff");
    if (!t->handoff)
        (void)snprintf(t->handoff_reason, sizeof(t->handoff_reason), "%s", reason);
    t->handoff = 1;
    t->st->handoff = 1;
    t->st->flow[0] = '\0';
    t->st->step = -1;
    t->st->wait = WAIT_NONE;
    t->st->susp_flow[0] = '\0';
}

static void end_flow(struct dlg_turn *t)
{
    t->st->flow[0] = '\0';
    t->st->step = -1;
    t->st->wait = WAIT_NONE;
    t->st->reprompts = 0;
}

parley_connect_result *dlg_call(struct dlg_turn *t, size_t conn, const char *label, const char *op,
                                const parley_connect_param *params, size_t n, int keep_facts)
{
    parley_connect_result *r = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    char key[40], seed[512];
    if (conn >= t->d->nconns)
        return NULL;
    /* The same step of the same turn of a conversation gets the same key,
     * so a retried turn cannot apply a write twice. */
    (void)snprintf(seed, sizeof(seed), "%s/%lld/%s/%ld/%s", t->conv_id, (long long)t->st->turns,
                   t->st->flow, t->st->step, op);
    (void)snprintf(key, sizeof(key), "pl-%016llx",
                   (unsigned long long)XXH64(seed, strlen(seed), 0));
    double t0 = parley__now();
    if (parley_connect_call_keyed(t->d->conns[conn], op, params, n, key, &r, &e) != PARLEY_OK) {
        PARLEY_LOG(PARLEY_LOG_ERROR, "dialog: call '%s' failed: %s", op, e.msg);
        dlg_record_action(t, label, "bad_request", NULL);
        return NULL;
    }
    t->call_ms = (parley__now() - t0) * 1000.0;
    {
        parley_connect_code code = parley_connect_result_code(r);
        const char *bc = parley_connect_result_backend_code(r);
        dlg_record_action(t, label, parley_connect_code_name(code), bc);
        (void)dlg_fact_set(t->st, "error_code",
                           code == PARLEY_CONNECT_OK ? ""
                           : bc                      ? bc
                                                     : parley_connect_code_name(code),
                           "\"\"", PARLEY_CONNECT_PUBLIC, 0);
        if (code == PARLEY_CONNECT_OK && keep_facts)
            for (size_t i = 0; i < parley_connect_result_fact_count(r); i++) {
                const parley_connect_fact *f = parley_connect_result_fact(r, i);
                if (f->present &&
                    !dlg_fact_set(t->st, f->name, f->text, f->json, (int)f->sensitivity,
                                  f->is_list || f->type == PARLEY_CONNECT_ARRAY))
                    t->failed = 1;
            }
    }
    return r;
}

/* The text a parameter or value source stands for ("slot.X", "fact.X" or
 * a literal); NULL when the slot or fact is unknown. */
static const char *resolve(const struct dlg_turn *t, const char *src)
{
    const struct dlg_fact *f;
    if (strncmp(src, "slot.", 5) == 0)
        return dlg_slot_get(t->st, src + 5);
    if (strncmp(src, "fact.", 5) == 0) {
        f = dlg_fact_get(t->st, src + 5);
        return f ? f->text : NULL;
    }
    return src;
}

/* The trust decision for an action that changes the account (reads only
 * fetch facts, which the render gate guards): verified identity now, and
 * a clear yes to the restatement in this very turn. One yes, one action.
 * A refusal is recorded with its rule and the action is not called. */
static int decide(struct dlg_turn *t, const parley_bot_action *a)
{
    const parley_connect_def *def = parley_bot_connector(t->d->bot, a->connector);
    parley_trust_request rq;
    parley_trust_decision dec;
    int confirmed = t->confirmed;
    if (!def || !parley_connect_def_op_is_write(def, a->operation))
        return 1;
    t->confirmed = 0;
    memset(&rq, 0, sizeof(rq));
    rq.action = a->name;
    rq.level = dlg_level(t->st);
    rq.needed = PARLEY_TRUST_VERIFIED;
    rq.asked = 1;
    rq.confirmed = confirmed;
    rq.needs_confirmation = 1;
    rq.now_ms = t->now;
    if (parley_trust_decide(t->d->store, &rq, &dec, NULL) != PARLEY_OK) {
        dec.verdict = PARLEY_TRUST_DENY;
        (void)snprintf(dec.rule, sizeof(dec.rule), "%s: the decision could not be made", a->name);
    }
    if (dec.verdict == PARLEY_TRUST_ALLOW) {
        (void)snprintf(t->action_rule[t->nactions < DLG_MAX_ACTIONS ? t->nactions : 0],
                       sizeof(t->action_rule[0]), "%s", dec.rule);
        return 1;
    }
    if (t->nactions < DLG_MAX_ACTIONS)
        (void)snprintf(t->action_rule[t->nactions], sizeof(t->action_rule[0]), "%s", dec.rule);
    dlg_record_action(t, a->name, "refused", NULL);
    return 0;
}

/* Returns 1 when the action succeeded. */
static int run_call(struct dlg_turn *t, const parley_bot_step *s)
{
    const parley_bot_action *a = parley_bot_find_action(t->d->bot, s->action);
    parley_connect_param ps[32];
    parley_connect_result *r;
    int ok;
    if (!a || a->n_params > 32)
        return 0;
    if (!decide(t, a))
        return -1;
    for (size_t i = 0; i < a->n_params; i++) {
        ps[i].name = a->params[i].name;
        ps[i].value = resolve(t, a->params[i].value);
        if (!ps[i].value)
            ps[i].value = "";
    }
    r = dlg_call(t, a->connector, a->name, a->operation, ps, a->n_params, 1);
    ok = r && parley_connect_result_code(r) == PARLEY_CONNECT_OK;
    parley_connect_result_free(r);
    return ok;
}

/* Case- and accent-insensitive equality of two short texts. */
static int same_text(const char *a, const char *b)
{
    char *na = NULL, *nb = NULL;
    size_t la, lb;
    int eq = 0;
    unsigned fl = PARLEY_TEXT_CASEFOLD | PARLEY_TEXT_STRIP_ACCENTS;
    if (parley_text_normalize(a, strlen(a), fl, &na, &la, NULL) == PARLEY_OK &&
        parley_text_normalize(b, strlen(b), fl, &nb, &lb, NULL) == PARLEY_OK)
        eq = la == lb && memcmp(na, nb, la) == 0;
    parley_free(na);
    parley_free(nb);
    return eq;
}

/* Does JSON value `v` equal `want` (a list: contain it)? */
static int json_matches(json_t *v, const char *want)
{
    char num[64];
    size_t i;
    json_t *e;
    if (json_is_array(v)) {
        json_array_foreach(v, i, e)
        {
            if (json_matches(e, want))
                return 1;
        }
        return 0;
    }
    if (json_is_string(v))
        return same_text(json_string_value(v), want);
    if (json_is_number(v)) {
        char *end;
        double w = strtod(want, &end);
        (void)num;
        return *want && *end == '\0' && w == json_number_value(v);
    }
    if (json_is_boolean(v))
        return same_text(json_is_true(v) ? "true" : "false", want);
    return 0;
}

static int is_number(const char *s, double *v)
{
    char *end;
    if (!*s)
        return 0;
    *v = strtod(s, &end);
    return *end == '\0';
}

static int case_holds(const struct dlg_turn *t, const parley_bot_case *c)
{
    const char *want = resolve(t, c->value), *have;
    const struct dlg_fact *f = NULL;
    double a, b;
    if (!want)
        return 0;
    if (c->subject_is_slot) {
        have = dlg_slot_get(t->st, c->subject);
    } else {
        f = dlg_fact_get(t->st, c->subject);
        have = f ? f->text : NULL;
    }
    if (!have)
        return c->cmp == PARLEY_CMP_NOT_EQUALS;
    switch (c->cmp) {
    case PARLEY_CMP_EQUALS:
    case PARLEY_CMP_NOT_EQUALS:
    case PARLEY_CMP_CONTAINS: {
        int m;
        if (f && (f->is_list || f->json[0] == '[')) {
            json_t *j = json_loads(f->json, 0, NULL);
            m = json_matches(j, want);
            json_decref(j);
        } else {
            m = same_text(have, want);
        }
        return c->cmp == PARLEY_CMP_NOT_EQUALS ? !m : m;
    }
    case PARLEY_CMP_BELOW:
    case PARLEY_CMP_ABOVE: {
        int d = is_number(have, &a) && is_number(want, &b) ? (a > b) - (a < b) : strcmp(have, want);
        return c->cmp == PARLEY_CMP_BELOW ? d < 0 : d > 0;
    }
    }
    return 0;
}

/* A pick step: returns 1 when something matched. */
static int run_pick(struct dlg_turn *t, const parley_bot_step *s)
{
    const struct dlg_fact *from = dlg_fact_get(t->st, s->from),
                          *where = s->where ? dlg_fact_get(t->st, s->where) : NULL;
    const char *want = s->equals ? resolve(t, s->equals) : NULL;
    json_t *jf, *jw = NULL, *hit = NULL;
    int ok = 0;
    if (!from || (s->where && (!where || !want)))
        return 0;
    jf = json_loads(from->json, 0, NULL);
    if (where)
        jw = json_loads(where->json, 0, NULL);
    for (size_t i = 0; i < json_array_size(jf) && !hit; i++)
        if (!jw || json_matches(json_array_get(jw, i), want))
            hit = json_array_get(jf, i);
    if (hit) {
        char *js = json_dumps(hit, JSON_ENCODE_ANY | JSON_COMPACT), num[64];
        const char *text = json_is_string(hit) ? json_string_value(hit) : NULL;
        if (!text && json_is_number(hit)) {
            (void)snprintf(num, sizeof(num), "%.17g", json_number_value(hit));
            text = num;
        }
        ok = js && dlg_fact_set(t->st, s->as, text ? text : js, js, from->sensitivity,
                                json_is_array(hit));
        free(js);
    }
    json_decref(jf);
    json_decref(jw);
    return ok;
}

static int slot_value(const struct dlg_turn *t, const parley_bot_slot *slot, int at_step, char *out,
                      size_t size);

void dlg_flow_run(struct dlg_turn *t)
{
    const parley_bot_flow *f = dlg_current_flow(t);
    for (int guard = 0; f && guard < 64 && !t->failed; guard++) {
        long i = t->st->step;
        const parley_bot_step *s;
        if (i < 0 || (size_t)i >= f->n_steps) {
            end_flow(t);
            return;
        }
        s = &f->steps[i];
        if ((size_t)i < sizeof(t->st->visits) && ++t->st->visits[i] > DLG_MAX_VISITS) {
            dlg_handoff(t, NULL, "loop");
            return;
        }
        switch (s->type) {
        case PARLEY_STEP_ASK: {
            const parley_bot_slot *slot = parley_bot_find_slot(t->d->bot, s->slot);
            char v[DLG_MAX_VALUE];
            /* A plan or city named in this message may only be known now
             * that the flow fetched the names ("switch me to Premium"). */
            if (!dlg_slot_get(t->st, s->slot) && slot &&
                (strcmp(slot->entity, "plan") == 0 || strcmp(slot->entity, "city") == 0)) {
                dlg_refresh_entities(t);
                if (slot_value(t, slot, 0, v, sizeof(v)) == 1)
                    (void)dlg_slot_set(t->st, s->slot, v);
            }
            if (dlg_slot_get(t->st, s->slot)) {
                t->st->step = s->next;
                break;
            }
            (void)dlg_say(t, s->prompt);
            t->st->wait = WAIT_STEP;
            return;
        }
        case PARLEY_STEP_VERIFY: {
            int r = dlg_identity_step(t, 1);
            if (r == 0) {
                t->st->wait = WAIT_STEP;
                return;
            }
            if (r < 0) {
                if (s->on_error < 0) {
                    dlg_handoff(t, NULL, "identity_failed");
                    return;
                }
                t->st->step = s->on_error;
            } else {
                t->st->step = s->next;
            }
            break;
        }
        case PARLEY_STEP_CALL: {
            int ok = run_call(t, s);
            if (ok < 0) {
                dlg_handoff(t, NULL, "action_refused");
                return;
            }
            if (ok) {
                t->st->step = s->next;
            } else if (s->on_error >= 0) {
                t->st->step = s->on_error;
            } else {
                dlg_handoff(t, NULL, "backend_failed");
                return;
            }
            break;
        }
        case PARLEY_STEP_BRANCH: {
            long go = s->otherwise;
            for (size_t c = 0; c < s->n_cases; c++)
                if (case_holds(t, &s->cases[c])) {
                    go = s->cases[c].go;
                    break;
                }
            t->st->step = go;
            break;
        }
        case PARLEY_STEP_PICK:
            t->st->step = run_pick(t, s) ? s->next : s->none;
            break;
        case PARLEY_STEP_CONSENT: {
            int r = dlg_consent_step(t, s);
            if (r < 0) {
                dlg_handoff(t, NULL, "backend_failed");
                return;
            }
            t->st->step = r ? s->next : s->none;
            break;
        }
        case PARLEY_STEP_CONFIRM:
            (void)dlg_say(t, s->response);
            t->st->wait = WAIT_STEP;
            return;
        case PARLEY_STEP_SAY:
            (void)dlg_say(t, s->response);
            t->st->step = s->next;
            break;
        case PARLEY_STEP_HANDOFF: {
            char why[sizeof(t->handoff_reason)];
            /* A flow that starts by handing off is the customer asking for
             * a person; elsewhere the flow decided it. */
            if (i == 0)
                (void)snprintf(why, sizeof(why), "customer_request");
            else
                (void)snprintf(why, sizeof(why), "flow:%s.%s", f->name, s->id);
            dlg_handoff(t, s->response, why);
            return;
        }
        case PARLEY_STEP_END:
            if (s->response)
                (void)dlg_say(t, s->response);
            end_flow(t);
            return;
        }
        t->st->wait = WAIT_NONE;
    }
    if (f && !t->failed && t->st->flow[0] && t->st->wait == WAIT_NONE)
        end_flow(t); /* a cycle without a waiting step */
}

void dlg_flow_start(struct dlg_turn *t, const parley_bot_flow *f)
{
    dlg_flow_start_with(t, f, NULL, 0);
}

void dlg_flow_start_with(struct dlg_turn *t, const parley_bot_flow *f, const struct dlg_slot *given,
                         size_t n)
{
    struct dlg_state *st = t->st;
    if (!t->intent_acted)
        t->intent_acted = f->intent;
    if (st->flow[0] && strcmp(st->flow, f->name) != 0 && st->wait == WAIT_STEP) {
        (void)snprintf(st->susp_flow, sizeof(st->susp_flow), "%s", st->flow);
        st->susp_step = st->step;
    }
    /* A new run asks its slots afresh, except what this message gives. */
    for (size_t i = 0; i < f->n_steps; i++)
        if (f->steps[i].type == PARLEY_STEP_ASK)
            for (size_t k = 0; k < st->nslots; k++)
                if (strcmp(st->slots[k].name, f->steps[i].slot) == 0)
                    st->slots[k] = st->slots[--st->nslots];
    (void)snprintf(st->flow, sizeof(st->flow), "%s", f->name);
    st->step = 0;
    st->wait = WAIT_NONE;
    st->reprompts = 0;
    memset(st->visits, 0, sizeof(st->visits));
    for (size_t i = 0; i < n; i++)
        (void)dlg_slot_set(st, given[i].name, given[i].value);
    /* What the message itself says ("yes, 2 GB") wins over what was given. */
    (void)dlg_fill_slots(t, f, n == 0);
    dlg_flow_run(t);
}

/* ---- slot values from the message --------------------------------- */

/* Text after common lead-ins ("in Paris", "à Lyon"), without end
 * punctuation: a free-text slot value. */
static void free_text(const struct dlg_turn *t, char *out, size_t size)
{
    static const char *const leads[] = {"in ",  "at ",  "à ",  "a ",   "en ", "im ",
                                        "für ", "for ", "de ", "bei ", NULL};
    const char *s = t->text, *e = t->text + t->len;
    while (s < e && isspace((unsigned char)*s))
        s++;
    while (e > s && (isspace((unsigned char)e[-1]) || strchr(".!?,;", e[-1])))
        e--;
    for (int i = 0; leads[i]; i++)
        if ((size_t)(e - s) > strlen(leads[i]) && strncasecmp(s, leads[i], strlen(leads[i])) == 0)
            s += strlen(leads[i]);
    (void)snprintf(out, size, "%.*s", (int)(e - s), s);
}

/* Megabytes (1 GB = 1024 MB, as the extractor counts) as the gigabytes the
 * customer meant: "1.5 GB" is 1536 MB and means 1.5; "500 MB" means 0.5
 * (carriers sell decimal gigabytes), not 0.488. */
static double gigabytes(double mb)
{
    double binary = mb / 1024.0, twentieths = binary * 20.0;
    if (twentieths - (double)(long long)(twentieths + 0.5) < 1e-9 &&
        (double)(long long)(twentieths + 0.5) - twentieths < 1e-9)
        return binary;
    return mb / 1000.0;
}

/* The message is confidently a request served by another flow, so it is
 * not a free-text answer. */
static int other_request(const struct dlg_turn *t)
{
    const parley_bot_flow *f =
        t->pred.intent ? parley_bot_flow_for(t->d->bot, t->pred.intent) : NULL;
    return f && !t->pred.out_of_scope && t->pred.confidence >= parley_bot_confidence(t->d->bot) &&
           strcmp(f->name, t->st->flow) != 0;
}

/* The value the message gives for `slot`: 1 valid (in `out`), -1 present
 * but out of bounds, 0 absent. `at_step`: the bot just asked for it, so
 * free text counts. */
static int slot_value(const struct dlg_turn *t, const parley_bot_slot *slot, int at_step, char *out,
                      size_t size)
{
    const char *k = slot->entity;
    const parley_entity *e = NULL;
    double v = 0;
    if (strcmp(k, "text") == 0 || strcmp(k, "city") == 0) {
        if (strcmp(k, "city") == 0 && (e = dlg_entity(t, PARLEY_ENTITY_CITY)) != NULL) {
            (void)snprintf(out, size, "%s", e->value);
            return 1;
        }
        if (!at_step || other_request(t))
            return 0;
        free_text(t, out, size);
        return out[0] ? 1 : 0;
    }
    if (strcmp(k, "phone") == 0)
        e = dlg_entity(t, PARLEY_ENTITY_PHONE);
    else if (strcmp(k, "date") == 0)
        e = dlg_entity(t, PARLEY_ENTITY_DATE);
    else if (strcmp(k, "yes_no") == 0)
        e = dlg_entity(t, PARLEY_ENTITY_YESNO);
    else if (strcmp(k, "plan") == 0)
        e = dlg_entity(t, PARLEY_ENTITY_PLAN);
    if (e) {
        (void)snprintf(out, size, "%s", e->value);
        return 1;
    }
    if (strcmp(k, "data_amount") == 0 && (e = dlg_entity(t, PARLEY_ENTITY_DATA_AMOUNT)) != NULL)
        v = slot->unit_gb ? gigabytes(e->number) : e->number;
    else if (strcmp(k, "money") == 0 && (e = dlg_entity(t, PARLEY_ENTITY_MONEY)) != NULL)
        v = e->number;
    if (!e)
        return 0;
    if ((slot->has_min && v < slot->min - 1e-9) || (slot->has_max && v > slot->max + 1e-9))
        return -1;
    (void)snprintf(out, size, "%.10g", v);
    return 1;
}

int dlg_fill_slots(struct dlg_turn *t, const parley_bot_flow *f, int only_empty)
{
    int filled = 0;
    for (size_t i = 0; i < f->n_steps; i++) {
        const parley_bot_step *s = &f->steps[i];
        const parley_bot_slot *slot;
        char v[DLG_MAX_VALUE];
        if (s->type != PARLEY_STEP_ASK || (only_empty && dlg_slot_get(t->st, s->slot)))
            continue;
        slot = parley_bot_find_slot(t->d->bot, s->slot);
        if (slot && slot_value(t, slot, 0, v, sizeof(v)) == 1) {
            filled += dlg_slot_set(t->st, s->slot, v);
        }
    }
    return filled;
}

/* At a confirm step, a new value for a slot the flow already has is a
 * correction: change it and go back to just after that slot's question. */
static int correction(struct dlg_turn *t, const parley_bot_flow *f)
{
    for (size_t i = 0; i < f->n_steps; i++) {
        const parley_bot_step *s = &f->steps[i];
        const parley_bot_slot *slot;
        const char *old;
        char v[DLG_MAX_VALUE];
        int r;
        if (s->type != PARLEY_STEP_ASK || !(old = dlg_slot_get(t->st, s->slot)))
            continue;
        slot = parley_bot_find_slot(t->d->bot, s->slot);
        if (!slot || strcmp(slot->entity, "text") == 0 || strcmp(slot->entity, "yes_no") == 0)
            continue;
        r = slot_value(t, slot, 0, v, sizeof(v));
        if (r == 0 || (r == 1 && strcmp(v, old) == 0))
            continue;
        if (r < 0) {
            (void)dlg_say(t, s->reprompt ? s->reprompt : s->prompt);
            (void)dlg_slot_set(t->st, s->slot, "");
            t->st->nslots--; /* forget it: ask again */
            t->st->step = (long)i;
            t->st->wait = WAIT_STEP;
            return 1;
        }
        (void)dlg_slot_set(t->st, s->slot, v);
        t->st->step = s->next;
        t->st->wait = WAIT_NONE;
        memset(t->st->visits, 0, sizeof(t->st->visits));
        dlg_flow_run(t);
        return 1;
    }
    return 0;
}

int dlg_flow_answer(struct dlg_turn *t)
{
    const parley_bot_flow *f = dlg_current_flow(t);
    const parley_bot_step *s;
    if (!f || t->st->step < 0 || (size_t)t->st->step >= f->n_steps)
        return 0;
    s = &f->steps[t->st->step];
    switch (s->type) {
    case PARLEY_STEP_ASK: {
        const parley_bot_slot *slot = parley_bot_find_slot(t->d->bot, s->slot);
        char v[DLG_MAX_VALUE];
        int r = slot ? slot_value(t, slot, 1, v, sizeof(v)) : 0;
        if (r == 0)
            return 0;
        if (r < 0) {
            (void)dlg_say(t, s->reprompt ? s->reprompt : s->prompt);
            return 1;
        }
        (void)dlg_slot_set(t->st, s->slot, v);
        (void)dlg_fill_slots(t, f, 1);
        t->st->step = s->next;
        break;
    }
    case PARLEY_STEP_CONFIRM: {
        int yn;
        if (correction(t, f))
            return 1;
        yn = dlg_yes_no(t);
        /* A confirmation acts: a hesitant or unsure yes is not one, so the
         * question is asked again rather than taken. */
        if (yn == 1 && !dlg_clear_yes(t)) {
            (void)dlg_say(t, s->response);
            return 1;
        }
        if (yn < 0)
            return 0;
        t->confirmed = yn == 1;
        t->st->step = yn ? s->yes : s->no;
        break;
    }
    case PARLEY_STEP_VERIFY: {
        int r;
        if (!dlg_identity_answers(t))
            return 0;
        r = dlg_identity_step(t, 0);
        if (r == 0)
            return 1;
        if (r < 0 && s->on_error < 0) {
            dlg_handoff(t, NULL, "identity_failed");
            return 1;
        }
        t->st->step = r < 0 ? s->on_error : s->next;
        break;
    }
    default:
        return 0;
    }
    t->st->wait = WAIT_NONE;
    t->st->reprompts = 0;
    dlg_flow_run(t);
    return 1;
}

void dlg_flow_reprompt(struct dlg_turn *t)
{
    const parley_bot_flow *f = dlg_current_flow(t);
    const parley_bot_step *s;
    if (!f || t->st->step < 0 || (size_t)t->st->step >= f->n_steps)
        return;
    s = &f->steps[t->st->step];
    if (s->type == PARLEY_STEP_ASK)
        (void)dlg_say(t, s->prompt);
    else if (s->type == PARLEY_STEP_CONFIRM)
        (void)dlg_say(t, s->response);
    else if (s->type == PARLEY_STEP_VERIFY)
        dlg_identity_reprompt(t);
}
