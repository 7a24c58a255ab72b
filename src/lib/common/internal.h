/* Private helpers shared by libparley modules: allocation wrappers, the
 * level-checked log macro, a capped growable buffer and test hooks. */
#ifndef PARLEY_COMMON_INTERNAL_H
#define PARLEY_COMMON_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parley/common.h"

/* File-local functions that unit tests reach into. */
#ifdef PARLEY_TESTING
#define PARLEY_STATIC
#else
#define PARLEY_STATIC static
#endif

/* An impossible state: a bug in libparley, never bad input. */
#define PARLEY_BUG(msg) parley__bug(__FILE__, __LINE__, (msg))
_Noreturn void parley__bug(const char *file, int line, const char *msg);

void *parley__malloc(size_t n);
void *parley__calloc(size_t count, size_t size);
void *parley__realloc(void *p, size_t n);
void parley__free(void *p);
/* Overflow-checked count * size allocation; NULL on overflow or OOM. */
void *parley__mallocarray(size_t count, size_t size);
/* Copy of `n` bytes of `s` plus a NUL; caller frees with parley__free. */
char *parley__strndup(const char *s, size_t n);
char *parley__strdup(const char *s);
/* Wipes `n` bytes at `p` in a way the compiler cannot drop, then frees. */
void parley__free_secure(void *p, size_t n);

extern parley_log_level parley__log_max;
extern parley_log_fn parley__log_fn;
void parley__log(parley_log_level level, const char *fmt, ...) PARLEY_PRINTF(2, 3);
/* Checks the level before any formatting work is done. */
#define PARLEY_LOG(level, ...)                                                                     \
    do {                                                                                           \
        if (parley__log_fn && (level) <= parley__log_max)                                          \
            parley__log((level), __VA_ARGS__);                                                     \
    } while (0)

/* A growable byte buffer with a hard cap. On failure (cap exceeded or out
 * of memory) it frees its contents and reports, so callers cannot keep
 * using a half-built value. Always NUL-terminated when non-empty. */
struct parley_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max; /* 0 means SIZE_MAX / 2 */
};
#define PARLEY_BUF_INIT(maxlen)                                                                    \
    {                                                                                              \
        NULL, 0, 0, (maxlen)                                                                       \
    }
parley_err parley__buf_add(struct parley_buf *b, const void *data, size_t n);
parley_err parley__buf_addc(struct parley_buf *b, char c);
/* Appends printf-style text (without its NUL). */
parley_err parley__buf_printf(struct parley_buf *b, const char *fmt, ...) PARLEY_PRINTF(2, 3);
void parley__buf_reset(struct parley_buf *b);   /* keeps the allocation */
void parley__buf_release(struct parley_buf *b); /* frees */
/* Hands the contents to the caller (free with parley__free); empties b. */
char *parley__buf_detach(struct parley_buf *b, size_t *len);

/* Reads a whole file, capped at `max` bytes. */
parley_err parley__read_file(const char *path, size_t max, char **out, size_t *len,
                             parley_error *err);
/* Appends 'name' to the NUL-terminated list in buf[0..size) ("'a', 'b'"),
 * `*used` its length so far; returns 1, or 0 when the name does not fit
 * and is left out. */
int parley__quote_list_add(char *buf, size_t size, size_t *used, const char *name);
/* Writes `data[0..len)` to `path` so that a reader sees the old file or the
 * whole new one, never a part: a temporary beside it, fsync, rename. */
parley_err parley__write_file_atomic(const char *path, const void *data, size_t len,
                                     parley_error *err);

/* json.c: the deepest bracket nesting of JSON text `p[0..n)` outside
 * strings (checked before jansson, whose parser recurses, sees it), and the
 * kind of a jansson value as error messages say it ("an array", "null"). */
struct json_t;
size_t parley__json_depth(const char *p, size_t n);
const char *parley__json_type_name(const struct json_t *v);

/* Fast xorshift-based PRNG; deterministic for a given seed. */
struct parley_rng {
    uint64_t s;
};
void parley__rng_seed(struct parley_rng *r, uint64_t seed);
uint64_t parley__rng_next(struct parley_rng *r);
/* Uniform in [0, n). n > 0. */
uint64_t parley__rng_below(struct parley_rng *r, uint64_t n);
double parley__rng_unit(struct parley_rng *r); /* [0, 1) */

/* Monotonic seconds, for progress and timing. */
double parley__now(void);
/* Wall-clock time, Unix milliseconds (for records; parley__now() is for
 * measuring durations). */
int64_t parley__clock_ms(void);

/* time.c: days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant);
 * month 1-12, day 1-31, any year. */
int64_t parley__days_from_civil(int64_t y, int m, int d);

/* tz.c: a parsed TZif file (RFC 8536), immutable once parsed. */
struct parley__tz;
/* Parses the TZif bytes data[0..len), untrusted input, into *out (set only
 * on success; free with parley__tz_free). Returns PARLEY_ERR_FORMAT when
 * the bytes are not valid TZif (truncated, an index or offset out of range,
 * times out of order, a footer that is not a POSIX TZ string),
 * PARLEY_ERR_VERSION for an unknown version, PARLEY_ERR_LIMIT for counts
 * no zone comes near, PARLEY_ERR_NOMEM. */
parley_err parley__tz_parse(const void *data, size_t len, struct parley__tz **out);
void parley__tz_free(struct parley__tz *tz);
/* The UTC offset in seconds, east positive, at POSIX time `t` seconds,
 * |t| < 2^62; always within -89999..93599. */
int32_t parley__tz_offset_at(const struct parley__tz *tz, int64_t t);

/* keyfile.c: 32-byte secrets from configuration. `spec` is "env:NAME",
 * "file:PATH" or, when `bare_path`, a plain PATH: 64 hex digits with
 * optional white space, in a file only its owner can read. `what` names
 * the key in messages ("master key"), `keygen` the command that makes one.
 * `key` is set only on success. */
#define PARLEY__KEY32 32
parley_err parley__key32_load(const char *spec, int bare_path, const char *what, const char *keygen,
                              unsigned char key[PARLEY__KEY32], parley_error *err);
/* Writes a new random key as 64 hex digits and a newline to a new file
 * `path` of mode 0600; an existing file is never replaced. */
parley_err parley__key32_generate(const char *path, const char *what, parley_error *err);

#endif
