/* Shared vocabulary of libparley: error codes and error reports, the
 * replaceable allocator, the logging hook, times and time zones. Every
 * other module uses it. */
#ifndef PARLEY_COMMON_H
#define PARLEY_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define PARLEY_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define PARLEY_PRINTF(fmt, args)
#endif

/** Error codes. New codes go at the end; existing values never change. */
typedef enum parley_err {
    PARLEY_OK = 0,
    PARLEY_ERR_NOMEM = 1,        /* out of memory */
    PARLEY_ERR_INVALID = 2,      /* bad argument or option */
    PARLEY_ERR_IO = 3,           /* cannot read or write a file */
    PARLEY_ERR_FORMAT = 4,       /* malformed input data */
    PARLEY_ERR_UTF8 = 5,         /* text is not valid UTF-8 */
    PARLEY_ERR_CORRUPT = 6,      /* stored file fails its integrity checks */
    PARLEY_ERR_VERSION = 7,      /* stored file has an unsupported version */
    PARLEY_ERR_LIMIT = 8,        /* a size limit was exceeded */
    PARLEY_ERR_NOTFOUND = 9,     /* the named thing does not exist */
    PARLEY_ERR_EMPTY = 10,       /* no usable input */
    PARLEY_ERR_CONFLICT = 11,    /* changed by someone else since it was read */
    PARLEY_ERR_UNAVAILABLE = 12, /* a backend cannot answer now: retry later */
} parley_err;

/** Names an error code ("out of memory"...). Never NULL; static storage. */
const char *parley_strerror(parley_err code);

/** A filled-in error: the code and a message a user can act on (lowercase,
 * subject quoted, no full stop). Caller-owned, usually on the stack; zero
 * it (or use PARLEY_ERROR_INIT) before the first call. */
typedef struct parley_error {
    parley_err code;
    char msg[512];
} parley_error;

#define PARLEY_ERROR_INIT                                                                          \
    {                                                                                              \
        PARLEY_OK,                                                                                 \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }

/** Resets `e` to no error. `e` may be NULL. */
void parley_error_clear(parley_error *e);

/** Fills `e` (may be NULL) with `code` and a formatted message; returns
 * `code` so callers can write `return parley_error_set(e, ...)`. */
parley_err parley_error_set(parley_error *e, parley_err code, const char *fmt, ...)
    PARLEY_PRINTF(3, 4);

/** Prefixes the message already in `e` with a formatted context, e.g. the
 * file name, keeping the code. Returns `e->code` (PARLEY_OK if `e` NULL). */
parley_err parley_error_prefix(parley_error *e, const char *fmt, ...) PARLEY_PRINTF(2, 3);

/** Replaces the allocator used by the whole library. Any argument NULL
 * restores the libc default for all four. Call before creating objects. */
void parley_set_allocator(void *(*malloc_fn)(size_t), void *(*realloc_fn)(void *, size_t),
                          void *(*calloc_fn)(size_t, size_t), void (*free_fn)(void *));

/** Frees memory the library handed to the caller (strings, arrays). */
void parley_free(void *p);

/** Log levels, most severe first. */
typedef enum parley_log_level {
    PARLEY_LOG_ERROR = 0,
    PARLEY_LOG_WARN = 1,
    PARLEY_LOG_INFO = 2,
    PARLEY_LOG_DEBUG = 3,
} parley_log_level;

typedef void (*parley_log_fn)(parley_log_level level, const char *msg, void *userdata);

/** Routes library log lines to `fn` for levels up to `max_level`. The
 * library never prints by itself: with no function set, nothing is logged.
 * Messages carry ids, counts and hashes, never customer text. */
void parley_set_log_fn(parley_log_fn fn, parley_log_level max_level, void *userdata);

/** Parses an RFC 3339 time ("2025-02-25T10:00:00Z", "...10:00:00.250+01:00")
 * into Unix milliseconds. Returns 0 on success, -1 when `s` is not one. */
int parley_time_parse(const char *s, int64_t *ms);

/** The offset from UTC, in seconds, of IANA time zone `zone` at Unix time
 * `utc_ms` (milliseconds): 3600 for "Europe/Paris" in winter, 7200 in
 * summer, -18000 for "America/New_York" in winter; east of Greenwich is
 * positive. "UTC" and "" give 0. Returns 0 on success; -1 with `*offset_s`
 * untouched when the zone is unknown, its name is not a zone name (only
 * A-Z a-z 0-9 / _ - + allowed, no "..", no leading '/', at most 64 chars)
 * or its file is not valid TZif.
 *
 * Zones are read from the compiled tzdata files under $TZDIR, else
 * /usr/share/zoneinfo, the first time each is asked for, and kept for the
 * life of the process (up to 256 names, a few of them unknown ones; past
 * that, files are read on every call): a tzdata update, or a change of
 * TZDIR, is seen after a restart. Times after a file's last transition
 * follow its daylight-saving rule, so future years are right. Thread-safe;
 * libc's TZ, tzset and localtime are neither used nor disturbed. */
int parley_tz_offset(const char *zone, int64_t utc_ms, int *offset_s);

/** The local hour (0-23) in `zone` at `utc_ms`, or -1 for an unknown zone;
 * as parley_tz_offset otherwise. */
int parley_tz_hour(const char *zone, int64_t utc_ms);

#ifdef __cplusplus
}
#endif
#endif
