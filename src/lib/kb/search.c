/* BM25F search over one language's articles. Each distinct query term t
 * adds idf(t) * tf' (k1 + 1) / (k1 + tf') to an article's score, where tf'
 * sums the term's frequency in each field times the field's weight,
 * divided by the field's length normalization 1 - b + b len / avglen.
 * The confidence divides the score by the best the query could reach:
 * the sum of idf(t) (k1 + 1) over every query term, including terms no
 * article contains (they get the highest idf). A query made of unknown
 * words therefore has a low confidence even when one of its common words
 * matches. See docs/internals/kb.md. */
#include <math.h>
#include <string.h>

#include <libstemmer.h>

#include "kb/internal.h"

#define KB_K1 1.2
#define KB_B  0.75
/* Most distinct terms considered in one query; PARLEY_KB_MAX_QUERY bytes
 * cannot hold more words than this. */
#define KB_MAX_QTERMS (PARLEY_KB_MAX_QUERY / 2)

static const double field_weight[KB_FIELDS] = {3.0, 2.0, 1.0};

struct qterms {
    struct parley_buf buf; /* the terms' bytes */
    size_t off[KB_MAX_QTERMS];
    uint32_t len[KB_MAX_QTERMS];
    size_t n;
};

/* Keeps distinct terms only: a repeated word does not count twice. */
static parley_err add_qterm(const char *term, size_t len, void *ud)
{
    struct qterms *q = ud;
    parley_err rc;

    for (size_t i = 0; i < q->n; i++)
        if (q->len[i] == len && memcmp(q->buf.data + q->off[i], term, len) == 0)
            return PARLEY_OK;
    if (q->n == KB_MAX_QTERMS)
        return PARLEY_OK;
    q->off[q->n] = q->buf.len;
    q->len[q->n] = (uint32_t)len;
    rc = parley__buf_add(&q->buf, term, len);
    if (rc != PARLEY_OK)
        return rc;
    q->n++;
    return PARLEY_OK;
}

static const struct kb_lang *find_lang(const parley_kb *kb, const char *lang)
{
    for (size_t i = 0; i < kb->n_langs; i++)
        if (strcmp(kb->langs[i].lang, lang) == 0)
            return &kb->langs[i];
    return NULL;
}

size_t parley_kb_count(const parley_kb *kb, const char *lang)
{
    const struct kb_lang *l = kb && lang ? find_lang(kb, lang) : NULL;
    return l ? l->count : 0;
}

bool parley_kb_confident(const parley_kb_result *r)
{
    return r && r->confidence >= PARLEY_KB_THRESHOLD;
}

/* Better first: higher score, then smaller id. */
static int better(const parley_kb_result *a, const parley_kb_result *b)
{
    if (a->score != b->score)
        return a->score > b->score;
    return strcmp(a->id, b->id) < 0;
}

parley_err parley_kb_search(const parley_kb *kb, const char *lang, const char *query, size_t len,
                            parley_kb_result *results, size_t max, size_t *n, parley_error *err)
{
    struct qterms *q = NULL;
    struct sb_stemmer *st = NULL;
    const struct kb_lang *l;
    double *idf = NULL, best = 0;
    size_t found = 0;
    parley_err rc = PARLEY_OK;

    if (!kb || !lang || (!query && len > 0) || (!results && max > 0) || !n)
        return parley_error_set(err, PARLEY_ERR_INVALID, "kb search: missing argument");
    l = find_lang(kb, lang);
    if (!l)
        return parley_error_set(err, PARLEY_ERR_NOTFOUND,
                                "no knowledge base articles in language '%s'", lang);
    if (len > PARLEY_KB_MAX_QUERY)
        return parley_error_set(err, PARLEY_ERR_LIMIT, "query too long: %zu bytes, at most %u", len,
                                PARLEY_KB_MAX_QUERY);
    q = parley__calloc(1, sizeof(*q));
    if (!q || parley__kb_stemmer_new(lang, &st) != PARLEY_OK)
        goto nomem;
    q->buf.max = PARLEY_KB_MAX_QUERY * 8;
    rc = parley__kb_analyze(st, parley__kb_stopwords(lang), query ? query : "", len, add_qterm, q,
                            err);
    if (rc == PARLEY_ERR_NOMEM || rc == PARLEY_ERR_LIMIT)
        goto nomem;
    if (rc != PARLEY_OK)
        goto out;
    if (q->n == 0)
        goto done;
    idf = parley__mallocarray(q->n, sizeof(*idf));
    if (!idf)
        goto nomem;
    for (size_t t = 0; t < q->n; t++) {
        double df = 0, N = (double)l->count;
        for (size_t i = l->first; i < l->first + l->count; i++)
            df += parley__kb_find(&kb->arts[i], q->buf.data + q->off[t], q->len[t]) != NULL;
        idf[t] = log(1.0 + (N - df + 0.5) / (df + 0.5));
        best += idf[t] * (KB_K1 + 1.0);
    }
    for (size_t i = l->first; i < l->first + l->count; i++) {
        const struct kb_article *a = &kb->arts[i];
        parley_kb_result r = {a->id, a->title, a->body, 0, 0};
        size_t at;

        for (size_t t = 0; t < q->n; t++) {
            const struct kb_term *kt = parley__kb_find(a, q->buf.data + q->off[t], q->len[t]);
            double tfp = 0;
            if (!kt)
                continue;
            for (int f = 0; f < KB_FIELDS; f++) {
                double norm = 1.0 - KB_B;
                if (l->avglen[f] > 0)
                    norm += KB_B * a->flen[f] / l->avglen[f];
                tfp += field_weight[f] * kt->tf[f] / norm;
            }
            r.score += idf[t] * tfp * (KB_K1 + 1.0) / (KB_K1 + tfp);
        }
        if (r.score <= 0)
            continue;
        r.confidence = best > 0 ? r.score / best : 0;
        if (r.confidence > 1)
            r.confidence = 1;
        /* Insertion into the top `max`, kept sorted. */
        at = found < max ? found : max;
        while (at > 0 && better(&r, &results[at - 1]))
            at--;
        if (at >= max)
            continue;
        if (found < max)
            found++;
        memmove(&results[at + 1], &results[at], (found - 1 - at) * sizeof(*results));
        results[at] = r;
    }
done:
    *n = found;
    goto out;
nomem:
    rc = parley_error_set(err, PARLEY_ERR_NOMEM, "kb search: out of memory");
out:
    if (st)
        sb_stemmer_delete(st);
    if (q)
        parley__buf_release(&q->buf);
    parley__free(q);
    parley__free(idf);
    return rc;
}
