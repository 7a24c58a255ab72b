/* Verifying who the customer is before any account data or action: the
 * phone number on the account, then the account holder's full name and
 * date of birth, or a one-time code sent by SMS to the number on file. */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <jansson.h>
#include <xxhash.h>

#include "dialog/internal.h"

static const char *const code_words[] = {"code",  "codigo",  "código", "sms",
                                         "texto", "text me", "kod",    NULL};

static int wants_code(const struct dlg_turn *t)
{
    char *n = NULL;
    size_t len;
    int yes = 0;
    if (parley_text_normalize(t->text, t->len, PARLEY_TEXT_CASEFOLD, &n, &len, NULL) != PARLEY_OK)
        return 0;
    for (int i = 0; code_words[i] && !yes; i++)
        yes = strstr(n, code_words[i]) != NULL;
    parley_free(n);
    return yes;
}

/* A run of exactly `want` digits in the message, copied to `out`. */
static int digit_run(const struct dlg_turn *t, size_t want, char *out)
{
    for (size_t i = 0; i < t->len;) {
        size_t j = i;
        while (j < t->len && t->text[j] >= '0' && t->text[j] <= '9')
            j++;
        if (j - i == want) {
            memcpy(out, t->text + i, want);
            out[want] = '\0';
            return 1;
        }
        i = j > i ? j : i + 1;
    }
    return 0;
}

int dlg_identity_answers(const struct dlg_turn *t)
{
    char code[8];
    switch (t->st->id.stage) {
    case ID_PHONE:
        return dlg_entity(t, PARLEY_ENTITY_PHONE) != NULL;
    case ID_PROOF:
        if (dlg_entity(t, PARLEY_ENTITY_DATE) || wants_code(t))
            return 1;
        {
            /* A name alone: anything that is not clearly another request (a
             * one-step flow such as a greeting does not count: names often
             * look like one). */
            const parley_bot_flow *f = parley_bot_flow_for(t->d->bot, t->pred.intent);
            return !f || f->n_steps <= 1 || t->pred.confidence < parley_bot_confidence(t->d->bot);
        }
    case ID_CODE:
        return digit_run(t, 6, code) || wants_code(t) || dlg_entity(t, PARLEY_ENTITY_DATE);
    default:
        return 0;
    }
}

void dlg_identity_reprompt(struct dlg_turn *t)
{
    switch (t->st->id.stage) {
    case ID_PROOF:
        (void)dlg_say(t, "identity_ask_proof");
        break;
    case ID_CODE:
        (void)dlg_say(t, "identity_code_sent");
        break;
    default:
        (void)dlg_say(t, "identity_ask_phone");
    }
}

/* A pseudonym of the phone number for the store's throttles: the last ten
 * digits hashed, so the store never holds the number itself. */
static void phone_key(const char *kind, const char *phone, char out[40])
{
    char d[16];
    size_t n = 0, len = strlen(phone);
    for (size_t i = len; i > 0 && n < 10; i--)
        if (phone[i - 1] >= '0' && phone[i - 1] <= '9')
            d[n++] = phone[i - 1];
    (void)snprintf(out, 40, "%s:%016llx", kind,
                   (unsigned long long)XXH64(d, n, 0x7061726c65796964ULL));
}

/* Whether verification of `phone` is locked after repeated failures (in
 * any conversation; a store failure counts as locked). When it is, says
 * so and drops the check in progress. */
static int locked(struct dlg_turn *t, const char *phone)
{
    char key[40];
    size_t n = 0;
    phone_key("idfail", phone, key);
    if (parley_store_throttle_count(t->d->store, key, t->now, DLG_ID_WINDOW_MS, &n, NULL) ==
            PARLEY_OK &&
        n < DLG_LOCKOUT_FAILS)
        return 0;
    (void)dlg_say(t, "identity_locked");
    t->st->id.stage = ID_NONE;
    t->st->id.code_hash = 0;
    return 1;
}

static uint64_t code_hash(const struct dlg_turn *t, const char *code)
{
    char buf[160];
    (void)snprintf(buf, sizeof(buf), "%s:%s", t->conv_id, code);
    return XXH64(buf, strlen(buf), t->d->secret);
}

/* Looks the customer up by the phone number they gave. */
static parley_connect_result *lookup(struct dlg_turn *t, const char *phone)
{
    const parley_bot_identity *ops = parley_bot_identity_ops(t->d->bot);
    parley_connect_param p = {"phone", phone};
    return dlg_call(t, ops->connector, "identity.lookup", ops->by_phone, &p, 1, 0);
}

static const char *fact_text(const parley_connect_result *r, const char *name)
{
    const parley_connect_fact *f = parley_connect_result_find(r, name);
    return f && f->present ? f->text : "";
}

/* Every word of the account holder's name appears in the message. */
static int name_matches(const struct dlg_turn *t, const char *full_name)
{
    unsigned fl = PARLEY_TEXT_CASEFOLD | PARLEY_TEXT_STRIP_ACCENTS;
    char *msg = NULL, *name = NULL, *save = NULL;
    size_t ml, nl;
    int ok = 0, words = 0;
    if (parley_text_normalize(t->text, t->len, fl, &msg, &ml, NULL) == PARLEY_OK &&
        parley_text_normalize(full_name, strlen(full_name), fl, &name, &nl, NULL) == PARLEY_OK) {
        ok = 1;
        for (char *w = strtok_r(name, " -", &save); w && ok; w = strtok_r(NULL, " -", &save)) {
            size_t wl = strlen(w);
            const char *p = msg;
            int found = 0;
            words++;
            while (!found && (p = strstr(p, w)) != NULL) {
                int before =
                        p == msg || !((unsigned char)p[-1] >= 'a' && (unsigned char)p[-1] <= 'z'),
                    after = !((unsigned char)p[wl] >= 'a' && (unsigned char)p[wl] <= 'z');
                found = before && after;
                p += wl;
            }
            ok = found;
        }
    }
    parley_free(msg);
    parley_free(name);
    return ok && words > 0;
}

int dlg_phone_equal(const char *a, const char *b)
{
    char da[32], db[32];
    size_t na = 0, nb = 0;
    for (; *a && na < sizeof(da) - 1; a++)
        if (*a >= '0' && *a <= '9')
            da[na++] = *a;
    for (; *b && nb < sizeof(db) - 1; b++)
        if (*b >= '0' && *b <= '9')
            db[nb++] = *b;
    if (na < 7 || nb < 7)
        return 0;
    /* Compare the last ten digits: "+1 555..." and "555..." are the same. */
    return memcmp(da + na - (na < 10 ? na : 10), db + nb - (nb < 10 ? nb : 10),
                  na < 10 || nb < 10 ? (na < nb ? na : nb) : 10) == 0;
}

static void switch_account(struct dlg_turn *t);

/* The customer is who they claim: keep the account facts, find the line
 * of the number they gave; `quiet`: without saying so (possession). */
static int verified(struct dlg_turn *t, parley_connect_result *r, int quiet)
{
    const parley_bot_identity *ops = parley_bot_identity_ops(t->d->bot);
    struct dlg_state *st = t->st;
    const parley_connect_fact *lines = parley_connect_result_find(r, "line_ids");
    char first[DLG_MAX_NAME] = "";
    for (size_t i = 0; i < parley_connect_result_fact_count(r); i++) {
        const parley_connect_fact *f = parley_connect_result_fact(r, i);
        if (f->present)
            (void)dlg_fact_set(st, f->name, f->text, f->json, (int)f->sensitivity,
                               f->is_list || f->type == PARLEY_CONNECT_ARRAY);
    }
    st->id.line_id[0] = '\0';
    if (lines && lines->present) {
        json_t *ids = json_loads(lines->json, 0, NULL);
        for (size_t n = 0; n < json_array_size(ids) && n < 8 && !st->id.line_id[0]; n++) {
            const char *lid = json_string_value(json_array_get(ids, n));
            parley_connect_param prm = {"line_id", lid};
            parley_connect_result *lr;
            if (!lid || strlen(lid) >= DLG_MAX_NAME)
                continue;
            if (!first[0])
                (void)snprintf(first, sizeof(first), "%s", lid);
            lr = dlg_call(t, ops->connector, "identity.line", ops->line, &prm, 1, 0);
            if (lr && parley_connect_result_code(lr) == PARLEY_CONNECT_OK &&
                dlg_phone_equal(fact_text(lr, "phone_number"), st->id.phone))
                (void)snprintf(st->id.line_id, sizeof(st->id.line_id), "%s", lid);
            parley_connect_result_free(lr);
        }
        json_decref(ids);
    }
    if (!st->id.line_id[0])
        (void)snprintf(st->id.line_id, sizeof(st->id.line_id), "%s", first);
    (void)snprintf(st->id.customer_id, sizeof(st->id.customer_id), "%s",
                   fact_text(r, "customer_id"));
    st->id.verified = 1;
    st->id.stage = ID_NONE;
    st->id.attempts = 0;
    st->id.code_hash = 0;
    (void)dlg_fact_set(st, "customer_id", st->id.customer_id, "\"\"", PARLEY_CONNECT_ACCOUNT, 0);
    (void)dlg_fact_set(st, "line_id", st->id.line_id, "\"\"", PARLEY_CONNECT_ACCOUNT, 0);
    (void)dlg_fact_set(st, "full_name", fact_text(r, "full_name"), "\"\"", PARLEY_CONNECT_SENSITIVE,
                       0);
    if (!quiet)
        (void)dlg_say(t, "identity_verified");
    return 1;
}

int dlg_identity_possession(struct dlg_turn *t, const char *phone)
{
    const parley_bot_identity *ops = parley_bot_identity_ops(t->d->bot);
    struct dlg_identity *id = &t->st->id;
    parley_connect_result *r;
    int found;
    t->possession = 1;
    if (id->verified && dlg_phone_equal(id->phone, phone))
        return 1;
    if (!ops)
        return -1;
    if (!(r = lookup(t, phone)))
        return -1;
    found = parley_connect_result_code(r) == PARLEY_CONNECT_OK &&
            fact_text(r, "customer_id")[0] != '\0';
    if (found) {
        /* Another account's facts must not leak into this one's. */
        if (id->verified)
            switch_account(t);
        memset(id, 0, sizeof(*id));
        (void)snprintf(id->phone, sizeof(id->phone), "%s", phone);
        id->identified = 1;
        (void)verified(t, r, 1);
    }
    parley_connect_result_free(r);
    return found ? 1 : 0;
}

static int failed(struct dlg_turn *t)
{
    char key[40];
    if (t->st->id.phone[0]) {
        phone_key("idfail", t->st->id.phone, key);
        (void)parley_store_throttle_hit(t->d->store, key, t->now, DLG_ID_WINDOW_MS, NULL, NULL);
    }
    (void)dlg_say(t, "identity_failed");
    t->st->id.stage = ID_NONE;
    t->st->id.attempts = 0;
    t->st->id.code_hash = 0;
    return -1;
}

static int retry(struct dlg_turn *t, const char *key)
{
    if (++t->st->id.attempts >= DLG_MAX_ID_TRIES)
        return failed(t);
    (void)dlg_say(t, key);
    return 0;
}

static int send_code(struct dlg_turn *t, parley_connect_result *r)
{
    const parley_bot_identity *ops = parley_bot_identity_ops(t->d->bot);
    struct parley_buf sms = PARLEY_BUF_INIT(4096);
    uint32_t rnd = 0;
    char code[8];
    const char *names[] = {"code"}, *values[] = {code};
    parley_connect_param ps[2];
    parley_connect_result *sr;
    int ok;
    char key[40];
    size_t sent = 0;
    /* Codes cost the customer an SMS each and give a guesser new chances:
     * a few per conversation, and a few per phone across conversations. */
    phone_key("otp", t->st->id.phone, key);
    if (t->st->id.codes_sent >= DLG_CODES_PER_CONV ||
        parley_store_throttle_count(t->d->store, key, t->now, DLG_ID_WINDOW_MS, &sent, NULL) !=
            PARLEY_OK ||
        sent >= DLG_CODES_PER_PHONE) {
        (void)dlg_say(t, "identity_code_limit");
        dlg_record_action(t, "identity.send_code", "rate_limited", NULL);
        return 0;
    }
    if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return -1;
    (void)snprintf(code, sizeof(code), "%06u", (unsigned)(rnd % 1000000u));
    if (!dlg_render(t, "identity_code_sms", names, values, 1, &sms))
        return -1;
    ps[0].name = "phone";
    ps[0].value = fact_text(r, "phone_number");
    ps[1].name = "text";
    ps[1].value = sms.data ? sms.data : code;
    sr = dlg_call(t, ops->connector, "identity.send_code", ops->send_code, ps, 2, 0);
    ok = sr && parley_connect_result_code(sr) == PARLEY_CONNECT_OK;
    parley_connect_result_free(sr);
    parley__buf_release(&sms);
    if (!ok)
        return -1;
    t->st->id.codes_sent++;
    (void)parley_store_throttle_hit(t->d->store, key, t->now, DLG_ID_WINDOW_MS, NULL, NULL);
    t->st->id.code_hash = code_hash(t, code);
    t->st->id.code_expires = t->now + DLG_CODE_TTL_MS;
    t->st->id.stage = ID_CODE;
    t->st->id.attempts = 0;
    (void)dlg_say(t, "identity_code_sent");
    return 0;
}

static int proof(struct dlg_turn *t)
{
    struct dlg_identity *id = &t->st->id;
    const parley_entity *date = dlg_entity(t, PARLEY_ENTITY_DATE);
    parley_connect_result *r = lookup(t, id->phone);
    int rc, name_now;
    t->redact_all = 1;
    if (!r || parley_connect_result_code(r) != PARLEY_CONNECT_OK) {
        parley_connect_result_free(r);
        return -1;
    }
    if (parley_bot_identity_ops(t->d->bot)->send_code && wants_code(t)) {
        rc = send_code(t, r);
        parley_connect_result_free(r);
        return rc;
    }
    name_now = name_matches(t, fact_text(r, "full_name"));
    id->name_ok |= name_now;
    if (date)
        id->dob_ok = strcmp(date->value, fact_text(r, "date_of_birth")) == 0;
    if (id->name_ok && id->dob_ok) {
        rc = verified(t, r, 0);
    } else if ((date && !id->dob_ok) || (!name_now && !date)) {
        /* A wrong date, or a name that is not the holder's. */
        id->name_ok = id->dob_ok = 0;
        rc = retry(t, "identity_retry");
    } else {
        (void)dlg_say(t, "identity_ask_proof");
        rc = 0;
    }
    parley_connect_result_free(r);
    return rc;
}

static int check_code(struct dlg_turn *t)
{
    struct dlg_identity *id = &t->st->id;
    char code[8];
    uint64_t diff;
    parley_connect_result *r;
    int rc;
    t->redact_all = 1;
    if (!digit_run(t, 6, code)) {
        if (dlg_entity(t, PARLEY_ENTITY_DATE)) {
            id->stage = ID_PROOF; /* name and date of birth instead of the code */
            id->code_hash = 0;
            return proof(t);
        }
        if (!wants_code(t))
            return retry(t, "identity_retry");
        /* "Send me another one": a new code replaces the old (within the
         * limits send_code keeps). */
        r = lookup(t, id->phone);
        rc = r && parley_connect_result_code(r) == PARLEY_CONNECT_OK ? send_code(t, r) : -1;
        parley_connect_result_free(r);
        return rc;
    }
    diff = code_hash(t, code) ^ id->code_hash; /* one comparison, whatever the digits */
    if (diff != 0 || t->now > id->code_expires)
        return retry(t, "identity_retry");
    r = lookup(t, id->phone);
    if (!r || parley_connect_result_code(r) != PARLEY_CONNECT_OK) {
        parley_connect_result_free(r);
        return -1;
    }
    rc = verified(t, r, 0);
    if (rc == 1)
        t->st->id.strong = 1; /* the code went to the phone on file */
    parley_connect_result_free(r);
    return rc;
}

static int phone(struct dlg_turn *t)
{
    struct dlg_identity *id = &t->st->id;
    const parley_entity *ph = dlg_entity(t, PARLEY_ENTITY_PHONE);
    parley_connect_result *r;
    parley_connect_code code;
    if (!ph) {
        (void)dlg_say(t, "identity_ask_phone");
        return 0;
    }
    r = lookup(t, ph->value);
    code = r ? parley_connect_result_code(r) : PARLEY_CONNECT_BAD_REQUEST;
    parley_connect_result_free(r);
    if (code == PARLEY_CONNECT_REJECTED)
        return retry(t, "identity_phone_unknown");
    if (code != PARLEY_CONNECT_OK)
        return -1;
    if (locked(t, ph->value))
        return -1;
    (void)snprintf(id->phone, sizeof(id->phone), "%.31s", ph->value);
    id->stage = ID_PROOF;
    id->identified = 1;
    id->attempts = 0;
    id->name_ok = id->dob_ok = 0;
    if (dlg_entity(t, PARLEY_ENTITY_DATE))
        return proof(t);
    (void)dlg_say(t, "identity_ask_proof");
    return 0;
}

/* The message names a phone number other than the one the customer was
 * verified with: another account, which needs its own verification. */
static int other_number(const struct dlg_turn *t)
{
    const parley_entity *ph = dlg_entity(t, PARLEY_ENTITY_PHONE);
    return ph && t->st->id.phone[0] && !dlg_phone_equal(ph->value, t->st->id.phone);
}

/* Forgets every fact that is not public. */
static void forget_account_facts(struct dlg_state *st)
{
    size_t k = 0;
    for (size_t i = 0; i < st->nfacts; i++) {
        if (st->facts[i].sensitivity > PARLEY_CONNECT_PUBLIC) {
            parley__free(st->facts[i].text);
            parley__free(st->facts[i].json);
            continue;
        }
        st->facts[k++] = st->facts[i];
    }
    st->nfacts = k;
}

/* Forgets the verified account: its identity and every fact that is not
 * public, so nothing of it can be told about the next one. */
static void switch_account(struct dlg_turn *t)
{
    memset(&t->st->id, 0, sizeof(t->st->id));
    forget_account_facts(t->st);
    t->switched = 1;
}

/* Moves `*step` of flow `name` back to the flow's first verify_identity
 * step when it is past it; 1 if it moved. */
static int rewind_to_verify(const struct dlg_turn *t, const char *name, long *step)
{
    for (size_t i = 0; name[0] && i < parley_bot_flow_count(t->d->bot); i++) {
        const parley_bot_flow *f = parley_bot_flow_at(t->d->bot, i);
        if (strcmp(f->name, name) != 0)
            continue;
        for (size_t k = 0; k < f->n_steps; k++)
            if (f->steps[k].type == PARLEY_STEP_VERIFY) {
                if (*step <= (long)k)
                    return 0; /* not past it yet */
                *step = (long)k;
                return 1;
            }
        return 0;
    }
    return 0;
}

int dlg_identity_expire(struct dlg_turn *t)
{
    struct dlg_state *st = t->st;
    struct dlg_identity *id = &st->id;
    int rewound = 0;
    /* A message from the account's own phone proves it again (SMS). */
    if (t->possession || !id->verified || !st->last_ms ||
        t->now - st->last_ms <= t->d->verify_idle_ms)
        return 0;
    /* The phone number stays (the customer is still identified), so the
     * check asks straight for the proof. */
    id->verified = id->strong = 0;
    id->stage = ID_PROOF;
    id->attempts = 0;
    id->name_ok = id->dob_ok = 0;
    id->code_hash = 0;
    forget_account_facts(st);
    t->lapsed = 1;
    (void)rewind_to_verify(t, st->susp_flow, &st->susp_step);
    if (rewind_to_verify(t, st->flow, &st->step)) {
        memset(st->visits, 0, sizeof(st->visits));
        st->wait = WAIT_STEP;
        st->reprompts = 0;
        rewound = 1;
    }
    return rewound ? 2 : 1;
}

int dlg_identity_step(struct dlg_turn *t, int fresh)
{
    struct dlg_identity *id = &t->st->id;
    if (id->verified && fresh && other_number(t))
        switch_account(t);
    if (id->verified)
        return 1;
    if (!parley_bot_identity_ops(t->d->bot))
        return -1;
    if (fresh && id->stage != ID_NONE) {
        dlg_identity_reprompt(t);
        return 0;
    }
    if (id->stage == ID_NONE)
        id->stage = ID_PHONE;
    if (id->stage != ID_PHONE && locked(t, id->phone)) {
        t->redact_all = 1; /* the message may be proof all the same */
        return -1;
    }
    switch (id->stage) {
    case ID_PROOF:
        return proof(t);
    case ID_CODE:
        return check_code(t);
    default:
        return phone(t);
    }
}
