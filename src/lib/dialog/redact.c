/* What the engine stores of a text: personal values found by the pii
 * detectors (with the bot's declared identifiers and the values this turn
 * fetched about the customer) and by the message's own entities (phone
 * numbers, dates) replaced as the transcript policy says. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dialog/internal.h"

static int uses(const parley_pii_policy *pol, parley_pii_operator op)
{
    for (unsigned i = 0; i < PARLEY_PII_N_TYPES; i++)
        if (pol->op[i] == op)
            return 1;
    return 0;
}

/* The operators would fall back to redact without their key or vault: a
 * configuration that asks for them and lacks them is refused instead. */
static parley_err policy_keys(parley_dialog *d, const parley_dialog_options *o, parley_error *err)
{
    parley_error e = PARLEY_ERROR_INIT;
    parley_err rc;
    uint8_t vkey[PARLEY_PII_KEY_SIZE];
    if (uses(&d->transcript, PARLEY_PII_OP_HASH)) {
        if (!o->pii_hash_key)
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "cannot open bot: the transcript policy hashes values but no "
                                    "hash key is configured (pii_hash_key)");
        if ((rc = parley_pii_key_load(o->pii_hash_key, d->hash_key, &e)) != PARLEY_OK)
            return parley_error_set(err, rc, "cannot open bot: pii_hash_key: %s", e.msg);
        d->transcript.hash_key = d->hash_key;
    }
    if (uses(&d->transcript, PARLEY_PII_OP_TOKENIZE)) {
        if (!o->pii_vault || !o->pii_vault_key)
            return parley_error_set(
                err, PARLEY_ERR_INVALID,
                "cannot open bot: the transcript policy tokenizes values but no "
                "vault is configured (pii_vault_key)");
        if ((rc = parley_pii_key_load(o->pii_vault_key, vkey, &e)) != PARLEY_OK)
            return parley_error_set(err, rc, "cannot open bot: pii_vault_key: %s", e.msg);
        rc = parley_pii_vault_open(o->pii_vault, vkey, &d->vault, &e);
        sodium_memzero(vkey, sizeof(vkey));
        if (rc != PARLEY_OK)
            return parley_error_set(err, rc, "cannot open bot: %s", e.msg);
        d->transcript.vault = d->vault;
    }
    return PARLEY_OK;
}

parley_err dlg_pii_open(parley_dialog *d, const parley_dialog_options *o, parley_error *err)
{
    parley_pii_options po = {0};
    parley_error e = PARLEY_ERROR_INIT;
    parley_err rc;
    po.identifiers = parley_bot_pii_identifiers(d->bot, &po.n_identifiers);
    parley_pii_policy_redact_all(&d->transcript);
    if (o->pii_transcript &&
        (rc = parley_pii_policy_parse(o->pii_transcript, &d->transcript, &e)) != PARLEY_OK)
        return parley_error_set(err, rc, "cannot open bot: transcript policy: %s", e.msg);
    if ((rc = parley_pii_create(&po, &d->pii, &e)) != PARLEY_OK)
        return parley_error_set(err, rc, "cannot open bot: personal-data detectors: %s", e.msg);
    return policy_keys(d, o, err);
}

void dlg_pii_close(parley_dialog *d)
{
    for (size_t i = 0; i < d->npii_free; i++)
        parley_pii_scratch_destroy(d->pii_free[i]);
    parley_pii_destroy(d->pii);
    parley_pii_vault_close(d->vault);
    sodium_memzero(d->hash_key, sizeof(d->hash_key));
    (void)pthread_mutex_destroy(&d->pii_mu);
}

static parley_pii_scratch *scratch_get(parley_dialog *d, parley_error *err)
{
    parley_pii_scratch *s = NULL;
    (void)pthread_mutex_lock(&d->pii_mu);
    if (d->npii_free)
        s = d->pii_free[--d->npii_free];
    (void)pthread_mutex_unlock(&d->pii_mu);
    if (!s && parley_pii_scratch_create(d->pii, &s, err) != PARLEY_OK)
        return NULL;
    return s;
}

static void scratch_put(parley_dialog *d, parley_pii_scratch *s)
{
    (void)pthread_mutex_lock(&d->pii_mu);
    if (d->npii_free < DLG_PII_POOL) {
        d->pii_free[d->npii_free++] = s;
        s = NULL;
    }
    (void)pthread_mutex_unlock(&d->pii_mu);
    parley_pii_scratch_destroy(s);
}

/* The class a sensitive fact's value belongs to, from its name: the
 * connector tags what is sensitive, not what kind of value it is. */
static parley_pii_type fact_type(const char *name)
{
    if (strstr(name, "birth") || strstr(name, "dob"))
        return PARLEY_PII_DOB;
    if (strstr(name, "email"))
        return PARLEY_PII_EMAIL;
    if (strstr(name, "phone"))
        return PARLEY_PII_PHONE;
    if (strstr(name, "address"))
        return PARLEY_PII_ADDRESS;
    if (strstr(name, "name"))
        return PARLEY_PII_NAME;
    return PARLEY_PII_ID;
}

/* Sensitive facts this turn knows, and each word of a name on its own (a
 * customer says "John" as often as "John Smith"). Values point into the
 * state's facts or into `words`, which the caller provides. */
static size_t known_values(const struct dlg_state *st, parley_pii_known *out, size_t max,
                           char *words, size_t words_size)
{
    size_t n = 0, used = 0;
    for (size_t i = 0; st && i < st->nfacts && n < max; i++) {
        const struct dlg_fact *f = &st->facts[i];
        parley_pii_type type;
        if (f->sensitivity < PARLEY_CONNECT_SENSITIVE || !f->text || strlen(f->text) < 3 ||
            f->is_list)
            continue;
        type = fact_type(f->name);
        out[n++] = (parley_pii_known){type, f->text};
        if (type != PARLEY_PII_NAME)
            continue;
        for (const char *w = f->text; *w && n < max;) {
            size_t len = strcspn(w, " -");
            if (len >= 2 && len < strlen(f->text) && used + len + 1 <= words_size) {
                memcpy(words + used, w, len);
                words[used + len] = '\0';
                out[n++] = (parley_pii_known){PARLEY_PII_NAME, words + used};
                used += len + 1;
            }
            w += len;
            w += *w != '\0';
        }
    }
    return n;
}

static int by_start(const void *a, const void *b)
{
    const parley_pii_finding *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Whether a date entity's value ("YYYY-MM-DD") could be a date of birth:
 * a due date or "tomorrow" is not personal. */
static int birth_year(const char *value)
{
    int year = atoi(value);
    return year >= 1900 && year <= 2015;
}

/* The message's own phone numbers and birth dates that no detector found:
 * slot filling read them, so they are personal whatever the detectors say. */
static size_t add_entities(parley_pii_finding *all, size_t n, size_t max, const parley_entity *ents,
                           size_t nents, size_t len)
{
    size_t base = n;
    for (size_t i = 0; i < nents && n < max; i++) {
        const parley_entity *e = &ents[i];
        parley_pii_type type;
        int overlaps = 0;
        if (e->kind == PARLEY_ENTITY_PHONE)
            type = PARLEY_PII_PHONE;
        else if (e->kind == PARLEY_ENTITY_DATE && birth_year(e->value))
            type = PARLEY_PII_DOB;
        else
            continue;
        if (e->start >= e->end || e->end > len)
            continue;
        for (size_t k = 0; k < n && !overlaps; k++)
            overlaps = e->start < all[k].end && all[k].start < e->end;
        if (!overlaps)
            all[n++] = (parley_pii_finding){type, e->start, e->end, 1.0F, "entity"};
    }
    if (n > base)
        qsort(all, n, sizeof(*all), by_start);
    return n;
}

char *dlg_redact(parley_dialog *d, const struct dlg_state *st, const char *text, size_t len,
                 const parley_entity *ents, size_t nents)
{
    parley_pii_known known[32];
    char words[512];
    const parley_pii_finding *found = NULL;
    parley_pii_finding *all = NULL;
    parley_error e = PARLEY_ERROR_INIT;
    size_t nknown = known_values(st, known, 32, words, sizeof(words)), n = 0;
    char *out = NULL;
    parley_pii_scratch *scratch = scratch_get(d, &e);
    if (!scratch)
        return NULL;
    if (parley_pii_detect(d->pii, scratch, text, len, known, nknown, &found, &n, &e) != PARLEY_OK) {
        scratch_put(d, scratch);
        /* Text the detectors refuse (it passed the engine's own checks) is
         * not stored as it is. */
        PARLEY_LOG(PARLEY_LOG_WARN, "dialog: text stored as [unreadable]: %s", e.msg);
        return parley__strdup("[unreadable]");
    }
    all = parley__mallocarray(n + nents + 1, sizeof(*all));
    if (all && n)
        memcpy(all, found, n * sizeof(*all));
    scratch_put(d, scratch); /* `found` is the scratch's: copied first */
    if (!all)
        return NULL;
    n = add_entities(all, n, n + nents, ents, nents, len);
    if (parley_pii_apply(&d->transcript, text, len, all, n, &out, NULL, &e) != PARLEY_OK) {
        PARLEY_LOG(PARLEY_LOG_ERROR, "dialog: cannot redact a text: %s", e.msg);
        out = e.code == PARLEY_ERR_NOMEM ? NULL : parley__strdup("[unreadable]");
    } else {
        char *copy = parley__strdup(out);
        parley_pii_free(out);
        out = copy;
    }
    parley__free(all);
    return out;
}
