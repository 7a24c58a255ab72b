/* What every public entry point of the store shares: kernel randomness,
 * the clock, one call at a time per handle and the handle's last error. */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "store/internal.h"

#ifdef PARLEY_TESTING
int parley__store_crash_after_key;
#endif

parley_err parley__store_random(void *buf, size_t n, parley_error *err)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return parley_error_set(err, PARLEY_ERR_IO, "cannot get random bytes: %s",
                                    strerror(errno));
        }
        p += got;
        n -= (size_t)got;
    }
    return PARLEY_OK;
}

int64_t parley__store_now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void parley__store_lock(parley_store *s)
{
    if (pthread_mutex_lock(&s->mu) != 0)
        PARLEY_BUG("store: cannot lock the handle");
}

void parley__store_unlock(parley_store *s)
{
    (void)pthread_mutex_unlock(&s->mu);
}

/* Records the outcome of a call in the handle and the caller's report. */
parley_err parley__store_finish(parley_store *s, parley_err rc, const parley_error *local,
                                parley_error *err)
{
    parley__store_lock(s);
    if (rc == PARLEY_OK) {
        s->errmsg[0] = '\0';
    } else {
        memcpy(s->errmsg, local->msg, sizeof(s->errmsg));
        s->errmsg[sizeof(s->errmsg) - 1] = '\0';
    }
    parley__store_unlock(s);
    if (rc != PARLEY_OK && err)
        *err = *local;
    return rc;
}

int parley__store_bad_text(const char *s, size_t max)
{
    return !s || !s[0] || strnlen(s, max + 1) > max;
}

parley_err parley__store_finish_as(parley_store *store, parley_err rc, parley_error *local,
                                   const char *what, parley_error *err)
{
    if (rc != PARLEY_OK)
        parley_error_prefix(local, "%s", what);
    return parley__store_finish(store, rc, local, err);
}
