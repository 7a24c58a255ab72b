/* The public half of the store's proactive-care records: event settling,
 * the holders of a consent scope and the effects ledger (what rules did,
 * once per event, rule and customer). Arguments are checked here so every
 * backend can trust them. */
#include <string.h>

#include "store/internal.h"

#define MAX_KEY 128

#define bad_text parley__store_bad_text
#define finish   parley__store_finish_as

parley_err parley_store_events_settle(parley_store *store, const char *id, const char *status,
                                      const char *outcome, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc;
    if (!store || bad_text(id, PARLEY_STORE_MAX_EVENT_ID) || bad_text(status, 16))
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot settle an event: bad argument");
    if (outcome && strnlen(outcome, PARLEY_STORE_MAX_STATE + 1) > PARLEY_STORE_MAX_STATE) {
        rc = parley_error_set(&local, PARLEY_ERR_LIMIT, "the outcome is over %d bytes",
                              PARLEY_STORE_MAX_STATE);
    } else {
        parley__store_lock(store);
        rc = store->ops->events_settle(store, id, status, outcome, &local);
        parley__store_unlock(store);
    }
    return finish(store, rc, &local, "cannot settle an event", err);
}

struct fetched {
    parley_store_event *rows;
    size_t n, cap;
    int nomem;
};

static char *dup_or_null(const char *s, int *nomem)
{
    char *p = s ? parley__strdup(s) : NULL;
    if (s && !p)
        *nomem = 1;
    return p;
}

static int fetch_one(const parley_store_event *ev, void *userdata)
{
    struct fetched *f = userdata;
    parley_store_event *r;
    if (f->n == f->cap) {
        size_t ncap = f->cap ? f->cap * 2 : 64;
        parley_store_event *p = parley__realloc(f->rows, ncap * sizeof(*p));
        if (!p) {
            f->nomem = 1;
            return 1;
        }
        f->rows = p;
        f->cap = ncap;
    }
    r = &f->rows[f->n++];
    *r = *ev;
    r->id = dup_or_null(ev->id, &f->nomem);
    r->type = dup_or_null(ev->type, &f->nomem);
    r->doc = dup_or_null(ev->doc, &f->nomem);
    r->status = dup_or_null(ev->status, &f->nomem);
    r->outcome = dup_or_null(ev->outcome, &f->nomem);
    return f->nomem;
}

parley_err parley_store_events_fetch(parley_store *store, const parley_store_event_query *q,
                                     parley_store_event **rows, size_t *n, parley_error *err)
{
    struct fetched f = {0};
    parley_err rc;
    if (!rows || !n)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot list events: bad argument");
    rc = parley_store_events_list(store, q, fetch_one, &f, err);
    if (rc == PARLEY_OK && f.nomem)
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot list events: out of memory");
    if (rc != PARLEY_OK) {
        parley_store_events_free(f.rows, f.n);
        return rc;
    }
    *rows = f.rows;
    *n = f.n;
    return PARLEY_OK;
}

void parley_store_events_free(parley_store_event *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++) {
        parley__free((char *)rows[i].id);
        parley__free((char *)rows[i].type);
        parley__free((char *)rows[i].doc);
        parley__free((char *)rows[i].status);
        parley__free((char *)rows[i].outcome);
    }
    parley__free(rows);
}

parley_err parley_store_consent_holders(parley_store *store, const char *scope, int64_t now_ms,
                                        parley_store_id_fn fn, void *userdata, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc;
    if (!store || !fn || bad_text(scope, 64))
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot list grant holders: bad argument");
    parley__store_lock(store);
    rc = store->ops->consent_holders(store, scope, now_ms ? now_ms : parley__store_now_ms(), fn,
                                     userdata, &local);
    parley__store_unlock(store);
    return finish(store, rc, &local, "cannot list grant holders", err);
}

static int bad_effect(const parley_store_effect *e)
{
    return bad_text(e->key, MAX_KEY) || bad_text(e->event_id, PARLEY_STORE_MAX_EVENT_ID) ||
           bad_text(e->rule, 64) || bad_text(e->customer, PARLEY_STORE_MAX_ID) ||
           bad_text(e->outcome, 15);
}

parley_err parley_store_effect_record(parley_store *store, const parley_store_effect *e, int *fresh,
                                      parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_store_effect copy;
    parley_err rc;
    if (!store || !e || bad_effect(e))
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot record an effect: key, event id, rule, customer and "
                                "outcome are needed, within their lengths");
    copy = *e;
    if (!copy.at)
        copy.at = parley__store_now_ms();
    parley__store_lock(store);
    rc = store->ops->effect_record(store, &copy, fresh, &local);
    parley__store_unlock(store);
    return finish(store, rc, &local, "cannot record an effect", err);
}

parley_err parley_store_effects_commit(parley_store *store, const parley_store_effect *effects,
                                       size_t n, const parley_store_settle *settles, size_t m,
                                       parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc;
    if (!store || (n && !effects) || (m && !settles))
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot commit effects: bad argument");
    for (size_t i = 0; i < n; i++)
        if (bad_effect(&effects[i]) || effects[i].at <= 0)
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "cannot commit effects: effect %zu needs a key, event id, "
                                    "rule, customer, outcome (within their lengths) and a time",
                                    i + 1);
    for (size_t i = 0; i < m; i++)
        if (bad_text(settles[i].id, PARLEY_STORE_MAX_EVENT_ID) || bad_text(settles[i].status, 16) ||
            (settles[i].outcome &&
             strnlen(settles[i].outcome, PARLEY_STORE_MAX_STATE + 1) > PARLEY_STORE_MAX_STATE))
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "cannot commit effects: event %zu to settle needs an id, a "
                                    "status and an outcome within %d bytes",
                                    i + 1, PARLEY_STORE_MAX_STATE);
    if (n + m == 0)
        return PARLEY_OK;
    parley__store_lock(store);
    rc = store->ops->effects_commit(store, effects, n, settles, m, &local);
    parley__store_unlock(store);
    return finish(store, rc, &local, "cannot commit effects", err);
}

parley_err parley_store_effect_find(parley_store *store, const char *key, char outcome[16],
                                    parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc;
    if (!store || !outcome || bad_text(key, MAX_KEY))
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot find an effect: bad argument");
    parley__store_lock(store);
    rc = store->ops->effect_find(store, key, outcome, &local);
    parley__store_unlock(store);
    /* Not found is an answer, not a failure to report with a prefix. */
    if (rc == PARLEY_ERR_NOTFOUND)
        return parley_error_set(err, rc, "no effect recorded");
    return finish(store, rc, &local, "cannot find an effect", err);
}

parley_err parley_store_effects_count(parley_store *store, const parley_store_effect_query *q,
                                      int64_t *count, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_err rc;
    if (!store || !q || !count)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot count effects: bad argument");
    parley__store_lock(store);
    rc = store->ops->effects_count(store, q, count, &local);
    parley__store_unlock(store);
    return finish(store, rc, &local, "cannot count effects", err);
}

parley_err parley_store_effect_latest(parley_store *store, const char *customer,
                                      const char *channel, int64_t since,
                                      parley_store_effect_ref *out, parley_error *err)
{
    parley_error local = PARLEY_ERROR_INIT;
    parley_store_effect_ref ref;
    parley_err rc;
    if (!store || !out || bad_text(customer, PARLEY_STORE_MAX_ID) || bad_text(channel, 32))
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot find the latest message: bad argument");
    memset(&ref, 0, sizeof(ref));
    parley__store_lock(store);
    rc = store->ops->effect_latest(store, customer, channel, since, &ref, &local);
    parley__store_unlock(store);
    if (rc == PARLEY_OK)
        *out = ref;
    if (rc == PARLEY_ERR_NOTFOUND)
        return parley_error_set(err, rc, "%s", local.msg);
    return finish(store, rc, &local, "cannot find the latest message", err);
}
