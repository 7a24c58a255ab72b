/* A log sink for processes that handle conversations: each library message
 * has its personal values redacted (a connector error can quote a URL with
 * a phone number in it) before it is written, one line with time and level. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pii/internal.h"

static struct {
    pthread_mutex_t mu;
    parley_pii *pii;
    parley_pii_scratch *scratch;
    parley_pii_policy policy;
    FILE *out;
} sink = {PTHREAD_MUTEX_INITIALIZER, NULL, NULL, {{PARLEY_PII_OP_REDACT}, NULL, NULL}, NULL};

static const char *const level_names[] = {"error", "warn", "info", "debug"};

/* Holds the mutex while writing: library messages come from any thread,
 * and the one scratch is reused. Logs are rare enough for that. */
static void write_line(parley_log_level level, const char *msg, void *userdata)
{
    const parley_pii_finding *f = NULL;
    size_t n = 0, len = strlen(msg);
    char *red = NULL, stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    (void)userdata;
    (void)pthread_mutex_lock(&sink.mu);
    if (!sink.out)
        goto done;
    if (gmtime_r(&now, &tm) == NULL ||
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        stamp[0] = '\0';
    if (parley_pii_detect(sink.pii, sink.scratch, msg, len, NULL, 0, &f, &n, NULL) != PARLEY_OK ||
        parley_pii_apply(&sink.policy, msg, len, f, n, &red, NULL, NULL) != PARLEY_OK) {
        /* Not written as it is: it may hold what could not be redacted. */
        (void)fprintf(sink.out, "%s %s (a message that could not be redacted was dropped)\n", stamp,
                      level_names[level <= PARLEY_LOG_DEBUG ? level : PARLEY_LOG_DEBUG]);
        goto done;
    }
    (void)fprintf(sink.out, "%s %s %s\n", stamp,
                  level_names[level <= PARLEY_LOG_DEBUG ? level : PARLEY_LOG_DEBUG], red);
    (void)fflush(sink.out);
done:
    parley_pii_free(red);
    (void)pthread_mutex_unlock(&sink.mu);
}

parley_err parley_pii_log_install(const parley_pii_options *opts, FILE *out,
                                  parley_log_level max_level, parley_error *err)
{
    parley_pii *pii = NULL;
    parley_pii_scratch *scratch = NULL;
    parley_err rc;
    if (!out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot open the log: bad argument");
    if ((rc = parley_pii_create(opts, &pii, err)) != PARLEY_OK ||
        (rc = parley_pii_scratch_create(pii, &scratch, err)) != PARLEY_OK) {
        parley_pii_destroy(pii);
        return rc;
    }
    parley_pii_log_uninstall();
    (void)pthread_mutex_lock(&sink.mu);
    sink.pii = pii;
    sink.scratch = scratch;
    parley_pii_policy_redact_all(&sink.policy);
    sink.out = out;
    (void)pthread_mutex_unlock(&sink.mu);
    parley_set_log_fn(write_line, max_level, NULL);
    return PARLEY_OK;
}

void parley_pii_log_uninstall(void)
{
    (void)pthread_mutex_lock(&sink.mu);
    if (sink.out)
        parley_set_log_fn(NULL, PARLEY_LOG_ERROR, NULL);
    parley_pii_scratch_destroy(sink.scratch);
    parley_pii_destroy(sink.pii);
    sink.scratch = NULL;
    sink.pii = NULL;
    sink.out = NULL;
    (void)pthread_mutex_unlock(&sink.mu);
}
