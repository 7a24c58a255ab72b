/* The detector set: compiles the structured patterns and the bot's declared
 * identifiers into one Hyperscan database, scans a text once, validates the
 * matches (structured.c), adds the context detectors' findings, and keeps the
 * confident, non-overlapping winners in text order. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "parley/text.h"
#include "pii/internal.h"
#include "pii/structured.h"

struct parley_pii {
    hs_database_t *db; /* NULL when nothing needs the scan */
    unsigned types;
    float min_confidence;
    size_t n_builtin;  /* pattern ids below are pii_patterns[] indexes, the rest identifiers */
    bool builtin_only; /* no identifier patterns in db: see may_match() */
};

struct parley_pii_scratch {
    hs_scratch_t *hs;
    struct pii_hits hits;
    uint64_t *cover;         /* a bit per byte of the text: inside a kept finding */
    size_t cover_cap;        /* words in cover */
    parley_pii_finding *tmp; /* room for sort_findings() */
    size_t tmp_cap;
};

static int is_word(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

parley_err parley_pii_create(const parley_pii_options *opts, parley_pii **out, parley_error *err)
{
    static const parley_pii_options defaults = {0, 0.0F, NULL, 0};
    parley_pii *p = NULL;
    const char **exprs = NULL;
    unsigned *flags = NULL, *ids = NULL;
    size_t n = 0, cap;
    hs_compile_error_t *cerr = NULL;
    parley_err rc = PARLEY_OK;

    if (!opts)
        opts = &defaults;
    if (opts->n_identifiers && !opts->identifiers)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot create the personal-data detectors: identifiers missing");
    p = parley__calloc(1, sizeof(*p));
    cap = pii_n_patterns + opts->n_identifiers;
    exprs = parley__calloc(cap ? cap : 1, sizeof(*exprs));
    flags = parley__calloc(cap ? cap : 1, sizeof(*flags));
    ids = parley__calloc(cap ? cap : 1, sizeof(*ids));
    if (!p || !exprs || !flags || !ids) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot create the detectors: out of memory");
        goto out;
    }
    p->types = opts->types ? opts->types & PARLEY_PII_ALL : PARLEY_PII_ALL;
    p->min_confidence = opts->min_confidence > 0.0F ? opts->min_confidence : 0.5F;
    for (size_t i = 0; i < pii_n_patterns; i++) {
        if (!(pii_patterns[i].types & p->types))
            continue;
        exprs[n] = pii_patterns[i].expr;
        flags[n] = pii_patterns[i].flags;
        ids[n] = (unsigned)i;
        n++;
    }
    p->n_builtin = pii_n_patterns;
    p->builtin_only = true;
    if (p->types & PARLEY_PII_BIT(PARLEY_PII_ID)) {
        for (size_t i = 0; i < opts->n_identifiers; i++) {
            const parley_pii_identifier *id = &opts->identifiers[i];
            if (!id->name || !id->pattern || !*id->pattern) {
                rc = parley_error_set(err, PARLEY_ERR_INVALID,
                                      "cannot compile identifier '%s': empty pattern",
                                      id->name ? id->name : "?");
                goto out;
            }
            exprs[n] = id->pattern;
            flags[n] = HS_FLAG_SOM_LEFTMOST | HS_FLAG_UTF8;
            ids[n] = (unsigned)(pii_n_patterns + i);
            n++;
            p->builtin_only = false;
        }
    }
    if (n > 0 && hs_compile_multi(exprs, flags, ids, (unsigned)n, HS_MODE_BLOCK, NULL, &p->db,
                                  &cerr) != HS_SUCCESS) {
        int at = cerr ? cerr->expression : -1;
        char why[256];
        size_t wl;
        (void)snprintf(why, sizeof(why), "%s",
                       cerr && cerr->message ? cerr->message : "unknown error");
        wl = strlen(why);
        if (wl > 0 && why[wl - 1] == '.')
            why[wl - 1] = '\0'; /* our messages end without a full stop */
        if (at >= 0 && (size_t)at < n && ids[at] >= pii_n_patterns)
            rc = parley_error_set(err, PARLEY_ERR_INVALID,
                                  "cannot compile identifier '%s' pattern '%s': %s",
                                  opts->identifiers[ids[at] - pii_n_patterns].name,
                                  opts->identifiers[ids[at] - pii_n_patterns].pattern, why);
        else if (at < 0 && cerr && strstr(why, "memory"))
            rc = parley_error_set(err, PARLEY_ERR_NOMEM, "cannot compile the detectors: %s", why);
        else
            rc = parley_error_set(err, PARLEY_ERR_INVALID, "cannot compile the detectors: %s", why);
        goto out;
    }
out:
    if (cerr)
        (void)hs_free_compile_error(cerr);
    parley__free(exprs);
    parley__free(flags);
    parley__free(ids);
    if (rc != PARLEY_OK) {
        parley_pii_destroy(p);
        return rc;
    }
    *out = p;
    return PARLEY_OK;
}

void parley_pii_destroy(parley_pii *p)
{
    if (!p)
        return;
    if (p->db)
        (void)hs_free_database(p->db);
    parley__free(p);
}

parley_err parley_pii_scratch_create(const parley_pii *p, parley_pii_scratch **out,
                                     parley_error *err)
{
    parley_pii_scratch *s = parley__calloc(1, sizeof(*s));

    if (!s)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot create a scratch: out of memory");
    if (p && p->db && hs_alloc_scratch(p->db, &s->hs) != HS_SUCCESS) {
        parley__free(s);
        return parley_error_set(err, PARLEY_ERR_NOMEM,
                                "cannot create a scratch: hyperscan cannot allocate it");
    }
    *out = s;
    return PARLEY_OK;
}

void parley_pii_scratch_destroy(parley_pii_scratch *s)
{
    if (!s)
        return;
    if (s->hs)
        (void)hs_free_scratch(s->hs);
    parley__free(s->hits.v);
    parley__free(s->cover);
    parley__free(s->tmp);
    parley__free(s);
}

struct scan_ctx {
    const parley_pii *p;
    const char *text;
    size_t len;
    struct pii_hits *hits;
    int oom;
};

static int on_match(unsigned int id, unsigned long long from, unsigned long long to,
                    unsigned int flags, void *arg)
{
    struct scan_ctx *c = arg;
    const parley_pii *p = c->p;
    int ok;

    (void)flags;
    if (id < p->n_builtin) {
        ok = pii_structured_check(pii_patterns[id].kind, c->text, c->len, (size_t)to, p->types,
                                  c->hits);
    } else {
        const unsigned char *t = (const unsigned char *)c->text;
        /* A declared identifier is a whole token: not glued to a letter
         * or digit on either side. */
        if (from >= to || (from > 0 && is_word(t[from]) && is_word(t[from - 1])) ||
            (to < c->len && is_word(t[to - 1]) && is_word(t[to])))
            return 0;
        ok = pii_hits_add(c->hits, PARLEY_PII_ID, (size_t)from, (size_t)to, 0.9F, "id.pattern");
    }
    if (!ok) {
        c->oom = 1;
        return 1;
    }
    return 0;
}

/* Byte classes of 64 bytes, a bit per byte (bit k: byte k). */
struct classes {
    uint64_t digit, run, letter, at, colon;
};

#if defined(__SSE2__)
/* Bit k set for each byte k of `v` in [lo, lo + span). */
static inline unsigned in_range16(__m128i v, char lo, char span)
{
    /* unsigned "x - lo < span" by a signed compare, offset by -128 */
    const __m128i off = _mm_set1_epi8((char)(-lo - 128)), lim = _mm_set1_epi8((char)(span - 128));
    return (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(_mm_add_epi8(v, off), lim));
}

static inline unsigned equal16(__m128i v, char c)
{
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c)));
}
#endif

/* Classifies p[0..64): the phone characters (digits, space and "().-/"),
 * digits, ASCII letters, '@' and ':'. */
static inline void classify64(const unsigned char *p, struct classes *c)
{
    *c = (struct classes){0, 0, 0, 0, 0};
#if defined(__SSE2__)
    for (unsigned k = 0; k < 64; k += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + k));
        c->digit |= (uint64_t)in_range16(v, '0', 10) << k;
        /* '-', '.', '/' and the digits are one range */
        c->run |= (uint64_t)(in_range16(v, '-', 13) | in_range16(v, '(', 2) | equal16(v, ' ')) << k;
        c->letter |= (uint64_t)in_range16(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 26) << k;
        c->at |= (uint64_t)equal16(v, '@') << k;
        c->colon |= (uint64_t)equal16(v, ':') << k;
    }
#else
    for (unsigned k = 0; k < 64; k++) {
        unsigned char b = p[k], l = (unsigned char)(b | 0x20);
        uint64_t bit = (uint64_t)1 << k;
        c->digit |= b >= '0' && b <= '9' ? bit : 0;
        c->run |= (b >= '-' && b <= '9') || b == '(' || b == ')' || b == ' ' ? bit : 0;
        c->letter |= l >= 'a' && l <= 'z' ? bit : 0;
        c->at |= b == '@' ? bit : 0;
        c->colon |= b == ':' ? bit : 0;
    }
#endif
}

/* x shifted k bytes later, the k bytes before it taken from `prev` (the
 * previous 64 bytes' bits). */
static inline uint64_t later(uint64_t x, uint64_t prev, unsigned k)
{
    return x << k | prev >> (64 - k);
}

/* Whether a built-in pattern could match text[0..len) at all
 * (pii_patterns[]): each needs an '@', two ':', two ASCII letters then
 * two digits (an IBAN), or two digits at least five bytes apart with only
 * phone characters (digits, space and "().-/") from one to the other (a
 * card, IMEI, SSN, IPv4 address or phone). Most chat messages have none,
 * and for a short text a Hyperscan call costs more than this look: 64
 * bytes classified at once into bit masks, and the tests done on those.
 * A byte past the text counts as none of these classes. */
static bool may_match(const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    uint64_t prev_digit = 0, prev_run = 0, prev_letter = 0, prev_reach = 0, carry = 0;
    bool colon = false;

    for (size_t at = 0; at < len; at += 64) {
        unsigned char last[64];
        struct classes c;
        uint64_t start, plain, next, reach, run6;
        if (len - at < 64) {
            memset(last, 0, sizeof(last));
            memcpy(last, p + at, len - at);
            classify64(last, &c);
        } else {
            classify64(p + at, &c);
        }
        if (c.at || (c.colon && (colon || (c.colon & (c.colon - 1)))))
            return true;
        colon = colon || c.colon;
        if (later(c.letter, prev_letter, 3) & later(c.letter, prev_letter, 2) &
            later(c.digit, prev_digit, 1) & c.digit)
            return true;
        /* `reach`: the phone characters with a digit at or before them in
         * their run. Adding a bit at each run's start to the run's
         * non-digits carries through the ones before its first digit,
         * flipping them; what did not flip (or is that digit) is reached.
         * The carry out goes on into the next 64 bytes. */
        start = c.run & ~later(c.run, prev_run, 1);
        plain = c.run & ~c.digit;
        next = plain + start;
        reach = next + carry;
        carry = (uint64_t)(next < plain) | (uint64_t)(reach < next);
        reach = c.run & (~(reach ^ plain) | c.digit);
        run6 = c.run;
        for (unsigned k = 1; k <= 5; k++)
            run6 &= later(c.run, prev_run, k);
        if (c.digit & later(reach, prev_reach, 5) & run6)
            return true;
        prev_digit = c.digit;
        prev_run = c.run;
        prev_letter = c.letter;
        prev_reach = reach;
    }
    return false;
}

/* The UTF-8 check, with the ASCII bytes most texts are made of skipped
 * eight at a time. Returns 1 when valid, else 0 with the bad offset. */
static int utf8_ok(const char *text, size_t len, size_t *bad)
{
    size_t i = 0;

    while (i + 8 <= len) {
        uint64_t w;
        memcpy(&w, text + i, sizeof(w));
        if (w & UINT64_C(0x8080808080808080))
            break;
        i += 8;
    }
    while (i < len && !((unsigned char)text[i] & 0x80))
        i++;
    if (i == len)
        return 1;
    if (parley_text_validate(text + i, len - i, bad, NULL) == PARLEY_OK)
        return 1;
    *bad += i;
    return 0;
}

/* Priority order: more confident first, then longer, then earlier. */
static int by_priority(const void *a, const void *b)
{
    const parley_pii_finding *x = a, *y = b;
    size_t lx = x->end - x->start, ly = y->end - y->start;

    if (x->confidence != y->confidence)
        return x->confidence > y->confidence ? -1 : 1;
    if (lx != ly)
        return lx > ly ? -1 : 1;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return (int)x->type - (int)y->type;
}

/* True when x goes before y: by_priority() (prio) or by start. */
static inline bool before(const parley_pii_finding *x, const parley_pii_finding *y, bool prio)
{
    return prio ? by_priority(x, y) < 0 : x->start < y->start;
}

/* A stable sort of v[0..n) (tmp: room for n), as qsort() with those orders
 * gives here (a merge sort), without its indirect call per comparison:
 * insertion sorts of short runs, then merges that copy a pair of runs
 * already in order as it is (the detectors append mostly by start). */
static void sort_findings(parley_pii_finding *v, parley_pii_finding *tmp, size_t n, bool prio)
{
    const size_t run = 16;
    parley_pii_finding *a = v, *b = tmp, *sw;

    for (size_t lo = 0; lo < n; lo += run) {
        size_t hi = lo + run < n ? lo + run : n;
        for (size_t i = lo + 1; i < hi; i++) {
            parley_pii_finding x = v[i];
            size_t j = i;
            for (; j > lo && before(&x, &v[j - 1], prio); j--)
                v[j] = v[j - 1];
            v[j] = x;
        }
    }
    for (size_t w = run; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            if (mid == hi || !before(&a[mid], &a[mid - 1], prio)) {
                memcpy(b + lo, a + lo, (hi - lo) * sizeof(*a));
                continue;
            }
            /* the right one first only when strictly before: stable */
            while (i < mid && j < hi)
                b[k++] = before(&a[j], &a[i], prio) ? a[j++] : a[i++];
            memcpy(b + k, a + i, (mid - i) * sizeof(*a));
            k += mid - i;
            memcpy(b + k, a + j, (hi - j) * sizeof(*a));
        }
        sw = a;
        a = b;
        b = sw;
    }
    if (a != v)
        memcpy(v, a, n * sizeof(*v));
}

/* Sets (set) or tests for any set bit (!set) in bits [lo, hi) of `w`. */
static bool cover_span(uint64_t *w, size_t lo, size_t hi, bool set)
{
    while (lo < hi) {
        size_t at = lo / 64, sh = lo % 64, n = hi - lo < 64 - sh ? hi - lo : 64 - sh;
        uint64_t m = (n == 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1)) << sh;
        if (set)
            w[at] |= m;
        else if (w[at] & m)
            return true;
        lo += n;
    }
    return false;
}

/* Keeps, greedily in priority order, each finding that overlaps none kept
 * before it. The kept ones are marked in a bitmap of the text's bytes, so
 * the overlap test costs the finding's length over 64, whatever the
 * number of findings (a sorted array of the kept ones cost a shift of
 * half of it per insertion); the losers are marked with a negative
 * confidence and dropped. Returns 0 when out of memory. */
static int resolve(parley_pii_scratch *s, size_t len)
{
    struct pii_hits *h = &s->hits;
    size_t k = 0, words = len / 64 + 1;

    if (h->n < 2)
        return 1;
    if (s->cover_cap < words) {
        uint64_t *c = parley__realloc(s->cover, words * sizeof(*c));
        if (!c)
            return 0;
        s->cover = c;
        s->cover_cap = words;
    }
    if (s->tmp_cap < h->n) {
        parley_pii_finding *t = parley__mallocarray(h->cap, sizeof(*t));
        if (!t)
            return 0;
        parley__free(s->tmp);
        s->tmp = t;
        s->tmp_cap = h->cap;
    }
    memset(s->cover, 0, words * sizeof(*s->cover));
    sort_findings(h->v, s->tmp, h->n, true);
    for (size_t i = 0; i < h->n; i++) {
        parley_pii_finding *f = &h->v[i];
        if (cover_span(s->cover, f->start, f->end, false)) {
            f->confidence = -1.0F;
            continue;
        }
        (void)cover_span(s->cover, f->start, f->end, true);
    }
    for (size_t i = 0; i < h->n; i++)
        if (h->v[i].confidence >= 0.0F)
            h->v[k++] = h->v[i];
    h->n = k;
    sort_findings(h->v, s->tmp, h->n, false);
    return 1;
}

parley_err parley_pii_detect(const parley_pii *p, parley_pii_scratch *s, const char *text,
                             size_t len, const parley_pii_known *known, size_t n_known,
                             const parley_pii_finding **findings, size_t *n, parley_error *err)
{
    struct scan_ctx ctx;
    size_t bad = 0, k = 0;

    *n = 0;
    *findings = NULL;
    if (!p || !s || (!text && len))
        return parley_error_set(err, PARLEY_ERR_INVALID, "cannot scan: no detectors or scratch");
    if (p->db && !s->hs)
        return parley_error_set(err, PARLEY_ERR_INVALID,
                                "cannot scan: the scratch was made for other detectors");
    s->hits.n = 0;
    if (len > PARLEY_PII_MAX_TEXT)
        return parley_error_set(err, PARLEY_ERR_LIMIT,
                                "cannot scan a text of %zu bytes: the limit is %u", len,
                                PARLEY_PII_MAX_TEXT);
    if (!utf8_ok(text, len, &bad))
        return parley_error_set(err, PARLEY_ERR_UTF8,
                                "cannot scan the text: invalid UTF-8 at byte %zu", bad);
    ctx = (struct scan_ctx){p, text, len, &s->hits, 0};
    if (p->db && len > 0 && (!p->builtin_only || may_match(text, len))) {
        hs_error_t hr = hs_scan(p->db, text, (unsigned)len, 0, s->hs, on_match, &ctx);
        if (hr != HS_SUCCESS && !(hr == HS_SCAN_TERMINATED && ctx.oom)) {
            s->hits.n = 0;
            if (hr == HS_NOMEM)
                return parley_error_set(err, PARLEY_ERR_NOMEM,
                                        "cannot scan the text: out of memory");
            if (hr == HS_SCRATCH_IN_USE)
                return parley_error_set(err, PARLEY_ERR_INVALID,
                                        "cannot scan the text: its scratch is in use by another "
                                        "thread (make one per thread)");
            return parley_error_set(err, PARLEY_ERR_INVALID,
                                    "cannot scan the text: hyperscan error %d (is the scratch "
                                    "made for these detectors?)",
                                    (int)hr);
        }
    }
    if (ctx.oom || !pii_detect_context(text, len, p->types, known, n_known, &s->hits)) {
        s->hits.n = 0;
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot scan the text: out of memory");
    }
    for (size_t i = 0; i < s->hits.n; i++) {
        const parley_pii_finding *f = &s->hits.v[i];
        if (f->confidence >= p->min_confidence && (p->types & PARLEY_PII_BIT(f->type)) &&
            f->start < f->end && f->end <= len)
            s->hits.v[k++] = *f;
    }
    s->hits.n = k;
    if (!resolve(s, len)) {
        s->hits.n = 0;
        return parley_error_set(err, PARLEY_ERR_NOMEM, "cannot scan the text: out of memory");
    }
    *findings = s->hits.v;
    *n = s->hits.n;
    return PARLEY_OK;
}
