/* The retention sweeper of `parley serve`: a thread that applies the
 * configured retention to the store and to the audit log at start and then
 * every sweep_minutes, with its own handles, until the server stops. */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "server/internal.h"

struct sweeper {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int stop;
    parley_store *store;
    parley_audit *audit; /* NULL: no audit log, or audit records kept forever */
    int64_t audit_days;
    parley_store_retention policy;
    unsigned minutes;
};

static void prune_audit(struct sweeper *w, int64_t now)
{
    parley_audit_prune_result res;
    parley_error e = PARLEY_ERROR_INIT;
    if (parley_audit_prune(w->audit, now - w->audit_days * 86400000, now, &res, &e) != PARLEY_OK)
        PARLEY_LOG(PARLEY_LOG_ERROR, "audit retention failed: %s", e.msg);
    else if (res.pruned)
        PARLEY_LOG(PARLEY_LOG_INFO,
                   "audit retention: %lld records pruned, the chain now starts at seq %lld",
                   (long long)res.pruned, (long long)res.first_seq);
}

static void *sweeper_main(void *arg)
{
    struct sweeper *w = arg;
    (void)pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        parley_store_sweep_result res = {0};
        parley_error e = PARLEY_ERROR_INIT;
        struct timespec until;
        (void)pthread_mutex_unlock(&w->mu);
        if (parley_store_sweep(w->store, &w->policy, 0, &res, &e) != PARLEY_OK)
            PARLEY_LOG(PARLEY_LOG_ERROR, "retention sweep failed: %s", e.msg);
        else if (res.conversations || res.data_keys || res.throttle_events)
            PARLEY_LOG(PARLEY_LOG_INFO,
                       "retention sweep: %zu conversations (%zu turns), %zu data keys, %zu "
                       "throttle events removed",
                       res.conversations, res.turns, res.data_keys, res.throttle_events);
        (void)clock_gettime(CLOCK_REALTIME, &until);
        if (w->audit)
            prune_audit(w, (int64_t)until.tv_sec * 1000);
        until.tv_sec += (time_t)w->minutes * 60;
        (void)pthread_mutex_lock(&w->mu);
        while (!w->stop && pthread_cond_timedwait(&w->cond, &w->mu, &until) != ETIMEDOUT) {
        }
    }
    (void)pthread_mutex_unlock(&w->mu);
    return NULL;
}

parley_err sweeper_start(const parley_server_config *c, struct sweeper **out, parley_error *err)
{
    struct sweeper *w = parley__calloc(1, sizeof(*w));
    parley_err rc;
    if (!w)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot start the sweeper: out of memory");
    w->policy.transcript_days = (int)c->retention_days;
    w->minutes = c->sweep_minutes ? c->sweep_minutes : 60;
    w->audit_days = c->audit_retention_days;
    if ((rc = parley_server_store_open(c, &w->store, err)) != PARLEY_OK) {
        parley__free(w);
        return rc;
    }
    /* Its own handle, opened like the server's, so a prune's retention
     * record (and a checkpoint it may bring due) is signed the same way. */
    parley_audit_options ao = {0};
    ao.signing_key_path = c->audit_key[0] ? c->audit_key : NULL;
    if (c->audit_url[0] && w->audit_days > 0 &&
        (rc = parley_audit_open(c->audit_url, &ao, &w->audit, err)) != PARLEY_OK) {
        parley_store_close(w->store);
        parley__free(w);
        return rc;
    }
    (void)pthread_mutex_init(&w->mu, NULL);
    (void)pthread_cond_init(&w->cond, NULL);
    if (pthread_create(&w->thread, NULL, sweeper_main, w) != 0) {
        (void)pthread_cond_destroy(&w->cond);
        (void)pthread_mutex_destroy(&w->mu);
        parley_store_close(w->store);
        parley_audit_close(w->audit);
        parley__free(w);
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot start the sweeper thread");
    }
    *out = w;
    return PARLEY_OK;
}

void sweeper_stop(struct sweeper *w)
{
    if (!w)
        return;
    (void)pthread_mutex_lock(&w->mu);
    w->stop = 1;
    (void)pthread_cond_signal(&w->cond);
    (void)pthread_mutex_unlock(&w->mu);
    (void)pthread_join(w->thread, NULL);
    (void)pthread_cond_destroy(&w->cond);
    (void)pthread_mutex_destroy(&w->mu);
    parley_store_close(w->store);
    parley_audit_close(w->audit);
    parley__free(w);
}
