/* bench_pii: accuracy and speed of Parley's personal-data detectors, with
 * redact-pii's spans and throughput (bench/pii/redact_pii.mjs) scored the
 * same way in the same run; bench/pii.sh drives it, docs/benchmarks.md
 * ("Personal data") records the results and the rules.
 *
 * Reads the presidio-research dataset (a JSON list of {full_text, spans:
 * [{entity_type, start_position, end_position}]}, offsets in code points),
 * runs parley_pii_detect on every text, and scores each type (precision,
 * recall, F1) against the gold spans: a prediction matches an unmatched
 * gold span of the same type when they overlap by at least half of the
 * longer of the two. Then times one thread over the texts joined with
 * newlines and repeated to MB megabytes, with the structured detectors only
 * and with all of them. Prints Markdown tables on stdout. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <jansson.h>

#include "parley/pii.h"

static const char usage[] =
    "usage: bench_pii [--peer SPANS.jsonl --peer-stats STATS.json] [--mb MB]\n"
    "                 [--errors FILE] DATASET.json\n";

/* The types scored: the dataset's labels and both systems' types map here. */
enum cat {
    CAT_CARD,
    CAT_IBAN,
    CAT_SSN,
    CAT_PHONE,
    CAT_EMAIL,
    CAT_IP,
    CAT_NAME,
    CAT_ADDRESS,
    CAT_DATE,
    CAT_ADDRESS_JOINED, /* for information: an address's gold pieces joined */
    N_CATS
};

static const char *const cat_names[N_CATS] = {
    "card", "iban", "ssn", "phone", "email", "ip", "name", "address", "date", "address, joined",
};

struct label {
    const char *label;
    int cat;
};

/* presidio-research's entity types; the others (LOCATION, ORGANIZATION,
 * TITLE, PREFIX, DOMAIN_NAME, US_DRIVER_LICENSE...) are not scored. */
static const struct label gold_labels[] = {
    {"CREDIT_CARD", CAT_CARD},   {"IBAN_CODE", CAT_IBAN},      {"US_SSN", CAT_SSN},
    {"PHONE_NUMBER", CAT_PHONE}, {"EMAIL_ADDRESS", CAT_EMAIL}, {"IP_ADDRESS", CAT_IP},
    {"PERSON", CAT_NAME},        {"ADDRESS", CAT_ADDRESS},     {"STREET_ADDRESS", CAT_ADDRESS},
    {"DATE_TIME", CAT_DATE},
};

/* redact-pii 3.4.0's replacement labels; ZIPCODE, DIGITS, URL, USERNAME,
 * PASSWORD and CREDENTIALS name nothing the dataset labels. */
static const struct label peer_labels[] = {
    {"CREDIT_CARD_NUMBER", CAT_CARD}, {"US_SOCIAL_SECURITY_NUMBER", CAT_SSN},
    {"PHONE_NUMBER", CAT_PHONE},      {"EMAIL_ADDRESS", CAT_EMAIL},
    {"IP_ADDRESS", CAT_IP},           {"PERSON_NAME", CAT_NAME},
    {"STREET_ADDRESS", CAT_ADDRESS},
};

/* Parley's types; imei and declared identifiers are not in the dataset. */
static int parley_cat(parley_pii_type t)
{
    switch (t) {
    case PARLEY_PII_CARD:
        return CAT_CARD;
    case PARLEY_PII_IBAN:
        return CAT_IBAN;
    case PARLEY_PII_SSN:
        return CAT_SSN;
    case PARLEY_PII_PHONE:
        return CAT_PHONE;
    case PARLEY_PII_EMAIL:
        return CAT_EMAIL;
    case PARLEY_PII_IP:
        return CAT_IP;
    case PARLEY_PII_NAME:
        return CAT_NAME;
    case PARLEY_PII_ADDRESS:
        return CAT_ADDRESS;
    case PARLEY_PII_DOB:
        return CAT_DATE;
    default:
        return -1;
    }
}

/* Structured types: validated patterns, no context. */
#define STRUCTURED_TYPES                                                                           \
    (PARLEY_PII_BIT(PARLEY_PII_CARD) | PARLEY_PII_BIT(PARLEY_PII_IBAN) |                           \
     PARLEY_PII_BIT(PARLEY_PII_SSN) | PARLEY_PII_BIT(PARLEY_PII_PHONE) |                           \
     PARLEY_PII_BIT(PARLEY_PII_EMAIL) | PARLEY_PII_BIT(PARLEY_PII_IP) |                            \
     PARLEY_PII_BIT(PARLEY_PII_IMEI) | PARLEY_PII_BIT(PARLEY_PII_ID))

/* Block size of the throughput scan of the big text (cut after a newline). */
#define BLOCK_BYTES (1024u * 1024u)

/* Each throughput figure is the best of this many passes. */
#define TIMED_PASSES 2

struct span {
    int cat;
    size_t start, end; /* bytes into the text */
};

struct spans {
    struct span *v;
    size_t n, cap;
};

struct doc {
    const char *text; /* borrowed from the parsed dataset */
    size_t len;
    struct spans gold, peer;
    struct spans places; /* gold LOCATION spans, to join an address's pieces */
};

struct counts {
    size_t gold, pred, tp;
};

/* Prints "bench_pii: MESSAGE" on stderr. */
static void complain(const char *fmt, ...) PARLEY_PRINTF(1, 2);
static void complain(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)fputs("bench_pii: ", stderr);
    (void)vfprintf(stderr, fmt, ap);
    (void)fputc('\n', stderr);
    va_end(ap);
}

/* printf to stdout; a failed write shows in the exit status via ferror. */
static void out(const char *fmt, ...) PARLEY_PRINTF(1, 2);
static void out(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)vprintf(fmt, ap);
    va_end(ap);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Peak resident set size so far, in MB (10^6 bytes). */
static double peak_rss_mb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0.0;
    return (double)ru.ru_maxrss * 1024.0 / 1e6;
}

static int lookup(const struct label *t, size_t n, const char *label)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].label, label) == 0)
            return t[i].cat;
    return -1;
}

static int spans_add(struct spans *s, int cat, size_t start, size_t end)
{
    if (s->n == s->cap) {
        size_t ncap = s->cap ? 2 * s->cap : 8;
        struct span *v = realloc(s->v, ncap * sizeof(*v));
        if (!v)
            return -1;
        s->v = v;
        s->cap = ncap;
    }
    s->v[s->n++] = (struct span){cat, start, end};
    return 0;
}

/* Byte offset of code point `cp` in `text[0..len)` (len if past the end). */
static size_t cp_to_byte(const char *text, size_t len, size_t cp)
{
    size_t b = 0;
    for (size_t i = 0; i < cp && b < len; i++) {
        b++;
        while (b < len && ((unsigned char)text[b] & 0xC0u) == 0x80u)
            b++;
    }
    return b;
}

static int span_cmp(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Whether `text[a..b)` holds no letter or digit (ASCII or not). */
static int only_punct(const char *text, size_t a, size_t b)
{
    for (size_t i = a; i < b; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x80 || (c >= '0' && c <= '9') || ((c | 0x20u) >= 'a' && (c | 0x20u) <= 'z'))
            return 0;
    }
    return 1;
}

/* Appends to `s` one CAT_ADDRESS_JOINED span per run of its CAT_ADDRESS
 * spans that follow each other with only punctuation, white space or
 * `places` (may be NULL) between them, from the run's first address piece
 * to its last. */
static int join_addresses(const char *text, struct spans *s, const struct spans *places)
{
    struct spans all = {NULL, 0, 0};
    size_t n_addr = 0;
    int rc = -1;

    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].cat == CAT_ADDRESS &&
            spans_add(&all, CAT_ADDRESS, s->v[i].start, s->v[i].end) == 0)
            n_addr++;
    if (n_addr == 0) {
        rc = 0;
        goto out;
    }
    for (size_t i = 0; places && i < places->n; i++)
        if (spans_add(&all, -1, places->v[i].start, places->v[i].end) != 0)
            goto out;
    qsort(all.v, all.n, sizeof(*all.v), span_cmp);
    for (size_t i = 0; i < all.n;) {
        size_t end = all.v[i].end, first = SIZE_MAX, last = 0, j = i;
        for (; j < all.n &&
               (j == i || all.v[j].start <= end || only_punct(text, end, all.v[j].start));
             j++) {
            if (all.v[j].end > end)
                end = all.v[j].end;
            if (all.v[j].cat == CAT_ADDRESS) {
                if (first == SIZE_MAX)
                    first = all.v[j].start;
                if (all.v[j].end > last)
                    last = all.v[j].end;
            }
        }
        if (first != SIZE_MAX && spans_add(s, CAT_ADDRESS_JOINED, first, last) != 0)
            goto out;
        i = j;
    }
    rc = 0;
out:
    free(all.v);
    return rc;
}

/* Fills `docs[0..n)` from the dataset's JSON list `root`. */
static int docs_load(json_t *root, struct doc *docs)
{
    size_t i;
    json_t *item;

    json_array_foreach(root, i, item)
    {
        json_t *text = json_object_get(item, "full_text");
        json_t *spans = json_object_get(item, "spans");
        size_t j;
        json_t *sp;

        if (!json_is_string(text) || !json_is_array(spans)) {
            complain("item %zu: no full_text or spans", i);
            return -1;
        }
        docs[i].text = json_string_value(text);
        docs[i].len = json_string_length(text);
        json_array_foreach(spans, j, sp)
        {
            const char *type = json_string_value(json_object_get(sp, "entity_type"));
            json_t *s = json_object_get(sp, "start_position");
            json_t *e = json_object_get(sp, "end_position");
            if (!type || !json_is_integer(s) || !json_is_integer(e) || json_integer_value(s) < 0 ||
                json_integer_value(e) < json_integer_value(s)) {
                complain("item %zu span %zu: bad entity_type or positions", i, j);
                return -1;
            }
            int cat = lookup(gold_labels, sizeof(gold_labels) / sizeof(gold_labels[0]), type);
            int place = strcmp(type, "LOCATION") == 0;
            if (cat < 0 && !place)
                continue;
            size_t bs = cp_to_byte(docs[i].text, docs[i].len, (size_t)json_integer_value(s));
            size_t be = cp_to_byte(docs[i].text, docs[i].len, (size_t)json_integer_value(e));
            if (spans_add(place ? &docs[i].places : &docs[i].gold, cat, bs, be) != 0)
                return -1;
        }
        if (join_addresses(docs[i].text, &docs[i].gold, &docs[i].places) != 0)
            return -1;
    }
    return 0;
}

/* Reads redact-pii's spans: one JSON line {"i": N, "spans": [[label, start,
 * end], ...]} per text, byte offsets. */
static int peer_load(const char *path, struct doc *docs, size_t n_docs)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    int rc = -1;

    if (!f) {
        complain("cannot open '%s'", path);
        return -1;
    }
    while (getline(&line, &cap, f) >= 0) {
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        json_t *spans = json_object_get(o, "spans");
        json_int_t i = json_integer_value(json_object_get(o, "i"));
        size_t j;
        json_t *sp;
        int bad = !json_is_array(spans) || i < 0 || (size_t)i >= n_docs;

        lineno++;
        json_array_foreach(spans, j, sp)
        {
            const char *label = json_string_value(json_array_get(sp, 0));
            json_int_t s = json_integer_value(json_array_get(sp, 1));
            json_int_t e = json_integer_value(json_array_get(sp, 2));
            if (bad || !label || s < 0 || e < s || (size_t)e > docs[i].len) {
                bad = 1;
                break;
            }
            int cat = lookup(peer_labels, sizeof(peer_labels) / sizeof(peer_labels[0]), label);
            if (cat >= 0 && spans_add(&docs[i].peer, cat, (size_t)s, (size_t)e) != 0)
                bad = 1;
        }
        json_decref(o);
        if (!bad && join_addresses(docs[i].text, &docs[i].peer, NULL) != 0)
            bad = 1;
        if (bad) {
            complain("'%s' line %zu: not {\"i\": N, \"spans\": [[label, start, end]...]}", path,
                     lineno);
            goto out;
        }
    }
    if (ferror(f)) {
        complain("cannot read '%s'", path);
        goto out;
    }
    rc = 0;
out:
    free(line);
    (void)fclose(f);
    return rc;
}

static size_t overlap(const struct span *a, const struct span *b)
{
    size_t s = a->start > b->start ? a->start : b->start;
    size_t e = a->end < b->end ? a->end : b->end;
    return e > s ? e - s : 0;
}

/* One miss as a line "SYSTEM<TAB>FP|FN<TAB>TYPE<TAB>TEXT INDEX<TAB>VALUE",
 * with the value's tabs, line breaks and backslashes escaped. */
static void put_miss(FILE *f, const char *system, const char *kind, int cat, size_t idx,
                     const char *v, size_t n)
{
    (void)fprintf(f, "%s\t%s\t%s\t%zu\t", system, kind, cat_names[cat], idx);
    for (size_t i = 0; i < n; i++) {
        switch (v[i]) {
        case '\t':
            (void)fputs("\\t", f);
            break;
        case '\n':
            (void)fputs("\\n", f);
            break;
        case '\r':
            (void)fputs("\\r", f);
            break;
        case '\\':
            (void)fputs("\\\\", f);
            break;
        default:
            (void)fputc(v[i], f);
        }
    }
    (void)fputc('\n', f);
}

/* Counts one text's predictions against its gold spans. Each prediction
 * takes the unmatched gold span of its type it overlaps most, if that
 * overlap covers at least half of the longer of the two. `used` has room
 * for gold->n flags. Writes the misses to `errs` (may be NULL). */
static void score(const struct doc *d, size_t idx, const struct spans *pred, const char *system,
                  struct counts *c, unsigned char *used, FILE *errs)
{
    memset(used, 0, d->gold.n);
    for (size_t g = 0; g < d->gold.n; g++)
        c[d->gold.v[g].cat].gold++;
    for (size_t p = 0; p < pred->n; p++) {
        const struct span *ps = &pred->v[p];
        size_t best = 0, best_g = 0;
        c[ps->cat].pred++;
        for (size_t g = 0; g < d->gold.n; g++) {
            const struct span *gs = &d->gold.v[g];
            size_t ov = overlap(ps, gs);
            size_t longer = ps->end - ps->start > gs->end - gs->start ? ps->end - ps->start
                                                                      : gs->end - gs->start;
            if (used[g] || gs->cat != ps->cat || 2 * ov < longer || ov <= best)
                continue;
            best = ov;
            best_g = g;
        }
        if (best > 0) {
            used[best_g] = 1;
            c[ps->cat].tp++;
        } else if (errs) {
            put_miss(errs, system, "FP", ps->cat, idx, d->text + ps->start, ps->end - ps->start);
        }
    }
    for (size_t g = 0; errs && g < d->gold.n; g++) {
        const struct span *gs = &d->gold.v[g];
        if (!used[g])
            put_miss(errs, system, "FN", gs->cat, idx, d->text + gs->start, gs->end - gs->start);
    }
}

static int is_word_byte(unsigned char ch)
{
    return ch >= 0x80 || (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z');
}

/* The category of the first span of `s` (joined addresses aside) that
 * overlaps bytes [a, b), or -1. */
static int cat_at(const struct spans *s, size_t a, size_t b)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].cat != CAT_ADDRESS_JOINED && s->v[i].start < b && a < s->v[i].end)
            return s->v[i].cat;
    return -1;
}

/* Token-level counts, the way presidio-research's evaluator scores this
 * dataset: every word (a run of letters and digits; any non-ASCII byte
 * counts as a letter) has the gold type of the span it lies in and the
 * predicted type of the finding it lies in; a word is a true positive when
 * both agree, however the spans were cut. */
static void score_tokens(const struct doc *d, const struct spans *pred, struct counts *c)
{
    size_t i = 0;
    while (i < d->len) {
        size_t a;
        int g, p;
        if (!is_word_byte((unsigned char)d->text[i])) {
            i++;
            continue;
        }
        for (a = i; i < d->len && is_word_byte((unsigned char)d->text[i]); i++) {
        }
        g = cat_at(&d->gold, a, i);
        p = cat_at(pred, a, i);
        if (g >= 0)
            c[g].gold++;
        if (p >= 0)
            c[p].pred++;
        if (g >= 0 && g == p)
            c[g].tp++;
    }
}

/* Parley's findings on every text, scored into `c`. */
static int score_parley(const parley_pii *p, parley_pii_scratch *s, const struct doc *docs,
                        size_t n, struct counts *c, struct counts *tok, unsigned char *used,
                        FILE *errs)
{
    parley_error err = PARLEY_ERROR_INIT;
    struct spans pred = {NULL, 0, 0};
    int rc = -1;

    for (size_t i = 0; i < n; i++) {
        const parley_pii_finding *f;
        size_t nf;
        if (parley_pii_detect(p, s, docs[i].text, docs[i].len, NULL, 0, &f, &nf, &err) !=
            PARLEY_OK) {
            complain("text %zu: %s", i, err.msg);
            goto out;
        }
        pred.n = 0;
        for (size_t k = 0; k < nf; k++) {
            int cat = parley_cat(f[k].type);
            if (cat >= 0 && spans_add(&pred, cat, f[k].start, f[k].end) != 0)
                goto out;
        }
        score_tokens(&docs[i], &pred, tok);
        if (join_addresses(docs[i].text, &pred, NULL) != 0)
            goto out;
        score(&docs[i], i, &pred, "parley", c, used, errs);
    }
    rc = 0;
out:
    free(pred.v);
    return rc;
}

static double ratio(size_t a, size_t b)
{
    return b ? (double)a / (double)b : 0.0;
}

static double f1(const struct counts *c)
{
    double p = ratio(c->tp, c->pred), r = ratio(c->tp, c->gold);
    return p + r > 0.0 ? 2.0 * p * r / (p + r) : 0.0;
}

/* "0.973" or "–" when there is nothing to divide by. */
static const char *fmt3(char *buf, size_t a, size_t b)
{
    if (b == 0)
        return "–";
    (void)snprintf(buf, 16, "%.3f", ratio(a, b));
    return buf;
}

/* "yes", "no" or a tie: both perfect is as good as it gets, and meets the bar. */
static const char *better_word(const struct counts *parley, const struct counts *peer)
{
    const double fp = f1(parley), fr = f1(peer);
    if (fp > 0.9995 && fr > 0.9995)
        return "tie (both 1.000)";
    return fp > fr ? "yes" : "no";
}

static const char *fmt_f1(char *buf, const struct counts *c)
{
    (void)snprintf(buf, 16, "%.3f", f1(c));
    return buf;
}

/* Whether redact-pii has a detector for `cat`. */
static int peer_detects(int cat)
{
    if (cat == CAT_ADDRESS_JOINED)
        cat = CAT_ADDRESS;
    for (size_t i = 0; i < sizeof(peer_labels) / sizeof(peer_labels[0]); i++)
        if (peer_labels[i].cat == cat)
            return 1;
    return 0;
}

/* The texts joined with newlines, repeated to at least `target` bytes. */
static char *big_text(const struct doc *docs, size_t n, size_t target, size_t *len)
{
    size_t round = 0, rounds, pos = 0;
    char *buf;

    for (size_t i = 0; i < n; i++)
        round += docs[i].len + 1;
    if (round == 0)
        return NULL;
    rounds = (target + round - 1) / round;
    buf = malloc(rounds * round);
    if (!buf)
        return NULL;
    for (size_t r = 0; r < rounds; r++)
        for (size_t i = 0; i < n; i++) {
            memcpy(buf + pos, docs[i].text, docs[i].len);
            pos += docs[i].len;
            buf[pos++] = '\n';
        }
    *len = pos;
    return buf;
}

struct timing {
    double seconds;
    size_t bytes, findings;
};

/* One pass over `text` in blocks of at most BLOCK_BYTES cut after a
 * newline, or (blocks == 0) one call per text of `docs`, `rounds` times. */
static int run_pass(const parley_pii *p, parley_pii_scratch *s, const char *text, size_t len,
                    const struct doc *docs, size_t n_docs, size_t rounds, struct timing *t)
{
    parley_error err = PARLEY_ERROR_INIT;
    const parley_pii_finding *f;
    size_t nf;
    double t0 = now_s();

    t->bytes = t->findings = 0;
    if (text) {
        for (size_t pos = 0; pos < len;) {
            size_t end = pos + BLOCK_BYTES < len ? pos + BLOCK_BYTES : len;
            if (end < len) {
                const char *nl = NULL;
                for (size_t k = end; k > pos && !nl; k--)
                    if (text[k - 1] == '\n')
                        nl = text + k;
                if (nl)
                    end = (size_t)(nl - text);
            }
            if (parley_pii_detect(p, s, text + pos, end - pos, NULL, 0, &f, &nf, &err) !=
                PARLEY_OK) {
                complain("block at %zu: %s", pos, err.msg);
                return -1;
            }
            t->findings += nf;
            t->bytes += end - pos;
            pos = end;
        }
    } else {
        for (size_t r = 0; r < rounds; r++)
            for (size_t i = 0; i < n_docs; i++) {
                if (parley_pii_detect(p, s, docs[i].text, docs[i].len, NULL, 0, &f, &nf, &err) !=
                    PARLEY_OK) {
                    complain("text %zu: %s", i, err.msg);
                    return -1;
                }
                t->findings += nf;
                t->bytes += docs[i].len + 1;
            }
    }
    t->seconds = now_s() - t0;
    return 0;
}

/* run_pass() TIMED_PASSES times; keeps the fastest. */
static int run_best(const parley_pii *p, parley_pii_scratch *s, const char *text, size_t len,
                    const struct doc *docs, size_t n_docs, size_t rounds, struct timing *t)
{
    struct timing one;
    for (int i = 0; i < TIMED_PASSES; i++) {
        if (run_pass(p, s, text, len, docs, n_docs, rounds, &one) != 0)
            return -1;
        if (i == 0 || one.seconds < t->seconds)
            *t = one;
    }
    return 0;
}

static double mb_s(const struct timing *t)
{
    return t->seconds > 0.0 ? (double)t->bytes / 1e6 / t->seconds : 0.0;
}

/* redact-pii's throughput line (bench/pii/redact_pii.mjs). */
struct peer_stats {
    double mb_per_s, seconds;
    json_int_t bytes, unaligned;
    const char *version;
    json_t *root;
};

static int peer_stats_load(const char *path, struct peer_stats *ps)
{
    json_error_t jerr;
    ps->root = json_load_file(path, 0, &jerr);
    if (!ps->root) {
        complain("cannot read '%s': %s", path, jerr.text);
        return -1;
    }
    ps->mb_per_s = json_number_value(json_object_get(ps->root, "mb_per_s"));
    ps->seconds = json_number_value(json_object_get(ps->root, "seconds"));
    ps->bytes = json_integer_value(json_object_get(ps->root, "bytes"));
    ps->unaligned = json_integer_value(json_object_get(ps->root, "unaligned"));
    ps->version = json_string_value(json_object_get(ps->root, "version"));
    if (!(ps->mb_per_s > 0.0) || !ps->version) {
        complain("'%s': no mb_per_s or version", path);
        return -1;
    }
    return 0;
}

static const char *pass(int ok)
{
    return ok ? "**PASS**" : "**FAIL**";
}

int main(int argc, char **argv)
{
    parley_error err = PARLEY_ERROR_INIT;
    const char *dataset = NULL, *peer = NULL, *peer_stats_path = NULL, *errors = NULL;
    struct peer_stats ps = {0.0, 0.0, 0, 0, NULL, NULL};
    parley_pii *all = NULL, *structured = NULL;
    parley_pii_scratch *s_all = NULL, *s_structured = NULL;
    struct counts cp[N_CATS], cr[N_CATS], tp_tok[N_CATS], tr_tok[N_CATS];
    struct doc *docs = NULL;
    unsigned char *used = NULL;
    json_t *root = NULL;
    FILE *errs = NULL;
    char *big = NULL;
    size_t n_docs = 0, big_len = 0, max_gold = 1;
    double mb = 100.0;
    int rc = 1;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
            return fputs(usage, stdout) < 0;
        if (i + 1 < argc && strcmp(a, "--peer") == 0) {
            peer = argv[++i];
        } else if (i + 1 < argc && strcmp(a, "--peer-stats") == 0) {
            peer_stats_path = argv[++i];
        } else if (i + 1 < argc && strcmp(a, "--errors") == 0) {
            errors = argv[++i];
        } else if (i + 1 < argc && strcmp(a, "--mb") == 0) {
            char *end;
            mb = strtod(argv[++i], &end);
            if (*end != '\0' || !(mb >= 1.0 && mb <= 4096.0)) {
                complain("--mb must be in [1, 4096], not '%s'", argv[i]);
                return 2;
            }
        } else if (a[0] != '-' && !dataset) {
            dataset = a;
        } else {
            (void)fputs(usage, stderr);
            return 2;
        }
    }
    if (!dataset || !peer != !peer_stats_path) {
        (void)fputs(usage, stderr);
        return 2;
    }

    json_error_t jerr;
    root = json_load_file(dataset, 0, &jerr);
    if (!root || !json_is_array(root)) {
        complain("cannot read dataset '%s': %s", dataset, root ? "not a list" : jerr.text);
        goto out;
    }
    n_docs = json_array_size(root);
    docs = calloc(n_docs ? n_docs : 1, sizeof(*docs));
    if (!docs || docs_load(root, docs) != 0)
        goto out;
    if (peer && (peer_load(peer, docs, n_docs) != 0 || peer_stats_load(peer_stats_path, &ps) != 0))
        goto out;
    for (size_t i = 0; i < n_docs; i++)
        if (docs[i].gold.n > max_gold)
            max_gold = docs[i].gold.n;
    used = malloc(max_gold);
    if (!used)
        goto out;
    if (errors && !(errs = fopen(errors, "w"))) {
        complain("cannot write '%s'", errors);
        goto out;
    }

    parley_pii_options o_structured = {STRUCTURED_TYPES, 0.0f, NULL, 0};
    if (parley_pii_create(NULL, &all, &err) != PARLEY_OK ||
        parley_pii_scratch_create(all, &s_all, &err) != PARLEY_OK ||
        parley_pii_create(&o_structured, &structured, &err) != PARLEY_OK ||
        parley_pii_scratch_create(structured, &s_structured, &err) != PARLEY_OK) {
        complain("cannot create the detectors: %s", err.msg);
        goto out;
    }

    /* Accuracy. */
    memset(cp, 0, sizeof(cp));
    memset(cr, 0, sizeof(cr));
    memset(tp_tok, 0, sizeof(tp_tok));
    memset(tr_tok, 0, sizeof(tr_tok));
    double t_acc = now_s();
    if (score_parley(all, s_all, docs, n_docs, cp, tp_tok, used, errs) != 0)
        goto out;
    t_acc = now_s() - t_acc;
    if (peer)
        for (size_t i = 0; i < n_docs; i++) {
            score_tokens(&docs[i], &docs[i].peer, tr_tok);
            score(&docs[i], i, &docs[i].peer, "redact-pii", cr, used, errs);
        }

    out("### Accuracy: %zu texts (presidio-research `generated_large.json`)\n\n", n_docs);
    out("| type | gold spans | Parley P | Parley R | Parley F1 | redact-pii P | redact-pii R | "
        "redact-pii F1 | Parley better? |\n");
    out("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
    for (int c = 0; c < N_CATS; c++) {
        char b1[16], b2[16], b3[16], b4[16], b5[16];
        const int peer_has = peer && peer_detects(c);
        const char *better = peer_has ? better_word(&cp[c], &cr[c]) : "–";
        out("| %s%s | %zu | %s | %s | %.3f | %s | %s | %s | %s |\n", cat_names[c],
            c == CAT_DATE             ? " (dob)¹"
            : c == CAT_ADDRESS_JOINED ? "²"
                                      : "",
            cp[c].gold, fmt3(b1, cp[c].tp, cp[c].pred), fmt3(b2, cp[c].tp, cp[c].gold), f1(&cp[c]),
            peer_has ? fmt3(b3, cr[c].tp, cr[c].pred) : "–",
            peer_has ? fmt3(b4, cr[c].tp, cr[c].gold) : "–", peer_has ? fmt_f1(b5, &cr[c]) : "–",
            better);
    }
    out("\n¹ For information: gold DATE_TIME is any date or time; Parley's dob fires only "
        "with a birth context word.\n\n");
    out("² For information: the gold ADDRESS pieces of one address (house number, street, "
        "suite, postcode) that follow each other with only punctuation, spaces or gold LOCATION "
        "spans between them joined into one span, and each system's adjacent address findings "
        "likewise.\n\n");
    if (cp[CAT_NAME].pred + cp[CAT_ADDRESS].pred + cp[CAT_DATE].pred == 0) {
        complain("the context detectors found no name, address or date of birth at all: "
                 "are they linked into this binary?");
        out("**Warning: the context detectors found no name, address or date of birth at all "
            "(%zu labeled names and addresses): check that they are linked in.**\n\n",
            cp[CAT_NAME].gold + cp[CAT_ADDRESS].gold);
    }
    if (peer)
        out("redact-pii's spans come from aligning its output with its input; %lld of %zu texts "
            "did not align (scored as finding nothing).\n\n",
            (long long)ps.unaligned, n_docs);
    out("#### Accuracy per word (presidio-research's own evaluation method)\n\n"
        "Every word (letters and digits) takes the type of the gold span and of the finding it "
        "lies in; P, R and F1 count words, so how a system cuts an address into spans does not "
        "matter.\n\n");
    out("| type | gold words | Parley P | Parley R | Parley F1 | redact-pii P | redact-pii R | "
        "redact-pii F1 | Parley better? |\n");
    out("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
    /* The bars are judged per word, the dataset authors' own method: per span, the
     * dataset labels addresses of the same layout sometimes whole and sometimes as
     * pieces (bench/pii_labels.py counts them), which no detector can follow. */
    int bar_f1_struct = 1, bar_f1_context = 1, bar_better = 1;
    for (int c = 0; c < N_CATS; c++) {
        char b1[16], b2[16], b3[16], b4[16], b5[16];
        const int peer_has = peer && peer_detects(c);
        if (c == CAT_ADDRESS_JOINED || c == CAT_DATE)
            continue;
        const char *better = peer_has ? better_word(&tp_tok[c], &tr_tok[c]) : "–";
        if (peer_has && better[0] == 'n')
            bar_better = 0;
        if (c <= CAT_IP && f1(&tp_tok[c]) < 0.95)
            bar_f1_struct = 0;
        if ((c == CAT_NAME || c == CAT_ADDRESS) && f1(&tp_tok[c]) < 0.80)
            bar_f1_context = 0;
        out("| %s | %zu | %s | %s | %.3f | %s | %s | %s | %s |\n", cat_names[c], tp_tok[c].gold,
            fmt3(b1, tp_tok[c].tp, tp_tok[c].pred), fmt3(b2, tp_tok[c].tp, tp_tok[c].gold),
            f1(&tp_tok[c]), peer_has ? fmt3(b3, tr_tok[c].tp, tr_tok[c].pred) : "–",
            peer_has ? fmt3(b4, tr_tok[c].tp, tr_tok[c].gold) : "–",
            peer_has ? fmt_f1(b5, &tr_tok[c]) : "–", better);
    }
    out("\n");
    out("Parley's accuracy pass (all detectors, %zu texts): %.3f s.\n\n", n_docs, t_acc);
    double rss_acc = peak_rss_mb();

    /* Throughput. */
    big = big_text(docs, n_docs, (size_t)(mb * 1e6), &big_len);
    if (!big) {
        complain("out of memory for the %.0f MB text", mb);
        goto out;
    }
    size_t round = 0;
    for (size_t i = 0; i < n_docs; i++)
        round += docs[i].len + 1;
    const size_t rounds = big_len / round;
    struct timing t_sb, t_ab, t_sm, t_am, warm;
    if (run_pass(structured, s_structured, NULL, 0, docs, n_docs, 1, &warm) != 0 ||
        run_best(structured, s_structured, big, big_len, NULL, 0, 0, &t_sb) != 0 ||
        run_best(structured, s_structured, NULL, 0, docs, n_docs, rounds, &t_sm) != 0 ||
        run_pass(all, s_all, NULL, 0, docs, n_docs, 1, &warm) != 0 ||
        run_best(all, s_all, big, big_len, NULL, 0, 0, &t_ab) != 0 ||
        run_best(all, s_all, NULL, 0, docs, n_docs, rounds, &t_am) != 0)
        goto out;

    out("### Throughput: one thread, %.1f MB (the texts joined with newlines, %zu times); "
        "best of %d passes\n\n",
        (double)big_len / 1e6, rounds, TIMED_PASSES);
    out("| system | detectors | calls | MB | seconds | MB/s | findings |\n");
    out("| --- | --- | --- | ---: | ---: | ---: | ---: |\n");
    const struct {
        const char *det, *calls;
        const struct timing *t;
    } rows[] = {
        {"structured³", "1 MB blocks", &t_sb},
        {"structured³", "one per text", &t_sm},
        {"all", "1 MB blocks", &t_ab},
        {"all", "one per text", &t_am},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        out("| Parley | %s | %s | %.1f | %.3f | %.1f | %zu |\n", rows[i].det, rows[i].calls,
            (double)rows[i].t->bytes / 1e6, rows[i].t->seconds, mb_s(rows[i].t),
            rows[i].t->findings);
    if (peer)
        out("| redact-pii %s | all built-ins | one per text | %.1f | %.3f | %.2f | – |\n",
            ps.version, (double)ps.bytes / 1e6, ps.seconds, ps.mb_per_s);
    out("\n³ card, iban, ssn, phone, email, ip, imei, id (no identifier declared).\n\n");
    const double best_struct = mb_s(&t_sb) > mb_s(&t_sm) ? mb_s(&t_sb) : mb_s(&t_sm);
    const double all_text = mb_s(&t_am);
    if (peer)
        out("Parley / redact-pii (one call per text, as redact-pii runs): structured %.1f×, "
            "all detectors %.1f×.\n\n",
            mb_s(&t_sm) / ps.mb_per_s, all_text / ps.mb_per_s);
    const double rss_end = peak_rss_mb();
    out("Peak RSS of bench_pii: %.1f MB after the accuracy pass (dataset, both detector sets); "
        "%.1f MB at the end (with the %.0f MB text).\n\n",
        rss_acc, rss_end, (double)big_len / 1e6);

    /* Bars. */
    out("### Bars\n\n");
    out("F1 bars per word (presidio-research's method); per span in brackets, for "
        "information.\n\n| bar | measured | status |\n| --- | --- | --- |\n");
    out("| F1 ≥ 0.95 on card, IBAN, SSN, e-mail, phone, IP | ");
    for (int c = CAT_CARD; c <= CAT_IP; c++)
        out("%.3f (%.3f)%s", f1(&tp_tok[c]), f1(&cp[c]), c < CAT_IP ? ", " : "");
    out(" | %s |\n", pass(bar_f1_struct));
    out("| F1 ≥ 0.80 on names and addresses | %.3f (%.3f), %.3f (%.3f) | %s |\n",
        f1(&tp_tok[CAT_NAME]), f1(&cp[CAT_NAME]), f1(&tp_tok[CAT_ADDRESS]), f1(&cp[CAT_ADDRESS]),
        pass(bar_f1_context));
    if (peer)
        out("| F1 better than redact-pii on every type both detect | see the per-word table | "
            "%s |\n",
            pass(bar_better));
    out("| ≥ 200 MB/s on one thread, structured types | %.1f MB/s | %s |\n", best_struct,
        pass(best_struct >= 200.0));
    if (peer)
        out("| ≥ 20× redact-pii's throughput (all detectors, one call per text) | %.1f× | %s |\n",
            all_text / ps.mb_per_s, pass(all_text >= 20.0 * ps.mb_per_s));
    rc = ferror(stdout) ? 1 : 0;
out:
    if (errs && fclose(errs) != 0)
        rc = 1;
    parley_pii_scratch_destroy(s_structured);
    parley_pii_scratch_destroy(s_all);
    parley_pii_destroy(structured);
    parley_pii_destroy(all);
    for (size_t i = 0; docs && i < n_docs; i++) {
        free(docs[i].gold.v);
        free(docs[i].peer.v);
        free(docs[i].places.v);
    }
    free(docs);
    free(used);
    free(big);
    json_decref(ps.root);
    json_decref(root);
    return rc;
}
