/* Intent discovery: the messages no intent covers, grouped by meaning
 * (spherical k-means over word and word-pair TF-IDF), each group named by
 * its most telling words and shown with its closest examples. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "learn/run.h"
#include "parley/text.h"

#define DIM_BITS        16
#define DIM             (1u << DIM_BITS)
#define MAX_TEXTS       50000 /* the most frequent distinct texts are grouped */
#define MAX_K           200
#define ITERATIONS      25
#define EXAMPLES        5
#define TERMS           3
#define SEED_CANDIDATES 8 /* greedy k-means++ */

/* Words that carry no topic in the four languages of the reference bot. */
static const char *const stop[] = {
    "a",     "about", "al",   "am",    "an",    "and",  "are",  "as",   "at",   "be",
    "can",   "ce",    "como", "could", "das",   "de",   "del",  "dem",  "den",  "der",
    "des",   "die",   "do",   "does",  "du",    "ein",  "eine", "el",   "en",   "es",
    "est",   "et",    "for",  "from",  "get",   "good", "have", "how",  "i",    "ich",
    "il",    "im",    "in",   "is",    "ist",   "it",   "je",   "la",   "las",  "le",
    "les",   "los",   "me",   "mein",  "meine", "mi",   "mit",  "mon",  "my",   "ne",
    "nicht", "of",    "on",   "or",    "pas",   "pour", "que",  "se",   "so",   "the",
    "there", "this",  "to",   "un",    "una",   "und",  "une",  "what", "when", "where",
    "why",   "will",  "with", "would", "y",     "yo",   "you",  "your", "zu",
};

static int is_stop(const char *w, size_t n)
{
    return learn_word_listed(stop, sizeof(stop) / sizeof(stop[0]), w, n);
}

struct feat {
    uint32_t dim;
    float w;
};

struct parley_learn_discovery {
    parley_learn_run *run; /* owns the texts and the counts */
    parley_learn_cluster *clusters;
    size_t n_clusters;
    char **strings; /* names, terms; freed with the discovery */
    size_t n_strings, cap_strings;
    const char **examples;
};

/* Everything the k-means works on. */
struct space {
    size_t n;      /* texts */
    size_t *start; /* CSR: text i's features are feats[start[i]..start[i+1]) */
    struct feat *feats;
    size_t n_feats, cap_feats;
    double *weight; /* per text: how often it came */
    char **words;   /* per dimension: a word that hashed there (single words only) */
};

static parley_err add_feat(struct space *sp, uint32_t dim, parley_error *err)
{
    if (sp->n_feats == sp->cap_feats) {
        size_t cap = sp->cap_feats ? sp->cap_feats * 2 : 4096;
        struct feat *g = parley__realloc(sp->feats, cap * sizeof(*g));
        if (!g)
            return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
        sp->feats = g;
        sp->cap_feats = cap;
    }
    sp->feats[sp->n_feats].dim = dim;
    sp->feats[sp->n_feats++].w = 1.0f;
    return PARLEY_OK;
}

/* The text's words (letters and digits, placeholders such as [PHONE] and
 * stop words left out) and word pairs, as dimensions. */
static parley_err featurize(struct space *sp, size_t i, const char *text, parley_error *err)
{
    char *norm = NULL;
    size_t len = 0;
    uint64_t prev = 0;
    parley_err rc = parley_text_normalize(
        text, strlen(text), PARLEY_TEXT_CASEFOLD | PARLEY_TEXT_STRIP_ACCENTS, &norm, &len, err);
    if (rc != PARLEY_OK)
        return rc;
    sp->start[i] = sp->n_feats;
    for (size_t a = 0; a < len && rc == PARLEY_OK;) {
        unsigned char ch = (unsigned char)norm[a];
        if (ch == '[') { /* a placeholder of the scrubber */
            const char *close = memchr(norm + a, ']', len - a);
            a = close ? (size_t)(close - norm) + 1 : len;
            prev = 0;
            continue;
        }
        if (!(ch >= 0x80 || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))) {
            a++;
            continue;
        }
        size_t b = a;
        while (b < len && ((unsigned char)norm[b] >= 0x80 || (norm[b] >= 'a' && norm[b] <= 'z') ||
                           (norm[b] >= '0' && norm[b] <= '9')))
            b++;
        if (!is_stop(norm + a, b - a) && !learn_is_courtesy(norm + a, b - a) && b - a > 1) {
            uint64_t h = XXH3_64bits(norm + a, b - a);
            uint32_t dim = (uint32_t)(h & (DIM - 1));
            rc = add_feat(sp, dim, err);
            if (rc == PARLEY_OK && !sp->words[dim] && b - a < 40 &&
                !(sp->words[dim] = parley__strndup(norm + a, b - a)))
                rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
            if (rc == PARLEY_OK && prev)
                rc = add_feat(sp, (uint32_t)((prev * 31 + h) >> 7 & (DIM - 1)), err);
            prev = h;
        }
        a = b;
    }
    parley_free(norm);
    return rc;
}

/* Merges repeated dimensions of each text, weighs them by TF-IDF and
 * scales each text to unit length. */
static parley_err weigh(struct space *sp, parley_error *err)
{
    uint32_t *df = parley__calloc(DIM, sizeof(uint32_t));
    int32_t *seen = parley__mallocarray(DIM, sizeof(int32_t));
    if (!df || !seen) {
        parley__free(df);
        parley__free(seen);
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    }
    for (size_t d = 0; d < DIM; d++)
        seen[d] = -1;
    size_t out = 0;
    for (size_t i = 0; i < sp->n; i++) {
        size_t from = sp->start[i], to = sp->start[i + 1], first = out;
        sp->start[i] = out;
        for (size_t f = from; f < to; f++) {
            uint32_t d = sp->feats[f].dim;
            if (seen[d] >= (int32_t)first) {
                sp->feats[seen[d]].w += 1.0f;
                continue;
            }
            seen[d] = (int32_t)out;
            sp->feats[out++] = sp->feats[f];
            df[d]++;
        }
    }
    sp->start[sp->n] = out;
    sp->n_feats = out;
    for (size_t i = 0; i < sp->n; i++) {
        double norm = 0.0;
        for (size_t f = sp->start[i]; f < sp->start[i + 1]; f++) {
            struct feat *x = &sp->feats[f];
            x->w = (float)((1.0 + log(x->w)) *
                           (log((1.0 + (double)sp->n) / (1.0 + df[x->dim])) + 1.0));
            norm += (double)x->w * x->w;
        }
        norm = norm > 0 ? 1.0 / sqrt(norm) : 0.0;
        for (size_t f = sp->start[i]; f < sp->start[i + 1]; f++)
            sp->feats[f].w *= (float)norm;
    }
    parley__free(df);
    parley__free(seen);
    return PARLEY_OK;
}

static double dot(const struct space *sp, size_t i, const float *c)
{
    double s = 0.0;
    for (size_t f = sp->start[i]; f < sp->start[i + 1]; f++)
        s += (double)sp->feats[f].w * c[sp->feats[f].dim];
    return s;
}

/* Spherical k-means: each text joins the centre it points closest to;
 * each centre is its texts' weighted sum scaled to unit length. Seeds are
 * picked far from the ones already chosen (k-means++ on 1 - cosine). */
static parley_err kmeans(const struct space *sp, size_t k, uint64_t seed, float *cent,
                         uint32_t *assign, double *sim, parley_error *err)
{
    struct parley_rng rng;
    double *best = parley__mallocarray(sp->n, sizeof(double));
    if (!best)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    parley__rng_seed(&rng, seed);
    memset(cent, 0, k * DIM * sizeof(float));
    for (size_t i = 0; i < sp->n; i++)
        best[i] = 2.0;
    /* Greedy k-means++: of a few candidates drawn with probability
     * proportional to their squared distance, the one that brings the
     * texts closest to some centre becomes the next centre. */
    /* The first centre: a text drawn in proportion to how often it came. */
    double wsum = 0.0;
    for (size_t i = 0; i < sp->n; i++)
        wsum += sp->weight[i];
    double r0 = parley__rng_unit(&rng) * wsum;
    size_t pick;
    for (pick = 0; pick + 1 < sp->n; pick++) {
        r0 -= sp->weight[pick];
        if (r0 <= 0)
            break;
    }
    for (size_t c = 0; c < k; c++) {
        float *cc = cent + c * DIM;
        for (size_t f = sp->start[pick]; f < sp->start[pick + 1]; f++)
            cc[sp->feats[f].dim] = sp->feats[f].w;
        double total = 0.0;
        for (size_t i = 0; i < sp->n; i++) {
            double d = 1.0 - dot(sp, i, cc);
            if (d < best[i])
                best[i] = d;
            total += best[i] * best[i] * sp->weight[i];
        }
        if (c + 1 == k)
            break;
        double best_pot = -1.0;
        for (int cand = 0; cand < SEED_CANDIDATES; cand++) {
            double r = parley__rng_unit(&rng) * total;
            size_t at;
            for (at = 0; at + 1 < sp->n; at++) {
                r -= best[at] * best[at] * sp->weight[at];
                if (r <= 0)
                    break;
            }
            float *next = cent + (c + 1) * DIM; /* scratch until chosen */
            for (size_t f = sp->start[at]; f < sp->start[at + 1]; f++)
                next[sp->feats[f].dim] = sp->feats[f].w;
            double pot = 0.0;
            for (size_t i = 0; i < sp->n; i++) {
                double d = 1.0 - dot(sp, i, next);
                d = d < best[i] ? d : best[i];
                pot += d * d * sp->weight[i];
            }
            for (size_t f = sp->start[at]; f < sp->start[at + 1]; f++)
                next[sp->feats[f].dim] = 0.0f;
            if (best_pot < 0 || pot < best_pot) {
                best_pot = pot;
                pick = at;
            }
        }
    }
    for (int it = 0; it < ITERATIONS; it++) {
        size_t moved = 0;
        for (size_t i = 0; i < sp->n; i++) {
            double bs = -2.0;
            uint32_t bc = 0;
            for (size_t c = 0; c < k; c++) {
                double s = dot(sp, i, cent + c * DIM);
                if (s > bs) {
                    bs = s;
                    bc = (uint32_t)c;
                }
            }
            if (it == 0 || assign[i] != bc)
                moved++;
            assign[i] = bc;
            sim[i] = bs;
        }
        if (!moved)
            break;
        memset(cent, 0, k * DIM * sizeof(float));
        for (size_t i = 0; i < sp->n; i++)
            for (size_t f = sp->start[i]; f < sp->start[i + 1]; f++)
                cent[assign[i] * DIM + sp->feats[f].dim] += (float)(sp->weight[i] * sp->feats[f].w);
        for (size_t c = 0; c < k; c++) {
            double n2 = 0.0;
            for (size_t d = 0; d < DIM; d++)
                n2 += (double)cent[c * DIM + d] * cent[c * DIM + d];
            float s = n2 > 0 ? (float)(1.0 / sqrt(n2)) : 0.0f;
            for (size_t d = 0; d < DIM; d++)
                cent[c * DIM + d] *= s;
        }
    }
    parley__free(best);
    return PARLEY_OK;
}

/* Several k-means runs from different seeds; the one whose texts sit
 * closest to their centres (weighted by how often they came) is kept, so
 * one unlucky seeding does not merge two topics. */
static parley_err best_kmeans(const struct space *sp, size_t k, float *cent, uint32_t *assign,
                              double *sim, parley_error *err)
{
    const unsigned runs = (double)sp->n * (double)k > 2e6 ? 2 : 6;
    float *c2 = parley__mallocarray(k * DIM, sizeof(float));
    uint32_t *a2 = parley__mallocarray(sp->n, sizeof(uint32_t));
    double *s2 = parley__mallocarray(sp->n, sizeof(double)), best = -1.0;
    parley_err rc = PARLEY_OK;
    if (!c2 || !a2 || !s2) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (unsigned r = 0; r < runs && rc == PARLEY_OK; r++) {
        if ((rc = kmeans(sp, k, 42 + r, c2, a2, s2, err)) != PARLEY_OK)
            break;
        double score = 0.0;
        for (size_t i = 0; i < sp->n; i++)
            score += s2[i] * sp->weight[i];
        if (score > best) {
            best = score;
            memcpy(cent, c2, k * DIM * sizeof(float));
            memcpy(assign, a2, sp->n * sizeof(uint32_t));
            memcpy(sim, s2, sp->n * sizeof(double));
        }
    }
out:
    parley__free(c2);
    parley__free(a2);
    parley__free(s2);
    return rc;
}

static char *keep(parley_learn_discovery *d, char *s)
{
    if (!s)
        return NULL;
    if (d->n_strings == d->cap_strings) {
        size_t cap = d->cap_strings ? d->cap_strings * 2 : 64;
        char **g = parley__realloc(d->strings, cap * sizeof(*g));
        if (!g) {
            parley__free(s);
            return NULL;
        }
        d->strings = g;
        d->cap_strings = cap;
    }
    return d->strings[d->n_strings++] = s;
}

/* Names cluster `c` after its heaviest single words. */
static parley_err name_cluster(parley_learn_discovery *d, const struct space *sp, const float *cent,
                               parley_learn_cluster *cl, parley_error *err)
{
    uint32_t top[TERMS];
    size_t nt = 0;
    for (size_t t = 0; t < TERMS; t++) {
        float bw = 0.0f;
        uint32_t bd = 0;
        for (uint32_t dim = 0; dim < DIM; dim++) {
            int taken = 0;
            for (size_t u = 0; u < nt; u++)
                taken |= top[u] == dim;
            if (!taken && sp->words[dim] && cent[dim] > bw) {
                bw = cent[dim];
                bd = dim;
            }
        }
        if (bw <= 0.0f)
            break;
        top[nt++] = bd;
    }
    struct parley_buf name = PARLEY_BUF_INIT(0), terms = PARLEY_BUF_INIT(0);
    parley_err rc = PARLEY_OK;
    for (size_t t = 0; t < nt && rc == PARLEY_OK; t++) {
        rc = parley__buf_printf(&terms, "%s%s", t ? ", " : "", sp->words[top[t]]);
        if (rc == PARLEY_OK && t < 2)
            rc = parley__buf_printf(&name, "%s%s", t ? "_" : "", sp->words[top[t]]);
    }
    if (rc == PARLEY_OK && !nt)
        rc = parley__buf_add(&name, "unnamed", 7);
    cl->name = rc == PARLEY_OK ? keep(d, parley__buf_detach(&name, NULL)) : NULL;
    cl->terms = rc == PARLEY_OK
                    ? keep(d, terms.len ? parley__buf_detach(&terms, NULL) : parley__strdup(""))
                    : NULL;
    parley__buf_release(&name);
    parley__buf_release(&terms);
    if (!cl->name || !cl->terms)
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    return PARLEY_OK;
}

static int by_count(const void *a, const void *b)
{
    const struct learn_found *x = a, *y = b;
    return x->count > y->count ? -1 : x->count < y->count;
}

static int by_messages(const void *a, const void *b)
{
    const parley_learn_cluster *x = a, *y = b;
    return x->messages > y->messages ? -1 : x->messages < y->messages;
}

/* The clusters of the grouped texts: counts, cohesion, closest examples,
 * names; those under `min_size` messages left out. */
static parley_err gather(parley_learn_discovery *d, const struct space *sp, size_t k,
                         const float *cent, const uint32_t *assign, const double *sim,
                         size_t min_size, parley_error *err)
{
    const struct learn_found *found = d->run->found;
    if (!(d->clusters = parley__calloc(k, sizeof(*d->clusters))) ||
        !(d->examples = parley__calloc(k * EXAMPLES + 1, sizeof(char *))))
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    for (size_t c = 0; c < k; c++) {
        parley_learn_cluster cl;
        double cos_sum = 0.0;
        size_t ex[EXAMPLES], nex = 0;
        memset(&cl, 0, sizeof(cl));
        for (size_t i = 0; i < sp->n; i++) {
            if (assign[i] != c)
                continue;
            cl.messages += found[i].count;
            cl.distinct++;
            cos_sum += sim[i] * (double)found[i].count;
            /* Keep the EXAMPLES closest to the centre, closest first. */
            size_t at = nex;
            while (at > 0 && sim[ex[at - 1]] < sim[i])
                at--;
            if (at < EXAMPLES) {
                if (nex < EXAMPLES)
                    nex++;
                memmove(ex + at + 1, ex + at, (nex - 1 - at) * sizeof(ex[0]));
                ex[at] = i;
            }
        }
        if (!cl.messages || cl.messages < min_size)
            continue;
        cl.cohesion = cos_sum / (double)cl.messages;
        const char **exs = d->examples + d->n_clusters * EXAMPLES;
        for (size_t e = 0; e < nex; e++)
            exs[e] = found[ex[e]].text;
        cl.examples = exs;
        cl.n_examples = nex;
        parley_err rc = name_cluster(d, sp, cent + c * DIM, &cl, err);
        if (rc != PARLEY_OK)
            return rc;
        d->clusters[d->n_clusters++] = cl;
    }
    if (d->n_clusters)
        qsort(d->clusters, d->n_clusters, sizeof(*d->clusters), by_messages);
    return PARLEY_OK;
}

parley_err parley_learn_discover(const parley_learn_options *o, size_t k, size_t min_size,
                                 parley_learn_discovery **out, parley_error *err)
{
    parley_learn_options opt;
    parley_learn_discovery *d = NULL;
    struct space sp;
    float *cent = NULL;
    uint32_t *assign = NULL;
    double *sim = NULL;
    const double t0 = parley__now();
    parley_err rc;

    *out = NULL;
    memset(&sp, 0, sizeof(sp));
    if (!(d = parley__calloc(1, sizeof(*d))))
        return parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
    if ((rc = learn_run_new(o, &opt, &d->run, err)) != PARLEY_OK ||
        (rc = learn_prepare(d->run, &opt, 1, err)) != PARLEY_OK)
        goto out;
    parley_learn_run *r = d->run;
    r->sum.seconds_prepare = parley__now() - t0;
    if (!r->n_found) {
        rc = parley_error_set(err, PARLEY_ERR_EMPTY,
                              "no message without an intent to group (%llu conversations read)",
                              (unsigned long long)r->sum.conversations);
        goto out;
    }
    qsort(r->found, r->n_found, sizeof(*r->found), by_count);
    sp.n = r->n_found < MAX_TEXTS ? r->n_found : MAX_TEXTS;
    if (!k) {
        k = (size_t)sqrt((double)sp.n / 2.0);
        k = k < 2 ? 2 : k;
    }
    k = k > MAX_K ? MAX_K : k > sp.n ? sp.n : k;
    sp.start = parley__calloc(sp.n + 1, sizeof(size_t));
    sp.weight = parley__calloc(sp.n, sizeof(double));
    sp.words = parley__calloc(DIM, sizeof(char *));
    cent = parley__mallocarray(k * DIM, sizeof(float));
    assign = parley__calloc(sp.n, sizeof(uint32_t));
    sim = parley__calloc(sp.n, sizeof(double));
    if (!sp.start || !sp.weight || !sp.words || !cent || !assign || !sim) {
        rc = parley_error_set(err, PARLEY_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < sp.n && rc == PARLEY_OK; i++) {
        sp.weight[i] = (double)r->found[i].count;
        rc = featurize(&sp, i, r->found[i].text, err);
    }
    sp.start[sp.n] = sp.n_feats;
    if (rc == PARLEY_OK)
        rc = weigh(&sp, err);
    if (rc == PARLEY_OK)
        rc = best_kmeans(&sp, k, cent, assign, sim, err);
    if (rc == PARLEY_OK)
        rc = gather(d, &sp, k, cent, assign, sim, min_size, err);
    r->sum.seconds_total = parley__now() - t0;
    r->sum.peak_rss_mb = learn_peak_rss_mb();
out:
    parley__free(sp.start);
    parley__free(sp.feats);
    parley__free(sp.weight);
    for (size_t i = 0; sp.words && i < DIM; i++)
        parley__free(sp.words[i]);
    parley__free(sp.words);
    parley__free(cent);
    parley__free(assign);
    parley__free(sim);
    if (rc != PARLEY_OK) {
        parley_learn_discovery_free(d);
        d = NULL;
    }
    *out = d;
    return rc;
}

const parley_learn_cluster *parley_learn_discovery_clusters(const parley_learn_discovery *d,
                                                            size_t *n)
{
    *n = d->n_clusters;
    return d->clusters;
}

const parley_learn_summary *parley_learn_discovery_summary(const parley_learn_discovery *d)
{
    return &d->run->sum;
}

void parley_learn_discovery_free(parley_learn_discovery *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n_strings; i++)
        parley__free(d->strings[i]);
    parley__free(d->strings);
    parley__free(d->clusters);
    parley__free((void *)d->examples);
    parley_learn_run_free(d->run);
    parley__free(d);
}
