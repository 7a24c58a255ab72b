/* The retention sweeper of `parley serve`: a thread that applies the
 * configured retention to the store at start and then every sweep_minutes,
 * with its own store handle, until the server stops. */
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
    parley_store_retention policy;
    unsigned minutes;
};

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
    if ((rc = parley_server_store_open(c, &w->store, err)) != PARLEY_OK) {
        parley__free(w);
        return rc;
    }
    (void)pthread_mutex_init(&w->mu, NULL);
    (void)pthread_cond_init(&w->cond, NULL);
    if (pthread_create(&w->thread, NULL, sweeper_main, w) != 0) {
        (void)pthread_cond_destroy(&w->cond);
        (void)pthread_mutex_destroy(&w->mu);
        parley_store_close(w->store);
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
    parley__free(w);
}
