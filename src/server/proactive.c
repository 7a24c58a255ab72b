/* The proactive worker (docs/proactive.md): decides the events the ledger
 * holds as received, oldest first, whichever intake recorded them (HTTP,
 * NATS), in batches made durable by one commit each. Decisions are
 * recorded once per event, rule and customer, so an event cut off by a
 * crash is finished on restart without repeating anything; an event whose
 * backend calls failed is tried again later, with growing pauses, and
 * given up after PRO_MAX_ATTEMPTS. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "server/internal.h"

#define PRO_BATCH        512
#define PRO_MAX_ATTEMPTS 8
#define PRO_MAX_PAUSE_S  60

struct proactive {
    struct parley_server *s;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop, kicked, running;
    pthread_mutex_t run_mu; /* one drain at a time, by any thread */
};

/* The event's outcome as the ledger keeps it: [{rule, outcome}...]. */
static void on_outcome(const parley_proactive_outcome *o, void *userdata)
{
    json_t *list = userdata;
    (void)json_array_append_new(list,
                                json_pack("{s:s, s:s}", "rule", o->rule, "outcome", o->outcome));
}

/* Decides one event into batch `b` and queues its settling: "done" with
 * its outcomes, or back to "received" (or "failed" once given up) when a
 * backend was unavailable. */
static parley_err decide(parley_proactive_batch *b, const parley_store_event *row,
                         parley_error *err)
{
    parley_proactive_event ev = {row->id, row->type, row->at, row->doc};
    json_t *outcomes = json_array();
    char *text = NULL;
    const char *status = "done";
    parley_err rc;
    if (!outcomes)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    rc = parley_proactive_batch_run(b, &ev, 0, on_outcome, outcomes, err);
    if (rc == PARLEY_ERR_UNAVAILABLE)
        status = row->attempts + 1 >= PRO_MAX_ATTEMPTS ? "failed" : "received";
    else if (rc != PARLEY_OK)
        status = "failed";
    if (rc != PARLEY_OK)
        PARLEY_LOG(PARLEY_LOG_WARN, "proactive: event %s: %s%s", row->id, err->msg,
                   strcmp(status, "failed") == 0 ? " (given up)" : "");
    text = json_dumps(outcomes, JSON_COMPACT);
    parley_error e = PARLEY_ERROR_INIT;
    if (parley_proactive_batch_settle(b, row->id, status, text, &e) != PARLEY_OK && rc == PARLEY_OK)
        rc = parley_error_set(err, e.code, "%s", e.msg);
    free(text);
    json_decref(outcomes);
    return rc;
}

/* Decides what is waiting, a batch at a time, each batch made durable in
 * one commit; 1 when a backend was unavailable or the store failed
 * (pause). Callers hold run_mu: two drains never list the same event. */
static int drain(struct proactive *p)
{
    parley_store_event_query q = {0, PRO_BATCH, 0, "received"};
    int unavailable = 0;
    for (;;) {
        parley_error e = PARLEY_ERROR_INIT;
        parley_store_event *rows = NULL;
        parley_proactive_batch *b = NULL;
        struct engine *en = engine_get(p->s);
        size_t n = 0;
        if (parley_store_events_fetch(p->s->store, &q, &rows, &n, &e) != PARLEY_OK ||
            parley_proactive_batch_new(en->pro, &b, &e) != PARLEY_OK) {
            PARLEY_LOG(PARLEY_LOG_ERROR, "proactive: %s", e.msg);
            parley_store_events_free(rows, n);
            engine_put(en);
            return 1;
        }
        for (size_t i = 0; i < n && !atomic_load(&p->s->stopping); i++) {
            parley_error de = PARLEY_ERROR_INIT;
            q.after_seq = rows[i].seq;
            if (decide(b, &rows[i], &de) == PARLEY_ERR_UNAVAILABLE)
                unavailable = 1;
        }
        if (parley_proactive_batch_commit(b, &e) != PARLEY_OK) {
            /* Nothing of the batch is settled: its events are decided
             * again, and find the effects that did get recorded. */
            PARLEY_LOG(PARLEY_LOG_ERROR, "proactive: %s", e.msg);
            unavailable = 1;
        }
        parley_proactive_batch_free(b);
        engine_put(en);
        parley_store_events_free(rows, n);
        /* A backend that is down now is down for the next events too. */
        if (n < PRO_BATCH || unavailable || atomic_load(&p->s->stopping))
            return unavailable;
    }
}

static void *worker(void *arg)
{
    struct proactive *p = arg;
    int pause_s = 1;
    for (;;) {
        (void)pthread_mutex_lock(&p->mu);
        if (!p->stop && !p->kicked) {
            struct timespec until;
            (void)clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += pause_s;
            while (!p->stop && !p->kicked &&
                   pthread_cond_timedwait(&p->cv, &p->mu, &until) != ETIMEDOUT)
                ;
        }
        int stop = p->stop;
        p->kicked = 0;
        (void)pthread_mutex_unlock(&p->mu);
        if (stop)
            break;
        (void)pthread_mutex_lock(&p->run_mu);
        int unavailable = drain(p);
        (void)pthread_mutex_unlock(&p->run_mu);
        pause_s = unavailable ? (pause_s * 2 > PRO_MAX_PAUSE_S ? PRO_MAX_PAUSE_S : pause_s * 2) : 1;
    }
    return NULL;
}

parley_err proactive_start(struct parley_server *s, parley_error *err)
{
    struct proactive *p = parley__calloc(1, sizeof(*p));
    if (!p)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    p->s = s;
    (void)pthread_mutex_init(&p->mu, NULL);
    (void)pthread_mutex_init(&p->run_mu, NULL);
    (void)pthread_cond_init(&p->cv, NULL);
    s->pro = p;
    if (pthread_create(&p->th, NULL, worker, p) != 0)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot start the proactive worker");
    p->running = 1;
    proactive_kick(s); /* events left from before a restart */
    return PARLEY_OK;
}

parley_err proactive_decide_pending(struct parley_server *s, parley_error *err)
{
    int unavailable;
    if (!s->pro)
        return PARLEY_OK;
    (void)pthread_mutex_lock(&s->pro->run_mu);
    unavailable = drain(s->pro);
    (void)pthread_mutex_unlock(&s->pro->run_mu);
    return unavailable ? parley_error_set(err, PARLEY_ERR_UNAVAILABLE,
                                          "a backend is unavailable: the rules could not decide")
                       : PARLEY_OK;
}

void proactive_kick(struct parley_server *s)
{
    if (!s->pro)
        return;
    (void)pthread_mutex_lock(&s->pro->mu);
    s->pro->kicked = 1;
    (void)pthread_cond_signal(&s->pro->cv);
    (void)pthread_mutex_unlock(&s->pro->mu);
}

void proactive_stop(struct parley_server *s)
{
    struct proactive *p = s->pro;
    if (!p)
        return;
    (void)pthread_mutex_lock(&p->mu);
    p->stop = 1;
    (void)pthread_cond_signal(&p->cv);
    (void)pthread_mutex_unlock(&p->mu);
    if (p->running)
        (void)pthread_join(p->th, NULL);
    (void)pthread_mutex_destroy(&p->mu);
    (void)pthread_mutex_destroy(&p->run_mu);
    (void)pthread_cond_destroy(&p->cv);
    parley__free(p);
    s->pro = NULL;
}
