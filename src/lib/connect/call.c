/* The connector runtime: calls one operation over HTTP with libcurl.
 * Easy handles are pooled per connector (a mutex guards the pool) so
 * connections are kept alive and reused; every attempt has a connect and
 * a total timeout; idempotent calls (GET, and writes, which always carry
 * an Idempotency-Key) are retried on timeouts and unavailability with
 * exponential backoff and full jitter; a circuit breaker per connector
 * fails calls fast while the backend is down and lets one probe through
 * after a cool-down. Logs carry ids, statuses and timings, never bodies. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>

#include "connect/internal.h"

#define POOL_MAX 8

enum breaker_state { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

struct parley_connector {
    const parley_connect_def *def;
    char *base_url;    /* overrides def->base_url when not NULL */
    char *auth_header; /* "Authorization: Bearer ..." or NULL; wiped on free */
    pthread_mutex_t mu;
    CURL *idle[POOL_MAX];
    size_t nidle;
    enum breaker_state state;
    unsigned failures; /* consecutive failed calls */
    double opened_at;  /* parley__now() when the breaker last opened */
    struct parley_rng rng;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Full jitter: uniform in [0, min(max, base * 2^(attempt-1))]. */
PARLEY_STATIC long connect_backoff_ms(long base, long max, unsigned attempt, uint64_t rnd)
{
    long cap = base;
    for (unsigned i = 1; i < attempt && cap < max; i++)
        cap = cap > max / 2 ? max : cap * 2;
    if (cap > max)
        cap = max;
    if (cap <= 0)
        return 0;
    return (long)(rnd % ((uint64_t)cap + 1));
}

/* 32 lowercase hex digits from 128 bits of the kernel's CSPRNG. */
PARLEY_STATIC int connect_idempotency_key(char out[33])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[16];
    size_t got = 0;
    while (got < sizeof(raw)) {
        ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof(raw); i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[32] = '\0';
    return 0;
}

static parley_err read_token(const parley_connect_def *def, char **out, parley_error *err)
{
    char *tok = NULL;
    size_t len = 0;
    parley_err rc = PARLEY_OK;

    if (def->token_env) {
        const char *v = getenv(def->token_env);
        if (!v || !*v)
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "connector '%s': environment variable '%s' is not set",
                                    def->name, def->token_env);
        len = strlen(v);
        if (len > CONNECT_MAX_TOKEN)
            return parley_error_set(err, PARLEY_ERR_LIMIT, "connector '%s': token too long",
                                    def->name);
        tok = parley__strndup(v, len);
        if (!tok)
            return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    } else {
        rc = parley__read_file(def->token_file, CONNECT_MAX_TOKEN, &tok, &len, err);
        if (rc != PARLEY_OK) {
            (void)parley_error_prefix(err, "connector '%s': cannot read token", def->name);
            return rc;
        }
    }
    while (len > 0 && (tok[len - 1] == '\n' || tok[len - 1] == '\r' || tok[len - 1] == ' '))
        tok[--len] = '\0';
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)tok[i] <= ' ' || (unsigned char)tok[i] >= 0x7f)
            rc = PARLEY_ERR_FORMAT;
    if (len == 0 || rc != PARLEY_OK) {
        parley__free_secure(tok, len);
        return parley_error_set(err, len == 0 ? PARLEY_ERR_INVALID : PARLEY_ERR_FORMAT,
                                "connector '%s': the token %s", def->name,
                                len == 0 ? "is empty" : "has blanks or control characters");
    }
    *out = tok;
    return PARLEY_OK;
}

parley_err parley_connector_new(const parley_connect_def *def, parley_connector **out,
                                parley_error *err)
{
    parley_connector *c = NULL;
    char *tok = NULL;
    parley_err rc = PARLEY_OK;
    uint64_t seed = 0;

    if (!def || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot create connector: bad argument");
    if (pthread_once(&curl_once, curl_init) != 0 || curl_init_rc != CURLE_OK)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot create connector '%s': libcurl failed to initialize",
                                def->name);
    if (def->auth == CONNECT_AUTH_BEARER) {
        rc = read_token(def, &tok, err);
        if (rc != PARLEY_OK)
            return rc;
    }
    c = parley__calloc(1, sizeof(*c));
    if (!c) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot create connector '%s': out of memory",
                              def->name);
        goto out;
    }
    if (tok) {
        size_t n = strlen(tok) + sizeof("Authorization: Bearer ");
        c->auth_header = parley__malloc(n);
        if (!c->auth_header) {
            rc = parley_error_set(err, PARLEY_ERR_NOMEM,
                                  "cannot create connector '%s': out of memory", def->name);
            goto out;
        }
        (void)snprintf(c->auth_header, n, "Authorization: Bearer %s", tok);
    }
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot create connector '%s': no mutex",
                              def->name);
        goto out;
    }
    if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
        seed = (uint64_t)(parley__now() * 1e9);
    parley__rng_seed(&c->rng, seed);
    c->def = def;
    c->state = BREAKER_CLOSED;
    *out = c;
    c = NULL;
out:
    if (tok)
        parley__free_secure(tok, strlen(tok));
    if (c) {
        if (c->auth_header)
            parley__free_secure(c->auth_header, strlen(c->auth_header));
        parley__free(c);
    }
    return rc;
}

parley_err parley_connector_set_base_url(parley_connector *c, const char *url, parley_error *err)
{
    char *copy;
    size_t n;
    if (!c || !url)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot set base url: bad argument");
    if (!parley__connect_check_base_url(url))
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot set base url: '%s' is not an http(s) URL without a "
                                "query or fragment",
                                url);
    n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    copy = parley__strndup(url, n);
    if (!copy)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot set base url: out of memory");
    parley__free(c->base_url);
    c->base_url = copy;
    return PARLEY_OK;
}

void parley_connector_free(parley_connector *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nidle; i++)
        curl_easy_cleanup(c->idle[i]);
    (void)pthread_mutex_destroy(&c->mu);
    parley__free(c->base_url);
    if (c->auth_header)
        parley__free_secure(c->auth_header, strlen(c->auth_header));
    parley__free(c);
}

/* ---- Pool ------------------------------------------------------------ */

static CURL *pool_take(parley_connector *c)
{
    CURL *h = NULL;
    (void)pthread_mutex_lock(&c->mu);
    if (c->nidle > 0)
        h = c->idle[--c->nidle];
    (void)pthread_mutex_unlock(&c->mu);
    return h ? h : curl_easy_init();
}

static void pool_give(parley_connector *c, CURL *h)
{
    (void)pthread_mutex_lock(&c->mu);
    if (c->nidle < POOL_MAX) {
        c->idle[c->nidle++] = h;
        h = NULL;
    }
    (void)pthread_mutex_unlock(&c->mu);
    if (h)
        curl_easy_cleanup(h);
}

/* ---- Breaker --------------------------------------------------------- */

/* 1: go ahead (*probe set when this call is the half-open probe); 0: fail
 * fast. */
static int breaker_admit(parley_connector *c, int *probe)
{
    int ok = 1;
    *probe = 0;
    (void)pthread_mutex_lock(&c->mu);
    if (c->state == BREAKER_OPEN) {
        if ((parley__now() - c->opened_at) * 1000.0 >= (double)c->def->breaker_cooldown_ms) {
            c->state = BREAKER_HALF_OPEN;
            *probe = 1;
        } else {
            ok = 0;
        }
    } else if (c->state == BREAKER_HALF_OPEN) {
        ok = 0; /* the probe is in flight */
    }
    (void)pthread_mutex_unlock(&c->mu);
    return ok;
}

static void breaker_record(parley_connector *c, int probe, parley_connect_code code)
{
    int failed = code == PARLEY_CONNECT_TIMEOUT || code == PARLEY_CONNECT_UNAVAILABLE;
    int opened = 0, closed = 0;
    (void)pthread_mutex_lock(&c->mu);
    if (failed) {
        c->failures++;
        if (probe || (c->state == BREAKER_CLOSED && c->failures >= c->def->breaker_failures)) {
            c->state = BREAKER_OPEN;
            c->opened_at = parley__now();
            opened = 1;
        }
    } else {
        closed = c->state != BREAKER_CLOSED && probe;
        c->failures = 0;
        if (probe || c->state == BREAKER_CLOSED)
            c->state = BREAKER_CLOSED;
    }
    (void)pthread_mutex_unlock(&c->mu);
    if (opened)
        PARLEY_LOG(PARLEY_LOG_WARN, "connect '%s': circuit open after %u failures", c->def->name,
                   c->failures);
    if (closed)
        PARLEY_LOG(PARLEY_LOG_INFO, "connect '%s': circuit closed", c->def->name);
}

/* ---- One attempt ----------------------------------------------------- */

struct sink {
    struct parley_buf buf;
    int oversized;
    int nomem;
};

static size_t sink_write(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct sink *s = userdata;
    size_t n = size * nmemb;
    parley_err rc = parley__buf_add(&s->buf, data, n);
    if (rc == PARLEY_ERR_LIMIT)
        s->oversized = 1;
    else if (rc != PARLEY_OK)
        s->nomem = 1;
    return rc == PARLEY_OK ? n : 0;
}

#define SETOPT(h, opt, val)                                                                        \
    do {                                                                                           \
        if (sc == CURLE_OK)                                                                        \
            sc = curl_easy_setopt((h), (opt), (val));                                              \
    } while (0)

static parley_err attempt(parley_connector *c, const struct connect_op *op, const char *url,
                          const char *body, const char *key, parley_connect_result *r)
{
    const parley_connect_def *d = c->def;
    struct sink s = {PARLEY_BUF_INIT(d->max_response + 1), 0, 0};
    struct curl_slist *hdrs = NULL, *tmp;
    char keyhdr[64];
    CURL *h = pool_take(c);
    CURLcode sc = CURLE_OK, pc;
    long status = 0;
    parley_err rc = PARLEY_OK;

    r->http_status = 0;
    if (!h) {
        rc = PARLEY_ERR_NOMEM;
        goto out;
    }
    curl_easy_reset(h);
    static const char *const fixed[] = {"Accept: application/json",
                                        "Expect:", "User-Agent: parley-connect/0.1"};
    for (size_t i = 0; i < 3 + 3; i++) {
        const char *line = i < 3    ? fixed[i]
                           : i == 3 ? (body ? "Content-Type: application/json" : NULL)
                           : i == 4 ? c->auth_header
                                    : NULL;
        if (i == 5 && key) {
            (void)snprintf(keyhdr, sizeof(keyhdr), "Idempotency-Key: %s", key);
            line = keyhdr;
        }
        if (!line)
            continue;
        tmp = curl_slist_append(hdrs, line);
        if (!tmp) {
            rc = PARLEY_ERR_NOMEM;
            goto out;
        }
        hdrs = tmp;
    }
    SETOPT(h, CURLOPT_URL, url);
    SETOPT(h, CURLOPT_NOSIGNAL, 1L);
    SETOPT(h, CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, d->connect_timeout_ms);
    SETOPT(h, CURLOPT_TIMEOUT_MS, d->total_timeout_ms);
    SETOPT(h, CURLOPT_HTTPHEADER, hdrs);
    SETOPT(h, CURLOPT_WRITEFUNCTION, sink_write);
    SETOPT(h, CURLOPT_WRITEDATA, &s);
    SETOPT(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)d->max_response);
    /* libcurl silently resends a request whose reused connection turns out
     * dead; only safe when the call is idempotent. */
    if (op->method != CONNECT_GET && !key)
        SETOPT(h, CURLOPT_FRESH_CONNECT, 1L);
    if (op->method == CONNECT_GET) {
        SETOPT(h, CURLOPT_HTTPGET, 1L);
    } else {
        if (op->method != CONNECT_POST)
            SETOPT(h, CURLOPT_CUSTOMREQUEST, parley__connect_method_name(op->method));
        else
            SETOPT(h, CURLOPT_POST, 1L);
        if (body || op->method == CONNECT_POST) {
            SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? strlen(body) : 0));
            SETOPT(h, CURLOPT_POSTFIELDS, body ? body : "");
        }
    }
    if (sc != CURLE_OK) {
        (void)parley__connect_result_fail(r, PARLEY_CONNECT_UNAVAILABLE, "cannot set up: %s",
                                          curl_easy_strerror(sc));
        goto out;
    }
    pc = curl_easy_perform(h);
    if (s.nomem) {
        rc = PARLEY_ERR_NOMEM;
        goto out;
    }
    if (pc == CURLE_OK) {
        (void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        rc = parley__connect_parse_response(op, status, s.buf.data, s.buf.len, r);
    } else if (pc == CURLE_OPERATION_TIMEDOUT) {
        (void)parley__connect_result_fail(r, PARLEY_CONNECT_TIMEOUT, "timed out");
    } else if (s.oversized || pc == CURLE_FILESIZE_EXCEEDED) {
        (void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        r->http_status = status;
        (void)parley__connect_result_fail(r, PARLEY_CONNECT_MALFORMED,
                                          "response larger than %zu bytes", d->max_response);
    } else {
        (void)parley__connect_result_fail(r, PARLEY_CONNECT_UNAVAILABLE, "%s",
                                          curl_easy_strerror(pc));
    }
out:
    curl_slist_free_all(hdrs);
    if (h)
        pool_give(c, h);
    if (s.buf.data)
        explicit_bzero(s.buf.data, s.buf.len);
    parley__buf_release(&s.buf);
    return rc;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

parley_err parley_connect_call(parley_connector *c, const char *opname,
                               const parley_connect_param *params, size_t nparams,
                               parley_connect_result **out, parley_error *err)
{
    return parley_connect_call_keyed(c, opname, params, nparams, NULL, out, err);
}

/* A caller's key: 8 to 32 characters of [A-Za-z0-9_-]. */
static int valid_key(const char *k)
{
    size_t n = strlen(k);
    if (n < 8 || n > 32)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = k[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_'))
            return 0;
    }
    return 1;
}

parley_err parley_connect_call_keyed(parley_connector *c, const char *opname,
                                     const parley_connect_param *params, size_t nparams,
                                     const char *key, parley_connect_result **out,
                                     parley_error *err)
{
    const struct connect_op *op;
    parley_connect_result *r = NULL;
    char *path = NULL, *body = NULL, *url = NULL;
    const char *base;
    parley_error perr = PARLEY_ERROR_INIT;
    double t0 = parley__now();
    int probe = 0, retryable;
    unsigned max;
    parley_err rc = PARLEY_OK;

    if (!c || !opname || !out)
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot call: bad argument");
    if (key && !valid_key(key))
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot call '%.64s': an idempotency key must be 8 to 32 of "
                                "A-Z a-z 0-9 - _",
                                opname);
    op = parley__connect_find_op(c->def, opname);
    if (!op)
        return parley_error_set(err, PARLEY_ERR_NOTFOUND,
                                "cannot call '%.64s': connector '%s' has no such operation", opname,
                                c->def->name);
    r = parley__connect_result_new();
    if (!r)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot call '%s': out of memory", opname);
    rc = parley__connect_expand(op, params, nparams, &path, &body, &perr);
    if (rc == PARLEY_ERR_NOMEM)
        goto out;
    if (rc != PARLEY_OK) {
        rc = PARLEY_OK;
        (void)parley__connect_result_fail(r, PARLEY_CONNECT_BAD_REQUEST, "%s", perr.msg);
        goto done;
    }
    base = c->base_url ? c->base_url : c->def->base_url;
    url = parley__malloc(strlen(base) + strlen(path) + 1);
    if (!url) {
        rc = PARLEY_ERR_NOMEM;
        goto out;
    }
    (void)snprintf(url, strlen(base) + strlen(path) + 1, "%s%s", base, path);
    if (op->write && key) {
        memcpy(r->idem_key, key, strlen(key) + 1);
        r->has_key = 1;
    } else if (op->write) {
        if (connect_idempotency_key(r->idem_key) != 0) {
            (void)parley__connect_result_fail(r, PARLEY_CONNECT_BAD_REQUEST,
                                              "no random bytes for an idempotency key");
            goto done;
        }
        r->has_key = 1;
    }
    if (!breaker_admit(c, &probe)) {
        (void)parley__connect_result_fail(r, PARLEY_CONNECT_CIRCUIT_OPEN,
                                          "circuit open: not attempted");
        goto done;
    }
    /* Only idempotent calls are retried: reads, and writes (which carry an
     * idempotency key the backend deduplicates on). A half-open probe is a
     * single attempt. */
    retryable = op->method == CONNECT_GET || r->has_key;
    max = probe || !retryable ? 1 : c->def->max_attempts;
    for (unsigned a = 1; a <= max; a++) {
        double ta = parley__now();
        rc = attempt(c, op, url, body, r->has_key ? r->idem_key : NULL, r);
        r->attempts = a;
        if (rc != PARLEY_OK)
            break;
        PARLEY_LOG(PARLEY_LOG_DEBUG, "connect '%s' op '%s' attempt %u: %s, http %ld, %.1f ms",
                   c->def->name, op->name, a, parley_connect_code_name(r->code), r->http_status,
                   (parley__now() - ta) * 1000.0);
        if (a == max ||
            (r->code != PARLEY_CONNECT_TIMEOUT && r->code != PARLEY_CONNECT_UNAVAILABLE))
            break;
        (void)pthread_mutex_lock(&c->mu);
        uint64_t rnd = parley__rng_next(&c->rng);
        (void)pthread_mutex_unlock(&c->mu);
        sleep_ms(connect_backoff_ms(c->def->base_delay_ms, c->def->max_delay_ms, a, rnd));
    }
    if (rc != PARLEY_OK) {
        /* Out of memory mid-call: leave the breaker as it was. */
        if (probe) {
            (void)pthread_mutex_lock(&c->mu);
            c->state = BREAKER_OPEN;
            (void)pthread_mutex_unlock(&c->mu);
        }
        goto out;
    }
    breaker_record(c, probe, r->code);
done:
    if (r->code != PARLEY_CONNECT_OK) {
        char what[400];
        (void)snprintf(what, sizeof(what), "%s", r->message ? r->message : "");
        (void)parley__connect_result_fail(r, r->code, "call '%s' on '%s' failed: %s: %s", op->name,
                                          c->def->name, parley_connect_code_name(r->code), what);
    }
    r->latency_ms = (parley__now() - t0) * 1000.0;
    PARLEY_LOG(PARLEY_LOG_INFO, "connect '%s' op '%s': %s, http %ld, %u attempts, %.1f ms",
               c->def->name, op->name, parley_connect_code_name(r->code), r->http_status,
               r->attempts, r->latency_ms);
    *out = r;
    r = NULL;
out:
    if (rc == PARLEY_ERR_NOMEM)
        (void)parley_error_set(err, rc, "cannot call '%s': out of memory", opname);
    parley__free(url);
    parley__free(path);
    if (body)
        parley__free_secure(body, strlen(body));
    parley_connect_result_free(r);
    return rc;
}
