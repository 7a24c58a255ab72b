/* Per-key rate limits: a token bucket for each API key id (refilled at
 * `rate` per second up to `burst`), in a fixed table of striped locks so
 * keys do not contend. A table slot shared by two keys makes them share a
 * bucket, never lets either exceed its own limit. */
#include <math.h>
#include <string.h>

#include "server/internal.h"

#define SLOTS 1024
#define LOCKS 16

struct bucket {
    char who[16];
    double tokens;
    double at;
};

struct ratelimit {
    double rate, burst;
    pthread_mutex_t mu[LOCKS];
    struct bucket b[SLOTS];
};

struct ratelimit *rl_new(double rate, unsigned burst)
{
    struct ratelimit *r = parley__calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->rate = rate;
    r->burst = burst;
    for (size_t i = 0; i < LOCKS; i++)
        (void)pthread_mutex_init(&r->mu[i], NULL);
    return r;
}

void rl_free(struct ratelimit *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < LOCKS; i++)
        (void)pthread_mutex_destroy(&r->mu[i]);
    parley__free(r);
}

unsigned rl_take(struct ratelimit *r, const char *who, double now)
{
    unsigned h = 2166136261u, wait = 0;
    for (const char *p = who; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    struct bucket *b = &r->b[h % SLOTS];
    pthread_mutex_t *mu = &r->mu[h % LOCKS];
    (void)pthread_mutex_lock(mu);
    if (strncmp(b->who, who, sizeof(b->who)) != 0) {
        (void)snprintf(b->who, sizeof(b->who), "%s", who);
        b->tokens = r->burst;
        b->at = now;
    }
    b->tokens = fmin(r->burst, b->tokens + (now - b->at) * r->rate);
    b->at = now;
    if (b->tokens >= 1.0)
        b->tokens -= 1.0;
    else
        wait = (unsigned)ceil((1.0 - b->tokens) / r->rate);
    (void)pthread_mutex_unlock(mu);
    return wait ? wait : 0;
}
