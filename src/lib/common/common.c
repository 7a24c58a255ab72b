/* Error reports, the replaceable allocator, logging and small utilities
 * (buffers, files, PRNG, clock) used across libparley. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/internal.h"

static void *(*malloc_impl)(size_t) = malloc;
static void *(*realloc_impl)(void *, size_t) = realloc;
static void *(*calloc_impl)(size_t, size_t) = calloc;
static void (*free_impl)(void *) = free;

parley_log_level parley__log_max = PARLEY_LOG_INFO;
parley_log_fn parley__log_fn = NULL;
static void *log_userdata = NULL;

const char *parley_strerror(parley_err code)
{
    switch (code) {
    case PARLEY_OK:
        return "ok";
    case PARLEY_ERR_NOMEM:
        return "out of memory";
    case PARLEY_ERR_INVALID:
        return "invalid argument";
    case PARLEY_ERR_IO:
        return "input/output error";
    case PARLEY_ERR_FORMAT:
        return "malformed input";
    case PARLEY_ERR_UTF8:
        return "invalid UTF-8";
    case PARLEY_ERR_CORRUPT:
        return "corrupt file";
    case PARLEY_ERR_VERSION:
        return "unsupported version";
    case PARLEY_ERR_LIMIT:
        return "size limit exceeded";
    case PARLEY_ERR_NOTFOUND:
        return "not found";
    case PARLEY_ERR_EMPTY:
        return "no usable input";
    case PARLEY_ERR_CONFLICT:
        return "conflicting update";
    case PARLEY_ERR_UNAVAILABLE:
        return "unavailable; retry later";
    }
    return "unknown error";
}

void parley_error_clear(parley_error *e)
{
    if (e) {
        e->code = PARLEY_OK;
        e->msg[0] = '\0';
    }
}

parley_err parley_error_set(parley_error *e, parley_err code, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        e->code = code;
        (void)vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        va_end(ap);
    }
    return code;
}

parley_err parley_error_prefix(parley_error *e, const char *fmt, ...)
{
    char prefix[256];
    char old[sizeof(e->msg)];
    va_list ap;

    if (!e)
        return PARLEY_OK;
    va_start(ap, fmt);
    (void)vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof(old));
    size_t pl = strlen(prefix);
    if (pl > sizeof(e->msg) - 3)
        pl = sizeof(e->msg) - 3;
    memcpy(e->msg, prefix, pl);
    memcpy(e->msg + pl, ": ", 2);
    size_t rest = sizeof(e->msg) - pl - 3;
    size_t ol = strnlen(old, sizeof(old) - 1);
    if (ol > rest)
        ol = rest;
    memcpy(e->msg + pl + 2, old, ol);
    e->msg[pl + 2 + ol] = '\0';
    return e->code;
}

void parley_set_allocator(void *(*malloc_fn)(size_t), void *(*realloc_fn)(void *, size_t),
                          void *(*calloc_fn)(size_t, size_t), void (*free_fn)(void *))
{
    if (!malloc_fn || !realloc_fn || !calloc_fn || !free_fn) {
        malloc_impl = malloc;
        realloc_impl = realloc;
        calloc_impl = calloc;
        free_impl = free;
        return;
    }
    malloc_impl = malloc_fn;
    realloc_impl = realloc_fn;
    calloc_impl = calloc_fn;
    free_impl = free_fn;
}

void *parley__malloc(size_t n)
{
    return malloc_impl(n ? n : 1);
}

void *parley__calloc(size_t count, size_t size)
{
    return calloc_impl(count ? count : 1, size ? size : 1);
}

void *parley__realloc(void *p, size_t n)
{
    return realloc_impl(p, n ? n : 1);
}

void parley__free(void *p)
{
    if (p)
        free_impl(p);
}

void parley_free(void *p)
{
    parley__free(p);
}

void *parley__mallocarray(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    return parley__malloc(count * size);
}

char *parley__strndup(const char *s, size_t n)
{
    char *p = parley__malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

char *parley__strdup(const char *s)
{
    return parley__strndup(s, strlen(s));
}

void parley__free_secure(void *p, size_t n)
{
    if (p) {
        explicit_bzero(p, n);
        parley__free(p);
    }
}

_Noreturn void parley__bug(const char *file, int line, const char *msg)
{
    (void)fprintf(stderr, "BUG: %s:%d: %s\n", file, line, msg);
    abort();
}

void parley_set_log_fn(parley_log_fn fn, parley_log_level max_level, void *userdata)
{
    parley__log_fn = fn;
    parley__log_max = max_level;
    log_userdata = userdata;
}

void parley__log(parley_log_level level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    if (!parley__log_fn)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    parley__log_fn(level, line, log_userdata);
}

static parley_err buf_grow(struct parley_buf *b, size_t need)
{
    size_t max = b->max ? b->max : SIZE_MAX / 2;
    size_t cap;
    char *p;

    if (need > max - 1 || b->len > max - 1 - need) {
        parley__buf_release(b);
        return PARLEY_ERR_LIMIT;
    }
    if (b->len + need + 1 <= b->cap)
        return PARLEY_OK;
    cap = b->cap ? b->cap : 64;
    while (cap < b->len + need + 1)
        cap = cap > max / 2 ? max : cap * 2;
    p = parley__realloc(b->data, cap);
    if (!p) {
        parley__buf_release(b);
        return PARLEY_ERR_NOMEM;
    }
    b->data = p;
    b->cap = cap;
    return PARLEY_OK;
}

parley_err parley__buf_add(struct parley_buf *b, const void *data, size_t n)
{
    parley_err rc = buf_grow(b, n);
    if (rc != PARLEY_OK)
        return rc;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return PARLEY_OK;
}

parley_err parley__buf_printf(struct parley_buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return PARLEY_ERR_INVALID;
    if ((size_t)n < sizeof(small))
        return parley__buf_add(b, small, (size_t)n);
    char *big = parley__malloc((size_t)n + 1);
    if (!big) {
        parley__buf_release(b);
        return PARLEY_ERR_NOMEM;
    }
    va_start(ap, fmt);
    (void)vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    parley_err rc = parley__buf_add(b, big, (size_t)n);
    parley__free(big);
    return rc;
}

parley_err parley__buf_addc(struct parley_buf *b, char c)
{
    return parley__buf_add(b, &c, 1);
}

void parley__buf_reset(struct parley_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void parley__buf_release(struct parley_buf *b)
{
    parley__free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

char *parley__buf_detach(struct parley_buf *b, size_t *len)
{
    char *p = b->data;
    if (len)
        *len = b->len;
    if (!p)
        p = parley__strdup("");
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

parley_err parley__read_file(const char *path, size_t max, char **out, size_t *len,
                             parley_error *err)
{
    /* The buffer's cap counts the terminating NUL; a file of max bytes fits. */
    struct parley_buf b = PARLEY_BUF_INIT(max < SIZE_MAX / 2 ? max + 1 : 0);
    char chunk[65536];
    parley_err rc = PARLEY_OK;
    size_t n;
    FILE *f = fopen(path, "rb");

    if (!f)
        return parley_error_set(err, PARLEY_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        rc = parley__buf_add(&b, chunk, n);
        if (rc != PARLEY_OK) {
            rc = parley_error_set(err, rc, "cannot read '%s': %s", path,
                                  rc == PARLEY_ERR_LIMIT ? "file larger than the limit"
                                                         : "out of memory");
            goto out;
        }
    }
    if (ferror(f)) {
        rc = parley_error_set(err, PARLEY_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
        goto out;
    }
    *out = parley__buf_detach(&b, len);
    if (!*out)
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot read '%s': out of memory", path);
out:
    parley__buf_release(&b);
    (void)fclose(f);
    return rc;
}

void parley__rng_seed(struct parley_rng *r, uint64_t seed)
{
    r->s = seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;
    if (!r->s)
        r->s = 1;
}

uint64_t parley__rng_next(struct parley_rng *r)
{
    /* splitmix64: small state, good enough statistics for shuffling/SGD. */
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

uint64_t parley__rng_below(struct parley_rng *r, uint64_t n)
{
    return parley__rng_next(r) % n;
}

double parley__rng_unit(struct parley_rng *r)
{
    return (double)(parley__rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

double parley__now(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int64_t parley__clock_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

parley_err parley__write_file_atomic(const char *path, const void *data, size_t len,
                                     parley_error *err)
{
    char tmp[4096];
    size_t off = 0;
    parley_err rc = PARLEY_OK;
    int fd;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
        return parley_error_set(err, PARLEY_ERR_INVALID, "path is too long: '%.64s...'", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return parley_error_set(err, PARLEY_ERR_IO, "cannot create '%s': %s", tmp, strerror(errno));
    while (off < len) {
        ssize_t w = write(fd, (const char *)data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc =
                parley_error_set(err, PARLEY_ERR_IO, "cannot write '%s': %s", tmp, strerror(errno));
            break;
        }
        off += (size_t)w;
    }
    if (rc == PARLEY_OK && fsync(fd) != 0)
        rc = parley_error_set(err, PARLEY_ERR_IO, "cannot sync '%s': %s", tmp, strerror(errno));
    if (close(fd) != 0 && rc == PARLEY_OK)
        rc = parley_error_set(err, PARLEY_ERR_IO, "cannot close '%s': %s", tmp, strerror(errno));
    if (rc == PARLEY_OK && rename(tmp, path) != 0)
        rc = parley_error_set(err, PARLEY_ERR_IO, "cannot rename '%s' to '%s': %s", tmp, path,
                              strerror(errno));
    if (rc != PARLEY_OK)
        (void)unlink(tmp);
    return rc;
}

int parley__quote_list_add(char *buf, size_t size, size_t *used, const char *name)
{
    size_t len = strlen(name), sep = *used ? 3 : 1;
    if (*used + sep + len + 2 > size)
        return 0;
    memcpy(buf + *used, *used ? ", '" : "'", sep);
    *used += sep;
    memcpy(buf + *used, name, len);
    *used += len;
    buf[(*used)++] = '\'';
    buf[*used] = '\0';
    return 1;
}
