/* Proactive messages into open conversations (docs/proactive.md
 * "Channels"): an index of the conversations verified for each customer
 * that someone has a stream open on, and the rules engine's deliver hook
 * that puts a message into the newest of them and publishes it there
 * (else the engine sends an SMS). The index is a hint: every delivery
 * checks the stream and the conversation's identity again, and drops what
 * no longer holds. */
#include <string.h>

#include "server/internal.h"

#define CIX_MAX 65536 /* entries kept; the oldest go first */

struct cix_entry {
    char customer[64];
    char id[PARLEY_STORE_MAX_ID + 1];
    unsigned long long stamp; /* larger: noted later */
};

struct convindex {
    pthread_mutex_t mu;
    struct cix_entry *v;
    size_t n, cap;
    unsigned long long clock;
};

struct convindex *cix_new(void)
{
    struct convindex *x = parley__calloc(1, sizeof(*x));
    if (x)
        (void)pthread_mutex_init(&x->mu, NULL);
    return x;
}

void cix_free(struct convindex *x)
{
    if (!x)
        return;
    (void)pthread_mutex_destroy(&x->mu);
    parley__free(x->v);
    parley__free(x);
}

/* Removes entry `i`; under the lock. */
static void remove_at(struct convindex *x, size_t i)
{
    x->v[i] = x->v[--x->n];
}

void cix_drop(struct convindex *x, const char *id)
{
    if (!x)
        return;
    (void)pthread_mutex_lock(&x->mu);
    for (size_t i = 0; i < x->n;)
        if (strcmp(x->v[i].id, id) == 0)
            remove_at(x, i);
        else
            i++;
    (void)pthread_mutex_unlock(&x->mu);
}

/* Indexes `id` under `customer` as the newest. */
static void put(struct convindex *x, const char *customer, const char *id)
{
    size_t i;
    (void)pthread_mutex_lock(&x->mu);
    for (i = 0; i < x->n && strcmp(x->v[i].id, id) != 0; i++)
        ;
    if (i == x->n && x->n == x->cap && x->cap < CIX_MAX) {
        size_t ncap = x->cap ? x->cap * 2 : 64;
        struct cix_entry *p = parley__realloc(x->v, ncap * sizeof(*p));
        if (p) {
            x->v = p;
            x->cap = ncap;
        }
    }
    if (i == x->n && x->n < x->cap) {
        x->n++;
    } else if (i == x->n) {
        /* Full: the stalest entry makes room. */
        i = 0;
        for (size_t k = 1; k < x->n; k++)
            if (x->v[k].stamp < x->v[i].stamp)
                i = k;
    }
    if (i < x->n) {
        (void)snprintf(x->v[i].customer, sizeof(x->v[i].customer), "%s", customer);
        (void)snprintf(x->v[i].id, sizeof(x->v[i].id), "%s", id);
        x->v[i].stamp = ++x->clock;
    }
    (void)pthread_mutex_unlock(&x->mu);
}

void cix_note(struct parley_server *s, struct engine *en, const char *id)
{
    char customer[64], level[16];
    parley_error e = PARLEY_ERROR_INIT;
    if (!s->cix)
        return;
    if (parley_dialog_identity(en->d, id, customer, level, &e) == PARLEY_OK && customer[0])
        put(s->cix, customer, id);
    else
        cix_drop(s->cix, id);
}

#define CIX_PICK 8 /* conversations of one customer tried per message */

/* Up to CIX_PICK conversation ids of `customer`, newest first. */
static size_t candidates(struct convindex *x, const char *customer,
                         char ids[CIX_PICK][PARLEY_STORE_MAX_ID + 1])
{
    struct cix_entry pick[CIX_PICK];
    size_t n = 0;
    (void)pthread_mutex_lock(&x->mu);
    for (size_t i = 0; i < x->n; i++) {
        size_t low = 0;
        if (strcmp(x->v[i].customer, customer) != 0)
            continue;
        if (n < CIX_PICK) {
            pick[n++] = x->v[i];
            continue;
        }
        for (size_t k = 1; k < n; k++)
            if (pick[k].stamp < pick[low].stamp)
                low = k;
        if (pick[low].stamp < x->v[i].stamp)
            pick[low] = x->v[i];
    }
    (void)pthread_mutex_unlock(&x->mu);
    for (size_t i = 0; i < n; i++) /* newest first */
        for (size_t k = i + 1; k < n; k++)
            if (pick[k].stamp > pick[i].stamp) {
                struct cix_entry tmp = pick[i];
                pick[i] = pick[k];
                pick[k] = tmp;
            }
    for (size_t i = 0; i < n; i++)
        memcpy(ids[i], pick[i].id, sizeof(ids[0]));
    return n;
}

/* The message as the stream shows a bot turn, tagged proactive so that the
 * widget can tell it from an answer. */
static json_t *turn_json(int64_t seq, const parley_proactive_delivery *m)
{
    return json_pack("{s:I, s:s, s:[{s:s, s:s, s:{s:s, s:s}}], s:s}", "seq", (json_int_t)seq,
                     "role", "bot", "messages", "type", "text", "text", m->text, "proactive",
                     "rule", m->rule ? m->rule : "", "message", m->message ? m->message : "",
                     "state", "active");
}

int srv_deliver(void *userdata, const parley_proactive_delivery *m)
{
    struct parley_server *s = userdata;
    char ids[CIX_PICK][PARLEY_STORE_MAX_ID + 1];
    size_t n;
    if (!s || !s->cix || !m || !m->customer)
        return 0;
    n = candidates(s->cix, m->customer, ids);
    for (size_t i = 0; i < n; i++) {
        parley_error e = PARLEY_ERROR_INIT;
        int64_t seq = 0;
        struct engine *en;
        pthread_mutex_t *mu;
        parley_err rc;
        if (!hub_has(s->hub, ids[i])) {
            cix_drop(s->cix, ids[i]); /* nobody is watching any more */
            continue;
        }
        en = engine_get(s);
        mu = conv_lock(s, ids[i]);
        (void)pthread_mutex_lock(mu);
        rc = parley_dialog_outreach(en->d, ids[i], m, 0, &seq, &e);
        (void)pthread_mutex_unlock(mu);
        engine_put(en);
        if (rc == PARLEY_OK) {
            srv_publish_json(s, ids[i], seq, turn_json(seq, m));
            return 1;
        }
        if (rc == PARLEY_ERR_CONFLICT || rc == PARLEY_ERR_NOTFOUND)
            cix_drop(s->cix, ids[i]); /* closed, handed off, or no longer verified for them */
        else
            PARLEY_LOG(PARLEY_LOG_WARN, "proactive: conversation %s: %s (sending by SMS)", ids[i],
                       e.msg);
    }
    return 0;
}
