/* UTC offsets of IANA time zones ("Europe/Paris") for quiet hours, read from
 * the system's compiled TZif files (RFC 8536) without TZ, tzset or localtime. */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/internal.h"

/* Bounds on untrusted files, well above what tzdata ships (at most 310
 * transitions, 18 types, 40 abbreviation bytes, 27 leap seconds, a 50-byte
 * footer), so that a bad file costs little and sizes cannot overflow. */
#define TZ_MAX_TIMES  4096
#define TZ_MAX_TYPES  256
#define TZ_MAX_CHARS  256
#define TZ_MAX_LEAPS  256
#define TZ_MAX_FOOTER 256
#define TZ_FILE_MAX   (128 * 1024)
#define TZ_HEADER     44
/* RFC 8536's range for a UTC offset: -24:59:59 to +25:59:59. */
#define TZ_OFF_MIN (-89999)
#define TZ_OFF_MAX 93599
/* Leap-second corrections are applied to transition times; beyond this the
 * subtraction could overflow, and no real file comes near (zic's earliest
 * time is -2^59). */
#define TZ_TIME_LIMIT ((int64_t)1 << 62)

#define TZ_NAME_MAX       64
#define CACHE_MAX         256
#define CACHE_MISSING_MAX 64

/* One end of a POSIX TZ daylight-saving rule: a day of the year and the
 * local time of day (seconds, may be negative or beyond 24 h, RFC 8536). */
struct rule_date {
    char kind; /* 'J': Julian 1-365 without Feb 29; 'N': 0-365; 'M': Mm.w.d */
    int day;   /* J and N: the day; M: the weekday 0-6 (Sunday 0) */
    int week;  /* M: 1-5, 5 meaning the last */
    int month; /* M: 1-12 */
    int32_t secs;
};

/* The footer's TZ string ("CET-1CEST,M3.5.0,M10.5.0/3"), which gives local
 * time after the last transition of the file. Offsets are east-positive. */
struct posix_tz {
    int32_t std_off;
    int32_t dst_off;
    int has_dst;
    struct rule_date start, end;
};

struct parley__tz {
    size_t n;       /* transitions */
    int64_t *at;    /* their POSIX times, strictly ascending */
    int32_t *off;   /* the UTC offset from at[i] on */
    int32_t before; /* the UTC offset before at[0] (time type 0) */
    int has_rule;   /* times after at[n-1] (all times if n == 0) follow rule */
    struct posix_tz rule;
};

/* ---- Calendar ------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return q - (a % b != 0 && (a % b < 0) != (b < 0));
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The proleptic Gregorian year of a day counted from 1970-01-01 (H. Hinnant). */
static int64_t year_of_days(int64_t z)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    return yoe + era * 400 + (mp >= 10);
}

/* Local seconds since the epoch at which `d` happens in year `y`. */
static int64_t rule_local_time(const struct rule_date *d, int64_t y)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t days;

    if (d->kind == 'J') {
        days = parley__days_from_civil(y, 1, 1) + d->day - 1 + (is_leap(y) && d->day >= 60);
    } else if (d->kind == 'N') {
        days = parley__days_from_civil(y, 1, 1) + d->day;
    } else {
        int64_t first = parley__days_from_civil(y, d->month, 1);
        int len = mdays[d->month - 1] + (d->month == 2 && is_leap(y));
        int wday = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
        int mday = 1 + (d->day - wday + 7) % 7 + 7 * (d->week - 1);
        while (mday > len)
            mday -= 7;
        days = first + mday - 1;
    }
    return days * 86400 + d->secs;
}

/* The offset a TZ rule gives at `t`: that of its latest transition at or
 * before `t`, looked for over enough years that rule times of +-167 h and
 * rules straddling New Year (southern hemisphere) need no special case. */
static int32_t rule_offset(const struct posix_tz *r, int64_t t)
{
    if (!r->has_dst)
        return r->std_off;
    int64_t y = year_of_days(floor_div(t + r->std_off, 86400));
    int64_t best = INT64_MIN;
    int32_t off = r->std_off;
    for (int64_t yy = y - 2; yy <= y + 1; yy++) {
        /* The start is in standard time, the end in daylight time. */
        int64_t ev[2] = {rule_local_time(&r->start, yy) - r->std_off,
                         rule_local_time(&r->end, yy) - r->dst_off};
        int end_first = ev[1] < ev[0];
        /* Ties go to the transition seen last: the later year's, so that
         * "0/0,J365/25" (one year's end is the next one's start) means DST
         * all year; within a year the end, so an empty DST period is none. */
        for (int k = 0; k < 2; k++) {
            int is_end = k ^ end_first;
            if (ev[is_end] <= t && ev[is_end] >= best) {
                best = ev[is_end];
                off = is_end ? r->std_off : r->dst_off;
            }
        }
    }
    return off;
}

/* ---- POSIX TZ strings ------------------------------------------------- */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A zone abbreviation: three or more letters, or <...> with letters,
 * digits and signs ("<+0530>"). Returns the end, NULL if none. */
static const char *parse_abbr(const char *p)
{
    const char *s;
    if (*p == '<') {
        for (s = ++p; is_alpha(*p) || is_digit(*p) || *p == '+' || *p == '-'; p++)
            ;
        return *p == '>' && p - s >= 3 ? p + 1 : NULL;
    }
    for (s = p; is_alpha(*p); p++)
        ;
    return p - s >= 3 ? p : NULL;
}

/* Up to `maxd` digits as a number no larger than `max`; NULL if none. */
static const char *parse_num(const char *p, int maxd, int max, int *v)
{
    int n = 0, d = 0;
    for (; is_digit(*p) && d < maxd; p++, d++)
        n = n * 10 + (*p - '0');
    if (d == 0 || n > max)
        return NULL;
    *v = n;
    return p;
}

/* [+-]h[h[h]][:mm[:ss]] with hours up to `max_h`, in seconds. */
static const char *parse_hms(const char *p, int max_h, int32_t *secs)
{
    int sign = 1, h, m = 0, s = 0;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    p = parse_num(p, 3, max_h, &h);
    if (p && *p == ':') {
        p = parse_num(p + 1, 2, 59, &m);
        if (p && *p == ':')
            p = parse_num(p + 1, 2, 59, &s);
    }
    if (p)
        *secs = sign * (h * 3600 + m * 60 + s);
    return p;
}

static const char *parse_rule_date(const char *p, struct rule_date *d)
{
    d->week = d->month = 0;
    if (*p == 'J') {
        d->kind = 'J';
        p = parse_num(p + 1, 3, 365, &d->day);
        if (p && d->day < 1)
            return NULL;
    } else if (*p == 'M') {
        d->kind = 'M';
        p = parse_num(p + 1, 2, 12, &d->month);
        if (p && *p == '.')
            p = parse_num(p + 1, 1, 5, &d->week);
        else
            p = NULL;
        if (p && *p == '.')
            p = parse_num(p + 1, 1, 6, &d->day);
        else
            p = NULL;
        if (p && (d->month < 1 || d->week < 1))
            return NULL;
    } else {
        d->kind = 'N';
        p = parse_num(p, 3, 365, &d->day);
    }
    d->secs = 2 * 3600;
    /* RFC 8536 lets a rule's time run from -167 to 167 hours. */
    if (p && *p == '/')
        p = parse_hms(p + 1, 167, &d->secs);
    return p;
}

/* Parses a whole TZ string; POSIX offsets count west, ours count east. */
static int parse_posix_tz(const char *p, struct posix_tz *r)
{
    int32_t off;
    memset(r, 0, sizeof(*r));
    if (!(p = parse_abbr(p)) || !(p = parse_hms(p, 24, &off)))
        return -1;
    r->std_off = -off;
    if (!*p)
        return 0;
    if (!(p = parse_abbr(p)))
        return -1;
    r->has_dst = 1;
    r->dst_off = r->std_off + 3600;
    if (*p && *p != ',') {
        if (!(p = parse_hms(p, 24, &off)))
            return -1;
        r->dst_off = -off;
    }
    if (!*p) {
        /* No rule: POSIX leaves it to the implementation; glibc and tzcode
         * use the United States' rule, and so do we. */
        r->start = (struct rule_date){'M', 0, 2, 3, 7200};
        r->end = (struct rule_date){'M', 0, 1, 11, 7200};
        return 0;
    }
    if (*p != ',' || !(p = parse_rule_date(p + 1, &r->start)) || *p != ',' ||
        !(p = parse_rule_date(p + 1, &r->end)) || *p)
        return -1;
    return 0;
}

/* ---- TZif ------------------------------------------------------------- */

struct tzif_header {
    unsigned char version; /* 0, '2', '3', '4'... */
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    uint64_t u = (uint64_t)be32(p) << 32 | be32(p + 4);
    return u <= INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
}

static int32_t be32s(const unsigned char *p)
{
    uint32_t u = be32(p);
    return u <= INT32_MAX ? (int32_t)u : -(int32_t)(~u) - 1;
}

/* Reads and checks a header at p[0..len); the body size for times of
 * `tsize` bytes goes to *body. */
static parley_err read_header(const unsigned char *p, size_t len, size_t tsize,
                              struct tzif_header *h, size_t *body)
{
    if (len < TZ_HEADER || memcmp(p, "TZif", 4) != 0)
        return PARLEY_ERR_FORMAT;
    h->version = p[4];
    /* Later versions only ever extend the format compatibly (RFC 9636). */
    if (h->version != 0 && (h->version < '2' || h->version > '9'))
        return PARLEY_ERR_VERSION;
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    if (h->timecnt > TZ_MAX_TIMES || h->typecnt > TZ_MAX_TYPES || h->charcnt > TZ_MAX_CHARS ||
        h->leapcnt > TZ_MAX_LEAPS)
        return PARLEY_ERR_LIMIT;
    if (h->typecnt == 0 || h->charcnt == 0 || (h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
        (h->isstdcnt != 0 && h->isstdcnt != h->typecnt))
        return PARLEY_ERR_FORMAT;
    /* The caps keep this far from overflowing. */
    *body = h->timecnt * (tsize + 1) + h->typecnt * 6 + h->charcnt + h->leapcnt * (tsize + 4) +
            h->isstdcnt + h->isutcnt;
    return len - TZ_HEADER >= *body ? PARLEY_OK : PARLEY_ERR_FORMAT;
}

static int64_t read_time(const unsigned char *p, size_t tsize)
{
    return tsize == 8 ? be64(p) : be32s(p);
}

/* Fills tz's transitions from a body whose size read_header checked. */
static parley_err read_body(const unsigned char *p, size_t tsize, const struct tzif_header *h,
                            struct parley__tz *tz)
{
    const unsigned char *times = p, *idx = times + h->timecnt * tsize;
    const unsigned char *types = idx + h->timecnt, *leaps = types + h->typecnt * 6 + h->charcnt;
    int32_t offs[TZ_MAX_TYPES] = {0};

    for (uint32_t i = 0; i < h->typecnt; i++) {
        const unsigned char *t = types + i * 6;
        offs[i] = be32s(t);
        if (offs[i] < TZ_OFF_MIN || offs[i] > TZ_OFF_MAX || t[4] > 1 || t[5] >= h->charcnt)
            return PARLEY_ERR_FORMAT;
    }
    tz->before = offs[0];
    if (h->timecnt == 0)
        return PARLEY_OK;
    tz->at = parley__mallocarray(h->timecnt, sizeof(*tz->at));
    tz->off = parley__mallocarray(h->timecnt, sizeof(*tz->off));
    if (!tz->at || !tz->off)
        return PARLEY_ERR_NOMEM;
    tz->n = h->timecnt;

    /* Leap-second records ("right/" zones) mean the times count leap
     * seconds; take them out so that lookups use POSIX time. */
    int64_t prev_occ = INT64_MIN;
    int32_t corr = 0;
    uint32_t l = 0;
    for (uint32_t i = 0; i < h->timecnt; i++) {
        int64_t t = read_time(times + i * tsize, tsize);
        if (idx[i] >= h->typecnt || t < -TZ_TIME_LIMIT || t > TZ_TIME_LIMIT)
            return PARLEY_ERR_FORMAT;
        for (; l < h->leapcnt; l++) {
            const unsigned char *r = leaps + l * (tsize + 4);
            int64_t occ = read_time(r, tsize);
            int32_t c = be32s(r + tsize);
            if (occ <= prev_occ || c < -86400 || c > 86400)
                return PARLEY_ERR_FORMAT;
            if (occ > t)
                break;
            prev_occ = occ;
            corr = c;
        }
        tz->at[i] = t - corr;
        tz->off[i] = offs[idx[i]];
        if (i > 0 && tz->at[i] <= tz->at[i - 1])
            return PARLEY_ERR_FORMAT;
    }
    return PARLEY_OK;
}

void parley__tz_free(struct parley__tz *tz)
{
    if (!tz)
        return;
    parley__free(tz->at);
    parley__free(tz->off);
    parley__free(tz);
}

parley_err parley__tz_parse(const void *data, size_t len, struct parley__tz **out)
{
    const unsigned char *p = data;
    struct tzif_header h;
    struct parley__tz *tz = NULL;
    size_t body, tsize = 4;
    parley_err rc;

    if (!data || !out)
        return PARLEY_ERR_INVALID;
    if ((rc = read_header(p, len, 4, &h, &body)) != PARLEY_OK)
        return rc;
    if (h.version != 0) {
        /* Skip the 32-bit data for the 64-bit data that follows. */
        p += TZ_HEADER + body;
        len -= TZ_HEADER + body;
        tsize = 8;
        if ((rc = read_header(p, len, 8, &h, &body)) != PARLEY_OK)
            return rc;
        if (h.version == 0)
            return PARLEY_ERR_FORMAT;
    }
    if (!(tz = parley__calloc(1, sizeof(*tz))))
        return PARLEY_ERR_NOMEM;
    if ((rc = read_body(p + TZ_HEADER, tsize, &h, tz)) != PARLEY_OK)
        goto out;
    if (h.version != 0) {
        /* The footer: a TZ string between newlines, possibly empty. */
        const char *f = (const char *)p + TZ_HEADER + body;
        size_t left = len - TZ_HEADER - body;
        const char *nl = left > 1 && f[0] == '\n' ? memchr(f + 1, '\n', left - 1) : NULL;
        char s[TZ_MAX_FOOTER + 1];
        size_t n = nl ? (size_t)(nl - f - 1) : 0;
        rc = PARLEY_ERR_FORMAT;
        if (!nl || n > TZ_MAX_FOOTER || memchr(f + 1, '\0', n))
            goto out;
        memcpy(s, f + 1, n);
        s[n] = '\0';
        if (n > 0 && parse_posix_tz(s, &tz->rule) != 0)
            goto out;
        tz->has_rule = n > 0;
        rc = PARLEY_OK;
    }
out:
    if (rc != PARLEY_OK)
        parley__tz_free(tz);
    else
        *out = tz;
    return rc;
}

int32_t parley__tz_offset_at(const struct parley__tz *tz, int64_t t)
{
    if (tz->n == 0)
        return tz->has_rule ? rule_offset(&tz->rule, t) : tz->before;
    if (t < tz->at[0])
        return tz->before;
    size_t lo = 0, hi = tz->n; /* at[lo] <= t < at[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->at[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    if (lo == tz->n - 1 && t > tz->at[lo] && tz->has_rule)
        return rule_offset(&tz->rule, t);
    return tz->off[lo];
}

/* ---- Zone files and their cache ---------------------------------------- */

/* Zone names only: nothing that could leave the zone directory. */
static int zone_name_ok(const char *z)
{
    size_t n = strnlen(z, TZ_NAME_MAX + 1);
    /* '.' is not among the characters, so no "." or ".." component. */
    if (n == 0 || n > TZ_NAME_MAX || z[0] == '/' || z[n - 1] == '/' || strstr(z, "//"))
        return 0;
    for (const char *p = z; *p; p++)
        if (!is_alpha(*p) && !is_digit(*p) && !strchr("/_-+", *p))
            return 0;
    return 1;
}

static parley_err zone_load(const char *name, struct parley__tz **out)
{
    const char *dir = getenv("TZDIR");
    char path[4096];
    struct stat st;
    unsigned char *buf = NULL;
    size_t got = 0;
    parley_err rc = PARLEY_ERR_NOTFOUND;
    int fd;

    if (!dir || !*dir)
        dir = "/usr/share/zoneinfo";
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof(path))
        return PARLEY_ERR_LIMIT;
    /* Non-blocking so that a FIFO where a zone should be cannot hang us. */
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
        return PARLEY_ERR_NOTFOUND;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        goto out;
    rc = PARLEY_ERR_LIMIT;
    if (st.st_size > TZ_FILE_MAX)
        goto out;
    rc = PARLEY_ERR_NOMEM;
    if (!(buf = parley__malloc((size_t)st.st_size + 1)))
        goto out;
    rc = PARLEY_ERR_IO;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0)
            goto out;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    rc = parley__tz_parse(buf, got, out);
out:
    parley__free(buf);
    (void)close(fd);
    return rc;
}

/* Zones looked up so far. Entries are written once under the mutex and then
 * published by the release store of cache_len, so lookups of cached zones
 * take no lock. Unknown names are remembered too (tz NULL), but only a few,
 * so that made-up names cannot crowd out real zones. */
struct cache_entry {
    uint32_t hash;
    char name[TZ_NAME_MAX + 1];
    struct parley__tz *tz;
};
static struct cache_entry cache[CACHE_MAX];
static atomic_size_t cache_len;
static size_t cache_missing; /* under cache_mu */
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static const struct cache_entry *cache_find(size_t from, size_t to, uint32_t h, const char *name)
{
    for (size_t i = from; i < to; i++)
        if (cache[i].hash == h && strcmp(cache[i].name, name) == 0)
            return &cache[i];
    return NULL;
}

/* The zone `name`, or NULL when unknown. *owned is set when the zone could
 * not be cached and the caller must free it. */
static const struct parley__tz *zone_get(const char *name, int *owned)
{
    uint32_t h = name_hash(name);
    size_t n = atomic_load_explicit(&cache_len, memory_order_acquire);
    const struct cache_entry *e = cache_find(0, n, h, name);
    struct parley__tz *tz = NULL;
    parley_err rc;

    *owned = 0;
    if (e)
        return e->tz;
    (void)pthread_mutex_lock(&cache_mu);
    size_t len = atomic_load_explicit(&cache_len, memory_order_relaxed);
    if ((e = cache_find(n, len, h, name)) != NULL) {
        (void)pthread_mutex_unlock(&cache_mu);
        return e->tz;
    }
    if (len == CACHE_MAX) {
        /* Full: read without the lock, so other uncached zones do not wait. */
        (void)pthread_mutex_unlock(&cache_mu);
        *owned = 1;
        return zone_load(name, &tz) == PARLEY_OK ? tz : NULL;
    }
    rc = zone_load(name, &tz);
    /* Out of memory or a read error may pass; only a verdict on the name or
     * the file is worth remembering. */
    if (rc == PARLEY_OK || ((rc == PARLEY_ERR_NOTFOUND || rc == PARLEY_ERR_FORMAT ||
                             rc == PARLEY_ERR_VERSION || rc == PARLEY_ERR_LIMIT) &&
                            cache_missing < CACHE_MISSING_MAX)) {
        struct cache_entry *slot = &cache[len];
        slot->hash = h;
        memcpy(slot->name, name, strlen(name) + 1);
        slot->tz = tz;
        cache_missing += tz == NULL;
        atomic_store_explicit(&cache_len, len + 1, memory_order_release);
    } else {
        *owned = 1;
    }
    (void)pthread_mutex_unlock(&cache_mu);
    return tz;
}

int parley_tz_offset(const char *zone, int64_t utc_ms, int *offset_s)
{
    const struct parley__tz *tz;
    int owned;

    if (!zone || !offset_s)
        return -1;
    if (!zone[0] || strcmp(zone, "UTC") == 0) {
        *offset_s = 0;
        return 0;
    }
    if (!zone_name_ok(zone) || !(tz = zone_get(zone, &owned)))
        return -1;
    *offset_s = parley__tz_offset_at(tz, floor_div(utc_ms, 1000));
    if (owned)
        parley__tz_free((struct parley__tz *)tz);
    return 0;
}

int parley_tz_hour(const char *zone, int64_t utc_ms)
{
    int off;
    if (parley_tz_offset(zone, utc_ms, &off) != 0)
        return -1;
    int64_t local = floor_div(utc_ms, 1000) + off;
    return (int)((local - floor_div(local, 86400) * 86400) / 3600);
}
