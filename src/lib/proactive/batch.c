/* Decisions made together and made durable together: a batch keeps the
 * effects, audit records and event settlings of many decisions in memory
 * and commits them with one audit transaction and one store transaction,
 * so the rules run at the speed of memory rather than of one commit per
 * decision. Reads (already decided? how many messages today?) see the
 * pending decisions as if they were stored. */
#include <string.h>

#include <xxhash.h>

#include "proactive/internal.h"

/* Pending decisions committed on their own once this many accumulate, so
 * a fan-out to a million customers holds neither the memory nor the risk
 * of redoing them all. */
#define FLUSH_AT   2048
#define ARENA_SIZE 65536

struct chunk {
    struct chunk *next;
    size_t used;
    char data[ARENA_SIZE];
};

/* Open addressing from a string's hash to the first pending effect with
 * that string (its key, or its customer). */
struct index {
    uint64_t *hash;
    uint32_t *slot; /* effect index + 1; 0 = free */
    size_t cap, n;
};

struct parley_proactive_batch {
    parley_proactive_engine *en;
    parley_store_effect *effects;
    uint32_t *next_of_customer; /* the customer's earlier pending effect + 1 */
    parley_audit_record *audits;
    parley_store_settle *settles;
    size_t n_effects, cap_effects, n_audits, cap_audits, n_settles, cap_settles;
    struct index by_key, by_customer;
    struct chunk *arena;
};

static const char *keep(parley_proactive_batch *b, const char *s)
{
    size_t n = strlen(s) + 1;
    struct chunk *c = b->arena;
    if (n > ARENA_SIZE / 4) {
        /* A large string gets a chunk of its own, kept behind the current. */
        struct chunk *big = parley__calloc(1, sizeof(*big) - ARENA_SIZE + n);
        if (!big)
            return NULL;
        memcpy(big->data, s, n);
        big->used = n;
        if (c) {
            big->next = c->next;
            c->next = big;
        } else {
            b->arena = big;
        }
        return big->data;
    }
    if (!c || c->used + n > ARENA_SIZE) {
        if (!(c = parley__calloc(1, sizeof(*c))))
            return NULL;
        c->next = b->arena;
        b->arena = c;
    }
    memcpy(c->data + c->used, s, n);
    c->used += n;
    return c->data + c->used - n;
}

static uint64_t hash_of(const char *s)
{
    return XXH3_64bits(s, strlen(s));
}

static const char *field(const parley_store_effect *e, int customer)
{
    return customer ? e->customer : e->key;
}

/* The first pending effect whose key (or customer) is `s`, + 1; 0: none. */
static uint32_t index_find(const parley_proactive_batch *b, const struct index *ix, const char *s,
                           int customer)
{
    uint64_t h = hash_of(s);
    if (!ix->cap)
        return 0;
    for (size_t i = h & (ix->cap - 1); ix->slot[i]; i = (i + 1) & (ix->cap - 1))
        if (ix->hash[i] == h && strcmp(field(&b->effects[ix->slot[i] - 1], customer), s) == 0)
            return ix->slot[i];
    return 0;
}

static int index_grow(struct index *ix)
{
    size_t cap = ix->cap ? ix->cap * 2 : 1024;
    uint64_t *hash = parley__calloc(cap, sizeof(*hash));
    uint32_t *slot = parley__calloc(cap, sizeof(*slot));
    if (!hash || !slot) {
        parley__free(hash);
        parley__free(slot);
        return 0;
    }
    for (size_t i = 0; i < ix->cap; i++) {
        if (!ix->slot[i])
            continue;
        size_t j = ix->hash[i] & (cap - 1);
        while (slot[j])
            j = (j + 1) & (cap - 1);
        hash[j] = ix->hash[i];
        slot[j] = ix->slot[i];
    }
    parley__free(ix->hash);
    parley__free(ix->slot);
    ix->hash = hash;
    ix->slot = slot;
    ix->cap = cap;
    return 1;
}

/* Points `s` at effect `value` (index + 1), replacing what it pointed at. */
static int index_set(parley_proactive_batch *b, struct index *ix, const char *s, int customer,
                     uint32_t value)
{
    uint64_t h = hash_of(s);
    size_t i;
    if ((ix->n + 1) * 2 > ix->cap && !index_grow(ix))
        return 0;
    for (i = h & (ix->cap - 1); ix->slot[i]; i = (i + 1) & (ix->cap - 1))
        if (ix->hash[i] == h && strcmp(field(&b->effects[ix->slot[i] - 1], customer), s) == 0)
            break;
    if (!ix->slot[i])
        ix->n++;
    ix->hash[i] = h;
    ix->slot[i] = value;
    return 1;
}

static void index_clear(struct index *ix)
{
    if (ix->cap) {
        memset(ix->slot, 0, ix->cap * sizeof(*ix->slot));
        ix->n = 0;
    }
}

static void drop_pending(parley_proactive_batch *b)
{
    struct chunk *c = b->arena;
    while (c) {
        struct chunk *next = c->next;
        parley__free(c);
        c = next;
    }
    b->arena = NULL;
    b->n_effects = b->n_audits = b->n_settles = 0;
    index_clear(&b->by_key);
    index_clear(&b->by_customer);
}

parley_err parley_proactive_batch_new(parley_proactive_engine *en, parley_proactive_batch **out,
                                      parley_error *err)
{
    parley_proactive_batch *b;
    if (!en || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot start a batch: bad argument");
    if (!(b = parley__calloc(1, sizeof(*b))))
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    b->en = en;
    *out = b;
    return PARLEY_OK;
}

void parley_proactive_batch_free(parley_proactive_batch *b)
{
    if (!b)
        return;
    drop_pending(b);
    parley__free(b->effects);
    parley__free(b->next_of_customer);
    parley__free(b->audits);
    parley__free(b->settles);
    parley__free(b->by_key.hash);
    parley__free(b->by_key.slot);
    parley__free(b->by_customer.hash);
    parley__free(b->by_customer.slot);
    parley__free(b);
}

parley_proactive_engine *pro_batch_engine(const parley_proactive_batch *b)
{
    return b->en;
}

parley_err pro_effect_find(parley_proactive_batch *b, const char *key, char outcome[16],
                           parley_error *err)
{
    uint32_t at = index_find(b, &b->by_key, key, 0);
    if (at) {
        (void)snprintf(outcome, 16, "%s", b->effects[at - 1].outcome);
        return PARLEY_OK;
    }
    return parley_store_effect_find(b->en->o.store, key, outcome, err);
}

/* Whether pending effect `e` is one parley_store_effects_count() counts
 * for `q` (the same rule as its SQL). */
static int counts(const parley_store_effect *e, const parley_store_effect_query *q)
{
    if ((q->rule && strcmp(e->rule, q->rule) != 0) || e->at <= q->since ||
        (q->not_event && strcmp(e->event_id, q->not_event) == 0))
        return 0;
    if (!q->dedupe)
        return e->channel[0] != '\0';
    return strcmp(e->dedupe, q->dedupe) == 0 &&
           (strcmp(e->outcome, "done") == 0 || strcmp(e->outcome, "offered") == 0);
}

parley_err pro_effects_count(parley_proactive_batch *b, const parley_store_effect_query *q,
                             int64_t *count, parley_error *err)
{
    parley_err rc = parley_store_effects_count(b->en->o.store, q, count, err);
    if (rc != PARLEY_OK)
        return rc;
    if (q->customer) {
        for (uint32_t at = index_find(b, &b->by_customer, q->customer, 1); at;
             at = b->next_of_customer[at - 1])
            *count += counts(&b->effects[at - 1], q);
    } else {
        for (size_t i = 0; i < b->n_effects; i++)
            *count += counts(&b->effects[i], q);
    }
    return PARLEY_OK;
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    size_t ncap;
    void *q;
    if (need <= *cap)
        return 1;
    ncap = *cap ? *cap * 2 : 256;
    while (ncap < need)
        ncap *= 2;
    if (!(q = parley__realloc(*p, ncap * size)))
        return 0;
    *p = q;
    *cap = ncap;
    return 1;
}

parley_err pro_record(parley_proactive_batch *b, const parley_store_effect *e, const char *body,
                      parley_error *err)
{
    parley_store_effect c = *e;
    size_t cap = b->cap_effects;
    uint32_t prior;
    const char **s[] = {&c.key,    &c.event_id, &c.rule,    &c.customer, &c.outcome,
                        &c.detail, &c.action,   &c.message, &c.channel,  &c.dedupe};
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
        if (!(*s[i] = keep(b, *s[i] ? *s[i] : "")))
            return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    /* Both arrays grow to the same capacity (`cap` is a copy for that). */
    if (!grow((void **)&b->effects, &cap, b->n_effects + 1, sizeof(*b->effects)) ||
        !grow((void **)&b->next_of_customer, &b->cap_effects, b->n_effects + 1,
              sizeof(*b->next_of_customer)) ||
        !grow((void **)&b->audits, &b->cap_audits, b->n_audits + 1, sizeof(*b->audits)))
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    prior = index_find(b, &b->by_customer, c.customer, 1);
    b->effects[b->n_effects] = c;
    b->next_of_customer[b->n_effects] = prior;
    b->n_effects++;
    if (!index_set(b, &b->by_key, c.key, 0, (uint32_t)b->n_effects) ||
        !index_set(b, &b->by_customer, c.customer, 1, (uint32_t)b->n_effects))
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    if (body && b->en->o.audit) {
        parley_audit_record *r = &b->audits[b->n_audits];
        memset(r, 0, sizeof(*r));
        r->kind = "proactive";
        /* A customer id the log cannot hold is left out of the record
         * (its body names the effect, whose row names the customer). */
        r->customer = c.customer;
        if (!parley_audit_id_ok(c.customer)) {
            r->customer = "";
            PARLEY_LOG(PARLEY_LOG_WARN,
                       "proactive: effect %s: the customer id is not one the audit log takes; "
                       "audited without it",
                       c.key);
        }
        r->time = c.at;
        if (!(r->body = keep(b, body)))
            return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
        b->n_audits++;
    }
    if (b->n_effects >= FLUSH_AT)
        return parley_proactive_batch_commit(b, err);
    return PARLEY_OK;
}

parley_err parley_proactive_batch_settle(parley_proactive_batch *b, const char *id,
                                         const char *status, const char *outcome, parley_error *err)
{
    parley_store_settle *s;
    if (!b || !id || !status)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot settle an event: bad argument");
    if (!grow((void **)&b->settles, &b->cap_settles, b->n_settles + 1, sizeof(*b->settles)))
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    s = &b->settles[b->n_settles];
    if (!(s->id = keep(b, id)) || !(s->status = keep(b, status)) ||
        (outcome && !(s->outcome = keep(b, outcome))))
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    if (!outcome)
        s->outcome = NULL;
    b->n_settles++;
    return PARLEY_OK;
}

parley_err parley_proactive_batch_commit(parley_proactive_batch *b, parley_error *err)
{
    parley_err rc = PARLEY_OK;
    if (!b)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot commit a batch: bad argument");
    /* The audit first: a crash between the two commits leaves decisions
     * audited and redone (the same effect keys, nothing done twice), never
     * decisions stored without their audit record. */
    if (b->n_audits && (rc = parley_audit_append_many(b->en->o.audit, b->audits, b->n_audits, NULL,
                                                      err)) != PARLEY_OK)
        goto out;
    rc = parley_store_effects_commit(b->en->o.store, b->effects, b->n_effects, b->settles,
                                     b->n_settles, err);
out:
    /* Committed or not, the batch starts again empty: what failed to
     * commit stays undecided in the ledger and is decided again. */
    drop_pending(b);
    return rc;
}
